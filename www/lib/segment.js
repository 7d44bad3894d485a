// @ts-check
// `segment(file, options)` turns an MP4/MOV File into a complete CMAF HLS package in the browser, without a
// server. The package is ready as soon as the moov is read and the segments are planned: each file is a
// recipe (header bytes + ranges of the File), and its bytes are gathered from the File only when asked for,
// so a 4 GB input costs no more memory than a few segments.
//
//   import { segment } from '@upcast/browser';   // or './lib/index.js' beside the pages
//   const pkg = await segment(file, { targetDuration: 6, onProgress: (p) => ..., signal });
//   const master = pkg.files.get('master.m3u8')   // a PackageFile; every path → PackageFile
//   await master.bytes()  /  await master.blob()  /  await master.sha256()
//   pkg.list                        // [PackageFile {path, size, type}]: playlists, inits, segments in time order
//   pkg.summary, pkg.findings       // what was found; problems in plain words
//   pkg.report                      // the HLS conformance report (check: true, the default); report.passed
import { abortReason } from './error.js';
import { findings } from './findings.js';
import { PackageFile, SourceReader, timeOrder } from './package-file.js';
import { WorkerClient } from './worker-rpc.js';

/** @typedef {import('./types.js').Summary} Summary */
/** @typedef {import('./types.js').Report} Report */
/** @typedef {import('./types.js').Recipe} Recipe */

/**
 * @typedef {object} SegmentOptions
 * @property {number} [targetDuration] seconds per segment (default 6)
 * @property {Record<string, number>} [limits] the core's `Limits`, camelCase (`{maxMoovBytes: …}`)
 * @property {boolean} [hash] compute every file's SHA-256 before resolving (a full read of the media)
 * @property {boolean} [check] run the HLS conformance check in the tab (default true; loads the full build)
 * @property {{captions?: {lang: string, name?: string, default?: boolean, forced?: boolean, bytes: Uint8Array}[],
 *   chapters?: string, sourceChapters?: boolean}} [text] caption files (WebVTT or SRT) per language and
 *   chapters (`0:00 Intro` lines): checked, segmented on the video's boundaries and announced in master.m3u8
 *   and the MPD by the core. Without typed chapters the file's own (a chapter track or chpl box) are the
 *   chapters track, unless `sourceChapters` is false
 * @property {(p: {phase: 'segment' | 'hash', done: number, total: number}) => void} [onProgress]
 * @property {AbortSignal} [signal]
 */

/**
 * @typedef {object} Package
 * @property {Map<string, PackageFile>} files every path → its file
 * @property {PackageFile[]} list playlists, init segments, then media segments in time order
 * @property {Summary} summary what was found and made
 * @property {string[]} findings notes in plain words
 * @property {Report | null} report the conformance report (`check`), with `passed`
 * @property {number} bytesRead bytes of the source read to make the package (headers and the moov)
 * @property {{segmentMs: number, hashMs?: number}} timings
 */

const workerUrl = new URL('../workers/segment-worker.js', import.meta.url);
/** @type {WorkerClient | null} A Worker kept for the next file; dropped after any error, cancel or trap. */
let idle = null;
// A Worker whose wasm memory grew past this is not kept (wasm memory never shrinks): the tab gives the
// memory back, and the next file pays the module's start-up (~30 ms) instead.
const KEEP_WASM_BYTES = 16 << 20;

/**
 * Package `file`. With `hash`, every file's SHA-256 is computed before the promise resolves (a full read of
 * the media); otherwise `sha256()` computes it when first asked. Rejects with an `UpcastError` (`code`,
 * `path`, `offset`) when the file cannot be packaged.
 * @param {Blob} file
 * @param {SegmentOptions} [options]
 * @returns {Promise<Package>}
 */
export async function segment(file, options = {}) {
  const pkg = await plan(file, options);
  if (options.hash) {
    const t0 = performance.now();
    const total = pkg.list.reduce((n, f) => n + f.size, 0);
    let done = 0;
    options.onProgress?.({ phase: 'hash', done, total });
    for (const f of pkg.list) {
      if (options.signal?.aborted) throw abortReason(options.signal);
      await f.sha256();
      done += f.size;
      options.onProgress?.({ phase: 'hash', done, total });
    }
    pkg.timings.hashMs = performance.now() - t0;
  }
  return pkg;
}

/**
 * Demux, plan and write headers in the Worker; resolve to the package of recipes.
 * @param {Blob} file
 * @param {SegmentOptions} options
 * @returns {Promise<Package>}
 */
async function plan(file, { targetDuration = 6, limits, check = true, text, onProgress, signal }) {
  if (signal?.aborted) throw abortReason(signal);
  const worker = idle ?? new WorkerClient(workerUrl);
  idle = null;
  const options = { plan: { targetDurationS: targetDuration }, ...(limits && { limits }), ...(text && { text }) };
  const done = await worker.request(
    { file, options, check },
    {
      until: 'done',
      failure: 'the segmenter could not start',
      signal,
      onReply: (r) => r.type === 'progress' && onProgress?.(/** @type {any} */ (r)),
    },
  );
  if (done.wasmBytes <= KEEP_WASM_BYTES && !idle) idle = worker;
  else worker.terminate(); // A fresh module instance for the next file.
  const source = new SourceReader(file);
  const recipes = /** @type {Recipe[]} */ (done.files);
  const list = timeOrder(recipes.map((r) => new PackageFile(source, r)));
  /** @type {Report | null} */
  const report = done.report && {
    ...done.report,
    passed: !done.report.findings.some((/** @type {{severity: string}} */ f) => f.severity === 'MUST'),
  };
  return {
    files: new Map(list.map((f) => [f.path, f])),
    list,
    summary: done.summary,
    findings: findings(done.summary, report),
    report,
    bytesRead: done.bytesRead,
    timings: { segmentMs: done.segmentMs },
  };
}
