// Live end to end in Debian's headless Chromium against a real `upcast serve` with its RTMP listener on
// loopback: a stream is created through the API, real ffmpeg publishes to it in real time (x264
// `-tune zerolatency` + AAC over RTMP), the Live page plays it with hls.js in low-latency mode (parts
// loaded, latency low, no fatal error), shows its status as it changes (server-sent events) and, once the
// publisher goes, shows it reconnecting and then ended after the grace period. The stream records: its
// recording, published at the end, plays as a video on demand and passes `upcast validate`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { playsRecording, recording } from './golive-check.mjs';
import { ADMIN, launch, out, startOrigin } from './harness.mjs';
import { validate } from './ladder-check.mjs';
import { publisher, untilOk } from './live-publisher.mjs';

let origin;
let ctx;
let ffmpeg;

before(async () => {
  // A short grace period: the end of the stream comes a few seconds after the publisher leaves.
  origin = await startOrigin({ rtmp: true, args: ['--live-grace-secs', '3', '--api-rate-per-ip', '0'] });
  ctx = await launch();
});

after(async () => {
  if (ffmpeg && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
  await ctx?.close();
  origin?.stop();
});

async function createStream() {
  const r = await fetch(`${origin.url}/api/streams`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'e2e live', visibility: 'public', record: true }),
  });
  assert.equal(r.status, 201);
  return r.json();
}

test('ffmpeg → RTMP → LL-HLS plays in hls.js low-latency mode; the page follows live → reconnecting → ended', async () => {
  const s = await createStream();
  assert.equal(s.playback_url, `/live/${s.id}/index.m3u8`);
  assert.match(s.publish_url, /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/./);
  ffmpeg = spawn('ffmpeg', publisher(s.publish_url, 600), { stdio: ['ignore', 'ignore', 'pipe'] });
  let ffmpegLog = '';
  ffmpeg.stderr.on('data', (d) => {
    ffmpegLog = (ffmpegLog + d).slice(-4000);
  });
  const exited = new Promise((resolve) => ffmpeg.on('exit', resolve));

  // The page starts playing once the playlist exists (before that hls.js would see a 404 and retry).
  const playlist = await untilOk(
    `${origin.url}${s.playback_url}`,
    60_000,
    () => ffmpegLog,
    (b) => b.includes('#EXT-X-STREAM-INF'),
  );
  const video = playlist.split('\n').find((l) => l && !l.startsWith('#'));
  const media = await untilOk(
    new URL(video, `${origin.url}${s.playback_url}`),
    60_000,
    () => ffmpegLog,
    (b) => b.includes('#EXT-X-PART:'),
  );
  assert.match(media, /CAN-BLOCK-RELOAD=YES/);

  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${origin.url}/live.html#token=${ADMIN}`);
  await page.waitForFunction(() => location.hash === '');
  await page.evaluate((id) => {
    location.hash = `s=${id}`;
  }, s.id);

  // Playing in low-latency mode from parts: the video level's details list parts, the playhead passes 4 s.
  const played = await page.waitForFunction(
    () => {
      const hls = /** @type {any} */ (window).upcastHls;
      const v = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
      const details = hls?.levels?.[Math.max(0, hls.currentLevel)]?.details;
      if (!hls || !details?.partList?.length || !(v.currentTime > 4) || v.paused) return null;
      return {
        lowLatencyMode: hls.lowLatencyMode,
        parts: details.partList.length,
        partTarget: details.partTarget,
        latency: hls.latency,
        currentTime: v.currentTime,
        fatal: /** @type {any} */ (window).upcastFatal ?? null,
      };
    },
    null,
    { timeout: 120_000 },
  );
  const p = await played.jsonValue();
  assert.equal(p.lowLatencyMode, true);
  assert.equal(p.fatal, null, 'no fatal hls.js error');
  assert.ok(p.partTarget > 0 && p.partTarget <= 0.6, `PART-TARGET ${p.partTarget}`);
  // hls.js's own measure (live edge − playhead): generous for a loaded machine, yet below the hold-back of
  // a plain HLS player of these 1 s segments plus its playlist polling (tests/bench/live/ measures it).
  assert.ok(p.latency > 0 && p.latency < 6, `hls.js latency ${p.latency} s`);
  const t0 = p.currentTime;
  await page.waitForFunction((t) => document.querySelector('#player').currentTime > t + 2, t0, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.upcastFatal ?? null), null);

  // The status panel (fed by server-sent events) says live and names the codecs it saw.
  await page.waitForFunction(
    () => {
      const t = document.querySelector('#status')?.textContent ?? '';
      return /State\s*live/.test(t) && /avc1\./.test(t) && /mp4a\./.test(t) && /320×180/.test(t);
    },
    null,
    { timeout: 60_000 },
  );
  await page.screenshot({ path: join(out, 'live-page.png') });

  // DASH players read the same live window from the dynamic MPD and play it.
  for (const player of ['shaka', 'dashjs']) await playsLiveDash(player, `/live/${s.id}/manifest.mpd`);

  // Record every state the panel shows from now on, as it changes, then stop the publisher.
  await page.evaluate(() => {
    const seen = [];
    /** @type {any} */ (window).statesSeen = seen;
    const note = () => {
      const m = document.querySelector('#status')?.textContent?.match(/State\s*([a-z]+)/);
      if (m && seen.at(-1) !== m[1]) seen.push(m[1]);
    };
    new MutationObserver(note).observe(document.querySelector('#status'), { childList: true, subtree: true });
    note();
  });
  ffmpeg.kill('SIGINT');
  await exited;
  await page.waitForFunction(() => window.statesSeen.includes('ended'), null, { timeout: 60_000 });
  const states = await page.evaluate(() => window.statesSeen);
  assert.deepEqual(states, ['live', 'reconnecting', 'ended'], `states ${states.join(' → ')}`);
  assert.match(await page.textContent('#streams'), /ended/);
  await page.close();

  // The recording: published once the stream ended, valid, and it plays from its start as a VOD.
  const vid = await recording(origin, s.id);
  console.log(validate(`${origin.url}/v/${vid}/master.m3u8`));
  await playsRecording(ctx, origin, vid, 1, 2);
});

/** `player` (Shaka Player or dash.js, as the viewer vendors them) plays the live MPD past 2 s, error-free. */
async function playsLiveDash(player, mpd) {
  const page = await ctx.newPage();
  await page.goto(`${origin.url}/live.html`);
  const script = player === 'shaka' ? 'shaka-player.dash.js' : 'dash.mediaplayer.min.js';
  await page.addScriptTag({ url: `${origin.url}/vendor/${script}` });
  await page.evaluate(
    async ({ player, mpd }) => {
      const w = /** @type {any} */ (window);
      const video = document.createElement('video');
      video.muted = true;
      document.body.append(video);
      w.dashVideo = video;
      w.dashErrors = [];
      if (player === 'shaka') {
        const p = new w.shaka.Player();
        p.addEventListener('error', (/** @type {any} */ e) => w.dashErrors.push(`shaka ${e.detail?.code}`));
        await p.attach(video);
        await p.load(mpd);
        video.play().catch(() => {});
      } else {
        // dash.js starts playing itself (autoplay): a play() of ours before it listens to the element
        // would hide the 'play' event its live MPD refreshes wait for.
        const p = w.dashjs.MediaPlayer().create();
        p.on(w.dashjs.MediaPlayer.events.ERROR, (/** @type {any} */ e) => w.dashErrors.push(JSON.stringify(e.error)));
        p.initialize(video, mpd, true);
      }
    },
    { player, mpd },
  );
  const start = await page
    .waitForFunction(() => window.dashVideo.currentTime > 0 && window.dashVideo.currentTime, null, { timeout: 60_000 })
    .then((h) => h.jsonValue());
  await page.waitForFunction((t) => window.dashVideo.currentTime > t + 2, start, { timeout: 60_000 });
  assert.deepEqual(await page.evaluate(() => window.dashErrors), [], `${player}: no error`);
  await page.close();
}
