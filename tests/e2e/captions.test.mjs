// Captions and chapters end to end in Chromium against a real `upcast serve`: the upload page takes two
// caption files (SRT and WebVTT) and typed chapters with the video; the core cuts them in the browser and
// the origin stores them. In the viewer, hls.js lists both languages in `video.textTracks` and the English
// cue is active at its time; Shaka Player and video.js (on the MPD) list both subtitle tracks too; the
// chapters file is served and listed on the video; a bad caption file is refused on the page before
// anything is uploaded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, api, dropFile, longFixture, session } from './harness.mjs';

const e2e = session();

const EN_SRT =
  '1\r\n00:00:01,000 --> 00:00:03,500\r\nHello from the captions\r\n\r\n2\r\n00:00:05,000 --> 00:00:06,000\r\nSecond\r\n';
const PT_VTT = 'WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nOlá das legendas\n';

async function uploadPage() {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  await page.uncheck('#encode');
  await page.click('#text summary');
  return page;
}

/** Fill caption row `i` (adding it when needed). */
async function captionRow(page, i, { name, lang, label, text, isDefault = false }) {
  if ((await page.locator('#text .caption').count()) <= i) await page.click('#text .add-caption');
  const row = page.locator('#text .caption').nth(i);
  await row.locator('.file').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  await row.locator('.lang').fill(lang);
  await row.locator('.cname').fill(label);
  if (isDefault) await row.locator('.default').check();
}

test('two caption languages and chapters: uploaded with the video, listed by hls.js, Shaka and video.js', async () => {
  const page = await uploadPage();
  await captionRow(page, 0, { name: 'en.srt', lang: 'en', label: 'English', text: EN_SRT, isDefault: true });
  await captionRow(page, 1, { name: 'pt.vtt', lang: 'pt-BR', label: 'Português', text: PT_VTT });
  await page.fill('#text .chapters', '0:00 Opening\n0:08 Second half\n');
  await dropFile(page, '#drop', 'captions 16s.mp4', longFixture());
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 120_000 });
  const id = await page.evaluate(() => document.body.dataset.video);
  await page.close();

  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.deepEqual(
    v.captions.map((c) => [c.lang, c.name, c.default]),
    [
      ['en', 'English', true],
      // The tag keeps BCP 47's conventional case.
      ['pt-BR', 'Português', false],
    ],
  );
  assert.equal(v.chapters_url, `/v/${id}/chapters.vtt`);
  const chapters = await (await fetch(e2e.origin.url + v.chapters_url)).text();
  assert.match(chapters, /00:00:00\.000 --> 00:00:08\.000\nOpening/);
  assert.match(chapters, /00:00:08\.000 --> 00:00:16\.\d{3}\nSecond half/);
  const master = await (await fetch(`${e2e.origin.url}/v/${id}/master.m3u8`)).text();
  assert.match(master, /#EXT-X-MEDIA:TYPE=SUBTITLES,.*GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES/);
  assert.match(master, /SUBTITLES="subs"/);

  // hls.js: both languages in video.textTracks; English on, its first cue active at 2 s (the segment
  // boundary at 2 s is inside the cue: it was cut into two segments and must show once, at the right time).
  const watch = await e2e.ctx.newPage();
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=hls`);
  await watch.waitForFunction(
    () => [...(document.querySelector('#player')?.textTracks ?? [])].filter((t) => t.kind === 'subtitles').length === 2,
    null,
    { timeout: 60_000 },
  );
  const langs = await watch.evaluate(() =>
    [...document.querySelector('#player').textTracks].filter((t) => t.kind === 'subtitles').map((t) => t.language),
  );
  assert.deepEqual(langs.sort(), ['en', 'pt-BR']);
  await watch.evaluate(() => {
    const hls = window.upcastHls;
    hls.subtitleTrack = hls.subtitleTracks.findIndex((t) => t.lang === 'en');
    hls.subtitleDisplay = true;
    const video = document.querySelector('#player');
    video.pause();
    video.currentTime = 2;
  });
  const cue = await watch
    .waitForFunction(
      () => {
        const t = [...document.querySelector('#player').textTracks].find((x) => x.language === 'en');
        const c = t?.activeCues?.[0];
        return c && { text: c.text, start: c.startTime, end: c.endTime, cues: t.cues.length };
      },
      null,
      { timeout: 60_000 },
    )
    .then((h) => h.jsonValue());
  assert.equal(cue.text, 'Hello from the captions');
  assert.ok(Math.abs(cue.start - 1) < 0.05 && Math.abs(cue.end - 3.5) < 0.05, JSON.stringify(cue));
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);

  // Shaka Player and video.js read the MPD's text AdaptationSets (and video.js's VHS).
  for (const [player, list] of [
    ['shaka', () => window.upcastShaka?.getTextTracks().map((t) => t.language) ?? []],
    [
      'videojs',
      () => {
        // video.js's TextTrackList is array-like, not iterable.
        const t = window.upcastVjs?.textTracks();
        const all = Array.from({ length: t?.length ?? 0 }, (_, i) => t[i]);
        return all.filter((x) => x.kind === 'subtitles').map((x) => x.language);
      },
    ],
  ]) {
    await watch.goto('about:blank');
    await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=${player}`);
    const got = await watch
      .waitForFunction(
        (f) => {
          const l = new Function(`return (${f})()`)();
          return l.length >= 2 && l;
        },
        list.toString(),
        { timeout: 60_000 },
      )
      .then((h) => h.jsonValue())
      .catch(async (e) => {
        throw new Error(`${player}: ${await watch.evaluate(() => window.upcastFatal ?? '')} ${e.message}`);
      });
    // BCP 47 tags are case-insensitive (Shaka writes them canonical: pt-BR).
    assert.deepEqual([...new Set(got.map((l) => l.toLowerCase()))].sort(), ['en', 'pt-br'], player);
  }
  await watch.close();
});

test('a bad caption file is refused on the page, naming its line, and nothing is uploaded', async () => {
  const before = (await api(e2e.origin, '/api/videos')).videos?.length ?? 0;
  const page = await uploadPage();
  await captionRow(page, 0, {
    name: 'bad.vtt',
    lang: 'en',
    label: 'English',
    text: 'WEBVTT\n\n00:01.000 --> 00:0x.000\nhi\n',
  });
  await dropFile(page, '#drop', 'captions 16s.mp4', longFixture());
  await page.waitForSelector('#problem:not([hidden])', { timeout: 60_000 });
  assert.match(await page.textContent('#problem'), /line 3: expected a timestamp/);
  assert.equal((await api(e2e.origin, '/api/videos')).videos?.length ?? 0, before);
  await page.close();
});
