// Storyboards and the viewer, end to end in headless Chromium against a real `upcast serve` on 127.0.0.1:
// an upload without a ladder (key frames decoded) and one with a ladder (tiles drawn from the frames it
// decodes) → the storyboard's track and sheet are stored, listed (`storyboard_url`) and pass `upcast
// validate`; hovering the seek bar shows the tile for that time, checked against the frame ffmpeg extracts
// there (mean absolute difference of a 32×18 grayscale); the keyboard shortcuts, the remembered volume and
// the share link work; and a package made by hand with two subtitle renditions and a chapters track shows
// its chapters and a captions menu listing both, a cue showing at its time.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN, api, dropFile, longFixture, out, root, session } from './harness.mjs';

const bin = process.env.UPCAST_BIN ?? join(root, 'target/debug/upcast');
const e2e = session();

/** ffmpeg's frame of the 16 s fixture at `t` seconds, as a 160×90 tile, then 32×18 grayscale. */
function sourceFrame(t) {
  const src = join(out, 'e2e_16s.mp4');
  return gray(['-ss', String(t), '-i', src, '-frames:v', '1'], 'scale=160:90:flags=area');
}

/** The tile at `xywh` of a sheet's bytes, 32×18 grayscale (the same scaling as the source frames). */
function tileGray(sheet, [x, y, w, h]) {
  return gray(['-i', 'pipe:0'], `crop=${w}:${h}:${x}:${y}`, sheet);
}

function gray(input, first, stdin) {
  return execFileSync(
    'ffmpeg',
    [
      ...['-nostdin', '-v', 'error', ...input],
      ...['-vf', `${first},scale=32:18:flags=area,format=gray`, '-f', 'rawvideo', 'pipe:1'],
    ].filter((a) => !(stdin && a === '-nostdin')),
    stdin ? { input: stdin } : {},
  );
}

/** Mean absolute difference of two grayscale pictures, each first brought to mean 0 and standard
 * deviation 1: the canvas (RGB from the decoder, then WebP's YUV) and ffmpeg (the video's Y) do not turn
 * colour into gray alike (green comes out 150 against 127), so a picture is compared by its structure. */
function mad(a, b) {
  const z = (x) => {
    const m = x.reduce((s, v) => s + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length) || 1;
    return Array.from(x, (v) => (v - m) / sd);
  };
  const [za, zb] = [z(a), z(b)];
  return za.reduce((s, v, i) => s + Math.abs(v - zb[i]), 0) / za.length;
}

/** Upload the fixture through the upload page (with or without a ladder); the video's id once published. */
async function upload(name, { ladder }) {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  if (ladder) await page.check('#encode');
  else await page.uncheck('#encode');
  await dropFile(page, '#drop', name, longFixture());
  if (ladder) {
    await page.waitForSelector('#ladder:not([hidden])');
    await page.click('#ladder .start');
  }
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 240_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.storyboard), '16');
  assert.match(await page.textContent('#found .storyboard'), /16 thumbnails, one every 1 s, 1 WebP sheet/);
  const id = await page.evaluate(() => document.body.dataset.video);
  await page.close();
  return id;
}

/** The storyboard is stored, listed and valid. */
async function storedAndListed(id) {
  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(v.storyboard_url, `/v/${id}/storyboard/storyboard.vtt`);
  const files = (await api(e2e.origin, `/api/videos/${id}/files`)).files.map((f) => f.path);
  assert.ok(files.includes('storyboard/storyboard.vtt') && files.includes('storyboard/sheet_001.webp'), files);
  const vtt = await (await fetch(e2e.origin.url + v.storyboard_url)).text();
  assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.000\nsheet_001\.webp#xywh=0,0,160,90\n/);
  // The CLI checks the storyboard with the rest of the package (times, coverage, sheets, rectangles).
  const report = execFileSync(bin, ['validate', `${e2e.origin.url}/v/${id}/master.m3u8`], { encoding: 'utf8' });
  assert.doesNotMatch(report, /thumbnail/i);
}

/** Hover the seek bar at `t` seconds: the tile shown (its sheet's URL, rectangle and start time). */
async function hoverTile(page, t) {
  const box = await page.locator('.seek').boundingBox();
  const d = await page.evaluate(() => document.querySelector('#player').duration);
  await page.mouse.move(box.x + (box.width * t) / d, box.y + box.height / 2);
  await page.waitForFunction(
    (want) => {
      const tile = document.querySelector('.seek .thumb:not([hidden]) .tile[data-sheet]');
      return tile && Number(tile.dataset.start) === want;
    },
    Math.floor(t),
    { timeout: 10_000 },
  );
  return page.evaluate(() => {
    const tile = document.querySelector('.seek .thumb .tile');
    return {
      sheet: tile.dataset.sheet,
      xywh: tile.dataset.xywh.split(',').map(Number),
      start: Number(tile.dataset.start),
      shown: getComputedStyle(tile).backgroundImage,
    };
  });
}

/** The tile under the pointer at several times is ffmpeg's frame at its time: nearer to it than to the
 * frames 1 and 2 s either side (the fixture's picture moves), and close in absolute terms. */
async function thumbnailsMatch(page, label) {
  await page.waitForFunction(() => Number(document.body.dataset.storyboard) > 0, null, { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('#player').duration > 0, null, { timeout: 60_000 });
  for (const t of [2.5, 7.5, 12.5]) {
    const tile = await hoverTile(page, t);
    assert.match(tile.shown, /sheet_001\.webp/);
    const sheet = Buffer.from(await (await fetch(tile.sheet)).arrayBuffer());
    const mine = tileGray(sheet, tile.xywh);
    const near = [-2, -1, 0, 1, 2].map((dt) => ({ dt, mad: mad(mine, sourceFrame(tile.start + dt)) }));
    const same = near.find((n) => n.dt === 0).mad;
    console.log(
      `${label}: tile at ${tile.start} s, MAD against ffmpeg's frames at ±0/1/2 s: ${near.map((n) => `${n.dt}: ${n.mad.toFixed(2)}`).join(', ')}`,
    );
    assert.ok(same < 0.21, `${label}: the tile at ${tile.start} s differs from ffmpeg's frame (MAD ${same})`);
    for (const n of near.filter((n) => n.dt !== 0))
      assert.ok(same < n.mad, `${label}: the tile at ${tile.start} s is nearer the frame at ${n.dt} s`);
  }
}

test('copy-only upload: key-frame storyboard stored, listed, valid; seek-bar tiles match ffmpeg; keys, volume, share', async () => {
  const id = await upload('viewer copy.mp4', { ladder: false });
  await storedAndListed(id);
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=hls`);
  await thumbnailsMatch(page, 'copy');
  await page.screenshot({ path: join(out, 'viewer-thumbnail.png') });
  // The list previews the storyboard on hover.
  await page.hover(`#videos a[data-id="${id}"]`);
  await page.waitForSelector(`#videos a[data-id="${id}"] .preview:not([hidden])`);

  // Keyboard: space pauses and plays, → and ← move 5 s, m mutes, ↓ lowers the volume, f goes fullscreen.
  await page.mouse.move(0, 0);
  const v = (expr) => page.evaluate(`document.querySelector('#player').${expr}`);
  await page.waitForFunction(() => !document.querySelector('#player').paused);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#player').paused);
  await page.evaluate(() => {
    document.querySelector('#player').currentTime = 4;
  });
  await page.waitForFunction(() => document.querySelector('#player').seeking === false);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => Math.abs(document.querySelector('#player').currentTime - 9) < 0.2);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => Math.abs(document.querySelector('#player').currentTime - 4) < 0.2);
  const muted = await v('muted');
  await page.keyboard.press('m');
  assert.equal(await v('muted'), !muted);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.ok(Math.abs((await v('volume')) - 0.8) < 0.01);
  await page.keyboard.press('f');
  await page.waitForFunction(() => document.fullscreenElement?.id === 'stage');
  await page.keyboard.press('f');
  await page.waitForFunction(() => !document.fullscreenElement);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !document.querySelector('#player').paused);
  // Speed.
  await page.selectOption('.player-bar .speed', '1.5');
  assert.equal(await v('playbackRate'), 1.5);
  // Share: a link at the current second; opened, it starts there. The volume was remembered.
  await page.evaluate(() => document.querySelector('#player').pause());
  await page.evaluate(() => {
    document.querySelector('#player').currentTime = 11.4;
  });
  await page.waitForFunction(() => document.querySelector('#player').seeking === false);
  await page.click('.player-bar .share');
  await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.querySelector('#share-url')).value !== '');
  const link = await page.inputValue('#share-url');
  assert.equal(link, `${e2e.origin.url}/watch.html#v=${id}&t=11`);
  await page.close();
  const shared = await e2e.ctx.newPage();
  await shared.goto(link);
  await shared.waitForFunction(() => document.querySelector('#player').currentTime >= 11, null, { timeout: 60_000 });
  assert.ok(Math.abs((await shared.evaluate(() => document.querySelector('#player').volume)) - 0.8) < 0.01);
  await shared.close();
});

test('ladder upload: tiles drawn from the decoded frames match ffmpeg, and DASH players get the same bar', async () => {
  const id = await upload('viewer ladder.mp4', { ladder: true });
  await storedAndListed(id);
  for (const player of ['hls', 'dashjs']) {
    const page = await e2e.ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=${player}`);
    await page.waitForFunction((p) => document.body.dataset.player === p, player);
    await thumbnailsMatch(page, `ladder/${player}`);
    assert.equal(await page.evaluate(() => window.upcastFatal ?? null), null);
    await page.close();
  }
});

/** A package made by `upcast segment`, with two WebVTT subtitle renditions and a chapters track added. */
function handMadePackage() {
  const dir = mkdtempSync(join(tmpdir(), 'upcast-viewer-'));
  execFileSync(bin, ['segment', join(out, 'e2e_16s.mp4'), dir, '--target-duration', '2']);
  const subs = [
    ['en', 'English', 'YES', 'Hello from the captions'],
    ['fr', 'Français', 'NO', 'Bonjour des sous-titres'],
  ];
  let media = '';
  for (const [lang, name, dflt, text] of subs) {
    const d = join(dir, `subs_${lang}`);
    execFileSync('mkdir', ['-p', d]);
    writeFileSync(join(d, 'seg_00001.vtt'), `WEBVTT\n\n00:00:01.000 --> 00:00:15.000\n${text}\n`);
    writeFileSync(
      join(d, 'playlist.m3u8'),
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:16\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:16.0,\nseg_00001.vtt\n#EXT-X-ENDLIST\n',
    );
    media += `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="${name}",LANGUAGE="${lang}",DEFAULT=${dflt},AUTOSELECT=YES,URI="subs_${lang}/playlist.m3u8"\n`;
  }
  const master = join(dir, 'master.m3u8');
  const text = execFileSync('cat', [master], { encoding: 'utf8' })
    .replace('#EXT-X-STREAM-INF:', `${media}#EXT-X-STREAM-INF:SUBTITLES="subs",`)
    .replace(/^(#EXTM3U\n)/, '$1');
  writeFileSync(master, text);
  writeFileSync(
    join(dir, 'chapters.vtt'),
    'WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nOpening\n\n00:00:05.000 --> 00:00:10.000\nMiddle\n\n00:00:10.000 --> 00:00:16.000\nEnd\n',
  );
  return dir;
}

/**
 * Every file of the package at `dir` PUT through the API (playlists, then init segments, then the rest),
 * not published: the checker on this branch does not know subtitle renditions yet (the captions work adds
 * them), and the viewer plays a public video while it uploads. The video's id.
 */
async function uploadUnpublished(dir) {
  const r = await fetch(`${e2e.origin.url}/api/videos`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ title: 'subs' }),
  });
  const v = await r.json();
  const files = readdirSync(dir, { recursive: true })
    .filter((p) => /\.(m3u8|mpd|mp4|m4s|vtt)$/.test(p))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const path of files) {
    const body = readFileSync(join(dir, path));
    const put = await fetch(`${e2e.origin.url}/api/videos/${v.id}/files/${path}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${v.upload.ticket}`,
        'X-Upcast-Sha256': createHash('sha256').update(body).digest('hex'),
      },
      body,
    });
    assert.ok(put.ok, `${path}: ${put.status} ${await put.text()}`);
  }
  return v.id;
}

const rank = (p) => (p.endsWith('.m3u8') || p.endsWith('.mpd') ? 0 : p.endsWith('init.mp4') ? 1 : 2);

test('hand-made package: chapters listed and marked, captions menu lists both tracks, a cue shows, c toggles', async () => {
  longFixture();
  const id = await uploadUnpublished(handMadePackage());
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/watch.html#v=${id}&player=hls`);
  await page.waitForFunction(() => document.querySelectorAll('#chapters li').length === 3, null, { timeout: 60_000 });
  assert.deepEqual(await page.$$eval('#chapters li', (l) => l.map((x) => x.textContent)), [
    '0:00 Opening',
    '0:05 Middle',
    '0:10 End',
  ]);
  await page.waitForFunction(() => document.querySelectorAll('.seek .marks i').length === 2, null, { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelectorAll('.player-bar .captions option').length === 3, null, {
    timeout: 60_000,
  });
  assert.deepEqual(await page.$$eval('.player-bar .captions option', (o) => o.map((x) => x.textContent)), [
    'Captions off',
    'English',
    'Français',
  ]);
  // Choose French; its cue is active at 2 s (read from the player's text track).
  await page.selectOption('.player-bar .captions', '1');
  await page.evaluate(() => {
    document.querySelector('#player').currentTime = 2;
  });
  await page.waitForFunction(
    () => {
      const t = Array.from(document.querySelector('#player').textTracks).find((x) => x.mode === 'showing');
      return t?.activeCues?.length && t.activeCues[0].text === 'Bonjour des sous-titres';
    },
    null,
    { timeout: 60_000 },
  );
  // c: captions off, and on again with the last choice.
  await page.mouse.move(0, 0);
  await page.keyboard.press('c');
  assert.equal(await page.inputValue('.player-bar .captions'), '-1');
  await page.keyboard.press('c');
  assert.equal(await page.inputValue('.player-bar .captions'), '1');
  // A chapter button seeks to its start.
  await page.click('#chapters li:nth-child(3) button');
  await page.waitForFunction(() => document.querySelector('#player').currentTime >= 10);
  await page.screenshot({ path: join(out, 'viewer-chapters.png') });
  await page.close();
});
