// `npm run bench` (not a test): in one headless Chromium run, package the same 60 s 1080p H.264 + AAC file
// with upcast (www/upcast.js) and with Mediabunny's HLS output (CMAF, 6 s), print both times, the ratio,
// and the wasm + glue bundle size gzipped. Goals: >= 10x faster, bundle <= 60 kB gzipped.
import { createServer } from 'node:http';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join, extname } from 'node:path';
import { root, launch } from '../e2e/harness.mjs';

const input = join(root, 'tests/fixtures/generated/bench_60s_1080p.mp4');
if (!existsSync(input)) execFileSync(join(root, 'tests/fixtures/make_big.sh'), [input, '60', '1920x1080'], { stdio: 'inherit' });
if (!existsSync(join(root, 'www/pkg/upcast_core_bg.wasm'))) execFileSync(join(root, 'origin/scripts/build.sh'), { stdio: 'inherit' });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.mp4': 'video/mp4' };
const routes = [
  ['/www/', join(root, 'www/')],
  ['/mb/', join(root, 'node_modules/mediabunny/dist/bundles/')],
  ['/bench/', join(root, 'tests/bench/')],
];
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x').pathname;
  let path = url === '/input.mp4' ? input : null;
  for (const [prefix, dir] of routes) if (url.startsWith(prefix)) path = join(dir, url.slice(prefix.length));
  if (!path || !existsSync(path) || statSync(path).isDirectory()) return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' });
  createReadStream(path).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const ctx = await launch();
const page = await ctx.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${base}/bench/browser.html`);
await page.waitForFunction(() => window.bench);
const r = await page.evaluate((runs) => window.bench(runs), 3);
await ctx.close();
server.close();

const gz = (p) => gzipSync(readFileSync(join(root, p)), { level: 9 }).length;
const bundle = gz('www/pkg/upcast_core_bg.wasm') + gz('www/pkg/upcast_core.js') + gz('www/worker.js') + gz('www/upcast.js') + gz('www/findings.js');
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
console.log(`input: ${input.split('/').pop()} (${mb(statSync(input).size)}), Chromium ${ctx.browser()?.version() ?? ''}, warm, median of 3`);
console.log(`  upcast      ${(r.upcast.ms / 1000).toFixed(3)} s   ${r.upcast.files} files, ${mb(r.upcast.bytes)}   runs ${r.upcast.times.map((t) => t.toFixed(0)).join(', ')} ms`);
console.log(`  mediabunny  ${(r.mediabunny.ms / 1000).toFixed(3)} s   ${r.mediabunny.files} files, ${mb(r.mediabunny.bytes)}   runs ${r.mediabunny.times.map((t) => t.toFixed(0)).join(', ')} ms`);
console.log(`  ratio mediabunny/upcast ${(r.mediabunny.ms / r.upcast.ms).toFixed(1)}x (goal: >= 10x)`);
console.log(`  bundle (wasm + glue + worker + upcast.js) ${(bundle / 1000).toFixed(1)} kB gzipped (goal: <= 60 kB)`);
