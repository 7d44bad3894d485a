// `node tests/bench/codecs.mjs` (not a test): the same 720p rung in H.264, AV1 and VP9, each encoded alone
// by upcast's ladder in headless Chromium from the same 1080p H.264 file (tests/fixtures/make_big.sh, 20 s
// by default: BENCH_SECONDS), at the bit rate the planner gives each family (AV1 60 %, VP9 67 % of
// H.264's: wasm/src/ladder/codecs.rs). Prints side by side the encode speed (frames/s), the rung's size
// and measured bit rate, and its PSNR against the source scaled to 720p (ffmpeg's psnr filter: Y and the
// average of Y, U, V). Goal: AV1 and VP9 within about 1 dB of H.264's PSNR at their share of its bits
// (what the table claims), and the cost of encoding them printed beside it.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, root } from '../e2e/harness.mjs';
import { serveBenchPages } from './static-server.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const input = join(root, `tests/fixtures/generated/bench_${seconds}s_1080p.mp4`);
if (!existsSync(input))
  execFileSync(join(root, 'tests/fixtures/make_big.sh'), [input, String(seconds), '1920x1080'], { stdio: 'inherit' });
if (!existsSync(join(root, 'www/pkg/upcast_full_bg.wasm')))
  execFileSync(join(root, 'www/build.sh'), { stdio: 'inherit' });

/** ffmpeg's PSNR of `encoded` against the source scaled to `w`x`h`, frame by frame: {y, average}. */
function psnr(encoded, w, h) {
  const r = spawnSync(
    'ffmpeg',
    [
      '-nostdin',
      '-hide_banner',
      '-i',
      encoded,
      '-i',
      input,
      '-lavfi',
      `[1:v]scale=${w}:${h}:flags=bicubic[ref];[0:v][ref]psnr`,
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8' },
  );
  const m = r.stderr.match(/PSNR y:([\d.]+) u:[\d.]+ v:[\d.]+ average:([\d.]+)/);
  if (!m) throw new Error(`ffmpeg psnr on ${encoded}: ${r.stderr.slice(-800)}`);
  return { y: Number(m[1]), average: Number(m[2]) };
}

const server = await serveBenchPages();
const ctx = await launch();
const page = await ctx.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${server.base}/bench/codecs.html`);
await page.waitForFunction(() => window.bench);
await page.setInputFiles('#file', input);
const { frames, rungs } = await page.evaluate(() => window.bench.plan());
const dir = mkdtempSync(join(tmpdir(), 'upcast-codecs-'));
const rows = [];
for (const r of rungs) {
  if (!r.supported) {
    rows.push({ r, skipped: r.reason ?? 'not supported' });
    continue;
  }
  const made = await page.evaluate((id) => window.bench.encode(id), r.id);
  const path = join(dir, `${r.id}.mp4`);
  writeFileSync(path, Buffer.from(made.bytes, 'base64'));
  rows.push({ r, made, size: statSync(path).size, q: psnr(path, r.width, r.height) });
}
await ctx.close();
server.close();
rmSync(dir, { recursive: true, force: true });

const h264 = rows.find((x) => x.r.codec.startsWith('avc1') && x.made);
console.log(
  `input: ${input.split('/').pop()} (${frames} frames, ${seconds} s), Debian Chromium, one 720p rung at a time through the ladder`,
);
console.log(
  `  ${'rung'.padEnd(10)} ${'codec'.padEnd(15)} ${'encoder'.padEnd(9)} ${'target'.padStart(9)} ${'fps'.padStart(6)} ${'size'.padStart(9)} ${'measured'.padStart(10)} ${'size/H.264'.padStart(10)} ${'PSNR-Y'.padStart(7)} ${'PSNR avg'.padStart(8)}`,
);
for (const x of rows) {
  if (x.skipped) {
    console.log(`  ${x.r.id.padEnd(10)} ${x.r.codec.padEnd(15)} skipped: ${x.skipped}`);
    continue;
  }
  const fps = (frames * 1000) / x.made.ms;
  const kbps = (x.size * 8) / seconds / 1000;
  const rel = h264 ? x.size / h264.size : Number.NaN;
  console.log(
    `  ${x.r.id.padEnd(10)} ${x.made.codec.padEnd(15)} ${x.made.encoder.padEnd(9)} ${`${(x.made.bitrate / 1000).toFixed(0)}k`.padStart(9)} ${fps.toFixed(1).padStart(6)} ${`${(x.size / 1e6).toFixed(2)} MB`.padStart(9)} ${`${kbps.toFixed(0)}k`.padStart(10)} ${`${(rel * 100).toFixed(0)} %`.padStart(10)} ${x.q.y.toFixed(2).padStart(7)} ${x.q.average.toFixed(2).padStart(8)}`,
  );
}
if (h264) {
  for (const x of rows.filter((x) => x.made && x !== h264)) {
    const d = x.q.average - h264.q.average;
    console.log(
      `  ${x.r.id}: ${(d >= 0 ? '+' : '') + d.toFixed(2)} dB vs H.264 at ${((x.size / h264.size) * 100).toFixed(0)} % of its bytes, encoded ${((h264.made.ms / x.made.ms) * 100).toFixed(0)} % as fast (goal: within 1 dB at the table's share)`,
    );
  }
}
