// `node tests/bench/storyboard.mjs` (not a test): what the storyboard costs on the 60 s 1080p H.264 + AAC
// file, in headless Chromium. Copy-only uploads decode only the key frames the tiles show: goal < 1 s.
// With a ladder the tiles are drawn from frames decoded anyway: goal < 3 % added over the same ladder
// without a storyboard (720p 3 Mb/s + 360p 0.7 Mb/s, alternating runs, medians).

import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launch, root } from '../e2e/harness.mjs';
import { serveBenchPages } from './static-server.mjs';

const input = join(root, 'tests/fixtures/generated/bench_60s_1080p.mp4');
if (!existsSync(input))
  execFileSync(join(root, 'tests/fixtures/make_big.sh'), [input, '60', '1920x1080'], { stdio: 'inherit' });
if (!existsSync(join(root, 'www/pkg/upcast_full_bg.wasm')))
  execFileSync(join(root, 'www/build.sh'), { stdio: 'inherit' });
const runs = Number(process.env.BENCH_RUNS ?? 3);
const server = await serveBenchPages();
const ctx = await launch();
const page = await ctx.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${server.base}/bench/storyboard.html`);
await page.waitForFunction(() => window.bench);
await page.setInputFiles('#file', input);
// `--copy-only`: the copy-only figure alone (the ladder runs take minutes).
const r = await page.evaluate(
  ([n, ladder]) => window.bench.run(n, ladder),
  [runs, !process.argv.includes('--copy-only')],
);
await ctx.close();
server.close();

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const i = r.copy.info;
console.log(
  `input: ${input.split('/').pop()} (${(statSync(input).size / 1e6).toFixed(1)} MB), Debian Chromium, median of ${runs}`,
);
console.log(
  `  copy-only storyboard (key frames decoded)   ${s(r.copy.ms)}  (goal: < 1 s${r.copy.ms < 1000 ? '' : ': MISSED'})` +
    `   ${i.tiles} tiles every ${i.intervalS} s, ${i.decoded} frames decoded, ${i.sheets} ${i.picture} sheet(s), ${(i.bytes / 1e3).toFixed(0)} kB; runs ${r.copy.times.map(s).join(', ')}`,
);
console.log(
  `    of the last run: core + moov ${s(i.openMs)}, key-frame decode ${s(i.decodeMs)} (drawing ${s(i.drawMs)} of it), sheet encode ${s(i.encodeMs)}`,
);
if (r.ladder.skipped) {
  process.exit(0);
}
const added = (r.ladder.with - r.ladder.without) / r.ladder.without;
console.log(
  `  ladder without storyboard                   ${s(r.ladder.without)}   runs ${r.ladder.withoutTimes.map(s).join(', ')}`,
);
console.log(
  `  ladder with storyboard                      ${s(r.ladder.with)}   runs ${r.ladder.withTimes.map(s).join(', ')}; drawing + encoding the sheets ${s(r.ladder.drawn.ms)}`,
);
console.log(
  `  added by the storyboard in ladder mode      ${(added * 100).toFixed(1)} %  (goal: < 3 %${added < 0.03 ? '' : ': MISSED'})`,
);
