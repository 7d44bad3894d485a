// The Go live page under a slow uplink, end to end in Debian's headless Chromium (fake camera and
// microphone) against a real `upcast serve` on loopback: three rungs go live; Playwright's routing (which
// reaches the fetches of the page's dedicated live Worker: the test counts them) holds every 720p part PUT
// back until the page pauses that rung ("720p paused: uplink"), and the origin's 720p playlist carries on
// with EXT-X-GAP segments at the other rungs' MSNs; the hold is lifted and the rung comes back at a segment
// boundary ("720p back") with media under the same MSNs as the others. A second page plays the stream with
// hls.js in low-latency mode forced on the 720p level across the pause and the return, with no fatal
// error. Stop publishes a recording without the paused rung that passes `upcast validate` and plays.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createStream,
  goLive,
  liveCuts,
  liveMedia,
  masterWith,
  playsRecording,
  recording,
  streamState,
  until,
  untilSegments,
} from './golive-check.mjs';
import { ADMIN, FAKE_CAMERA, session } from './harness.mjs';
import { validate } from './ladder-check.mjs';

/** How long each 720p part PUT is held while the uplink is "slow" (parts are made every 0.5 s). */
const HOLD_MS = 1500;

const e2e = session({ origin: { args: ['--api-rate-per-ip', '0', '--live-grace-secs', '3'] }, browser: FAKE_CAMERA });

/** The media playlist of rendition `name`: `[{uri, gap}]` of its complete segments. */
async function segmentsOf(s, name) {
  const r = await fetch(`${e2e.origin.url}/live/${s.id}/${name}/index.m3u8`);
  return liveMedia(await r.text()).segs;
}

/** Until a notice on the Go live page matches `re`; the notice. */
async function pageNotice(page, re, timeout) {
  const h = await page.waitForFunction(
    (src) => window.upcastLive.notices.find((n) => new RegExp(src).test(n)),
    re.source,
    { timeout },
  );
  return h.jsonValue();
}

test('a slow uplink pauses the top rung and it comes back; a viewer forced on it plays on; the recording validates', async (t) => {
  const s = await createStream(e2e.origin, 'e2e slow uplink');
  const page = await e2e.ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Every 720p part PUT goes through here; held back while `slow`.
  const uplink = { slow: false, seen: 0, held: 0 };
  await page.route('**/api/live/*/video/parts/*', async (route) => {
    uplink.seen++;
    if (uplink.slow) {
      uplink.held++;
      await new Promise((r) => setTimeout(r, HOLD_MS));
    }
    await route.continue().catch(() => {});
  });
  const labels = await goLive(page, e2e.origin, s.stream_key, 3);
  assert.deepEqual(labels, ['720p', '480p', '360p']);
  const master = await masterWith(e2e.origin, s, 3);
  await untilSegments(e2e.origin, s, master);
  await until('the live Worker part PUTs seen by the route', 30_000, () => uplink.seen >= 4);

  // A viewer forced on the 720p level.
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
  const top = await viewer.evaluate(() => {
    const hls = /** @type {any} */ (window).upcastHls;
    const l = hls.levels.findIndex((x) => x.height === 720);
    hls.currentLevel = l;
    const w = /** @type {any} */ (window);
    w.fragsOn = 0;
    w.gapErrors = 0;
    hls.on('hlsFragChanged', (_e, d) => {
      if (d.frag.level === l) w.fragsOn++;
    });
    hls.on('hlsError', (_e, d) => {
      if (d.details === 'fragGap') w.gapErrors++;
    });
    return l;
  }, null);
  assert.ok(top >= 0, 'a 720p level');
  await viewer.waitForFunction(() => window.fragsOn >= 2, null, { timeout: 60_000 });

  // The slow uplink: the page pauses 720p and says so; the origin's playlist goes on with GAP segments.
  uplink.slow = true;
  const dropped = await pageNotice(page, /^720p paused: uplink/, 120_000);
  t.diagnostic(`page: ${dropped} (${uplink.held} PUTs held)`);
  uplink.slow = false;
  const gaps = await until('GAP segments in the 720p playlist', 60_000, async () => {
    const segs = await segmentsOf(s, 'video');
    return segs.filter((x) => x.gap).length >= 2 ? segs : null;
  });
  t.diagnostic(`720p while paused: ${gaps.map((x) => (x.gap ? `${x.uri}(GAP)` : x.uri)).join(' ')}`);
  const before = await viewer.evaluate(() => document.querySelector('#player').currentTime);
  await viewer.waitForFunction((t0) => document.querySelector('#player').currentTime > t0 + 3, before, {
    timeout: 60_000,
  });
  assert.equal(await viewer.evaluate(() => window.upcastFatal ?? null), null, 'no fatal error while paused');

  // The uplink keeps up again: 720p comes back, media after its GAP span, at the other rungs' MSNs.
  const back = await pageNotice(page, /^720p back/, 120_000);
  t.diagnostic(`page: ${back}`);
  const [hi, mid] = await until('720p media after its GAP span', 60_000, async () => {
    const hi = await segmentsOf(s, 'video');
    const last = hi.findLastIndex((x) => x.gap);
    return last >= 0 && hi.length - last > 2 ? [hi, await segmentsOf(s, 'video_2')] : null;
  });
  const common = hi.filter((x) => mid.some((y) => y.uri === x.uri));
  assert.ok(common.length >= hi.length - 1, `the same MSNs: ${hi.map((x) => x.uri)} / ${mid.map((x) => x.uri)}`);
  assert.ok(
    mid.every((x) => !x.gap),
    'only the paused rung has GAP segments',
  );
  const stats = await page.evaluate(() => window.upcastLive.stats);
  assert.ok(
    stats.rungs.every((r) => r.active),
    'every rung is on again',
  );
  // Its media after the return starts with an IDR at the same instants as the other rungs'.
  const cuts = await liveCuts(e2e.origin, s, master);
  t.diagnostic(`segment starts (ms) with media in every rung: ${cuts.join(' ')}`);

  // The viewer, still on 720p (forced again if hls.js moved away during the GAP span), plays its media.
  await viewer.evaluate((l) => {
    const w = /** @type {any} */ (window);
    if (w.upcastHls.currentLevel !== l) w.upcastHls.currentLevel = l;
    w.fragsOn = 0;
  }, top);
  const t1 = await viewer.evaluate(() => document.querySelector('#player').currentTime);
  await viewer.waitForFunction(
    (t0) => window.fragsOn >= 2 && document.querySelector('#player').currentTime > t0 + 2,
    t1,
    { timeout: 60_000 },
  );
  const seen = await viewer.evaluate(() => ({
    fatal: window.upcastFatal ?? null,
    gapErrors: window.gapErrors,
    level: window.upcastHls.currentLevel,
  }));
  t.diagnostic(`viewer: ${seen.gapErrors} GAP fragments skipped by hls.js; level ${seen.level}`);
  assert.equal(seen.fatal, null, 'no fatal error across the pause and the return');
  assert.equal(seen.level, top, 'the viewer plays 720p again');

  await page.click('#stop');
  await page.waitForFunction(() => window.upcastLive.state === 'ended', null, { timeout: 60_000 });
  await until('the stream ended', 30_000, async () => (await streamState(e2e.origin, s.id)) === 'ended');
  const vid = await recording(e2e.origin, s.id);
  t.diagnostic(validate(`${e2e.origin.url}/v/${vid}/master.m3u8`));
  // The paused rung is left out of the recording: its rungs cover the same time.
  await playsRecording(e2e.ctx, e2e.origin, vid, 2);
  assert.deepEqual(errors, [], 'no page errors');
  await viewer.close();
  await page.close();
});
