// The adaptive ladder in Debian's headless Firefox ESR (WebCodecs there: H.264/VP9/AV1 encode, no AAC
// encoder), driven through geckodriver against a real `upcast serve` on 127.0.0.1: a 1080p H.264 + AAC
// file gets a 360p rung (Firefox's encoder is handed the 1080p frames and scales them itself), a 720p
// H.264 + MP3 file gets its audio as Opus; the test reads back the served bytes and plays every level with
// hls.js in Firefox.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN, hdFixture, out, sourceFixture, startOrigin } from './harness.mjs';
import {
  audioMedia,
  frameTimes,
  get,
  orientation,
  probe,
  rendition,
  sameCuts,
  validate,
  variants,
} from './ladder-check.mjs';
import { firefox } from './webdriver.mjs';

let origin;
let ff;

before(async () => {
  origin = await startOrigin();
  ff = await firefox();
  await ff.goto(`${origin.url}/index.html#token=${ADMIN}`); // keeps the admin token for watch.html
});

after(async () => {
  await ff?.close();
  origin?.stop();
});

/** In Firefox: openLadder → run `pick` rungs (+ the copy) → upload. */
async function ladder(path, name, pick) {
  return ff.run(
    async (b64, name, admin, pick) => {
      const { openLadder } = await import('/lib/ladder.js');
      const { upload } = await import('/pages/uploader.js');
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `${name}.mp4`, { type: 'video/mp4' });
      const job = await openLadder(file, { targetDuration: 2 });
      const rungs = job.proposal.rungs.filter((r) => pick.includes(r.id));
      let last = null;
      const t0 = performance.now();
      const pkg = job.run({ rungs, copy: job.proposal.copy, onProgress: (p) => (last = p) });
      const v = await upload({ file, pkg, admin, title: name });
      return {
        id: v.id,
        ms: performance.now() - t0,
        fps: last.rungs.map((r) => [r.id, Math.round(r.fps)]),
        audioTarget: job.audioTarget,
        encoders: job.candidates.filter((c) => pick.includes(c.id)).map((c) => c.hardwareAcceleration),
        userAgent: navigator.userAgent,
      };
    },
    readFileSync(path).toString('base64'),
    name,
    ADMIN,
    pick,
  );
}

/** hls.js in Firefox plays each of `levels` levels from the start into its second segment; per level the
 * playlist and the element's picture size; and whether the element has audio (Firefox's mozHasAudio). */
async function play(id, levels) {
  await ff.goto(`${origin.url}/watch.html#v=${id}`);
  return ff.run(async (levels) => {
    const until = async (ok, what, ms = 60_000) => {
      for (const t0 = performance.now(); !ok(); ) {
        if (performance.now() - t0 > ms) {
          const v = document.querySelector('#player');
          const state = {
            t: v.currentTime,
            readyState: v.readyState,
            paused: v.paused,
            error: v.error?.message,
            level: window.upcastHls?.currentLevel,
            buffered: Array.from({ length: v.buffered.length }, (_, i) => [v.buffered.start(i), v.buffered.end(i)]),
            page: document.querySelector('#error').textContent,
            errors: window.upcastErrors,
          };
          throw new Error(`${what} did not play: ${JSON.stringify(state)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => window.upcastHls?.levels?.length === levels, 'the levels');
    const hls = window.upcastHls;
    // Every hls.js error, fatal or not, is said when a level does not play.
    window.upcastErrors = [];
    hls.on('hlsError', (_e, d) =>
      window.upcastErrors.push(`${d.type}/${d.details} level ${d.frag?.level}: ${d.error?.message ?? ''}`),
    );
    const video = document.querySelector('#player');
    // Force levels only once the player has its SourceBuffers and a first picture: a level forced while
    // hls.js is still creating them makes its appends fail in Firefox ("Attempting to append to the video
    // SourceBuffer, but it does not exist") and hls.js falls back to another level for good.
    await until(() => video.readyState >= 2, 'the first level');
    const seen = [];
    for (let level = 0; level < levels; level++) {
      let frags = 0;
      const onFrag = (_e, d) => d.frag.level === level && frags++;
      hls.on('hlsFragChanged', onFrag);
      hls.currentLevel = level;
      video.playbackRate = 2;
      video.currentTime = 0;
      await video.play();
      await until(() => hls.currentLevel === level && frags >= 1 && video.currentTime > 2.4, `level ${level}`);
      hls.off('hlsFragChanged', onFrag);
      const url = hls.levels[level].url;
      seen.push({
        level,
        uri: Array.isArray(url) ? url[0] : url,
        size: `${video.videoWidth}x${video.videoHeight}`,
        fatal: window.upcastFatal ?? null,
      });
    }
    return { levels: seen, hasAudio: video.mozHasAudio };
  }, levels);
}

const clean = (path) =>
  execFileSync('ffmpeg', ['-v', 'warning', '-i', path, '-f', 'null', '-'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

test("Firefox: 1080p H.264 + AAC → a 360p rung scaled by Firefox's encoder, plus the copy; every level plays in Firefox", async (t) => {
  const src = join(out, 'e2e_10s_1080p.mp4');
  hdFixture();
  const r = await ladder(src, 'firefox 1080p', ['v360']);
  t.diagnostic(`${r.userAgent}; encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)} (${r.encoders})`);
  const base = `${origin.url}/v/${r.id}/`;
  t.diagnostic(validate(`${base}master.m3u8`));
  const master = (await get(`${base}master.m3u8`)).toString();
  const list = [];
  for (const v of variants(master)) list.push({ ...v, ...(await rendition(base, v.uri, 'firefox-hd')) });
  assert.deepEqual(list.map((v) => v.RESOLUTION).sort(), ['1920x1080', '640x360']);
  const rung = list.find((v) => v.dir === 'v360/');
  const copy = list.find((v) => v.dir === 'video/');
  const p = probe(rung.path);
  assert.deepEqual([p.codec_name, p.width, p.height], ['h264', 640, 360]);
  // The repaired avcC: ffmpeg reads its SPS and PPS without a word (Firefox's own record makes it say
  // "SPS decoding failure … sps_id 1 out of range").
  assert.equal(clean(rung.path), '', 'ffmpeg decodes the rung without a warning');
  // The whole 1080p picture, scaled (not its top-left corner cropped).
  const o = orientation(src, rung.path, { w: 64, h: 36 });
  assert.ok(o.upright > 0.95 && o.turned < 0.5, `the rung's picture is the source's (${JSON.stringify(o)})`);
  assert.deepEqual(frameTimes(rung.segments), frameTimes(copy.segments), "every frame, at the copy's times");
  assert.equal(sameCuts(list).length, 5);
  const played = await play(r.id, list.length);
  for (const l of played.levels) {
    const v = list.find((x) => l.uri.endsWith(`/${x.uri}`));
    assert.equal(l.fatal, null);
    assert.equal(l.size, v.RESOLUTION, `${v.dir} plays in Firefox at its RESOLUTION`);
  }
  assert.equal(played.hasAudio, true);
  await ff.goto(`${origin.url}/index.html`);
});

test('Firefox: MP3 audio becomes Opus (no AAC encoder) and plays', async (t) => {
  const r = await ladder(sourceFixture('h264_mp3'), 'firefox mp3', ['v360']);
  t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
  assert.equal(r.audioTarget.codec, 'opus');
  const base = `${origin.url}/v/${r.id}/`;
  t.diagnostic(validate(`${base}master.m3u8`));
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  assert.ok(vs.length === 2 && vs.every((v) => v.CODECS.endsWith(',opus')), master);
  const am = audioMedia(master);
  assert.equal(am.CHANNELS, '1');
  const a = await rendition(base, am.URI, 'firefox-mp3');
  assert.deepEqual([probe(a.path, 'a').codec_name, probe(a.path, 'a').sample_rate], ['opus', '48000']);
  // The source's audio edit list declares LAME's 1105 samples of encoder delay: the package keeps the MP3
  // frame that straddles its start and starts the 4 s of video that much later (the source's sync), so the
  // audio lasts until the video's end (as in ladder-sources.test.mjs).
  const videoEnd = 4 + 1105 / 48000;
  assert.ok(Math.abs(a.seconds - videoEnd) < 0.034, `audio ${a.seconds} s (the video ends at ${videoEnd} s)`);
  const played = await play(r.id, vs.length);
  assert.ok(played.levels.every((l) => l.fatal === null));
  assert.equal(played.hasAudio, true);
  await ff.goto(`${origin.url}/index.html`);
});
