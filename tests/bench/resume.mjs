// `node tests/bench/resume.mjs` (not a test): the ladder's resume after a reload at 50 %. In one headless
// Chromium, the 60 s 1080p H.264 + AAC file of the ladder bench and its rungs (720p/480p/360p at
// 3/1.2/0.7 Mb/s, 6 s segments): (a) a full encode to a complete package; (b) the same ladder resumed with
// the records of the first half of the segments (what the upload page hands the ladder when the origin has
// them). Each is timed from the ladder's run (encode, mux, playlists) to its last file; opening the file
// (demux, plan, asking the browser which rungs it can encode), the same for both and done before the person
// picks the rungs, is printed beside. Prints both times, the ratio and the goal: (b) <= 55 % of (a).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch, root } from '../e2e/harness.mjs';
import { serveBenchPages } from './static-server.mjs';

const input = join(root, 'tests/fixtures/generated/bench_60s_1080p.mp4');
if (!existsSync(input))
  execFileSync(join(root, 'tests/fixtures/make_big.sh'), [input, '60', '1920x1080'], { stdio: 'inherit' });
if (!existsSync(join(root, 'www/pkg/upcast_full_bg.wasm')))
  execFileSync(join(root, 'www/build.sh'), { stdio: 'inherit' });
const server = await serveBenchPages();
const ctx = await launch();
try {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  await p.goto(`${server.base}/bench/resume.html`);
  await p.waitForFunction(() => window.bench);
  await p.setInputFiles('#file', input);
  const r = await p.evaluate(() => window.bench.run());
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const ratio = r.resumed.ms / r.full.ms;
  const at = r.resumed.at
    ? `segment ${r.resumed.at.segment}, ${(r.resumed.at.atUs / 1e6).toFixed(1)} s`
    : 'not resumed';
  console.log(
    `input: ${input.split('/').pop()} (${(r.durationUs / 1e6).toFixed(0)} s, ${r.segments} segments of 6 s), ` +
      'Debian Chromium, software H.264, rungs 720p/480p/360p at 3/1.2/0.7 Mb/s, no copy rung',
  );
  console.log(
    `  (a) full encode                ${s(r.full.ms).padStart(9)}  ${r.full.files} files (opening: ${s(r.full.openMs)})`,
  );
  console.log(
    `  (b) resumed at ${at.padEnd(15)}${s(r.resumed.ms).padStart(9)}  ${r.resumed.files} files (opening: ${s(r.resumed.openMs)})`,
  );
  console.log(`  ratio (b) / (a)   ${(ratio * 100).toFixed(1)} % (goal: <= 55 %): ${ratio <= 0.55 ? 'met' : 'missed'}`);
} finally {
  await ctx.close();
  server.close();
}
