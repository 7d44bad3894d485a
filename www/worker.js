// The segmenter's dedicated Worker. It runs the wasm core on one File: the core reads only box headers and
// the moov, through FileReaderSync, and returns every package file as a recipe (header bytes + source
// ranges, see wasm/src/web/recipe.rs). With `check`, the conformance checker reads the package once.
//
// Messages in:  {file, options, check}
// Messages out: {type: 'progress', phase, done, total} · {type: 'done', ...} · {type: 'error', message}
// Two builds of the core (origin/scripts/build.sh): the segmenter alone, and the full one with the HLS
// conformance checker. Only the one a job needs is fetched and compiled.
const builds = {};
function core(check) {
  const name = check ? 'upcast_full' : 'upcast_core';
  // The module and its instance's exports (a module namespace cannot take new properties).
  builds[name] ??= import(`./pkg/${name}.js`).then(async (m) => ({ ...m, exports: await m.default() }));
  return builds[name];
}

async function run({ file, options, check }) {
  const { segmentFile, exports } = await core(check);
  postMessage({ type: 'progress', phase: 'segment', done: 0, total: file.size });
  const t0 = performance.now();
  const pkg = segmentFile(file, options, check);
  postMessage({ type: 'progress', phase: 'segment', done: file.size, total: file.size });
  // wasm memory only grows: a large moov leaves this Worker holding its peak (tens of MB for hours of
  // video), which the page uses to decide whether to keep it for the next file.
  return { ...pkg, segmentMs: performance.now() - t0, wasmBytes: exports.memory.buffer.byteLength };
}

onmessage = async ({ data }) => {
  try {
    const out = await run(data);
    const buffers = out.files.flatMap((f) => (f.layout ? [f.head.buffer, f.layout.buffer] : [f.head.buffer]));
    postMessage({ type: 'done', ...out }, buffers);
  } catch (e) {
    // A wasm trap (RuntimeError) or a refusal from the core (Error with the box and byte offset).
    const trap = e instanceof WebAssembly.RuntimeError;
    postMessage({ type: 'error', message: String(e?.message ?? e), trap });
  }
};
