// Upload a package to the origin: create the video (or continue the one this file started before), skip
// what the origin already has, PUT the rest a few at a time with retries and back-off, then publish.
import * as api from './api.js';
import * as resume from './resume.js';
import { timeOrder } from './package-file.js';

const PARALLEL = 3;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

/** Run `fn` until it succeeds, a non-retryable error, or the back-off schedule is used up. */
async function retry(fn, { onRetry, signal }) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof api.ApiError) || !e.retryable || attempt >= BACKOFF_MS.length) throw e;
      const delay = BACKOFF_MS[attempt] * (0.75 + Math.random() / 2);
      onRetry?.({ attempt: attempt + 1, delay, error: e });
      await sleep(delay, signal);
    }
  }
}

/** Find the video this file was uploading to before (a reload, a closed tab), if the origin still has it. */
async function continueVideo(admin, file, ctx) {
  const rec = resume.get(file);
  if (!rec) return null;
  try {
    const have = await retry(() => api.storedFiles(rec.ticket, rec.id), ctx);
    return { rec, have };
  } catch (e) {
    if (e.code === 'ticket-expired') {
      rec.ticket = (await api.newTicket(admin, rec.id)).ticket;
      resume.set(file, rec);
      return { rec, have: await retry(() => api.storedFiles(rec.ticket, rec.id), ctx) };
    }
    if (e.status === 404 || e.status === 401 || e.status === 403) {
      resume.clear(file);
      return null;
    }
    throw e;
  }
}

/**
 * @param {{file: File, pkg: object, admin: string, title: string, signal?: AbortSignal,
 *          onEvent?: (e: object) => void}} job
 * Events: {type: 'video', id, resumed, skipped, skippedBytes} · {type: 'bytes', sent, total} ·
 *         {type: 'retry', attempt, delay, error} · {type: 'file', path, created} · {type: 'published', video}
 */
export async function upload({ file, pkg, admin, title, signal: outer, onEvent = () => {} }) {
  // One lane failing for good stops the others.
  const stop = new AbortController();
  outer?.addEventListener('abort', () => stop.abort(outer.reason));
  const signal = stop.signal;
  const ctx = { signal, onRetry: (r) => onEvent({ type: 'retry', ...r }) };
  let found = await continueVideo(admin, file, ctx);
  if (!found) {
    const v = await retry(() => api.createVideo(admin, title), ctx);
    const rec = { id: v.id, ticket: v.upload.ticket, title };
    resume.set(file, rec);
    found = { rec, have: { state: v.state, files: [] } };
  }
  const { rec, have } = found;
  const stored = new Map(have.files.map((f) => [f.path, f]));
  // A file the origin has is skipped when its size and SHA-256 match: only those are hashed here (a read
  // of the local file); the others are hashed as they are sent.
  const same = new Set();
  for (const f of pkg.list) {
    const s = stored.get(f.path);
    if (s && s.size === f.size && s.sha256 === (await f.sha256())) same.add(f);
  }
  // Playlists first: the origin serves a growing playlist while the rest arrives.
  const todo = timeOrder(pkg.list).filter((f) => !same.has(f));
  onEvent({
    type: 'video',
    id: rec.id,
    resumed: stored.size > 0,
    skipped: same.size,
    skippedBytes: [...same].reduce((n, f) => n + f.size, 0),
    total: pkg.list.length,
  });

  const total = todo.reduce((n, f) => n + f.size, 0);
  let finished = 0;
  const inFlight = new Map();
  const report = () => {
    let sent = finished;
    for (const n of inFlight.values()) sent += n;
    onEvent({ type: 'bytes', sent, total });
  };
  let next = 0;
  const lane = async () => {
    // Each lane gathers its files into one buffer it reuses (XMLHttpRequest copies the body at send()),
    // so memory stays a few segments whatever the size of the source.
    let buf = new Uint8Array(0);
    while (next < todo.length && !signal.aborted) {
      const f = todo[next++];
      if (buf.length < f.size) buf = new Uint8Array(Math.ceil(f.size * 1.25));
      const body = await f.bytes(buf);
      const put = { path: f.path, sha256: await f.sha256(body), body };
      const r = await retry(
        () => {
          inFlight.set(f.path, 0);
          return api.putFile(rec.ticket, rec.id, put, {
            signal,
            onBytes: (n) => {
              inFlight.set(f.path, Math.min(n, f.size));
              report();
            },
          });
        },
        ctx,
      );
      inFlight.delete(f.path);
      finished += f.size;
      report();
      onEvent({ type: 'file', path: f.path, created: r?.created });
    }
  };
  const guarded = () =>
    lane().catch((e) => {
      stop.abort(e);
      throw e;
    });
  await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, guarded));
  const video = await retry(() => api.publish(rec.ticket, rec.id), ctx);
  resume.clear(file);
  onEvent({ type: 'published', video });
  return video;
}
