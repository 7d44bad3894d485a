// @ts-check
// The segmenter's dedicated Worker (`segment()` in lib/segment.js). It runs the wasm core on one File: the
// core reads only box headers and the moov, through FileReaderSync, and returns every package file as a
// recipe (header bytes + source ranges, see wasm/src/web/recipe.rs). With `check`, the conformance checker
// reads the package once.
//
// Request: {file, options, check} · replies: {type: 'progress', phase, done, total} · {type: 'done', ...}
// · {type: 'error', error} (workers/worker-host.js)
import { loadCore, serve } from './worker-host.js';

/** @typedef {import('../lib/types.js').Recipe} Recipe */

/** @param {{file: File, options: object, check: boolean}} request */
async function run({ file, options, check }) {
  const { segmentFile, exports } = await loadCore(check ? 'upcast_full' : 'upcast_segment');
  self.postMessage({ type: 'progress', phase: 'segment', done: 0, total: file.size });
  const t0 = performance.now();
  const pkg = segmentFile(file, options, check);
  self.postMessage({ type: 'progress', phase: 'segment', done: file.size, total: file.size });
  // wasm memory only grows: a large moov leaves this Worker holding its peak (tens of MB for hours of
  // video), which the page uses to decide whether to keep it for the next file.
  const message = {
    type: 'done',
    ...pkg,
    segmentMs: performance.now() - t0,
    wasmBytes: exports.memory.buffer.byteLength,
  };
  const transfer = pkg.files.flatMap((f) => (f.layout ? [f.head.buffer, f.layout.buffer] : [f.head.buffer]));
  return { message, transfer };
}

serve(run);
