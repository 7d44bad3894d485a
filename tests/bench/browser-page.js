// In the page: package the same File with upcast (wasm in a Worker) and with Mediabunny's HLS output (CMAF
// segments, 6 s target). The File comes from an <input type=file> set by the driver: a disk-backed File, as
// a user's would be.

import * as MB from '/mb/mediabunny.min.mjs';
import { segment } from '/www/lib/segment.js';

const input = () => document.querySelector('#file').files[0];
const sum = (list) => list.reduce((n, f) => n + f.size, 0);

/** Ready package: moov read, segments planned, every file a recipe (its bytes gathered on demand). */
async function upcastReady(file) {
  const pkg = await segment(file, { targetDuration: 6, check: false });
  return { files: pkg.list.length, bytes: sum(pkg.list) };
}

/** Every byte of every file gathered into memory: what Mediabunny's BufferTarget output holds. */
async function upcastBytes(file) {
  const pkg = await segment(file, { targetDuration: 6, check: false });
  let bytes = 0;
  for (const f of pkg.list) bytes += (await f.bytes()).length;
  return { files: pkg.list.length, bytes };
}

/** Ready package after the in-tab HLS conformance check (reads every segment once). */
async function upcastChecked(file) {
  const pkg = await segment(file, { targetDuration: 6, check: true });
  if (!pkg.report.passed) throw new Error('the package failed the conformance check');
  return { files: pkg.list.length, bytes: sum(pkg.list) };
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
  const source = new MB.Input({ source: new MB.BlobSource(file), formats: MB.ALL_FORMATS });
  const conversion = await MB.Conversion.init({ input: source, output });
  await conversion.execute();
  return { files: targets.length, bytes: targets.reduce((n, t) => n + (t.buffer?.byteLength ?? 0), 0) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(runs) {
  const file = input();
  const out = {};
  const cases = { ready: upcastReady, bytes: upcastBytes, checked: upcastChecked, mediabunny };
  for (const [name, fn] of Object.entries(cases)) {
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

/** A large input the way the upload page treats it: package, then gather and hash every file in turn. */
export async function large() {
  const file = input();
  const t0 = performance.now();
  const pkg = await segment(file, { targetDuration: 6, check: false });
  const readyMs = performance.now() - t0;
  let bytes = 0;
  let buf = new Uint8Array(0); // reused from file to file, as the uploader's lanes do
  for (const f of pkg.list) {
    if (buf.length < f.size) buf = new Uint8Array(Math.ceil(f.size * 1.25));
    const b = await f.bytes(buf);
    await f.sha256(b);
    bytes += b.length;
  }
  return { size: file.size, files: pkg.list.length, bytes, readyMs, totalMs: performance.now() - t0 };
}
