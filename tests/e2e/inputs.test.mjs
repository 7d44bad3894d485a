// The new inputs end to end in Debian's headless Chromium against a real `upcast serve` on 127.0.0.1: a
// WebM (VP9 + Opus) recorded in the tab by MediaRecorder from the fake camera and microphone
// (`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`) and a fragmented MP4 made by ffmpeg
// (`-movflags frag_keyframe+empty_moov`) are each dropped on the upload page (copy only), published, and
// played by the viewer through hls.js; the WebM's package says vp09 + Opus and passes `upcast validate`.
// A VP8 + Opus WebM from MediaRecorder goes through the ladder (every rung H.264, encoded from the frames
// WebCodecs decodes in the tab), publishes video and sound, validates and plays on every level.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN, api, dropFile, FAKE_CAMERA, fragmentedFixture, out, session } from './harness.mjs';
import { playEveryLevel, validate, variants } from './ladder-check.mjs';

const e2e = session({ browser: FAKE_CAMERA });

async function uploadPage(query = '') {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html${query}#token=${ADMIN}`);
  // Copy only: the original is packaged as it is, no encoded renditions.
  await page.uncheck('#encode');
  return page;
}

const published = (page, timeout = 120_000) =>
  page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout });

/**
 * Record the fake camera and microphone in `page` with MediaRecorder (`mimeType`) until the recorder's own
 * chunk timecodes span `ms`, then stop; the recording stays in the page as `window.recorded` (a Blob).
 * Returns {size, span, chunks}.
 */
function record(page, mimeType, ms) {
  return page.evaluate(
    async ({ mimeType, ms }) => {
      if (!MediaRecorder.isTypeSupported(mimeType)) throw new Error(`${mimeType} is not supported`);
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: 640, height: 360, frameRate: 30 },
        audio: true,
      });
      // A key frame every second where the browser supports the option (Chromium's VP9 otherwise has one).
      const rec = new MediaRecorder(stream, { mimeType, videoKeyFrameIntervalDuration: 1000 });
      const chunks = [];
      let first = null;
      let span = 0;
      const stopped = new Promise((resolve, reject) => {
        rec.onerror = (e) => reject(new Error(`MediaRecorder: ${e.error?.message ?? e.type}`));
        rec.onstop = resolve;
      });
      rec.ondataavailable = (e) => {
        if (e.data.size) chunks.push(e.data);
        first ??= e.timecode;
        span = e.timecode - first;
        if (span >= ms && rec.state === 'recording') rec.stop();
      };
      rec.start(250);
      await stopped;
      for (const t of stream.getTracks()) t.stop();
      const blob = new Blob(chunks, { type: mimeType.split(';')[0] });
      window.recorded = blob;
      return { size: blob.size, span, chunks: chunks.length };
    },
    { mimeType, ms },
  );
}

/** Drop the page's `window.recorded` on the drop area as a File named `name`. */
function dropRecorded(page, name) {
  return page.evaluate((name) => {
    const dt = new DataTransfer();
    dt.items.add(new File([window.recorded], name, { type: 'video/webm', lastModified: 1_700_000_000_000 }));
    document
      .querySelector('#drop')
      .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, name);
}

/** Play video `id` in the viewer through hls.js until `currentTime` passes `seconds`; no fatal error. */
async function plays(id, seconds) {
  const watch = await e2e.ctx.newPage();
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}`);
  await watch.waitForFunction((s) => document.querySelector('#player').currentTime > s, seconds, {
    timeout: 120_000,
  });
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  return watch;
}

test('a MediaRecorder WebM (VP9 + Opus) from the fake camera uploads, plays in hls.js and validates', async (t) => {
  const page = await uploadPage('?target=2');
  const rec = await record(page, 'video/webm;codecs=vp9,opus', 4000);
  t.diagnostic(`recorded ${rec.size} bytes in ${rec.chunks} chunks over ${rec.span} ms`);
  assert.ok(rec.size > 0);
  await dropRecorded(page, 'recorded vp9.webm');
  await page.waitForSelector('#found:not([hidden])', { timeout: 60_000 });
  assert.match(await page.textContent('#found'), /vp09\./);
  await published(page);
  const id = await page.evaluate(() => document.body.dataset.video);
  const url = await page.inputValue('#done .url');
  assert.equal(url, `${e2e.origin.url}/v/${id}/master.m3u8`);

  const master = await (await fetch(url)).text();
  const codecs = variants(master).map((v) => v.CODECS);
  assert.ok(codecs.length > 0, master);
  for (const c of codecs) {
    assert.match(c, /(^|,)vp09\./, master);
    assert.match(c, /(^|,)opus(,|$)/i, master);
  }
  t.diagnostic(validate(url));

  // The recording is a few seconds long: 1.5 s of playback shows hls.js reading VP9 + Opus through MSE.
  const watch = await plays(id, 1.5);
  await watch.screenshot({ path: join(out, 'inputs-webm-watch.png') });
  await watch.close();
  assert.equal((await api(e2e.origin, `/api/videos/${id}`)).state, 'ready');
  await page.close();
});

test('a fragmented MP4 (ffmpeg frag_keyframe+empty_moov) uploads and plays in hls.js', async (t) => {
  const page = await uploadPage('?target=2');
  await dropFile(page, '#drop', 'fragmented.mp4', fragmentedFixture());
  await page.waitForSelector('#found:not([hidden])', { timeout: 60_000 });
  assert.match(await page.textContent('#found'), /avc1\.64.*640×360/s);
  await published(page);
  const id = await page.evaluate(() => document.body.dataset.video);
  const url = await page.inputValue('#done .url');
  const master = await (await fetch(url)).text();
  for (const v of variants(master)) assert.match(v.CODECS, /avc1\..*mp4a\.40\.2|mp4a\.40\.2.*avc1\./);
  t.diagnostic(validate(url));
  const watch = await plays(id, 2);
  await watch.close();
  await page.close();
});

// VP8 has no CMAF packaging players here play: the page proposes a ladder with every rung encoded (the
// copy row says why it is not offered, the note names the decode path: WebCodecs' VideoDecoder "vp8"),
// the rungs are encoded from the frames decoded in the tab, cut at the recording's key frames, and the
// package publishes with video and sound.
test('a VP8 + Opus WebM from MediaRecorder goes through the ladder: published, valid, every level plays', async (t) => {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  await page.check('#encode');
  // Long enough for hls.js to play two 2 s segments of every level.
  const rec = await record(page, 'video/webm;codecs=vp8,opus', 6000);
  t.diagnostic(`recorded ${rec.size} bytes in ${rec.chunks} chunks over ${rec.span} ms`);
  await dropRecorded(page, 'recorded vp8.webm');
  await page.waitForSelector('#ladder:not([hidden])', { timeout: 60_000 });
  // What was found: the VP8 video and its length (before encoding the ladder has no video rendition yet).
  const found = await page.textContent('#found');
  assert.match(found, /vp8 · 640×360/);
  assert.doesNotMatch(found, /audio-only|Duration0:00\.0/);
  const copyRow = await page.textContent('#ladder tbody tr:first-child');
  assert.match(copyRow, /vp8.*not offered: VP8 video has no CMAF packaging that HLS players play/s);
  assert.equal(await page.isDisabled('#ladder input[name=copy]'), true);
  assert.match(
    await page.textContent('#ladder .copy-reason'),
    /encoded from frames decoded in this tab by WebCodecs \(VideoDecoder “vp8”, (software|hardware)\)/,
  );
  const ticked = await page.$$eval('#ladder tbody tr[data-rung]', (trs) =>
    trs
      .filter((tr) => tr.querySelector('input[type=checkbox]').checked)
      .map((tr) => [tr.dataset.rung, tr.cells[2].textContent]),
  );
  // Every rung H.264, the top one at the recording's own size.
  assert.deepEqual(ticked, [
    ['v360', '640×360'],
    ['v234', '416×234'],
  ]);
  await page.screenshot({ path: join(out, 'inputs-vp8-ladder.png'), fullPage: true });
  await page.click('#ladder .start');
  await page.waitForFunction(
    () => document.body.dataset.state === 'published' || !document.querySelector('#problem').hidden,
    null,
    { timeout: 300_000 },
  );
  assert.equal(
    await page.evaluate(() =>
      document.querySelector('#problem').hidden ? null : document.querySelector('#problem').textContent,
    ),
    null,
  );
  const id = await page.evaluate(() => document.body.dataset.video);
  assert.equal((await api(e2e.origin, `/api/videos/${id}`)).state, 'ready');
  const url = await page.inputValue('#done .url');
  const master = await (await fetch(url)).text();
  const vs = variants(master);
  assert.equal(vs.length, 2, master);
  for (const v of vs) assert.match(v.CODECS, /^avc1\.[0-9a-f]{6},(mp4a\.40\.2|opus)$/, master);
  assert.doesNotMatch(master, /vp08|vp8/i);
  assert.deepEqual(vs.map((v) => v.RESOLUTION).sort(), ['416x234', '640x360']);
  assert.match(validate(url), /pass/i);
  await playEveryLevel(e2e.ctx, e2e.origin, id, vs);
  await page.close();
});
