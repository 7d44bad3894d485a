// End to end in Debian's headless Chromium against a real `upcast serve` on 127.0.0.1: drop a file on the
// upload page → it is packaged in the browser and uploaded → the viewer plays it through hls.js; a reload in
// the middle of an upload continues where it stopped; a corrupt file shows its error and creates nothing.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN, api, dropFile, fixture, longFixture, out, session } from './harness.mjs';

const e2e = session();

async function uploadPage(query = '') {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html${query}#token=${ADMIN}`);
  // These tests are about packaging the original: no encoded renditions (tests/e2e/ladder.test.mjs has those).
  await page.uncheck('#encode');
  return page;
}

const published = (page, timeout = 120_000) =>
  page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout });

test('drop → upload → the viewer plays past several segments through hls.js', async () => {
  const page = await uploadPage('?target=2');
  await dropFile(page, '#drop', 'e2e 16s.mp4', longFixture());
  await page.waitForSelector('#found:not([hidden])');
  assert.match(await page.textContent('#found'), /avc1\.64.*640×360.*30 fps/s);
  await published(page);
  const id = await page.evaluate(() => document.body.dataset.video);
  const url = await page.inputValue('#done .url');
  assert.equal(url, `${e2e.origin.url}/v/${id}/master.m3u8`);
  await page.screenshot({ path: join(out, 'upload-page.png'), fullPage: true });

  const master = await (await fetch(url)).text();
  assert.match(master, /#EXT-X-STREAM-INF/);

  const watch = await e2e.ctx.newPage();
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}`);
  // 2 s segments: 7 s of playback crosses at least three segment boundaries.
  await watch.waitForFunction(() => document.querySelector('#player').currentTime > 7, null, { timeout: 120_000 });
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  assert.match(await watch.textContent('#level'), /Playing 360p/);
  assert.match(await watch.textContent('#videos'), /e2e 16s/);
  // The upload page made a poster from a frame of the file; the list shows it.
  const poster = await fetch(`${e2e.origin.url}/v/${id}/poster.jpg`);
  assert.equal(poster.headers.get('content-type'), 'image/jpeg');
  const jpeg = new Uint8Array(await poster.arrayBuffer());
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  await watch.waitForFunction(() => document.querySelector('#videos img.poster')?.naturalWidth === 640, null, {
    timeout: 60_000,
  });
  await watch.screenshot({ path: join(out, 'watch-page.png') });
  await watch.close();
  await page.close();
});

test('a reload in the middle of an upload continues, skipping what the origin has', async () => {
  const file = longFixture();
  const page = await uploadPage('?target=1');
  // Slow every PUT down so that the reload lands mid-upload.
  await page.route('**/api/videos/*/files/**', async (route) => {
    await new Promise((r) => setTimeout(r, 250));
    await route.continue();
  });
  let stored = 0;
  page.on('response', (r) => r.request().method() === 'PUT' && r.status() === 201 && stored++);
  await dropFile(page, '#drop', 'resume me.mp4', file);
  await page.waitForFunction(() => document.body.dataset.video);
  const id = await page.evaluate(() => document.body.dataset.video);
  while (stored < 8) await page.waitForTimeout(50);
  await page.reload();
  assert.match(await page.textContent('#pending'), /resume me\.mp4.*did not finish/s);

  let puts = 0;
  page.on('request', (r) => r.method() === 'PUT' && puts++);
  await dropFile(page, '#drop', 'resume me.mp4', file);
  await published(page);
  assert.equal(await page.evaluate(() => document.body.dataset.video), id, 'the same video continues');
  const skipped = Number(await page.evaluate(() => document.body.dataset.skipped));
  const total = Number(await page.evaluate(() => document.body.dataset.packaged));
  assert.ok(skipped >= 8, `skipped ${skipped}`);
  assert.equal(puts, total - skipped, 'only the missing files are sent');
  assert.match(await page.textContent('#progress .status'), /Continuing|^$/);
  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(v.state, 'ready');
  assert.equal(v.files, total);
  await page.close();
});

test('a corrupt file shows what is wrong and where, and creates nothing on the origin', async () => {
  const before = (await api(e2e.origin, '/api/videos')).videos.length;
  const bad = Buffer.from(fixture('h264_aac_bframes.mp4'));
  const at = bad.indexOf('stsz');
  bad.writeUInt32BE(0xffffffff, at + 12); // sample_count: more samples than the moov could describe
  const page = await uploadPage();
  await dropFile(page, '#drop', 'corrupt.mp4', bad);
  await page.waitForSelector('#problem:not([hidden])');
  const text = await page.textContent('#problem');
  assert.match(text, /4294967295 samples/);
  assert.match(text, /stsz.*at byte/s);
  assert.match(text, /Nothing was uploaded/);
  await page.screenshot({ path: join(out, 'upload-problem.png') });
  assert.equal((await api(e2e.origin, '/api/videos')).videos.length, before);
  await page.close();
});

test('a network failure mid-upload retries with back-off, then offers resume, which finishes', async () => {
  const page = await uploadPage('?target=1');
  let failing = false;
  let stored = 0;
  await page.route('**/api/videos/*/files/**', async (route) => {
    if (failing) return route.abort('connectionreset');
    const r = await route.fetch();
    if (r.status() === 201) stored++;
    await route.fulfill({ response: r });
  });
  await dropFile(page, '#drop', 'flaky network.mp4', longFixture());
  while (stored < 5) await page.waitForTimeout(20);
  failing = true;
  await page.waitForSelector('#progress .status:has-text("trying again")');
  await page.waitForSelector('#resume:not([hidden])', { timeout: 60_000 });
  assert.match(await page.textContent('#progress .status'), /The upload stopped.*Resume/s);
  await page.screenshot({ path: join(out, 'upload-paused.png') });
  failing = false;
  await page.click('#resume');
  await published(page);
  const id = await page.evaluate(() => document.body.dataset.video);
  assert.equal((await api(e2e.origin, `/api/videos/${id}`)).state, 'ready');
  await page.close();
});

test('a video plays while its upload is still running', async () => {
  const page = await uploadPage('?target=1');
  await page.route('**/api/videos/*/files/**', async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });
  let stored = 0;
  page.on('response', (r) => r.request().method() === 'PUT' && r.status() === 201 && stored++);
  await dropFile(page, '#drop', 'still uploading.mp4', longFixture());
  while (stored < 12) await page.waitForTimeout(20);
  const id = await page.evaluate(() => document.body.dataset.video);
  const watch = await e2e.ctx.newPage();
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}`);
  await watch.waitForFunction(() => document.querySelector('#player').currentTime > 0.5, null, { timeout: 90_000 });
  assert.match(await watch.textContent('#state'), /still uploading/);
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  await watch.close();
  await published(page);
  await page.close();
});
