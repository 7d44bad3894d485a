// `npm run bench` (not a test): in one headless Chromium run, package the same 60 s 1080p H.264 + AAC file
// with upcast (www/upcast.js) and with Mediabunny's HLS output (CMAF, 6 s), print the times and ratios and
// the wasm + glue bundle size gzipped; then package a 4 GB input and gather and hash every file, sampling
// the tab's memory (`--no-large` skips it; `--large-only` runs only it). Goals: >= 10x faster, bundle
// <= 60 kB gzipped, < 100 MB.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launch, root } from '../e2e/harness.mjs';
import { largestRenderer, sampleRenderers } from './renderer-memory.mjs';
import { serveBenchPages } from './static-server.mjs';

const input = join(root, 'tests/fixtures/generated/bench_60s_1080p.mp4');
const large = join(root, 'tests/fixtures/generated/big_4g.mp4');
if (!existsSync(input))
  execFileSync(join(root, 'tests/fixtures/make_big.sh'), [input, '60', '1920x1080'], { stdio: 'inherit' });
if (!existsSync(join(root, 'www/pkg/upcast_segment_bg.wasm')))
  execFileSync(join(root, 'www/build.sh'), { stdio: 'inherit' });

const server = await serveBenchPages();
const base = server.base;

const largeOnly = process.argv.includes('--large-only');
let r = null;
if (!largeOnly) {
  const ctx = await launch();
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${base}/bench/browser.html`);
  await page.waitForFunction(() => window.bench);
  await page.setInputFiles('#file', input);
  r = await page.evaluate((runs) => window.bench.run(runs), 3);
  await ctx.close();
}

// A 4 GB input (made once, by stream copy) the way the upload page treats it, in a fresh browser so that the
// tab's memory is this job's alone, sampled from /proc while it runs.
let big = null;
if (!process.argv.includes('--no-large')) {
  if (!existsSync(large))
    execFileSync(join(root, 'tests/fixtures/make_big.sh'), [large, '4400', '1920x1080'], { stdio: 'inherit' });
  const fresh = await launch();
  const tab = await fresh.newPage();
  await tab.goto(`${base}/bench/browser.html`);
  await tab.waitForFunction(() => window.bench);
  await tab.setInputFiles('#file', large);
  const idle = largestRenderer(fresh.profileDir);
  const sampler = sampleRenderers(fresh.profileDir);
  big = await tab.evaluate(() => window.bench.large());
  big.peak = sampler.stop();
  big.idle = idle;
  await fresh.close();
}
server.close();

const gz = (p) => gzipSync(readFileSync(join(root, p)), { level: 9 }).length;
const bundleFiles = [
  'www/pkg/upcast_segment_bg.wasm',
  'www/pkg/upcast_segment.js',
  'www/workers/segment-worker.js',
  'www/workers/worker-host.js',
  'www/lib/segment.js',
  'www/lib/worker-rpc.js',
  'www/lib/error.js',
  'www/lib/package-file.js',
  'www/lib/findings.js',
];
const bundle = bundleFiles.reduce((n, p) => n + gz(p), 0);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const line = (name, x) =>
  `  ${name.padEnd(34)} ${(x.ms / 1000).toFixed(3)} s   ${x.files} files, ${mb(x.bytes)}   runs ${x.times.map((t) => t.toFixed(0)).join(', ')} ms`;
if (r) {
  console.log(
    `input: ${input.split('/').pop()} (${mb(statSync(input).size)}), Debian Chromium, disk-backed File, warm, median of 3`,
  );
  console.log(line('upcast: package ready', r.ready));
  console.log(line("upcast: every file's bytes gathered", r.bytes));
  console.log(line('upcast: ready + in-tab HLS check', r.checked));
  console.log(line('mediabunny: HLS (CMAF) in memory', r.mediabunny));
  console.log(
    `  ratio mediabunny / upcast ready           ${(r.mediabunny.ms / r.ready.ms).toFixed(1)}x (goal: >= 10x)`,
  );
  console.log(`  ratio mediabunny / upcast bytes gathered  ${(r.mediabunny.ms / r.bytes.ms).toFixed(1)}x`);
  console.log(`  ratio mediabunny / upcast checked         ${(r.mediabunny.ms / r.checked.ms).toFixed(1)}x`);
  console.log(
    `  bundle (${bundleFiles.map((p) => p.split('/').pop()).join(' + ')}) ${(bundle / 1000).toFixed(1)} kB gzipped (goal: <= 60 kB)`,
  );
  console.log(
    `  + the full build loaded only to check or encode (upcast_full_bg.wasm + glue) ${((gz('www/pkg/upcast_full_bg.wasm') + gz('www/pkg/upcast_full.js')) / 1000).toFixed(1)} kB gzipped`,
  );
}
if (big) {
  console.log(
    `large input: ${large.split('/').pop()} (${mb(big.size)}): ready in ${big.readyMs.toFixed(0)} ms; ${big.files} files, ` +
      `${mb(big.bytes)} gathered and hashed one file at a time in ${(big.totalMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  tab (renderer) memory: peak ${mb(big.peak.private)} private (RssAnon), ${mb(big.peak.rss)} RSS; ` +
      `idle before ${mb(big.idle.private)} private, ${mb(big.idle.rss)} RSS (goal: < 100 MB)`,
  );
}
