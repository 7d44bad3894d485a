// upcast's adaptive ladder as a library: the source is decoded once with WebCodecs in a Worker, every rung
// is encoded from the same frames with key frames at the same instants, and each rung is muxed into CMAF
// by the wasm core. Files become available as they are finished, so they can be uploaded while later
// parts are still encoding.
//
//   import { openLadder } from './ladder.js';
//   const job = await openLadder(file, { targetDuration: 6 });
//   job.source, job.candidates, job.proposal      // what was found; what this browser can encode; the plan
//   job.decodeProblem                               // set when this browser cannot decode the source: copy only
//   const pkg = job.run({ rungs: job.proposal.rungs, copy: job.proposal.copy, onProgress, signal });
//   pkg.list / pkg.files / await pkg.at(i)         // grows as files are finished
//   await pkg.done                                  // {summary}: every file is there, playlists last
//
// or in one call: `const pkg = await ladder(file, { targetDuration: 6, onProgress })`.
import { PackageFile, SourceReader, timeOrder } from './package-file.js';
import { findings } from './findings.js';

export class LadderError extends Error {
  constructor(message, { trap = false } = {}) {
    super(message);
    this.name = 'LadderError';
    this.trap = trap;
  }
}

const TYPES = { m3u8: 'application/vnd.apple.mpegurl', mp4: 'video/mp4', m4s: 'video/iso.segment' };
const typeOf = (path) => TYPES[path.split('.').pop()] ?? 'application/octet-stream';

/** A file an encoder made: its bytes are in memory until the package lets them go (`release`). */
class EncodedFile extends PackageFile {
  constructor(path, bytes) {
    super(null, { path, size: bytes.length, type: typeOf(path), head: bytes, layout: null });
    this.encoded = true;
  }

  async bytes(into) {
    if (!this.head) throw new Error(`${this.path}: its bytes were released after it was uploaded`);
    return super.bytes(into);
  }
}

/** A package whose files arrive over time; `at(i)` waits for the i-th, and is null past the last one. */
export class GrowingPackage {
  constructor({ onRelease } = {}) {
    this.list = [];
    this.files = new Map();
    this.summary = null;
    this.findings = [];
    this.complete = false;
    this.error = null;
    this.expectedBytes = 0;
    this.onRelease = onRelease;
    this.wake = [];
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  add(files) {
    for (const f of files) {
      this.list.push(f);
      this.files.set(f.path, f);
    }
    this.notify();
  }

  end(summary) {
    this.summary = summary;
    this.findings = findings(summary);
    this.complete = true;
    this.notify();
    this.settle.resolve(this);
  }

  fail(e) {
    if (this.complete || this.error) return;
    this.error = e;
    this.notify();
    this.settle.reject(e);
  }

  notify() {
    const w = this.wake;
    this.wake = [];
    w.forEach((f) => f());
  }

  async at(i) {
    for (;;) {
      if (i < this.list.length) return this.list[i];
      if (this.error) throw this.error;
      if (this.complete) return null;
      await new Promise((r) => this.wake.push(r));
    }
  }

  /** The caller is done with `f` (it is uploaded): an encoded file's bytes are dropped (its size and
   * SHA-256 stay), and the encoder may go on if it was waiting for room. */
  release(f) {
    if (!f.encoded || !f.head) return;
    f.head = null;
    this.onRelease?.(f.size);
  }
}

function message(worker, want, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException('cancelled', 'AbortError'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.onerror = (e) => {
      e.preventDefault?.();
      reject(new LadderError(`the encoder could not start: ${e.message ?? 'worker error'}`));
    };
    worker.onmessage = ({ data }) => {
      if (data.type === want) resolve(data);
      else if (data.type === 'error') reject(new LadderError(data.message, { trap: data.trap }));
    };
  });
}

/** Demux and plan `file` in a fresh Worker, and ask this browser which rungs it can encode. */
export async function openLadder(file, { targetDuration = 6, limits, signal } = {}) {
  const worker = new Worker(new URL('./ladder-worker.js', import.meta.url), { type: 'module' });
  const options = { plan: { target_duration_s: targetDuration } };
  if (limits) options.limits = limits;
  const got = message(worker, 'opened', signal);
  worker.postMessage({ type: 'open', file, options });
  try {
    return new LadderJob(worker, file, await got);
  } catch (e) {
    worker.terminate();
    throw e;
  }
}

export class LadderJob {
  constructor(worker, file, opened) {
    this.worker = worker;
    this.file = file;
    this.source = opened.source;
    this.candidates = opened.candidates;
    this.proposal = opened.proposal;
    this.summary = opened.summary;
    this.audioTarget = opened.audioTarget;
    this.audioProblem = opened.audioProblem; // why the source's non-AAC audio cannot be re-encoded here
    this.decodeProblem = opened.decodeProblem; // why no rung can be encoded here (only the copy is left)
    this.rotation = opened.rotation;
    this.started = false;
  }

  /**
   * Encode `rungs` (and copy the source as the top rung when `copy`). Returns the growing package at
   * once. `onProgress({rungs: [{id, frames, total, fps, etaS}], decoded, total, audio, ms})`.
   * `maxPendingBytes`: encoding waits while more than this many bytes of finished files are not yet
   * released (`pkg.release(f)`), so memory stays flat when the consumer (an upload) is slower.
   */
  run({ rungs = this.proposal.rungs, copy = this.proposal.copy, onProgress, signal, maxPendingBytes = Infinity } = {}) {
    if (this.started) throw new Error('a ladder job runs once; open the file again');
    this.started = true;
    const w = this.worker;
    const pkg = new GrowingPackage({ onRelease: (bytes) => w.postMessage({ type: 'release', bytes }) });
    const source = new SourceReader(this.file);
    const seconds = this.source.video.durationUs / 1e6;
    pkg.expectedBytes = Math.round(((rungs.reduce((n, r) => n + r.bitrate, 0) + (copy ? this.source.video.bitrate : 0) + 128_000) * seconds) / 8);
    const totalFrames = this.source.video.frames;
    const stop = (e) => {
      w.terminate(); // a fresh module instance for the next job
      pkg.fail(e);
    };
    const onAbort = () => stop(signal.reason ?? new DOMException('cancelled', 'AbortError'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const wrap = (files) => files.map((f) => (f.layout !== undefined ? new PackageFile(source, f) : new EncodedFile(f.path, f.bytes)));
    w.onerror = (e) => {
      e.preventDefault?.();
      stop(new LadderError(`the encoder stopped: ${e.message ?? 'worker error'}`));
    };
    w.onmessage = ({ data }) => {
      if (data.type === 'files') {
        pkg.add(data.files[0]?.layout !== undefined ? timeOrder(wrap(data.files)) : wrap(data.files));
      } else if (data.type === 'progress') {
        const v = data.video;
        onProgress?.({
          ...data,
          total: totalFrames,
          rungs: rungs.map((r, i) => {
            const frames = v?.rungs[i]?.frames ?? 0;
            const fps = v && v.ms > 0 ? (frames * 1000) / v.ms : 0;
            return { id: r.id, width: r.width, height: r.height, frames, total: totalFrames, fps, etaS: fps > 0 ? (totalFrames - frames) / fps : null };
          }),
        });
      } else if (data.type === 'done') {
        signal?.removeEventListener('abort', onAbort);
        pkg.add(wrap(data.files));
        w.terminate();
        pkg.end(data.summary);
      } else if (data.type === 'error') {
        signal?.removeEventListener('abort', onAbort);
        stop(new LadderError(data.message, { trap: data.trap }));
      }
    };
    w.postMessage({ type: 'run', rungs, copy, maxPendingBytes: Number.isFinite(maxPendingBytes) ? maxPendingBytes : null });
    return pkg;
  }

  /** Drop the Worker without running (a job that was only looked at). */
  close() {
    if (!this.started) this.worker.terminate();
    this.started = true;
  }
}

/** Open, propose and run in one call; resolves to the complete package. */
export async function ladder(file, { targetDuration, limits, rungs, copy, onProgress, signal } = {}) {
  const job = await openLadder(file, { targetDuration, limits, signal });
  return job.run({ rungs, copy, onProgress, signal }).done;
}
