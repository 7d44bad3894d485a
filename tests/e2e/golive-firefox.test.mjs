// Go live from headless Firefox ESR (through geckodriver, tests/e2e/webdriver.mjs) against a real `upcast
// serve` on 127.0.0.1, with Firefox's fake camera and microphone (`media.navigator.streams.fake`): Firefox
// has no MediaStreamTrackProcessor, so the page's fallback feeds the Worker (the preview drawn into
// VideoFrames at each new picture, the sound through an AudioWorklet). Two rungs (480p, 360p) for 30 s; hls.js plays
// each rung forced in turn in Firefox (the Live page in a frame of the publishing page, so the publisher's
// tab stays in the foreground); every rung's segments start with an IDR at the same instants; Stop ends
// the stream and the recording passes `upcast validate`.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createStream, liveCuts, masterWith, recording, streamState, until, untilSegments } from './golive-check.mjs';
import { ADMIN, startOrigin } from './harness.mjs';
import { validate } from './ladder-check.mjs';
import { firefox } from './webdriver.mjs';

const SECONDS = 30;
let origin;
let ff;

before(async () => {
  origin = await startOrigin({ args: ['--api-rate-per-ip', '0', '--live-grace-secs', '3'] });
  ff = await firefox({
    prefs: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
    },
  });
  await ff.goto(`${origin.url}/live.html#token=${ADMIN}`); // keeps the admin token for the Live page
});

after(async () => {
  await ff?.close();
  origin?.stop();
});

test('Firefox publishes two rungs through the fallback path; hls.js plays each; the recording validates', async (t) => {
  const s = await createStream(origin, 'e2e go live firefox');
  await ff.goto(`${origin.url}/golive.html#key=${encodeURIComponent(s.stream_key)}`);
  const started = await ff.run(async () => {
    const wait = async (ok, what, ms = 120_000) => {
      for (const t0 = performance.now(); !ok(); await new Promise((r) => setTimeout(r, 100)))
        if (performance.now() - t0 > ms)
          throw new Error(`timed out: ${what}; ${document.querySelector('#error').textContent}`);
    };
    document.querySelector('#source button[type=submit]').click();
    await wait(() => !document.querySelector('#publish').hidden, 'the ladder');
    const boxes = [...document.querySelectorAll('#ladder tbody input[type=checkbox]')];
    // 480p and 360p: Firefox's software H.264 encoder at 720p drops frames on a loaded 2-core machine.
    boxes.forEach((b, i) => {
      b.checked = i === 1 || i === 2;
      b.dispatchEvent(new Event('change'));
    });
    document.querySelector('#start').click();
    await wait(() => window.upcastLive.state === 'live', 'live');
    return {
      rungs: [...document.querySelectorAll('#ladder tbody tr')].slice(1, 3).map((r) => r.dataset.rung),
      notices: window.upcastLive.notices,
    };
  });
  t.diagnostic(`rungs ${started.rungs.join(', ')}; ${started.notices.join(' ')}`);
  assert.equal(started.rungs.length, 2);
  assert.ok(
    started.notices.some((n) => /no MediaStreamTrackProcessor/.test(n)),
    'the fallback path',
  );

  // The sound goes through an AudioWorklet, whose AudioContext headless Firefox cannot run on a machine
  // without a sound server (it stays suspended): the page says so, and the stream goes out without it.
  const master = await masterWith(origin, s, 2);
  await untilSegments(origin, s, master);
  const notes = await ff.run(async () => {
    while (!window.upcastLive.notices.some((n) => /sound/i.test(n)) && !window.upcastLive.stats?.audio?.codec)
      await new Promise((r) => setTimeout(r, 250));
    return { notices: window.upcastLive.notices, audio: window.upcastLive.stats?.audio?.codec ?? null };
  });
  t.diagnostic(`sound: ${notes.audio ?? notes.notices.find((n) => /sound/i.test(n))}`);
  const played = await ff.run(async (id) => {
    const frame = Object.assign(document.createElement('iframe'), {
      src: `/live.html#s=${id}`,
      width: 640,
      height: 400,
    });
    document.body.append(frame);
    const w = () => /** @type {any} */ (frame.contentWindow);
    let frags = 0;
    const until = async (ok, what, ms = 90_000) => {
      for (const t0 = performance.now(); !ok(); await new Promise((r) => setTimeout(r, 100)))
        if (performance.now() - t0 > ms) {
          const v = video();
          const hls = w()?.upcastHls;
          const st = window.upcastLive.stats?.rungs?.map((r) => `${r.label} ${r.fps.toFixed(1)} fps lag ${r.lagMs}`);
          throw new Error(
            `timed out: ${what}; fatal ${w()?.upcastFatal}; t ${v?.currentTime} paused ${v?.paused} ready ${v?.readyState}; ` +
              `level ${hls?.currentLevel} loading ${hls?.loadLevel} frags ${frags}; publisher ${st}`,
          );
        }
    };
    const video = () => w()?.document.querySelector('#player');
    await until(() => w()?.upcastHls?.levels?.length === 2 && video()?.currentTime > 2, 'playing');
    const out = [];
    for (let level = 0; level < 2; level++) {
      const hls = w().upcastHls;
      hls.currentLevel = level;
      frags = 0;
      hls.on('hlsFragChanged', (_e, d) => {
        if (d.frag.level === level) frags++;
      });
      const t0 = video().currentTime;
      await until(() => frags >= 2 && video().currentTime > t0 + 2, `level ${level}`);
      out.push({ level, fatal: w().upcastFatal ?? null, latency: hls.latency });
    }
    frame.remove();
    return out;
  }, s.id);
  for (const p of played) {
    assert.equal(p.fatal, null, `level ${p.level}: no fatal error`);
    t.diagnostic(`level ${p.level} plays in Firefox (hls.js latency ${p.latency.toFixed(2)} s)`);
  }

  const stats = await ff.run(async (n) => {
    while ((window.upcastLive.stats?.mediaS ?? 0) < n) await new Promise((r) => setTimeout(r, 250));
    return { ...window.upcastLive.stats, notices: window.upcastLive.notices };
  }, SECONDS);
  // A rung paused for the uplink (on a loaded machine the encoders' delay counts as upload lag) says so.
  t.diagnostic(`page notices: ${stats.notices.join(' | ')}`);
  t.diagnostic(`stats ${JSON.stringify(stats.rungs.map((r) => [r.label, r.fps.toFixed(1), r.dropped, r.lagMs]))}`);
  const cuts = await liveCuts(origin, s, master);
  t.diagnostic(`segment starts (ms) in both rungs: ${cuts.join(' ')}`);

  await ff.run(async () => {
    document.querySelector('#stop').click();
    while (window.upcastLive.state !== 'ended') await new Promise((r) => setTimeout(r, 100));
  });
  await until('the stream ended', 30_000, async () => (await streamState(origin, s.id)) === 'ended');
  const vid = await recording(origin, s.id);
  t.diagnostic(validate(`${origin.url}/v/${vid}/master.m3u8`));
});
