// The ladder on sources unlike the 1080p H.264 + AAC one of ladder.test.mjs, in Debian's headless Chromium
// against a real `upcast serve` on 127.0.0.1: each ffmpeg-made source goes through the library
// (openLadder → run → upload, from a page of the origin), then the test reads back what the origin serves:
// `upcast validate`, ffprobe over each rendition, the pictures themselves, and hls.js playing every level.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { timescale } from './cmaf-bytes.mjs';
import { ADMIN, dropFile, out, session, sourceFixture } from './harness.mjs';
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

let lib; // a page of the origin that imports the library
const e2e = session({
  setup: async () => {
    lib = await e2e.ctx.newPage();
    lib.on('pageerror', (e) => console.error('page error:', e.message));
    // index.html keeps the admin token (watch.html reads it) and is an origin to import the library from.
    await lib.goto(`${e2e.origin.url}/index.html#token=${ADMIN}`);
  },
});

/**
 * Run source `name` through openLadder/run with a 2 s target and upload it. `pick(proposal)` chooses the
 * rungs (default: all proposed). Resolves to {opened, id, base, master, ms, fps} or {opened, error}.
 */
async function ladder(name, { pick, bytes } = {}) {
  const b64 = (bytes ?? readFileSync(sourceFixture(name))).toString('base64');
  const r = await lib.evaluate(
    async ({ b64, name, admin, pick }) => {
      const { openLadder } = await import('/lib/ladder.js');
      const { upload } = await import('/pages/uploader.js');
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `${name}.mp4`, { type: 'video/mp4' });
      const job = await openLadder(file, { targetDuration: 2 });
      const { description: _v, ...video } = job.source.video;
      const opened = {
        source: { ...job.source, video, audio: job.source.audio && { ...job.source.audio, description: null } },
        candidates: job.candidates,
        proposal: job.proposal,
        rotation: job.rotation,
        audioTarget: job.audioTarget,
        decodeProblem: job.decodeProblem,
      };
      const rungs = pick ? job.proposal.rungs.filter((r) => pick.includes(r.id)) : job.proposal.rungs;
      let last = null;
      const t0 = performance.now();
      const pkg = job.run({ rungs, copy: job.proposal.copy, onProgress: (p) => (last = p) });
      try {
        const v = await upload({ file, pkg, admin, title: name });
        const ms = performance.now() - t0;
        return { opened, id: v.id, ms, fps: last?.rungs.map((r) => [r.id, Math.round(r.fps)]) ?? [] };
      } catch (e) {
        return { opened, error: `${e.name}: ${e.message}` };
      }
    },
    { b64, name, admin: ADMIN, pick: pick ?? null },
  );
  if (r.error) return r;
  const base = `${e2e.origin.url}/v/${r.id}/`;
  return { ...r, base, master: (await get(`${base}master.m3u8`)).toString() };
}

/**
 * hls.js on the origin's viewer plays every level of video `id` from the start, forced, at double speed,
 * into its second segment (hls.js may keep the first segment it had buffered from the previous level); per
 * level: {level, uri, videoWidth, videoHeight} there. Also the bytes of audio the element decoded
 * (Chromium's webkitAudioDecodedByteCount).
 */
async function play(id, levels, seconds = 2.4) {
  const watch = await e2e.ctx.newPage();
  try {
    await watch.goto(`${e2e.origin.url}/watch.html#v=${id}`);
    await watch.waitForFunction((n) => window.upcastHls?.levels?.length === n, levels, { timeout: 90_000 });
    const seen = [];
    for (let level = 0; level < levels; level++) {
      await watch.evaluate((level) => {
        const hls = window.upcastHls;
        const video = document.querySelector('#player');
        window.levelFrags = 0;
        hls.off('hlsFragChanged', window.onFrag);
        window.onFrag = (_e, d) => d.frag.level === level && window.levelFrags++;
        hls.on('hlsFragChanged', window.onFrag);
        hls.currentLevel = level;
        video.playbackRate = 2;
        video.currentTime = 0;
        video.play();
      }, level);
      const state = (level) => {
        const v = document.querySelector('#player');
        const l = window.upcastHls.levels[level];
        return {
          level,
          uri: Array.isArray(l.url) ? l.url[0] : l.url,
          playing: window.upcastHls.currentLevel,
          frags: window.levelFrags,
          t: v.currentTime,
          videoWidth: v.videoWidth,
          videoHeight: v.videoHeight,
          error: document.querySelector('#error').textContent,
        };
      };
      await watch
        .waitForFunction(
          ({ level, seconds }) =>
            window.upcastHls.currentLevel === level &&
            window.levelFrags >= 1 &&
            document.querySelector('#player').currentTime > seconds,
          { level, seconds },
          { timeout: 90_000 },
        )
        .catch(async (e) =>
          assert.fail(
            `level ${level} did not play: ${JSON.stringify(await watch.evaluate(state, level))} (${e.message})`,
          ),
        );
      seen.push(await watch.evaluate(state, level));
      assert.equal(
        await watch.evaluate(() => window.upcastFatal ?? null),
        null,
        `level ${level} plays without a fatal error`,
      );
    }
    const audioBytes = await watch.evaluate(() => document.querySelector('#player').webkitAudioDecodedByteCount);
    return { levels: seen, audioBytes };
  } finally {
    await watch.close();
  }
}

/** The variant hls.js level `l` plays (hls.js orders levels by bit rate, not as the playlist lists them). */
const variantOf = (list, l) => list.find((v) => l.uri.endsWith(`/${v.uri}`));

/** Every rendition of a published ladder, read back. */
async function renditions(r, tag) {
  const vs = variants(r.master);
  const list = [];
  for (const v of vs) list.push({ ...v, ...(await rendition(r.base, v.uri, tag)) });
  return list;
}

test('VP9 + Opus: the VP9 source is the top rung, H.264 rungs below it, the Opus audio re-encoded; every level plays with sound', async (t) => {
  const r = await ladder('vp9_opus');
  assert.equal(r.error, undefined);
  t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
  assert.equal(r.opened.source.audio.codec, 'opus');
  assert.equal(r.opened.audioTarget.codec, 'opus', 'no AAC encoder in Chromium: Opus');
  t.diagnostic(validate(`${r.base}master.m3u8`));
  const list = await renditions(r, 'vp9');
  const codecs = list.map((v) => v.CODECS.split(',')[0]);
  assert.ok(codecs[0].startsWith('avc1') || codecs.some((c) => c.startsWith('vp09')), codecs.join(' '));
  assert.equal(codecs.filter((c) => c.startsWith('vp09')).length, 1, 'the copy is VP9');
  assert.ok(
    list.every((v) => v.CODECS.endsWith(',opus')),
    'every variant plays with the Opus audio',
  );
  const top = list.find((v) => v.CODECS.startsWith('vp09'));
  assert.equal(probe(top.path).codec_name, 'vp9');
  for (const v of list.filter((x) => x !== top)) {
    const p = probe(v.path);
    assert.equal(p.codec_name, 'h264');
    assert.equal(`${p.width}x${p.height}`, v.RESOLUTION);
  }
  sameCuts(list);
  const a = await rendition(r.base, audioMedia(r.master).URI, 'vp9');
  assert.equal(probe(a.path, 'a').codec_name, 'opus');
  assert.ok(Math.abs(a.seconds - list[0].seconds) < 0.034, `audio ${a.seconds} s, video ${list[0].seconds} s`);
  const p = await play(r.id, list.length);
  assert.ok(p.audioBytes > 0, 'the element decoded audio');
});

test('H.264 + MP3 (an MP4 entry that says stereo for a mono stream): the audio is Opus with the channels the stream has, as long as the video', async (t) => {
  const r = await ladder('h264_mp3', { pick: ['v360'] });
  assert.equal(r.error, undefined);
  t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
  assert.equal(r.opened.source.audio.codec, 'mp3');
  assert.equal(r.opened.source.audio.channels, 2, 'what the sample entry says');
  t.diagnostic(validate(`${r.base}master.m3u8`));
  const am = audioMedia(r.master);
  assert.equal(am.CHANNELS, '1', 'the decoded stream is mono');
  const a = await rendition(r.base, am.URI, 'mp3');
  const pa = probe(a.path, 'a');
  assert.equal(pa.codec_name, 'opus');
  assert.equal(pa.channels, 1);
  const list = await renditions(r, 'mp3');
  assert.deepEqual(list.map((v) => v.RESOLUTION).sort(), ['1280x720', '640x360']);
  // The source's audio edit list declares LAME's 1105 samples of encoder delay: the package keeps the MP3
  // frame that straddles its start, so the video starts that much after the audio (the source's sync), and
  // the audio lasts until the video's end.
  const videoEnd = 1105 / 48000 + list[0].seconds;
  assert.ok(
    Math.abs(a.seconds - videoEnd) < 0.034 && Math.abs(list[0].seconds - 4) < 0.001,
    `audio ${a.seconds} s, video ${list[0].seconds} s (ends at ${videoEnd} s)`,
  );
  const p = await play(r.id, list.length);
  assert.ok(p.audioBytes > 0, 'the element decoded audio');
});

test('a source turned 90° (a phone held upright): encoded rungs are stored upright at the display size; the copy keeps its matrix', async (t) => {
  const r = await ladder('rotated', { pick: ['v360', 'v540'] });
  assert.equal(r.error, undefined);
  t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
  assert.equal(r.opened.rotation, 90);
  assert.deepEqual([r.opened.source.video.displayWidth, r.opened.source.video.displayHeight], [720, 1280]);
  t.diagnostic(validate(`${r.base}master.m3u8`));
  const list = await renditions(r, 'rotated');
  assert.deepEqual(list.map((v) => v.RESOLUTION).sort(), ['360x640', '540x960', '720x1280']);
  for (const v of list) {
    const p = probe(v.path);
    const rotated = (p.side_data_list ?? []).some((s) => Math.abs(s.rotation ?? 0) === 90);
    if (v.dir === 'video/') {
      assert.deepEqual([p.width, p.height, rotated], [1280, 720, true], 'the copy: stored as shot, with the matrix');
      continue;
    }
    assert.deepEqual(
      [p.width, p.height, rotated],
      [...v.RESOLUTION.split('x').map(Number), false],
      `${v.dir} stored upright`,
    );
    const o = orientation(sourceFixture('rotated'), v.path, { w: 36, h: 64 });
    assert.ok(
      o.upright > 0.95 && o.turned < 0.5 && o.mad < 12,
      `${v.dir}: the picture is the source as shown (${JSON.stringify(o)})`,
    );
  }
  const p = await play(r.id, list.length);
  // Chromium applies the copy's matrix: every level shows upright at its RESOLUTION.
  for (const l of p.levels) {
    const v = variantOf(list, l);
    assert.equal(`${l.videoWidth}x${l.videoHeight}`, v.RESOLUTION, `${v.dir} plays at its RESOLUTION`);
  }
  t.diagnostic(
    `the element's size per level: ${p.levels.map((l) => `${variantOf(list, l).dir}${l.videoWidth}x${l.videoHeight}`).join(' ')}`,
  );
});

test('key frames 10 s apart: the source cannot be copied, every rung is encoded and cut every 2 s', async (t) => {
  const r = await ladder('long_gop');
  assert.equal(r.error, undefined);
  t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
  assert.equal(r.opened.source.copyable, false);
  assert.match(r.opened.source.copyReason, /key frames are up to 6\.00 s apart/);
  assert.equal(r.opened.proposal.copy, false);
  t.diagnostic(validate(`${r.base}master.m3u8`));
  const list = await renditions(r, 'longgop');
  assert.ok(list.length >= 2 && list.every((v) => v.dir !== 'video/'), 'no copy rung');
  for (const v of list)
    assert.ok(v.segs.every((s) => s.dur <= 2.5) && v.segs.length === 3, `${v.dir}: ${v.segs.map((s) => s.dur)}`);
  assert.deepEqual(sameCuts(list), [0, 2000, 4000]);
  await play(r.id, list.length);
});

for (const [name, fps, rate, timescaleWant] of [
  ['fps60', 60, '60.000', null],
  ['fps2997', 30000 / 1001, '29.970', 30000],
]) {
  test(`${rate} fps: every source frame is in every rung at its own presentation time`, async (t) => {
    const r = await ladder(name);
    assert.equal(r.error, undefined);
    t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
    assert.ok(Math.abs(r.opened.source.video.frameRate - fps) < 1e-3);
    t.diagnostic(validate(`${r.base}master.m3u8`));
    const list = await renditions(r, name);
    assert.ok(list.length >= 3);
    const copy = list.find((v) => v.dir === 'video/');
    const want = frameTimes(copy.segments);
    assert.equal(want.length, r.opened.source.video.frames);
    for (const v of list) {
      assert.equal(Number(v['FRAME-RATE']).toFixed(3), rate, `${v.dir} FRAME-RATE`);
      assert.equal(timescale(v.init), timescale(copy.init), `${v.dir}: the source's timescale`);
      if (timescaleWant) assert.equal(timescale(v.init), timescaleWant);
      assert.deepEqual(frameTimes(v.segments), want, `${v.dir}: the frames of the copy, at the same times`);
    }
    sameCuts(list);
    await play(r.id, list.length);
  });
}

test('non-square pixels (480x360 at 4:3): encoded rungs are square-pixel pictures of the display size', async (t) => {
  const r = await ladder('anamorphic');
  assert.equal(r.error, undefined);
  t.diagnostic(`encode+upload ${r.ms.toFixed(0)} ms; fps ${JSON.stringify(r.fps)}`);
  assert.deepEqual([r.opened.source.video.codedWidth, r.opened.source.video.displayWidth], [480, 640]);
  t.diagnostic(validate(`${r.base}master.m3u8`));
  const list = await renditions(r, 'anamorphic');
  for (const v of list) {
    const p = probe(v.path);
    if (v.dir === 'video/') {
      assert.deepEqual([p.width, p.height, p.sample_aspect_ratio, v.RESOLUTION], [480, 360, '4:3', '640x360']);
    } else {
      assert.equal(`${p.width}x${p.height}`, v.RESOLUTION);
      assert.ok(
        [undefined, '1:1', 'N/A'].includes(p.sample_aspect_ratio),
        `${v.dir}: square pixels (${p.sample_aspect_ratio})`,
      );
      assert.ok(Math.abs(p.width / p.height - 16 / 9) < 0.02, `${v.dir}: 16:9 like the display`);
      const o = orientation(sourceFixture('anamorphic'), v.path, { w: 64, h: 36 });
      assert.ok(o.upright > 0.95 && o.mad < 12, `${v.dir}: the source's picture (${JSON.stringify(o)})`);
    }
  }
  const p = await play(r.id, list.length);
  for (const l of p.levels) {
    const v = variantOf(list, l);
    assert.equal(
      `${l.videoWidth}x${l.videoHeight}`,
      v.RESOLUTION,
      `${v.dir} plays at its RESOLUTION (the copy through its pasp)`,
    );
  }
});

test('HEVC, which this Chromium cannot decode: the upload page says so when the file is read and offers the copy alone', async (t) => {
  const page = await e2e.ctx.newPage();
  try {
    await page.goto(`${e2e.origin.url}/index.html?target=2`);
    await dropFile(page, '#drop', 'hevc.mp4', readFileSync(sourceFixture('hevc')));
    await page.waitForSelector('#ladder:not([hidden])');
    const note = await page.textContent('#ladder .copy-reason');
    assert.match(note, /cannot decode the source's HEVC video \(hvc1\.[^)]+\).*only the original is uploaded/, note);
    const rows = await page.$$eval('#ladder tbody tr', (trs) =>
      trs.map((tr) => {
        const box = tr.querySelector('input[type=checkbox]');
        return { cells: [...tr.cells].map((c) => c.textContent.trim()), disabled: box.disabled, checked: box.checked };
      }),
    );
    assert.deepEqual([rows[0].cells[1], rows[0].checked, rows[0].disabled], ['Original', true, false]);
    assert.ok(rows.length > 1);
    for (const r of rows.slice(1)) {
      assert.deepEqual([r.checked, r.disabled], [false, true], r.cells.join(' | '));
      assert.match(r.cells[5], /unavailable: the source cannot be decoded here/);
    }
    await page.screenshot({ path: join(out, 'upload-ladder-hevc.png'), fullPage: true });
    await page.click('#ladder .start');
    await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 60_000 });
    const id = await page.evaluate(() => document.body.dataset.video);
    const base = `${e2e.origin.url}/v/${id}/`;
    t.diagnostic(validate(`${base}master.m3u8`));
    const vs = variants((await get(`${base}master.m3u8`)).toString());
    assert.deepEqual(
      vs.map((v) => [v.uri, v.CODECS.split(',')[0].slice(0, 4)]),
      [['video/playlist.m3u8', 'hvc1']],
    );
  } finally {
    await page.close();
  }
});

test('a rung the encoder refuses, and a source that fails to decode, reject with what went wrong (no hang)', async () => {
  const b64 = readFileSync(sourceFixture('fps2997')).toString('base64');
  const refusal = await lib.evaluate(
    async ({ b64 }) => {
      const { openLadder } = await import('/lib/ladder.js');
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'x.mp4');
      const job = await openLadder(file, { targetDuration: 2 });
      const good = job.proposal.rungs[0];
      const t0 = performance.now();
      try {
        await job.run({ rungs: [good, { ...good, id: 'bad', codec: 'avc1.zzzzzz' }] }).done;
        return 'resolved';
      } catch (e) {
        return { name: e.name, message: e.message, ms: performance.now() - t0 };
      }
    },
    { b64 },
  );
  assert.equal(refusal.name, 'UpcastError');
  assert.match(refusal.message, /^rung bad \(avc1\.zzzzzz 640x360 at 29\.97 fps\): /);
  assert.ok(refusal.ms < 10_000, `${refusal.ms} ms`);

  // 64 bytes of every KB overwritten in the middle third of the file (the samples, not the moov).
  const broken = Buffer.from(readFileSync(sourceFixture('fps2997')));
  for (let at = Math.floor(broken.length / 3); at < broken.length / 3 + 40_000; at += 997)
    broken.fill(0xff, at, at + 64);
  const r = await ladder('broken', { bytes: broken });
  assert.match(r.error ?? '', /^UpcastError: the source's video \(avc1\.[0-9a-f]+\) could not be decoded: /, r.error);
});
