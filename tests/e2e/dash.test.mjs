// DASH from the same CMAF segments, played (issue 15): every fixture packaged by the core (`upcast segment`,
// the code the upload page runs as wasm) and uploaded (`upcast upload`), a private one through its signed
// link, and a ladder encoded and uploaded by the upload page in Chromium. In the viewer, Shaka Player,
// dash.js and video.js (VHS) each play `manifest.mpd`, and hls.js `master.m3u8`, on every Representation in
// turn (the level named in the address, `#q=N`, which the viewer applies through each library's own API;
// other languages through its audio menu), past three segments (or to the end of a shorter package), with
// no error. What was played is read from the requests the browser made: the chosen Representation's
// segments up to there. A package without an MPD falls back to hls.js with a note. One origin, one browser.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN, api, dropFile, longFixture, out, root, session } from './harness.mjs';

const bin = process.env.UPCAST_BIN ?? join(root, 'target/debug/upcast');
const PLAYERS = ['shaka', 'dashjs', 'videojs', 'hls'];
const RATE = 4; // playback speed: every frame still goes through the decoder, in a quarter of the time

let page;
/** The URL of every request the page made, in order. */
const requests = [];
const e2e = session({
  setup: async () => {
    page = await e2e.ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${e2e.origin.url}/index.html#token=${ADMIN}`); // keeps the admin token for the viewer
  },
});

const attr = (tag, name) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];

/**
 * The MPD's Representations: {id, type, lang, ends: [segment end times in s]}, and its duration.
 * @param {string} xml
 */
export function readMpd(xml) {
  const reps = [];
  for (const set of xml.matchAll(/<AdaptationSet\b([^>]*)>([\s\S]*?)<\/AdaptationSet>/g)) {
    const type = attr(set[1], 'contentType');
    // The storyboard's image set is no media a player plays through MSE (its thumbnails are checked in
    // chapters-thumbnails.test.mjs), nor is a text set (a whole WebVTT file).
    if (type === 'image' || type === 'text') continue;
    for (const rep of set[2].matchAll(/<Representation\b([^>]*)>([\s\S]*?)<\/Representation>/g)) {
      const tpl = rep[2].match(/<SegmentTemplate\b[^>]*>/)[0];
      const scale = Number(attr(tpl, 'timescale'));
      const ends = [];
      let t = 0;
      for (const s of rep[2].matchAll(/<S\b[^>]*\/>/g)) {
        if (attr(s[0], 't') !== undefined) t = Number(attr(s[0], 't'));
        const d = Number(attr(s[0], 'd'));
        for (let n = 0; n <= Number(attr(s[0], 'r') ?? 0); n++) {
          t += d;
          ends.push(t / scale);
        }
      }
      reps.push({
        id: attr(rep[1], 'id'),
        type,
        lang: attr(set[1], 'lang'),
        codecs: attr(rep[1], 'codecs'),
        bandwidth: Number(attr(rep[1], 'bandwidth')),
        ends,
      });
    }
  }
  const d = attr(xml.match(/<MPD\b[^>]*>/)[0], 'mediaPresentationDuration').match(/PT(?:(\d+)H)?(?:(\d+)M)?([\d.]+)S/);
  return { reps, duration: Number(d[1] ?? 0) * 3600 + Number(d[2] ?? 0) * 60 + Number(d[3]) };
}

/** Package a fixture with the CLI and upload it; resolves to {id, playback}. */
function cliUpload(file, extra = [], edit = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'upcast-dash-'));
  execFileSync(bin, ['segment', join(root, 'tests/fixtures', file), dir, '--target-duration', '2'], {
    stdio: 'ignore',
  });
  edit(dir);
  const args = ['upload', dir, '--to', e2e.origin.url, '--token', ADMIN, '--title', file, ...extra];
  const printed = execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
  const id = printed.match(/\/(?:v|videos)\/([a-z0-9]+)\//)?.[1];
  assert.ok(id, `upload printed ${printed}`);
  return { id, playback: printed };
}

/** The MPD's path: the public one, or, for a private video, beside its signed link's master playlist. */
async function mpdPath(id) {
  const v = await api(e2e.origin, `/api/videos/${id}`);
  const master = v.playback_url ?? (await api(e2e.origin, `/api/videos/${id}/playback`)).url;
  return master.replace(/master\.m3u8$/, 'manifest.mpd');
}

/** The segments of Representation `rep` of video `id` requested since `from` (their numbers). */
function fetched(id, rep, from) {
  const re = new RegExp(`/v/${id}/${rep}/seg_(\\d+)\\.m4s(\\?|$)`);
  return new Set(requests.slice(from).flatMap((u) => (u.match(re) ? [Number(u.match(re)[1])] : [])));
}

/** What the page is doing, for a failure's message. */
const state = () =>
  page.evaluate(() => {
    const v = document.querySelector('#stage video');
    const b = [...Array(v?.buffered.length ?? 0).keys()].map(
      (i) => `${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`,
    );
    return {
      player: document.body.dataset.player,
      level: window.upcastView?.current(),
      levels: window.upcastView?.levels().length,
      t: v?.currentTime,
      paused: v?.paused,
      ended: v?.ended,
      ready: v?.readyState,
      buffered: b,
      fatal: window.upcastFatal ?? null,
      error: document.querySelector('#error').textContent,
      note: document.querySelector('#note').textContent,
    };
  });

/** Wait for `fn(arg)` in the page; on a timeout, say what the page was doing. */
async function until(what, fn, arg, timeout = 60_000) {
  await page.waitForFunction(fn, arg, { timeout }).catch(async (e) => {
    throw new Error(`${what}: ${JSON.stringify(await state())} (${e.message.split('\n')[0]})`);
  });
}

/** Play from 0 until past the end of segment `k` (1-based) of `reps`, or to the end; no error. */
async function playPast(what, reps, mpd, level, until_ = undefined) {
  const k = Math.min(3, ...reps.map((r) => r.ends.length));
  const short = reps.some((r) => r.ends.length <= 3);
  // Past three segments; a package of three or fewer plays to its end.
  const target = until_ ?? (short ? mpd.duration - 0.3 : Math.max(...reps.map((r) => r.ends[k - 1])) + 0.05);
  await until(
    `${what}: playing past ${target.toFixed(2)} s`,
    ({ target, level }) => {
      const v = document.querySelector('#stage video');
      return (
        window.upcastFatal ||
        (v && (v.ended || v.currentTime >= target) && (level < 0 || window.upcastView.current() === level))
      );
    },
    { target, level },
  );
  const s = await state();
  assert.equal(s.fatal, null, `${what}: ${s.fatal}`);
  return k;
}

/**
 * From 0 at RATE (Shaka keeps its own rate: through its `trickPlay`, except right after an audio switch,
 * which trick play stalls in Shaka 5.2).
 */
async function restart(trick = true) {
  await page.evaluate(
    ({ rate, trick }) => {
      const v = document.querySelector('#stage video');
      v.pause();
      v.currentTime = 0;
      v.playbackRate = rate;
      if (document.body.dataset.player === 'shaka' && trick) window.upcastShaka.trickPlay(rate, false);
      v.play().catch(() => {});
    },
    { rate: RATE, trick },
  );
}

/**
 * Every player on video `id`: each level of the quality menu in turn (a fresh page each, the level chosen
 * first), then each other audio language; asserts every Representation of the MPD was played past three
 * segments (or to the end), each fetched from its first segment on.
 */
async function playAll(id, label, diag = () => {}) {
  const mpd = readMpd(await (await fetch(e2e.origin.url + (await mpdPath(id)))).text());
  const video = mpd.reps.filter((r) => r.type === 'video');
  const audio = mpd.reps.filter((r) => r.type === 'audio');
  const main = video.length ? video : audio.slice(0, 1);
  const has = (id, r, from, k, start = 1) =>
    [...Array(k - start + 1).keys()].every((n) => fetched(id, r.id, from).has(n + start));
  for (const player of PLAYERS) {
    const what = `${label} in ${player}`;
    const played = new Set();
    for (let level = 0; level < main.length; level++) {
      await page.goto('about:blank');
      const from = requests.length;
      // The level named in the address: the viewer chooses it as soon as the player lists it.
      const q = main.length > 1 ? `&q=${level}` : '';
      await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=${player}${q}`);
      await until(
        `${what}: levels`,
        (n) => window.upcastFatal || window.upcastView?.levels().length === n,
        main.length,
      );
      assert.equal(await page.evaluate(() => window.upcastFatal ?? null), null, what);
      const shown = await page.evaluate(() => [document.body.dataset.player, document.body.dataset.manifest]);
      assert.deepEqual(shown, [player, player === 'hls' ? 'HLS' : 'DASH'], `${what}: what the page says it plays`);
      assert.match(await page.textContent('#manifest'), player === 'hls' ? /master\.m3u8/ : /manifest\.mpd/);
      // The picture is on the page in its 16:9 box (a wrapped player once collapsed to its control bar).
      const box = await page.locator('#stage video').boundingBox();
      assert.ok(box && box.height > 0.5 * box.width, `${what}: the video is ${JSON.stringify(box)}`);
      // The Representation behind this level, by the id (or the bandwidth) the library reports.
      const l = await page.evaluate((i) => window.upcastView.levels()[i], level);
      const rep = main.find((r) => r.id === l.id) ?? main.find((r) => r.bandwidth === l.bitrate);
      assert.ok(rep, `${what}, level ${level}: ${JSON.stringify(l)} is none of ${main.map((r) => r.id)}`);
      await restart();
      let k = await playPast(`${what}, level ${level} (${rep.id})`, main, mpd, main.length > 1 ? level : -1);
      // A player that had started on another level (VHS picks its first one before the choice applies)
      // switches at a segment boundary: then three segments from the first one it fetched of this level.
      const first = Math.min(...fetched(id, rep.id, from));
      if (first > 1 && first <= rep.ends.length) {
        const last = Math.min(first + 2, rep.ends.length);
        const end = last === rep.ends.length ? mpd.duration - 0.3 : rep.ends[last - 1] + 0.05;
        await playPast(`${what}, level ${level} (${rep.id}) from segment ${first}`, [rep], mpd, level, end);
        k = last;
        diag(`${what}: level ${level} (${rep.id}) began at segment ${first}, played to ${last}`);
      }
      assert.ok(
        has(id, rep, from, k, first <= rep.ends.length ? first : 1),
        `${what}, level ${level}: ${rep.id} segments ${[...fetched(id, rep.id, from)]}, not 1–${k}`,
      );
      played.add(rep.id);
      // …and the default audio with it.
      if (video.length && audio.length) {
        const a = audio.filter((r) => has(id, r, from, k));
        assert.ok(a.length >= 1, `${what}, level ${level}: no audio Representation played segments 1–${k}`);
        for (const r of a) played.add(r.id);
      }
    }
    // Every other audio Representation (another language), chosen in the viewer's audio menu.
    for (const r of audio.filter((r) => !played.has(r.id))) {
      // A first-time viewer of this video: nothing dash.js kept in this origin's storage from the videos
      // before (its last media settings and bitrates, keys `dashjs_*`).
      await page.goto(`${e2e.origin.url}/index.html`);
      await page.evaluate(() => {
        for (const k of Object.keys(localStorage)) if (k.startsWith('dashjs')) localStorage.removeItem(k);
      });
      await page.goto('about:blank');
      await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=${player}`);
      // The viewer's audio menu, shown once the player knows the languages.
      await until(
        `${what}: the audio menu`,
        () =>
          window.upcastFatal ||
          (!document.querySelector('#audio-choice').hidden && document.querySelector('#audio').options.length > 1),
      );
      const langs = await page.evaluate(() => window.upcastView.audios());
      const i = langs.findIndex((l) => l && r.lang && (l === r.lang || l.startsWith(r.lang) || r.lang.startsWith(l)));
      assert.ok(i >= 0, `${what}: ${r.id} (${r.lang}) is not among the audio choices ${JSON.stringify(langs)}`);
      const from = requests.length;
      await restart(false); // a short video may have played to its end meanwhile
      await page.evaluate((i) => {
        const a = document.querySelector('#audio');
        a.value = String(i);
        a.dispatchEvent(new Event('change'));
      }, i);
      await until(`${what}: audio ${r.lang} chosen`, (i) => window.upcastView.audio() === i, i);
      // Once the player has begun on it (a seek in the middle of the switch stalls Shaka), from 0.
      const begun = page.waitForRequest((q) => q.url().includes(`/v/${id}/${r.id}/seg_`), { timeout: 30_000 });
      if (!fetched(id, r.id, from).size) await begun;
      else begun.catch(() => {});
      // …and has buffered again where it is (a seek while Shaka clears its audio buffer stalls it).
      await until(`${what}: audio ${r.lang} buffered`, () => {
        const v = document.querySelector('#stage video');
        return window.upcastFatal || v.readyState >= 3;
      });
      await restart(false);
      const k = await playPast(`${what}, audio ${r.lang}`, [r], mpd, -1);
      assert.ok(
        has(id, r, from, k),
        `${what}: audio ${r.id} played segments ${[...fetched(id, r.id, from)]}, not 1–${k}`,
      );
      played.add(r.id);
    }
    assert.deepEqual([...played].sort(), mpd.reps.map((r) => r.id).sort(), `${what}: every Representation played`);
  }
}

/** The codecs of an MPD that this Chromium cannot play (HEVC here): such a package is not played. */
async function unplayable(id) {
  const mpd = readMpd(await (await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`)).text());
  return page.evaluate(
    (reps) =>
      reps.filter((r) => !MediaSource.isTypeSupported(`${r.type}/mp4; codecs="${r.codecs}"`)).map((r) => r.codecs),
    mpd.reps,
  );
}

// Every fixture; `UPCAST_DASH_FIXTURES=a.mp4,b.mp4` narrows the run (while working on one).
const FIXTURES = readdirSync(join(root, 'tests/fixtures'))
  .filter((f) => /\.(mp4|mov|m4a)$/.test(f))
  .filter((f) => !process.env.UPCAST_DASH_FIXTURES || process.env.UPCAST_DASH_FIXTURES.split(',').includes(f));

test('every fixture: Shaka Player, dash.js and video.js play the MPD and hls.js the HLS, every Representation', async (t) => {
  for (const file of FIXTURES) {
    const { id } = cliUpload(file);
    const cannot = await unplayable(id);
    if (cannot.length) {
      // Debian's Chromium has no HEVC decoder and no MP3 in MP4 through MSE (neither does hls.js play those
      // there): the only reasons to skip a fixture.
      assert.ok(
        cannot.every((c) => /^(hvc1|hev1)\.|^mp4a\.40\.34$/.test(c)),
        `${file}: Chromium cannot play ${cannot}`,
      );
      t.diagnostic(`${file}: not played, Chromium here cannot decode ${cannot.join(', ')}`);
      continue;
    }
    await playAll(id, file, (m) => t.diagnostic(m));
  }
});

test('replay from 0 in dash.js once all is buffered, when the video starts a few ms in (a -ss copy)', async () => {
  // The trimmed fixture keeps the source's sync: its video's first segment starts 3 ms after 0. dash.js
  // 5.2, asked to seek to 0 with the whole file buffered, dropped everything after the first segment and
  // never fetched it again (the picture froze while the sound played on); the viewer moves such a seek.
  const { id } = cliUpload('h264_aac_trimmed.mp4');
  const mpd = readMpd(await (await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`)).text());
  await page.goto('about:blank');
  await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=dashjs`);
  await until('dash.js: levels', () => window.upcastFatal || window.upcastView?.levels().length === 1);
  // Buffered to the end: every video segment fetched and appended.
  await until(
    'dash.js: everything buffered',
    (end) => {
      const v = document.querySelector('#stage video');
      return window.upcastFatal || (v.buffered.length > 0 && v.buffered.end(v.buffered.length - 1) >= end);
    },
    mpd.duration - 0.1,
  );
  const frames = () =>
    page.evaluate(() => document.querySelector('#stage video').getVideoPlaybackQuality().totalVideoFrames);
  await restart();
  const before = await frames();
  await playPast('dash.js: replay from 0', mpd.reps, mpd, -1);
  // The picture went on too: the decoder took frames up to the end, not only the first segment's.
  const end = await page.evaluate(() => {
    const v = document.querySelector('#stage video');
    return v.buffered.length ? v.buffered.end(v.buffered.length - 1) : 0;
  });
  assert.ok(end >= mpd.duration - 0.1, `video buffered to ${end} s of ${mpd.duration} s after the replay`);
  assert.ok((await frames()) > before, 'frames were decoded after the replay');
});

test('a private video plays through its signed link, with every player', async () => {
  const { id } = cliUpload('h264_aac_bframes.mp4', ['--private']);
  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(v.playback_url, undefined, 'no public playback URL');
  const unsigned = await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`);
  assert.ok(unsigned.status >= 400, `the MPD without a signature: ${unsigned.status}`);
  const from = requests.length;
  await playAll(id, 'private h264_aac_bframes.mp4');
  // Everything the players fetched of it went through the signed prefix.
  const mine = requests.slice(from).filter((u) => u.includes(`/v/${id}/`));
  assert.ok(mine.some((u) => u.endsWith('/manifest.mpd')));
  for (const u of mine) assert.match(new URL(u).pathname, /^\/s\/\d+\/[^/]+\/v\//, u);
});

test('a package without an MPD (made before upcast wrote one) plays its HLS in hls.js, with a note', async () => {
  const { id } = cliUpload('h264_aac_faststart.mp4', [], (dir) => rmSync(join(dir, 'manifest.mpd')));
  assert.equal((await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`)).status, 404);
  for (const player of ['shaka', 'dashjs', 'videojs']) {
    await page.goto('about:blank');
    await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=${player}`);
    await until(`no MPD, ${player}`, () => window.upcastFatal || window.upcastView?.levels().length === 1);
    assert.deepEqual(await page.evaluate(() => [document.body.dataset.player, document.body.dataset.manifest]), [
      'hls',
      'HLS',
    ]);
    assert.match(await page.textContent('#note'), /no DASH manifest.*hls\.js instead/);
    assert.match(await page.textContent('#manifest'), /HLS · master\.m3u8/);
    // The menu and this browser keep the person's choice (for the next video); the note says why not.
    assert.equal(await page.inputValue('#engine'), player);
    assert.equal(await page.evaluate(() => localStorage.getItem('upcast.player')), player);
    await restart();
    await playPast(`no MPD, ${player}`, [{ ends: [2, 4, 6, 8] }], { duration: 8 }, -1);
  }
});

test('a ladder made in the browser: every player plays every rung', async (t) => {
  const up = await e2e.ctx.newPage();
  up.on('pageerror', (e) => console.error('page error:', e.message));
  await up.goto(`${e2e.origin.url}/index.html?target=2`);
  await dropFile(up, '#drop', 'dash ladder.mp4', longFixture());
  await up.waitForSelector('#ladder:not([hidden])');
  const rows = await up.$$eval('#ladder tbody tr', (trs) => trs.length);
  for (let i = 1; i < rows; i++) await up.check(`#ladder tbody tr:nth-child(${i + 1}) input[type=checkbox]`);
  await up.click('#ladder .start');
  await up.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 240_000 });
  const id = await up.evaluate(() => document.body.dataset.video);
  await up.close();
  const mpd = readMpd(await (await fetch(`${e2e.origin.url}/v/${id}/manifest.mpd`)).text());
  const video = mpd.reps.filter((r) => r.type === 'video');
  assert.ok(video.length >= 3, `the ladder has ${video.length} video Representations`);
  t.diagnostic(`the ladder: ${video.map((r) => r.id).join(', ')}`);
  await playAll(id, 'the ladder', (m) => t.diagnostic(m));
  await page.screenshot({ path: join(out, 'watch-dash.png') });
});
