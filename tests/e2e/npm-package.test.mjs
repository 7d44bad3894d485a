// The library as an npm package: `npm pack` in www/ (www/package.json), the tarball installed into a
// fresh app, the app type-checked against the package's declarations and bundled with esbuild, served on
// 127.0.0.1 with the package's run-time files beside the bundle (its Workers and wasm are loaded by URL,
// not bundled), and run in headless Chromium: it segments a fixture and reads its master playlist, and a
// broken file rejects with an UpcastError whose place is in fields. A file missing from the package fails
// the file list check or the run.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { after, test } from 'node:test';
import { build } from 'esbuild';
import { fixture, launch, root } from './harness.mjs';

const www = join(root, 'www');
const dir = mkdtempSync(join(tmpdir(), 'upcast-npm-'));
let ctx;
let server;
after(async () => {
  await ctx?.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Serve `site` as files on 127.0.0.1; resolves to its base URL. */
async function serve(site) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  server = createServer((req, res) => {
    const path = join(site, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!path.startsWith(site) || !existsSync(path) || statSync(path).isDirectory()) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${server.address().port}`;
}

const APP = `// @ts-check
import { segment, UpcastError } from '@upcast/browser';

/** @param {string} b64 @param {string} name */
async function run(b64, name) {
  const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name);
  try {
    const pkg = await segment(file, { targetDuration: 2 });
    const master = pkg.files.get('master.m3u8');
    if (!master) throw new Error('no master playlist');
    const text = new TextDecoder().decode(await master.bytes());
    return { text, files: pkg.list.length, passed: pkg.report?.passed ?? null, duration: pkg.summary.durationS };
  } catch (e) {
    if (!(e instanceof UpcastError)) throw e;
    return { error: { name: e.name, code: e.code, path: e.path, offset: e.offset, reason: e.reason } };
  }
}
Object.assign(window, { run });
`;

test('npm pack gives a package a bundled app installs, type-checks against, and segments with', async () => {
  assert.ok(existsSync(join(www, 'pkg/upcast_segment_bg.wasm')), 'run www/build.sh first');
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: www, encoding: 'utf8' }),
  );
  const files = packed.files.map((f) => f.path);
  for (const want of [
    'package.json',
    'lib/index.js',
    'lib/segment.js',
    'lib/ladder.js',
    'lib/error.js',
    'workers/segment-worker.js',
    'workers/ladder-worker.js',
    'workers/worker-host.js',
    'pkg/upcast_segment.js',
    'pkg/upcast_segment_bg.wasm',
    'pkg/upcast_full.js',
    'pkg/upcast_full_bg.wasm',
    'types/index.d.ts',
    'types/segment.d.ts',
    'types/ladder.d.ts',
    'types/package-file.d.ts',
    'types/error.d.ts',
  ]) {
    assert.ok(files.includes(want), `the package has ${want}: ${files.join(' ')}`);
  }
  assert.ok(
    !files.some((f) => f.startsWith('pages/') || f.endsWith('.html') || f.startsWith('vendor/')),
    files.join(' '),
  );

  // A fresh app that depends on the tarball alone.
  const app = join(dir, 'app');
  const site = join(app, 'site');
  cpSync(join(dir, packed.filename), join(app, 'upcast.tgz'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      private: true,
      type: 'module',
      dependencies: { '@upcast/browser': 'file:upcast.tgz' },
    }),
  );
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    stdio: 'inherit',
  });
  writeFileSync(join(app, 'app.js'), APP);

  // The app's use of the package checks against the package's own declarations (resolved through `exports`).
  const tsconfig = {
    compilerOptions: {
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: true,
      target: 'es2022',
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['es2023', 'dom'],
      types: [],
    },
    files: ['app.js'],
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', app], { stdio: 'inherit' });

  await build({
    absWorkingDir: app,
    entryPoints: ['app.js'],
    bundle: true,
    format: 'esm',
    outdir: site,
    logLevel: 'warning',
  });
  // The package's run-time files beside the bundle: Workers and wasm are fetched by URL relative to it.
  const installed = join(app, 'node_modules/@upcast/browser');
  for (const d of ['lib', 'workers', 'pkg']) cpSync(join(installed, d), join(site, d), { recursive: true });
  writeFileSync(
    join(site, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="app.js"></script>',
  );

  const base = await serve(site);
  ctx = await launch();
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/index.html`);
  await page.waitForFunction(() => typeof window.run === 'function');
  const good = fixture('h264_aac_faststart.mp4').toString('base64');
  const r = await page.evaluate(([b64]) => window.run(b64, 'in.mp4'), [good]);
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.match(r.text, /^#EXTM3U/);
  assert.match(r.text, /#EXT-X-STREAM-INF:.*CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2"/);
  assert.ok(r.files > 4, `${r.files} files`);
  assert.equal(r.passed, true);

  const bad = Buffer.from(fixture('h264_aac_bframes.mp4'));
  const at = bad.indexOf('stsz');
  bad.writeUInt32BE(0xffffffff, at + 12);
  const refused = await page.evaluate(([b64]) => window.run(b64, 'bad.mp4'), [bad.toString('base64')]);
  assert.equal(refused.error?.name, 'UpcastError', JSON.stringify(refused));
  assert.equal(refused.error.code, 'mp4-over-limit');
  assert.match(refused.error.path, /stsz$/);
  assert.equal(refused.error.offset, at + 12); // the sample count it refused
  assert.match(refused.error.reason, /4294967295 samples/);
  assert.deepEqual(errors, []);
});
