// Chapters from the source, captions through the ladder, and DASH thumbnails, in Chromium against a real
// `upcast serve`:
// - tests/fixtures/chapters.mp4 (a chapter text track and a chpl box, made by ffmpeg from [CHAPTER]s)
//   uploaded through the page without a ladder: the page shows the file's chapters in the chapters card,
//   the package's chapters.vtt is made from them, and the viewer lists them;
// - the 16 s file uploaded with a ladder and an SRT caption file: the ladder's own master playlist
//   announces the subtitle rendition at publish (no later API call), hls.js lists it in textTracks;
// - in both, the MPD carries the storyboard as a DASH-IF thumbnails AdaptationSet, and dash.js's
//   `provideThumbnail(t)` gives the sheet's URL and the tile's rectangle for that time.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, api, dropFile, fixture, longFixture, session } from './harness.mjs';

const e2e = session();

async function uploadPage({ ladder }) {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  if (ladder) await page.check('#encode');
  else await page.uncheck('#encode');
  return page;
}

/** dash.js's thumbnail for `t` seconds on the watch page: {url, x, y, width, height}. Asked again on each
 * animation frame until dash.js has read the image track (it answers null before). */
async function dashThumbnail(page, t) {
  await page.waitForFunction(() => document.body.dataset.player === 'dashjs', null, { timeout: 60_000 });
  return page
    .waitForFunction(
      (time) => {
        const p = window.upcastDash;
        if (window.thumbAnswer) return window.thumbAnswer;
        if (p?.isReady?.())
          p.provideThumbnail(time, (th) => {
            if (th) window.thumbAnswer = { url: th.url, x: th.x, y: th.y, width: th.width, height: th.height };
          });
        return window.thumbAnswer ?? null;
      },
      t,
      { timeout: 60_000 },
    )
    .then((h) => h.jsonValue());
}

/** The MPD's image AdaptationSet, as the origin serves it. */
async function imageSet(id) {
  const mpd = await (await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`)).text();
  const set = mpd.match(/<AdaptationSet[^>]*contentType="image"[\s\S]*?<\/AdaptationSet>/)?.[0];
  assert.ok(set, `no image AdaptationSet in\n${mpd}`);
  return set;
}

test("a file's own chapters: shown on the page, published as the chapters track, listed by the viewer; DASH thumbnails", async () => {
  const page = await uploadPage({ ladder: false });
  await dropFile(page, '#drop', 'chapters.mp4', fixture('chapters.mp4'));
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 120_000 });
  // The chapters card shows what the file carries, editable.
  assert.equal(await page.inputValue('#text .chapters'), '0:00 Opening\n0:03 Café tour\n0:06 Q&A and credits');
  assert.match(await page.textContent('#text .chapters-note'), /3 chapters from the file/);
  const id = await page.evaluate(() => document.body.dataset.video);
  await page.close();

  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(v.chapters_url, `/v/${id}/chapters.vtt`);
  const vtt = await (await fetch(e2e.origin.url + v.chapters_url)).text();
  assert.match(vtt, /00:00:03\.000 --> 00:00:06\.000\nCafé tour\n/);
  // The & of a title is escaped in WebVTT cue text.
  assert.match(vtt, /00:00:06\.000 --> 00:00:08\.\d{3}\nQ&amp;A and credits\n/);

  const watch = await e2e.ctx.newPage();
  watch.on('pageerror', (e) => console.error('page error:', e.message));
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=hls`);
  await watch.waitForFunction(() => document.querySelectorAll('#chapters li').length === 3, null, { timeout: 60_000 });
  assert.deepEqual(await watch.$$eval('#chapters li', (l) => l.map((x) => x.textContent)), [
    '0:00 Opening',
    '0:03 Café tour',
    '0:06 Q&A and credits',
  ]);

  // DASH: 8 tiles of 160×90 in one 8×1 sheet, one a second.
  const set = await imageSet(id);
  assert.match(set, /<EssentialProperty schemeIdUri="http:\/\/dashif\.org\/thumbnail_tile" value="8x1"\/>/);
  await watch.goto('about:blank');
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=dashjs`);
  const th = await dashThumbnail(watch, 5.5);
  assert.match(th.url, new RegExp(`/v/${id}/storyboard/sheet_001\\.(webp|jpg)`));
  assert.deepEqual([th.x, th.y, th.width, th.height], [800, 0, 160, 90]);
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  await watch.close();
});

test('a ladder upload with captions publishes the subtitle rendition with the ladder; dash.js finds its thumbnails', async () => {
  const page = await uploadPage({ ladder: true });
  await page.click('#text summary');
  const row = page.locator('#text .caption').first();
  await row.locator('.file').setInputFiles({
    name: 'en.srt',
    mimeType: 'text/plain',
    buffer: Buffer.from('1\n00:00:01,000 --> 00:00:03,000\nLadder captions\n'),
  });
  await row.locator('.lang').fill('en-GB');
  await row.locator('.cname').fill('English & more');
  await row.locator('.default').check();
  await page.fill('#text .chapters', '0:00 Start\n0:09 Later\n');
  await dropFile(page, '#drop', 'ladder captions.mp4', longFixture());
  await page.waitForSelector('#ladder:not([hidden])');
  await page.click('#ladder .start');
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 240_000 });
  const id = await page.evaluate(() => document.body.dataset.video);
  await page.close();

  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.deepEqual(
    v.captions.map((c) => [c.lang, c.name, c.default]),
    [['en-GB', 'English & more', true]],
  );
  assert.equal(v.chapters_url, `/v/${id}/chapters.vtt`);
  const master = await (await fetch(`${e2e.origin.url}/v/${id}/master.m3u8`)).text();
  assert.match(master, /#EXT-X-MEDIA:TYPE=SUBTITLES,.*LANGUAGE="en-GB",NAME="English & more",DEFAULT=YES/);
  // Every variant of the ladder names the group.
  const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
  assert.ok(variants.length >= 2 && variants.every((l) => l.includes('SUBTITLES="subs"')), master);
  // The MPD: the label's & escaped, the tag's case kept.
  const mpd = await (await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`)).text();
  assert.match(mpd, /lang="en-GB"/);
  assert.match(mpd, /<Label>English &amp; more<\/Label>/);

  const watch = await e2e.ctx.newPage();
  watch.on('pageerror', (e) => console.error('page error:', e.message));
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=hls`);
  const tracks = await watch
    .waitForFunction(
      () => {
        const l = [...(document.querySelector('#player')?.textTracks ?? [])].filter((t) => t.kind === 'subtitles');
        return l.length > 0 && l.map((t) => [t.language, t.label]);
      },
      null,
      { timeout: 60_000 },
    )
    .then((h) => h.jsonValue());
  assert.deepEqual(tracks, [['en-GB', 'English & more']]);
  assert.equal(await watch.evaluate(() => window.upcastHls.subtitleTracks.length), 1);

  // 16 tiles of 160×90 a second, one 10×2 sheet: the tile at 12.5 s is the 13th, second row, third column.
  const set = await imageSet(id);
  assert.match(set, /value="10x2"/);
  await watch.goto('about:blank');
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=dashjs`);
  const th = await dashThumbnail(watch, 12.5);
  assert.match(th.url, new RegExp(`/v/${id}/storyboard/sheet_001\\.(webp|jpg)`));
  assert.deepEqual([th.x, th.y, th.width, th.height], [320, 90, 160, 90]);
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  await watch.close();
});
