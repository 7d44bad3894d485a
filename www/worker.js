// The segmenter's dedicated Worker. It runs the wasm core on one File (the core reads only box headers and
// the moov, through FileReaderSync), gets every package file back as a Blob (media segments composed of
// header bytes and file.slice() ranges), then hashes each file with WebCrypto's SHA-256.
//
// Messages in:  {file, options, hash, check}
// Messages out: {type: 'progress', phase, done, total} · {type: 'done', ...} · {type: 'error', message}
import init, { segmentFile } from './pkg/upcast_core.js';

const ready = init();

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function run({ file, options, hash, check }) {
  await ready;
  postMessage({ type: 'progress', phase: 'segment', done: 0, total: file.size });
  const t0 = performance.now();
  // With `check`, the conformance checker (the one the origin runs at publish) reads the package too.
  const pkg = segmentFile(file, options, check);
  const segmentMs = performance.now() - t0;
  postMessage({ type: 'progress', phase: 'segment', done: file.size, total: file.size });
  const total = pkg.files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const t1 = performance.now();
  if (hash) {
    postMessage({ type: 'progress', phase: 'hash', done, total });
    for (const f of pkg.files) {
      // One file at a time: memory holds one segment, whatever the size of the source.
      f.sha256 = hex(await crypto.subtle.digest('SHA-256', await f.blob.arrayBuffer()));
      done += f.size;
      postMessage({ type: 'progress', phase: 'hash', done, total });
    }
  }
  return {
    files: pkg.files,
    summary: pkg.summary,
    report: pkg.report,
    bytesRead: pkg.bytesRead,
    segmentMs,
    hashMs: performance.now() - t1,
  };
}

onmessage = async ({ data }) => {
  try {
    postMessage({ type: 'done', ...(await run(data)) });
  } catch (e) {
    // A wasm trap (RuntimeError) or a refusal from the core (Error with the box and byte offset).
    const trap = e instanceof WebAssembly.RuntimeError;
    postMessage({ type: 'error', message: String(e?.message ?? e), trap });
  }
};
