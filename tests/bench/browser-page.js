// In the page: package the same File with upcast (wasm in a Worker, Blobs composed from file slices) and
// with Mediabunny's HLS output (CMAF segments, 6 s target), each to a complete package in memory.
import { segment } from '/www/upcast.js';
import * as MB from '/mb/mediabunny.min.mjs';

async function upcast(file) {
  const pkg = await segment(file, { targetDuration: 6, hash: false });
  return { files: pkg.list.length, bytes: pkg.list.reduce((n, f) => n + f.size, 0) };
}

async function mediabunny(file) {
  const targets = [];
  const output = new MB.Output({
    format: new MB.HlsOutputFormat({ segmentFormat: new MB.CmafOutputFormat(), targetDuration: 6 }),
    target: new MB.PathedTarget('master.m3u8', () => {
      const t = new MB.BufferTarget();
      targets.push(t);
      return t;
    }),
  });
  const input = new MB.Input({ source: new MB.BlobSource(file), formats: MB.ALL_FORMATS });
  const conversion = await MB.Conversion.init({ input, output });
  await conversion.execute();
  return { files: targets.length, bytes: targets.reduce((n, t) => n + (t.buffer?.byteLength ?? 0), 0) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(runs) {
  const file = new File([await (await fetch('/input.mp4')).blob()], 'input.mp4');
  const out = {};
  for (const [name, fn] of [['upcast', upcast], ['mediabunny', mediabunny]]) {
    await fn(file); // warm up: module compile, Worker start, JIT
    const times = [];
    let made;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      made = await fn(file);
      times.push(performance.now() - t0);
    }
    out[name] = { ms: median(times), times, ...made };
  }
  return out;
}
