// `npm run bench` (not a test), the ladder part: in one headless Chromium run, on the same 60 s 1080p H.264
// + AAC file and the same rungs (720p/480p/360p at 3/1.2/0.7 Mb/s): (a) the floor — decode once, feed the
// encoders, no muxing; (b) upcast's ladder to a complete package; (c) Mediabunny's HLS conversion. Prints
// times and ratios. Then a 30-minute input through the ladder in a fresh browser, its files let go as they
// are finished, sampling the tab's memory (`--no-long` skips it, `--long-only` runs only it). Goals: (b) <= 1.15x (a); (c) >= 5x (b);
// memory flat on the long input.

import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launch, root } from '../e2e/harness.mjs';
import { largestRenderer, sampleRenderers } from './renderer-memory.mjs';
import { serveBenchPages } from './static-server.mjs';

const input = join(root, 'tests/fixtures/generated/bench_60s_1080p.mp4');
const longInput = join(root, 'tests/fixtures/generated/bench_30min_1080p.mp4');
const make = (path, secs) =>
  existsSync(path) ||
  execFileSync(join(root, 'tests/fixtures/make_big.sh'), [path, String(secs), '1920x1080'], { stdio: 'inherit' });
make(input, 60);
if (!existsSync(join(root, 'www/pkg/upcast_full_bg.wasm')))
  execFileSync(join(root, 'www/build.sh'), { stdio: 'inherit' });
const server = await serveBenchPages();
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

async function page(ctx, file) {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  await p.goto(`${server.base}/bench/ladder.html`);
  await p.waitForFunction(() => window.bench);
  await p.setInputFiles('#file', file);
  return p;
}

const runs = Number(process.env.BENCH_RUNS ?? 3);
if (!process.argv.includes('--long-only')) await short();
if (!process.argv.includes('--no-long')) await long();
server.close();

async function short() {
  const ctx = await launch();
  const r = await (await page(ctx, input)).evaluate((n) => window.bench.run(n), runs);
  await ctx.close();
  const fps = (x) => ((r.frames * 1000) / x.ms).toFixed(0);
  const secs = (x) => x.times.map((t) => (t / 1000).toFixed(2)).join(', ');
  const line = (name, x, made) =>
    `  ${name.padEnd(40)} ${(x.ms / 1000).toFixed(2)} s  ${fps(x).padStart(4)} frames/s   ${made.padEnd(22)} runs ${secs(x)} s`;
  console.log(
    `input: ${input.split('/').pop()} (${mb(statSync(input).size)}, ${r.frames} frames), Debian Chromium, software H.264, rungs 720p/480p/360p at 3/1.2/0.7 Mb/s; median of ${runs} (Mediabunny: 1 run)`,
  );
  console.log(
    line('(a) floor: decode once → 3 encoders', r.floor, `${mb(r.floor.bytes.reduce((n, b) => n + b, 0))} of chunks`),
  );
  console.log(line('(b) upcast ladder: complete package', r.ladder, `${r.ladder.files} files, ${mb(r.ladder.bytes)}`));
  console.log(
    line('(c) mediabunny: HLS conversion', r.mediabunny, `${r.mediabunny.files} files, ${mb(r.mediabunny.bytes)}`),
  );
  console.log(`  ratio (b) / (a)   ${(r.ladder.ms / r.floor.ms).toFixed(3)}x (goal: <= 1.15x)`);
  console.log(`  ratio (c) / (b)   ${(r.mediabunny.ms / r.ladder.ms).toFixed(2)}x (goal: >= 5x)`);
}

async function long() {
  make(longInput, 1800);
  const fresh = await launch();
  const tab = await page(fresh, longInput);
  const idle = largestRenderer(fresh.profileDir);
  const sampler = sampleRenderers(fresh.profileDir, 200);
  // The peak in each tenth of the run: flat memory has no trend from the first tenth to the last.
  const tenths = Array(10).fill(0);
  const watch = setInterval(async () => {
    const at = await tab.evaluate(() => window.ladderProgress).catch(() => null);
    const now = largestRenderer(fresh.profileDir).private;
    if (at != null) tenths[Math.min(9, Math.floor(at * 10))] = Math.max(tenths[Math.min(9, Math.floor(at * 10))], now);
  }, 1000);
  const l = await tab.evaluate(() => window.bench.long());
  clearInterval(watch);
  const peak = sampler.stop();
  await fresh.close();
  console.log(
    `long input: ${longInput.split('/').pop()} (${mb(l.size)}, ${l.frames} frames): ladder in ${(l.ms / 1000).toFixed(0)} s ` +
      `(${((l.frames * 1000) / l.ms).toFixed(0)} frames/s), ${l.files} files, ${mb(l.bytes)}, each let go once made`,
  );
  console.log(
    `  tab (renderer) memory: peak ${mb(peak.private)} private (RssAnon), ${mb(peak.rss)} RSS; idle before ${mb(idle.private)} private`,
  );
  console.log(`  peak private per tenth of the run: ${tenths.map((b) => (b / 1e6).toFixed(0)).join(' ')} MB`);
}
