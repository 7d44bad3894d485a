// upcast as a library: `segment(file, options)` turns an MP4/MOV File into a complete CMAF HLS package in
// the browser, without a server. The package is ready as soon as the moov is read and the segments are
// planned: each file is a recipe (header bytes + ranges of the File), and its bytes are gathered from the
// File only when asked for, so a 4 GB input costs no more memory than a few segments.
//
//   import { segment } from './upcast.js';
//   const pkg = await segment(file, { targetDuration: 6, onProgress: (p) => ..., signal });
//   const master = pkg.files.get('master.m3u8')   // a PackageFile; every path → PackageFile
//   await master.bytes()  /  await master.blob()  /  await master.sha256()
//   pkg.list                        // [PackageFile {path, size, type}]: playlists, inits, segments in time order
//   pkg.summary, pkg.findings       // what was found; problems in plain words
//   pkg.report                      // the HLS conformance report (check: true, the default); report.passed
import { findings } from './findings.js';
import { PackageFile, SourceReader, timeOrder } from './package-file.js';

/** A file the segmenter refused: `message` says what is wrong and where (box path, byte offset). */
export class SegmentError extends Error {
  constructor(message, { trap = false } = {}) {
    super(message);
    this.name = 'SegmentError';
    this.trap = trap;
  }
}

const workerUrl = new URL('./worker.js', import.meta.url);
let idle = null; // A worker kept for the next file; dropped after any error, cancel or trap.
// A Worker whose wasm memory grew past this is not kept (wasm memory never shrinks): the tab gives the
// memory back, and the next file pays the module's start-up (~30 ms) instead.
const KEEP_WASM_BYTES = 16 << 20;

function takeWorker() {
  const w = idle ?? new Worker(workerUrl, { type: 'module' });
  idle = null;
  return w;
}

/**
 * Package `file`. With `hash`, every file's SHA-256 is computed before the promise resolves (a full read of
 * the media); otherwise `sha256()` computes it when first asked.
 * @param {Blob} file
 * @param {{targetDuration?: number, limits?: object, hash?: boolean, check?: boolean,
 *          onProgress?: (p: {phase: 'segment'|'hash', done: number, total: number}) => void,
 *          signal?: AbortSignal}} [options]
 */
export async function segment(file, options = {}) {
  const pkg = await plan(file, options);
  if (options.hash) {
    const t0 = performance.now();
    const total = pkg.list.reduce((n, f) => n + f.size, 0);
    let done = 0;
    options.onProgress?.({ phase: 'hash', done, total });
    for (const f of pkg.list) {
      if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('cancelled', 'AbortError');
      await f.sha256();
      done += f.size;
      options.onProgress?.({ phase: 'hash', done, total });
    }
    pkg.timings.hashMs = performance.now() - t0;
  }
  return pkg;
}

/** Demux, plan and write headers in the Worker; resolve to the package of recipes. */
function plan(file, options) {
  const { targetDuration = 6, limits, check = true, onProgress, signal } = options;
  const core = { plan: { target_duration_s: targetDuration } };
  if (limits) core.limits = limits;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException('cancelled', 'AbortError'));
    const worker = takeWorker();
    const finish = (keep) => {
      signal?.removeEventListener('abort', onAbort);
      if (keep && !idle) idle = worker;
      else worker.terminate(); // A fresh module instance for the next file.
    };
    const onAbort = () => {
      finish(false);
      reject(signal.reason ?? new DOMException('cancelled', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort);
    worker.onerror = (e) => {
      e.preventDefault?.();
      finish(false);
      reject(new SegmentError(`the segmenter could not start: ${e.message ?? 'worker error'}`));
    };
    worker.onmessage = ({ data }) => {
      if (data.type === 'progress') {
        onProgress?.(data);
      } else if (data.type === 'error') {
        finish(false);
        reject(new SegmentError(data.message, { trap: data.trap }));
      } else if (data.type === 'done') {
        finish(data.wasmBytes <= KEEP_WASM_BYTES);
        const source = new SourceReader(file);
        const list = timeOrder(data.files.map((r) => new PackageFile(source, r)));
        resolve({
          files: new Map(list.map((f) => [f.path, f])),
          list,
          summary: data.summary,
          findings: findings(data.summary, data.report),
          report: data.report && { ...data.report, passed: !data.report.findings.some((f) => f.severity === 'MUST') },
          bytesRead: data.bytesRead,
          timings: { segmentMs: data.segmentMs },
        });
      }
    };
    worker.postMessage({ file, options: core, check });
  });
}

export { findings, PackageFile };
