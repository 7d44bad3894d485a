// upcast as a library: `segment(file, options)` turns an MP4/MOV File into a complete CMAF HLS package in
// the browser, without a server. Sample bytes never pass through JS or wasm memory: media segments are Blobs
// composed of small header bytes and slices of the File.
//
//   import { segment } from './upcast.js';
//   const pkg = await segment(file, { targetDuration: 6, onProgress: (p) => ..., signal });
//   pkg.files.get('master.m3u8')   // Blob; every path → Blob
//   pkg.list                        // [{path, size, sha256, blob}], playlists first
//   pkg.summary, pkg.findings       // what was found; problems in plain words
//   pkg.report                      // the HLS conformance report (check: true, the default); report.passed
import { findings } from './findings.js';

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

function takeWorker() {
  const w = idle ?? new Worker(workerUrl, { type: 'module' });
  idle = null;
  return w;
}

/**
 * Package `file`.
 * @param {Blob} file
 * @param {{targetDuration?: number, limits?: object, hash?: boolean, check?: boolean,
 *          onProgress?: (p: {phase: 'segment'|'hash', done: number, total: number}) => void,
 *          signal?: AbortSignal}} [options]
 */
export function segment(file, options = {}) {
  const { targetDuration = 6, limits, hash = true, check = true, onProgress, signal } = options;
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
        finish(true);
        const list = data.files;
        resolve({
          files: new Map(list.map((f) => [f.path, f.blob])),
          list,
          summary: data.summary,
          findings: findings(data.summary, data.report),
          report: data.report && { ...data.report, passed: !data.report.findings.some((f) => f.severity === 'MUST') },
          bytesRead: data.bytesRead,
          timings: { segmentMs: data.segmentMs, hashMs: data.hashMs },
        });
      }
    };
    worker.postMessage({ file, options: core, hash, check });
  });
}

export { findings };
