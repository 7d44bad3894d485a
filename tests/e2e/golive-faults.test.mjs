// Go live when things go wrong, in Debian's headless Chromium (fake camera and microphone) against a real
// `upcast serve` on loopback: one test per bad-input and tab-life case of issue 14. Each checks what the
// streamer sees on the Go live page (a message in plain words, the page's state) and what viewers and the
// origin see (the stream's status through the API, the live playlists followed and their INDEPENDENT
// parts checked by `upcast validate --live`, a discontinuity where a publish was lost and none where it
// was not, the recording published and valid when the tab closes).
//
// The part PUTs come from the live Worker; Playwright's context routes see a dedicated Worker's requests
// in this Chromium, so the network faults are made there, counted in requests, never timed. Short streams
// (two cheap rungs, a few seconds each) against one origin whose idle timeout, grace period and ticket
// life are a few seconds, so outages and expiries happen quickly.

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import {
  createStream,
  goLive,
  mediaPlaylists,
  recording,
  streamState,
  streamStatus,
  until,
  validateLive,
} from './golive-check.mjs';
import { ADMIN, FAKE_CAMERA, session } from './harness.mjs';
import { validate } from './ladder-check.mjs';

/** The origin's idle timeout (also the page's retry window), grace period and ticket life (s). */
const IDLE_S = 4;
const GRACE_S = 5;
const TICKET_S = 6;
/** The part PUTs of every rendition (`/api/live/{id}/{rendition}/parts/{n}`). */
const PART_PUT = /\/api\/live\/[^/]+\/[a-z0-9_]+\/parts\/\d+$/;

const e2e = session({
  origin: {
    args: [
      '--api-rate-per-ip',
      '0',
      '--live-idle-secs',
      String(IDLE_S),
      '--live-grace-secs',
      String(GRACE_S),
      '--live-ticket-secs',
      String(TICKET_S),
    ],
  },
  browser: FAKE_CAMERA,
});

/** The pages a test opened, and its stream: closed after it, shown when it failed. */
let opened = [];
let current = null;

afterEach(async (t) => {
  const pages = opened.filter((p) => !p.isClosed());
  opened = [];
  if (t.passed === false) {
    for (const p of pages) {
      const seen = await p.evaluate(() => [window.upcastLive?.state, window.upcastLive?.notices]).catch(() => null);
      if (seen) console.error(`page ${p.url()}: ${JSON.stringify(seen)}`);
    }
    if (current) {
      console.error(`origin status: ${JSON.stringify(await streamStatus(e2e.origin, current.id))}`);
      for (const p of await mediaPlaylists(e2e.origin, current).catch(() => []))
        console.error(`${p.uri}:\n${p.text.split('\n').slice(-14).join('\n')}`);
    }
  }
  current = null;
  for (const p of pages) await p.close().catch(() => {});
});

/** A new page whose uncaught errors are kept in `page.errors`. */
async function newPage() {
  const page = await e2e.ctx.newPage();
  opened.push(page);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

let streams = 0;

/** A stream and the Go live page publishing it with the two cheapest rungs the planner offers. */
async function publishing(options = {}) {
  // A title of its own: the recording is found by it (a video does not name its stream).
  const title = `e2e go live faults ${++streams}`;
  const s = { ...(await createStream(e2e.origin, title)), title };
  current = s;
  const page = await newPage();
  const labels = await goLive(page, e2e.origin, s.stream_key, 2, { lowest: true, ...options });
  return { s, page, labels };
}

/** Until the page has encoded `secs` seconds of media (from its Worker's stats). */
const mediaPast = (page, secs) =>
  page.waitForFunction((n) => (window.upcastLive.stats?.mediaS ?? 0) >= n, secs, { timeout: 60_000 });

const notices = (page) => page.evaluate(() => window.upcastLive.notices);

/** Until a notice on the page matches `re` (a regular expression's source). */
const noticeLike = (page, re, timeout = 60_000) =>
  page.waitForFunction((src) => window.upcastLive.notices.some((n) => new RegExp(src).test(n)), re.source, {
    timeout,
  });

/** Where a media playlist's live edge is: (segments so far) × 1000 + parts of the segment in progress. */
function edge(text) {
  const msn = Number(text.match(/#EXT-X-MEDIA-SEQUENCE:(\d+)/)?.[1] ?? 0);
  const segs = (text.match(/^#EXTINF:/gm) ?? []).length;
  const tail = text.slice(text.lastIndexOf('#EXTINF:') + 1);
  return (msn + segs) * 1000 + (tail.match(/^#EXT-X-PART:/gm) ?? []).length;
}

/**
 * The lowest live edge over the stream's media playlists; with `page`, only those of the renditions it
 * still uploads (a rung dropped for a slow uplink, which a loaded machine can cause, stalls its playlist:
 * that adaptation is tests/e2e/golive-uplink.test.mjs's business, not this file's).
 */
async function lowestEdge(s, page = null) {
  const off = page
    ? await page.evaluate(() => (window.upcastLive.stats?.rungs ?? []).filter((r) => !r.active).map((r) => r.rendition))
    : [];
  const on = (await mediaPlaylists(e2e.origin, s)).filter((p) => !off.includes(p.uri.split('/')[0]));
  return Math.min(...on.map((p) => edge(p.text)));
}

/** Until every media playlist (of the renditions `page` uploads) is `segments` whole segments past `from`. */
const edgePast = (s, from, segments, page = null) =>
  until(
    `${segments} more segments in every rendition`,
    60_000,
    async () => (await lowestEdge(s, page)) >= from + segments * 1000,
  );

/** Stop on the page, and the origin's stream ended. */
async function stopLive(page, s) {
  await page.click('#stop');
  await page.waitForFunction(() => window.upcastLive.state === 'ended', null, { timeout: 60_000 });
  await until('the stream ended', 30_000, async () => (await streamState(e2e.origin, s.id)) === 'ended');
}

/**
 * Every media playlist of `s` as served now has a discontinuity (`expected`: a new publish began) or none;
 * `why` names the case in a failure.
 */
async function discontinuities(s, expected, why) {
  for (const p of await mediaPlaylists(e2e.origin, s)) {
    if (expected) assert.match(p.text, /#EXT-X-DISCONTINUITY\n/, `${p.uri}: ${why}`);
    else assert.doesNotMatch(p.text, /#EXT-X-DISCONTINUITY/, `${p.uri}: ${why}`);
  }
}

/** A case's end: `upcast validate --live` passes on the stream, Stop ends it, and the page threw nothing. */
async function validateAndStop(page, s) {
  await validateLive(e2e.origin, s);
  await stopLive(page, s);
  assert.deepEqual(page.errors, []);
  await page.close();
}

test('a camera the browser refuses: the page says so and nothing is published', async () => {
  const s = await createStream(e2e.origin);
  const page = await newPage();
  // The browser's answer to a refused permission prompt (the fake UI flag accepts every prompt).
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  await page.goto(`${e2e.origin.url}/golive.html#key=${encodeURIComponent(s.stream_key)}`);
  await page.click('#source button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#error').textContent !== '');
  assert.equal(
    await page.textContent('#error'),
    'The browser refused the camera and microphone (permission denied). Allow it in the address bar and try again.',
  );
  assert.equal(await page.isHidden('#publish'), true, 'no Go live button without a capture');
  assert.equal(await page.isHidden('#ladder'), true, 'no ladder without a capture');
  assert.equal(await page.evaluate(() => window.upcastLive.state), 'idle');
  assert.equal(await streamState(e2e.origin, s.id), 'idle', 'the origin never saw a publish');
  assert.equal((await fetch(`${e2e.origin.url}${s.playback_url}`)).status, 404, 'viewers find no stream');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('an expired publish ticket: the page publishes again and viewers see a discontinuity', async () => {
  const { s, page } = await publishing();
  await mediaPast(page, 2);
  assert.equal(await streamState(e2e.origin, s.id), 'live');
  // The renewals (the Worker's) stop getting through: the ticket runs out and the origin refuses the next
  // part with `401 ticket-expired`.
  let renewals = 0;
  await e2e.ctx.route('**/api/live/*/renew', (route) => {
    renewals++;
    return route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":"unavailable","msg":"test"}' });
  });
  await noticeLike(page, /^Renewing the publish ticket failed \(unavailable\)/);
  await e2e.ctx.unrouteAll({ behavior: 'wait' });
  assert.equal(renewals, 1, 'the page does not hammer a failing renewal');
  await noticeLike(page, /^Upload lost: .*ticket-expired/);
  await noticeLike(page, /^Published again: a new ticket/);
  assert.equal(await page.evaluate(() => window.upcastLive.state), 'live');
  assert.equal(await page.textContent('#state'), 'Live again (viewers see a discontinuity)');
  const from = await lowestEdge(s);
  await edgePast(s, from, 2, page);
  assert.equal(await streamState(e2e.origin, s.id), 'live');
  await discontinuities(s, true, 'a discontinuity where the new publish starts');
  await validateAndStop(page, s);
});

test('a network blip: the failed part PUTs are retried within the window, no discontinuity', async (t) => {
  const { s, page } = await publishing();
  await mediaPast(page, 2);
  // The next six part PUTs (about one part's worth of every rendition) fail as a dropped connection does;
  // every PUT after them goes through, and what the origin answered to each is kept.
  let toFail = 6;
  const failed = new Set();
  const answered = new Map();
  await e2e.ctx.route(PART_PUT, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (toFail > 0) {
      toFail--;
      failed.add(path);
      return route.abort('connectionreset');
    }
    const response = await route.fetch();
    answered.set(path, response.status());
    return route.fulfill({ response });
  });
  await until(
    'the failed parts sent again and taken',
    60_000,
    async () => toFail === 0 && [...failed].every((p) => [200, 201].includes(answered.get(p) ?? 0)),
  );
  await e2e.ctx.unrouteAll({ behavior: 'wait' });
  t.diagnostic(`failed once, then taken: ${[...failed].map((p) => p.split('/').slice(-3).join('/')).join(' ')}`);
  const from = await lowestEdge(s);
  await edgePast(s, from, 1, page);
  const stats = await page.evaluate(() => window.upcastLive.stats);
  const videoFailed = [...failed].filter((p) => p.includes('/video')).length;
  assert.ok(videoFailed > 0, 'a video part failed');
  assert.ok(
    stats.rungs.reduce((n, r) => n + r.retries, 0) >= videoFailed,
    `the page counted its retries (${stats.rungs.map((r) => r.retries).join(', ')})`,
  );
  assert.equal(await page.evaluate(() => window.upcastLive.state), 'live');
  assert.deepEqual(
    (await notices(page)).filter((n) => /Upload lost|Published again/.test(n)),
    [],
    'the publish was never lost',
  );
  assert.equal(await streamState(e2e.origin, s.id), 'live');
  await discontinuities(s, false, 'no discontinuity after a blip');
  await validateAndStop(page, s);
});

test('a longer outage: the page publishes again, the stream goes on after a discontinuity, hls.js plays on', async (t) => {
  const { s, page } = await publishing();
  await mediaPast(page, 2);
  const master = await until('two variants', 60_000, async () => {
    const p = await mediaPlaylists(e2e.origin, s);
    return p.length >= 2 && p.every((x) => x.text.includes('#EXTINF:')) ? p : null;
  });
  t.diagnostic(`renditions: ${master.map((p) => p.uri).join(' ')}`);
  const viewer = await newPage();
  await viewer.goto(`${e2e.origin.url}/live.html#token=${ADMIN}`);
  await viewer.waitForFunction(() => location.hash === '');
  await viewer.evaluate((id) => {
    location.hash = `s=${id}`;
  }, s.id);
  await viewer.waitForFunction(() => document.querySelector('#player').currentTime > 1, null, { timeout: 60_000 });

  // Every part PUT of this publish (its ticket) fails until the page gives the publish up (its parts older
  // than the window); the next publish's go through.
  let refused = 0;
  let lostTicket = null;
  await e2e.ctx.route(PART_PUT, (route) => {
    const auth = route.request().headers().authorization;
    lostTicket ??= auth;
    if (auth !== lostTicket) return route.fallback();
    refused++;
    return route.abort('connectionrefused');
  });
  await noticeLike(page, new RegExp(`^Upload lost: [a-z0-9_]+/parts/\\d+: no answer within ${IDLE_S} s`));
  await noticeLike(page, /^Published again: a new ticket/);
  await e2e.ctx.unrouteAll({ behavior: 'wait' });
  const stalledAt = await viewer.evaluate(() => document.querySelector('#player').currentTime);
  t.diagnostic(`${refused} part PUTs refused; the viewer at ${stalledAt.toFixed(2)} s`);
  assert.equal(await page.textContent('#state'), 'Live again (viewers see a discontinuity)');
  await until('the stream live again', 30_000, async () => (await streamState(e2e.origin, s.id)) === 'live');
  const from = await lowestEdge(s);
  await edgePast(s, from, 2, page);
  await discontinuities(s, true, 'a discontinuity after the outage');
  // The viewer plays on past the outage, into the new publish's media, with no fatal error.
  await viewer.waitForFunction((t0) => document.querySelector('#player').currentTime > t0 + 3, stalledAt, {
    timeout: 60_000,
  });
  assert.equal(await viewer.evaluate(() => window.upcastFatal ?? null), null, 'no fatal error in hls.js');
  await validateLive(e2e.origin, s);
  await viewer.close();
  await stopLive(page, s);
  assert.deepEqual(page.errors, []);
  await page.close();
});

/** Until the stream has ended; the states and reasons the origin showed on the way. */
async function endedVia(s) {
  const seen = [];
  await until('the stream ended', 60_000, async () => {
    const st = await streamStatus(e2e.origin, s.id);
    const now = `${st.state}${st.reason ? ` (${st.reason})` : ''}`;
    if (seen.at(-1) !== now) seen.push(now);
    return st.state === 'ended';
  });
  return seen;
}

/** Viewers see the end, and the recording is published and valid. */
async function endedAndRecorded(t, s) {
  for (const p of await mediaPlaylists(e2e.origin, s))
    assert.match(p.text, /#EXT-X-ENDLIST/, `${p.uri}: viewers see the end`);
  const vid = await recording(e2e.origin, s.id);
  t.diagnostic(validate(`${e2e.origin.url}/v/${vid}/master.m3u8`));
}

test('closing the tab ends the stream at once; the recording is published and valid', async (t) => {
  const { s, page } = await publishing();
  await mediaPast(page, 3);
  await edgePast(s, await lowestEdge(s), 1);
  await page.close();
  const seen = await endedVia(s);
  t.diagnostic(`origin after the tab closed: ${seen.join(' → ')}`);
  assert.equal(seen.at(-1), 'ended (publisher-ended)', "the page's keepalive end, not the idle timeout");
  await endedAndRecorded(t, s);
});

test('a crashed tab: the origin times the publish out, ends it after the grace period; the recording is published', async (t) => {
  const { s, page } = await publishing();
  await mediaPast(page, 3);
  await edgePast(s, await lowestEdge(s), 1);
  // No pagehide, no end: the renderer (page and Worker) is gone.
  const cdp = await e2e.ctx.newCDPSession(page);
  // Its answer never comes (the renderer is gone): not awaited.
  cdp.send('Page.crash').catch(() => {});
  const seen = await endedVia(s);
  t.diagnostic(`origin after the crash: ${seen.join(' → ')}`);
  // Whichever of the origin's clocks runs out first: the idle timeout (no part for 4 s) or the ticket's
  // life (no renewal from the dead Worker).
  assert.ok(
    seen.some((x) => /^reconnecting \((publisher-idle|ticket-expired)\)$/.test(x)),
    `reconnecting, timed out: ${seen.join(' → ')}`,
  );
  assert.equal(seen.at(-1).split(' ')[0], 'ended');
  await endedAndRecorded(t, s);
  await page.close().catch(() => {});
});

test('a reclaimed encoder mid-stream: made again with a key frame, the other rung goes on, no part refused', async () => {
  const { s, page, labels } = await publishing({
    beforeStart: (on) => {
      // The top rung's encoder is reclaimed after its 20th frame (inside the first segment).
      window.__upcastFailEncoderAt = { rung: on[0], frame: 20 };
    },
  });
  const [hit, other] = labels;
  await noticeLike(page, new RegExp(`^${hit}: the encoder failed \\(QuotaExceededError`));
  await noticeLike(page, new RegExp(`^${hit}: a new encoder took over with a key frame \\(1×\\)`));
  await mediaPast(page, 6);
  const stats = await page.evaluate(() => window.upcastLive.stats);
  const [a, b] = [hit, other].map((l) => stats.rungs.find((r) => r.label === l));
  assert.equal(a.restarts, 1, `${hit}: one new encoder`);
  assert.ok(a.droppedEncoder > 0, `${hit}: the frames the reclaimed encoder held are counted as dropped`);
  assert.ok(a.active, `${hit}: uploading again`);
  assert.equal(b.restarts, 0, `${other}: untouched`);
  assert.equal(b.droppedEncoder, 0, `${other}: no frame lost`);
  assert.equal(await page.evaluate(() => window.upcastLive.state), 'live');
  assert.deepEqual(
    (await notices(page)).filter((n) => /Upload lost|Published again/.test(n)),
    [],
    'the publish was never lost',
  );
  const from = await lowestEdge(s);
  await edgePast(s, from, 1, page);
  await discontinuities(s, false, 'no discontinuity');
  await validateAndStop(page, s);
});

test('a tab in the background, then frozen: the Worker goes on encoding, uploading and renewing', async (t) => {
  const { s, page } = await publishing();
  await mediaPast(page, 2);
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await noticeLike(page, /^Tab in the background: timers are throttled, but encoding follows the capture/);
  // The page frozen (what a browser does to a background tab it parks: no task of the page runs, timers
  // included) for longer than a ticket lives: the stream goes on, since the capture's frames reach the
  // Worker directly, and the Worker renews the ticket.
  const cdp = await e2e.ctx.newCDPSession(page);
  const from = await lowestEdge(s);
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  const segments = Math.ceil(TICKET_S / 2) + 1;
  await edgePast(s, from, segments);
  const frozenStatus = await streamStatus(e2e.origin, s.id);
  await cdp.send('Page.setWebLifecycleState', { state: 'active' });
  t.diagnostic(`${segments} segments published while the page was frozen; the origin: ${frozenStatus.state}`);
  assert.equal(frozenStatus.state, 'live');
  const thawedAt = await page.evaluate(() => window.upcastLive.stats.mediaS);
  await mediaPast(page, thawedAt + 1);
  assert.equal(await page.evaluate(() => window.upcastLive.state), 'live');
  assert.deepEqual(
    (await notices(page)).filter((n) => /Upload lost|Published again|Renewing/.test(n)),
    [],
    'the publish was never lost, every renewal went through',
  );
  await discontinuities(s, false, 'no discontinuity');
  await validateAndStop(page, s);
});

test("the microphone goes away before Stop: the sound is padded with silence to the picture's end; the recording publishes", async (t) => {
  const s = { ...(await createStream(e2e.origin, `e2e go live faults ${++streams}`)) };
  current = s;
  const page = await newPage();
  // The page's capture, kept where the test can stop its microphone (as unplugging it would).
  await page.addInitScript(() => {
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (c) => {
      const stream = await gum(c);
      /** @type {any} */ (window).__captured = stream;
      return stream;
    };
  });
  await goLive(page, e2e.origin, s.stream_key, 2, { lowest: true });
  await mediaPast(page, 3);
  const at = await page.evaluate(() => window.upcastLive.stats.mediaS);
  await page.evaluate(() => {
    for (const track of /** @type {any} */ (window).__captured.getAudioTracks()) track.stop();
  });
  // The picture goes on for 2.5 s more without sound: at Stop the sound is that far behind and no more comes.
  await mediaPast(page, at + 2.5);
  await stopLive(page, s);
  const vid = await recording(e2e.origin, s.id);
  t.diagnostic(validate(`${e2e.origin.url}/v/${vid}/master.m3u8`));
  // Sound and picture cover the same time in the recording (HLS Authoring Spec 8.7, 0.15 s).
  const base = `${e2e.origin.url}/v/${vid}/`;
  const master = await (await fetch(`${base}master.m3u8`)).text();
  const uris = [...master.matchAll(/URI="([^"]+\.m3u8)"|^([^#\s][^\s]*\.m3u8)$/gm)].map((m) => m[1] ?? m[2]);
  const seconds = async (uri) =>
    [...(await (await fetch(base + uri)).text()).matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const spans = await Promise.all(uris.filter((u) => !u.includes('iframes')).map(async (u) => [u, await seconds(u)]));
  t.diagnostic(`recording spans: ${spans.map(([u, d]) => `${u} ${d.toFixed(3)} s`).join(', ')}`);
  assert.ok(
    spans.some(([u]) => u.startsWith('audio')),
    `an audio rendition: ${uris}`,
  );
  const d = spans.map(([, d]) => d);
  assert.ok(Math.max(...d) - Math.min(...d) <= 0.15, `the renditions end together: ${JSON.stringify(spans)}`);
  assert.deepEqual(page.errors, []);
});
