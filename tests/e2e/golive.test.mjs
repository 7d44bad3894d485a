// Go live from the browser, end to end in Debian's headless Chromium (a fake camera and microphone:
// `--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`) against a real `upcast serve` on
// loopback: a stream created through the API, the Go live page (www/golive.html) publishing 30 s of three
// rungs (720p/480p/360p H.264, encoded in the tab, muxed by the wasm core, one PUT per part) and Opus;
// a second page plays it with hls.js in low-latency mode, every rung forced in turn; every rung's segments
// start with an IDR at the same instants; Stop ends the stream and the recording passes `upcast validate`.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createStream,
  goLive,
  liveCuts,
  masterWith,
  playsRecording,
  recording,
  streamState,
  until,
  untilSegments,
} from './golive-check.mjs';
import { ADMIN, FAKE_CAMERA, out, session } from './harness.mjs';
import { validate } from './ladder-check.mjs';

const SECONDS = 30;
const e2e = session({ origin: { args: ['--api-rate-per-ip', '0', '--live-grace-secs', '3'] }, browser: FAKE_CAMERA });

test('the Go live page publishes three rungs from a fake camera; hls.js plays each; the recording validates', async (t) => {
  const s = await createStream(e2e.origin);
  const page = await e2e.ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const labels = await goLive(page, e2e.origin, s.stream_key, 3);
  assert.deepEqual(labels, ['720p', '480p', '360p']);

  const master = await masterWith(e2e.origin, s, 3, { audio: true });
  assert.match(master, /CODECS="avc1\.[^"]*,opus"/, 'audio shared by every rung');
  await untilSegments(e2e.origin, s, master);

  // A second page plays the stream in hls.js low-latency mode; each level forced in turn plays on.
  const viewer = await e2e.ctx.newPage();
  await viewer.goto(`${e2e.origin.url}/live.html#token=${ADMIN}`);
  await viewer.waitForFunction(() => location.hash === '');
  await viewer.evaluate((id) => {
    location.hash = `s=${id}`;
  }, s.id);
  await viewer.waitForFunction(
    () => {
      const hls = /** @type {any} */ (window).upcastHls;
      const v = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
      return hls?.levels?.length === 3 && v.currentTime > 2 && !v.paused;
    },
    null,
    { timeout: 90_000 },
  );
  for (let level = 0; level < 3; level++) {
    await viewer.evaluate((l) => {
      const hls = /** @type {any} */ (window).upcastHls;
      hls.currentLevel = l;
      /** @type {any} */ (window).fragsOn = 0;
      hls.on('hlsFragChanged', (_e, d) => {
        if (d.frag.level === l) /** @type {any} */ (window).fragsOn++;
      });
    }, level);
    const t0 = await viewer.evaluate(() => document.querySelector('#player').currentTime);
    await viewer.waitForFunction(
      (t) => window.fragsOn >= 2 && document.querySelector('#player').currentTime > t + 2,
      t0,
      { timeout: 60_000 },
    );
    assert.equal(await viewer.evaluate(() => window.upcastFatal ?? null), null, `level ${level}: no fatal error`);
    t.diagnostic(
      `level ${level} plays (hls.js latency ${(await viewer.evaluate(() => window.upcastHls.latency)).toFixed(2)} s)`,
    );
  }
  await viewer.screenshot({ path: join(out, 'golive-viewer.png') });
  // The Go live page (opened with the key only, no admin token) shows the origin's status of its stream,
  // read with its publish ticket: live, with the viewer counted.
  await page.waitForFunction(
    () => /^origin: live · live for \d+ s · [1-9]\d* viewer/.test(document.querySelector('#origin')?.textContent ?? ''),
    null,
    {
      timeout: 30_000,
    },
  );

  // 30 s of media, then the live window's segments: IDRs at the same instants in every rung.
  await page.waitForFunction((n) => (window.upcastLive.stats?.mediaS ?? 0) >= n, SECONDS, { timeout: 120_000 });
  const stats = await page.evaluate(() => window.upcastLive.stats);
  t.diagnostic(`stats ${JSON.stringify(stats.rungs.map((r) => [r.label, r.fps.toFixed(1), r.dropped, r.lagMs]))}`);
  t.diagnostic(
    `sound against the video: ${stats.audio?.aheadMs?.toFixed(0)} ms (the sound's pieces are placed by arrival)`,
  );
  assert.ok(
    stats.rungs.every((r) => r.active),
    'no rung dropped on loopback',
  );
  const cuts = await liveCuts(e2e.origin, s, master);
  t.diagnostic(`segment starts (ms) in every rung: ${cuts.join(' ')}`);
  await page.screenshot({ path: join(out, 'golive-page.png') });

  const notices = await page.evaluate(() => window.upcastLive.notices);
  if (notices.length) t.diagnostic(`page notices: ${notices.join(' | ')}`);
  await page.click('#stop');
  await page.waitForFunction(() => window.upcastLive.state === 'ended', null, { timeout: 60_000 });
  await until('the stream ended', 30_000, async () => (await streamState(e2e.origin, s.id)) === 'ended');
  const vid = await recording(e2e.origin, s.id);
  t.diagnostic(validate(`${e2e.origin.url}/v/${vid}/master.m3u8`));
  await playsRecording(e2e.ctx, e2e.origin, vid, 3);
  assert.deepEqual(errors, [], 'no page errors');
  await viewer.close();
  await page.close();
});
