// @ts-check
// Upload a package to the origin: create the video (or continue the one this file started before), skip
// what the origin already has, send the rest a few at a time with retries and back-off, then publish.
// When the origin stores in a bucket, each file goes straight to the bucket with a URL the origin presigns
// (its key, length and SHA-256 pinned, so the bucket refuses other bytes), and the origin only records it;
// otherwise it is PUT to the origin. Either way the origin checks every file before it is recorded.

import { timeOrder } from '../lib/package-file.js';
import * as api from './api.js';
import * as resume from './resume.js';

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
      // The job stopped meanwhile (another file used up its retries, or the user left): no retry to
      // announce, and a late "trying again" must not overwrite what the page says about the stop.
      if (signal?.aborted) throw signal.reason;
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

/** The files of `pkg` in upload order: a package whose files are all known (`segment()`) in time order; a
 * growing one (a ladder still encoding) in the order its files are finished. `at(i)` is null past the end. */
function filesOf(pkg) {
  if (pkg.at) return pkg;
  const list = timeOrder(pkg.list);
  return { at: async (i) => list[i] ?? null, list, complete: true };
}

/**
 * The video this file uploads to: the one it started before (with what the origin has of it), or a new one.
 * @param {string} admin @param {File} file @param {string} title @param {{signal: AbortSignal, onRetry: (r: object) => void}} ctx
 */
async function openVideo(admin, file, title, ctx) {
  const found = await continueVideo(admin, file, ctx);
  if (found) return found;
  const v = await retry(() => api.createVideo(admin, title), ctx);
  const rec = { id: v.id, ticket: v.upload.ticket, title };
  resume.set(file, rec);
  return { rec, have: { state: v.state, files: [] } };
}

/**
 * One file straight to the bucket: a presigned PUT from the origin (or word that it has the file already),
 * the bytes to the bucket, then `complete`. Null when the origin stores on its own disk.
 * @param {{id: string, ticket: string}} rec @param {{path: string, sha256: string, body: Uint8Array<ArrayBuffer>}} put
 * @param {(n: number) => void} onBytes @param {AbortSignal} signal
 */
async function sendDirect(rec, put, onBytes, signal) {
  const desc = { path: put.path, sha256: put.sha256, size: put.body.length };
  let grant;
  try {
    grant = await api.presignUpload(rec.ticket, rec.id, desc);
  } catch (e) {
    if (e instanceof api.ApiError && e.code === 'direct-uploads-off') return null;
    throw e;
  }
  if (grant.stored) return { file: grant.stored, created: false };
  if (!grant.url) throw new api.ApiError(500, 'bad-answer', 'the origin gave no upload URL');
  await api.putToBucket(grant.url, grant.headers, put.body, { signal, onBytes });
  return api.completeUpload(rec.ticket, rec.id, desc);
}

/**
 * Send one file's `body` with retries; `onBytes(n)` as its bytes go out. Resolves to the origin's answer.
 * `route.direct` is learnt from the first answer: true when the origin presigns bucket uploads, false when
 * it stores on its own disk (then every file is PUT to the origin). Each attempt at a direct upload asks
 * for a fresh URL, so a retry after a long back-off never sends to an expired one.
 * @param {{id: string, ticket: string}} rec @param {PackageFile} f @param {Uint8Array<ArrayBuffer>} body
 * @param {(n: number) => void} onBytes @param {{signal: AbortSignal, onRetry: (r: object) => void}} ctx
 * @param {{direct?: boolean}} route
 */
async function putWithRetry(rec, f, body, onBytes, ctx, route) {
  const put = { path: f.path, sha256: await f.sha256(body), body };
  return retry(async () => {
    onBytes(0);
    if (route.direct !== false) {
      const r = await sendDirect(rec, put, onBytes, ctx.signal);
      if (r) {
        route.direct = true;
        return r;
      }
      route.direct = false;
    }
    return api.putFile(rec.ticket, rec.id, put, { signal: ctx.signal, onBytes });
  }, ctx);
}

/**
 * Sends of one path in the order they were asked for: a growing package names some paths twice (a ladder's
 * planned playlists first, the measured ones at the end), and the later bytes must be what the origin
 * keeps even when the earlier send is still retrying. `run(path, send)` starts `send` once every earlier
 * send of `path` has settled.
 */
function inPathOrder() {
  /** @type {Map<string, Promise<unknown>>} */
  const last = new Map();
  /** @template T @param {string} path @param {() => Promise<T>} send @returns {Promise<T>} */
  return (path, send) => {
    const before = last.get(path);
    const p = before ? before.catch(() => {}).then(send) : send();
    last.set(path, p);
    const forget = () => last.get(path) === p && last.delete(path);
    p.then(forget, forget);
    return p;
  };
}

/**
 * A package to upload: from `segment()` (every file known) or a growing one from a ladder.
 * @typedef {{list: PackageFile[], at?: (i: number) => Promise<PackageFile | null>, complete?: boolean,
 *   expectedBytes?: number, release?: (f: PackageFile) => void}} Package
 * @typedef {import('../lib/package-file.js').PackageFile} PackageFile
 */

/**
 * What `upload()` tells as it goes (`type` says which; the other fields per type, see below).
 * @typedef {{type: string} & Record<string, any>} UploadEvent
 */

/**
 * @param {{file: File, pkg: Package, admin: string, title: string, signal?: AbortSignal,
 *          onEvent?: (e: UploadEvent) => void}} job
 * `pkg` is a package from `segment()` (every file known) or a growing one from a ladder (`at(i)` waits for
 * the next file, `release(f)` is told when a file is on the origin); a growing package may name a path
 * again (a ladder's planned playlists come first and its measured ones last, replacing them): the later
 * send waits for the earlier. Publish waits for every file.
 * Events: {type: 'video', id, resumed, skipped, skippedBytes} · {type: 'bytes', sent, total} ·
 *         {type: 'retry', attempt, delay, error} · {type: 'file', path, created, direct} (direct: sent
 *         straight to the bucket) ·
 *         {type: 'file', path, size, skipped: true} (a growing package's file the origin has) · {type: 'published', video}
 */
export async function upload({ file, pkg, admin, title, signal: outer, onEvent = () => {} }) {
  // One lane failing for good stops the others.
  const stop = new AbortController();
  outer?.addEventListener('abort', () => stop.abort(outer.reason));
  const signal = stop.signal;
  const ctx = { signal, onRetry: (r) => onEvent({ type: 'retry', ...r }) };
  const { rec, have } = await openVideo(admin, file, title, ctx);
  /** @type {{direct?: boolean}} */
  const route = {};
  const stored = new Map(have.files.map((f) => [f.path, f]));
  const files = filesOf(pkg);
  // A file the origin has is skipped when its size and SHA-256 match (a read of the local file, or the
  // digest kept from when it was sent). Known files are compared before anything is sent, so the page can
  // say at once how much is left; files of a growing package as they come.
  const same = new Set();
  const isStored = async (f) => {
    const s = stored.get(f.path);
    return !!s && s.size === f.size && s.sha256 === (await f.sha256());
  };
  for (const f of pkg.at ? [] : files.list) if (await isStored(f)) same.add(f);
  onEvent({
    type: 'video',
    id: rec.id,
    resumed: stored.size > 0,
    skipped: same.size,
    skippedBytes: [...same].reduce((n, f) => n + f.size, 0),
    total: pkg.list.length,
  });

  const known = () => pkg.list.reduce((n, f) => n + f.size, 0);
  const totalBytes = () =>
    (pkg.at && !pkg.complete ? Math.max(known(), pkg.expectedBytes ?? 0) : known()) - skippedBytes;
  let skippedBytes = [...same].reduce((n, f) => n + f.size, 0);
  let finished = 0;
  const inFlight = new Map();
  const report = () => {
    let sent = finished;
    for (const n of inFlight.values()) sent += n;
    onEvent({ type: 'bytes', sent, total: totalBytes() });
  };
  // A segment is checked against its directory's init segment, which must be stored first.
  const inits = new Map();
  const dir = (path) => path.slice(0, path.lastIndexOf('/') + 1);
  const afterEarlier = inPathOrder();
  let next = 0;
  const lane = async () => {
    // Each lane gathers its files into one buffer it reuses (XMLHttpRequest copies the body at send()),
    // so memory stays a few segments whatever the size of the source.
    let buf = new Uint8Array(0);
    while (!signal.aborted) {
      const f = await files.at(next++);
      if (!f) return;
      if (same.has(f)) continue;
      if (pkg.at && (await isStored(f))) {
        // Made again the same (encoders are deterministic for the same input and settings): not sent twice.
        skippedBytes += f.size;
        pkg.release?.(f);
        onEvent({ type: 'file', path: f.path, size: f.size, skipped: true });
        continue;
      }
      let initDone = null;
      if (f.path.endsWith('/init.mp4')) {
        let resolveInit;
        inits.set(dir(f.path), new Promise((r) => (resolveInit = r)));
        initDone = resolveInit;
      } else if (f.path.endsWith('.m4s')) {
        await inits.get(dir(f.path));
      }
      if (buf.length < f.size) buf = new Uint8Array(Math.ceil(f.size * 1.25));
      const body = await f.bytes(buf);
      try {
        const onBytes = (/** @type {number} */ n) => {
          inFlight.set(f.path, Math.min(n, f.size));
          if (n > 0) report();
        };
        const r = await afterEarlier(f.path, () => putWithRetry(rec, f, body, onBytes, ctx, route));
        // What the origin has at this path is now this file: a later file of the same path (a measured
        // playlist after the planned one a resumed ladder sent first) is compared with it, not with what
        // the origin had when the upload began.
        stored.set(f.path, { path: f.path, size: f.size, sha256: await f.sha256(body) });
        onEvent({ type: 'file', path: f.path, created: r?.created, direct: route.direct === true });
      } finally {
        inFlight.delete(f.path);
        initDone?.();
      }
      finished += f.size;
      pkg.release?.(f);
      report();
    }
  };
  const guarded = () =>
    lane().catch((e) => {
      stop.abort(e);
      throw e;
    });
  const lanes = pkg.at ? PARALLEL : Math.min(PARALLEL, files.list.length);
  await Promise.all(Array.from({ length: lanes }, guarded));
  if (signal.aborted) throw signal.reason;
  const video = await retry(() => api.publish(rec.ticket, rec.id), ctx);
  resume.clear(file);
  onEvent({ type: 'published', video });
  return video;
}
