// AV1 and VP9 rungs, and an encoder that fails mid-ladder, end to end in Debian's headless Chromium against
// a real `upcast serve` on 127.0.0.1. Through the upload page: the person switches on the AV1 (or VP9)
// rung set beside H.264, picks rows, and the package is encoded, uploaded and published; then the test
// reads what the origin serves: CODECS per variant (H.264 first), `upcast validate`, one DASH AdaptationSet
// per codec family, and playback of every level in hls.js (and Shaka Player on the MPD for VP9). Last, the
// test hook `window.__upcastFailEncoderAt` makes a rung's encoder fail as a reclaimed codec does: the
// ladder goes on with a new encoder and the package is complete and valid; failing a fourth time stops it
// with a message that says so.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fragments } from './cmaf-bytes.mjs';
import { ADMIN, api, dropFile, longFixture, out, session } from './harness.mjs';
import { frameTimes, get, media, playEveryLevel, validate, variants } from './ladder-check.mjs';

const e2e = session();

/**
 * Drop the 16 s 640x360 fixture on the upload page (2 s segments) and start a ladder of the rows `keep`
 * (rung ids) with the codec sets `sets` switched on and the others off, the copy rung off. `before(page)`
 * runs before the file is dropped (a test hook). Returns the page.
 */
async function start(name, { sets, keep, before: prepare }) {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  await prepare?.(page);
  await dropFile(page, '#drop', name, longFixture());
  await page.waitForSelector('#ladder:not([hidden])');
  const offered = await page.$$eval('#ladder .codec-sets input', (xs) =>
    xs.map((x) => /** @type {HTMLInputElement} */ ([x.name, x.disabled, x.checked])),
  );
  // H.264 is on by default; this browser encodes AV1 and VP9 in software, so both are offered, and the
  // page says why AV1 is not proposed.
  assert.deepEqual(offered, [
    ['set-h264', false, true],
    ['set-av1', false, false],
    ['set-vp9', false, false],
  ]);
  assert.match(
    await page.textContent('#ladder .av1-note'),
    /^AV1 is off by default: this browser encodes it in software only, which ran at 20 fps at 720p/,
  );
  for (const s of ['h264', 'av1', 'vp9']) {
    if (sets.includes(s)) await page.check(`#ladder input[name=set-${s}]`);
    else await page.uncheck(`#ladder input[name=set-${s}]`);
  }
  const ids = await page.$$eval('#ladder tbody tr[data-rung]', (trs) => trs.map((tr) => tr.dataset.rung));
  for (const id of keep) assert.ok(ids.includes(id), `${id} is offered: ${ids}`);
  for (const id of ids) {
    if (keep.includes(id)) await page.check(`#ladder tr[data-rung="${id}"] input[type=checkbox]`);
    else await page.uncheck(`#ladder tr[data-rung="${id}"] input[type=checkbox]`);
  }
  await page.uncheck('#ladder input[name=copy]');
  await page.click('#ladder .start');
  return page;
}

/** Wait for the page to publish; the video's id and the base URL of its files. */
async function published(page) {
  await page.waitForFunction(
    () => document.body.dataset.state === 'published' || !document.querySelector('#problem').hidden,
    null,
    {
      timeout: 300_000,
    },
  );
  const problem = await page.evaluate(() =>
    document.querySelector('#problem').hidden ? null : document.querySelector('#problem').textContent,
  );
  assert.equal(problem, null, 'the upload page shows no problem');
  const id = await page.evaluate(() => document.body.dataset.video);
  assert.equal((await api(e2e.origin, `/api/videos/${id}`)).state, 'ready');
  return { id, base: `${e2e.origin.url}/v/${id}/` };
}

/** The MPD's video AdaptationSets: the @codecs of each one's Representations. */
function videoSets(xml) {
  return [...xml.matchAll(/<AdaptationSet\b([^>]*)>([\s\S]*?)<\/AdaptationSet>/g)]
    .filter((s) => /contentType="video"/.test(s[1]))
    .map((s) => [...s[2].matchAll(/<Representation\b[^>]*\scodecs="([^"]+)"/g)].map((m) => m[1]));
}

test('with a hardware AV1 encoder the proposal has AV1 rungs beside the H.264 set, and says why', async () => {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // The capability report as a machine with a hardware AV1 encoder gives it (this one has none).
  await page.addInitScript(() => {
    window.__upcastAssumeHardware = ['av01'];
  });
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  await page.check('#encode');
  await dropFile(page, '#drop', 'hardware av1.mp4', longFixture());
  await page.waitForSelector('#ladder:not([hidden])');
  const sets = await page.$$eval('#ladder .codec-sets input', (xs) =>
    xs.map((x) => /** @type {HTMLInputElement} */ ([x.name, x.checked])),
  );
  assert.deepEqual(sets, [
    ['set-h264', true],
    ['set-av1', true],
    ['set-vp9', false],
  ]);
  const rows = await page.$$eval('#ladder tbody tr[data-rung]', (trs) =>
    trs.map((tr) => [tr.dataset.rung, tr.querySelector('input[type=checkbox]').checked, tr.cells[5].textContent]),
  );
  // Every AV1 rung is ticked, encoded in hardware; the H.264 set is ticked as without AV1 (the copy rung
  // stays on top).
  const av1 = rows.filter(([id]) => id.startsWith('av1_'));
  assert.deepEqual(av1, [
    ['av1_360', true, 'hardware'],
    ['av1_234', true, 'hardware'],
  ]);
  assert.deepEqual(
    rows.find(([id]) => id === 'v234'),
    ['v234', true, 'software'],
    JSON.stringify(rows),
  );
  assert.equal(await page.isChecked('#ladder input[name=copy]'), true);
  assert.match(await page.textContent('#ladder .av1-note'), /^AV1 is proposed: this browser encodes it in hardware/);
  await page.screenshot({ path: join(out, 'upload-ladder-av1-hardware.png'), fullPage: true });
  await page.close();
});

test('an AV1 + H.264 ladder: H.264 first, CODECS per variant, valid, one DASH set per codec, every level plays', async () => {
  const page = await start('codecs av1.mp4', { sets: ['h264', 'av1'], keep: ['v234', 'av1_360', 'av1_234'] });
  await page.screenshot({ path: join(out, 'upload-ladder-av1.png'), fullPage: true });
  const { id, base } = await published(page);
  await page.close();
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  assert.equal(vs.length, 3, master);
  // An H.264 variant first, for players that take the first one whatever its CODECS.
  assert.match(vs[0].CODECS, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, master);
  const av1 = vs.filter((v) => v.CODECS.startsWith('av01'));
  assert.equal(av1.length, 2, master);
  for (const v of av1) assert.match(v.CODECS, /^av01\.0\.\d\dM\.08,mp4a\.40\.2$/);
  assert.deepEqual(vs.map((v) => v.RESOLUTION).sort(), ['416x234', '416x234', '640x360']);
  assert.match(validate(`${base}master.m3u8`), /pass/i);
  const sets = videoSets((await get(`${base}manifest.mpd`)).toString());
  assert.equal(sets.length, 2, JSON.stringify(sets));
  assert.ok(
    sets.some((s) => s.length === 1 && s[0].startsWith('avc1.')),
    JSON.stringify(sets),
  );
  assert.ok(
    sets.some((s) => s.length === 2 && s.every((c) => c.startsWith('av01.'))),
    JSON.stringify(sets),
  );
  await playEveryLevel(e2e.ctx, e2e.origin, id, vs);
});

test('a VP9 ladder: valid, every level plays in hls.js and in Shaka Player from the MPD', async () => {
  const page = await start('codecs vp9.mp4', { sets: ['vp9'], keep: ['vp9_360', 'vp9_234'] });
  const { id, base } = await published(page);
  await page.close();
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  assert.equal(vs.length, 2, master);
  for (const v of vs) assert.match(v.CODECS, /^vp09\.00\.\d\d\.08(\.[0-9.]+)?,mp4a\.40\.2$/);
  assert.match(validate(`${base}master.m3u8`), /pass/i);
  const sets = videoSets((await get(`${base}manifest.mpd`)).toString());
  assert.equal(sets.length, 1);
  await playEveryLevel(e2e.ctx, e2e.origin, id, vs);
  const watch = await e2e.ctx.newPage();
  try {
    for (let level = 0; level < 2; level++) {
      await watch.goto('about:blank');
      await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&player=shaka&q=${level}`);
      await watch.waitForFunction(() => window.upcastFatal || window.upcastView?.levels().length === 2, null, {
        timeout: 60_000,
      });
      await watch.evaluate(() => {
        const v = /** @type {HTMLVideoElement} */ (document.querySelector('#stage video'));
        v.currentTime = 0;
        v.play().catch(() => {});
      });
      await watch.waitForFunction(
        (level) => {
          const v = /** @type {HTMLVideoElement} */ (document.querySelector('#stage video'));
          return window.upcastFatal || (v.currentTime > 4.2 && window.upcastView.current() === level);
        },
        level,
        { timeout: 60_000 },
      );
      assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null, `Shaka, level ${level}`);
      assert.equal(await watch.evaluate(() => document.body.dataset.manifest), 'DASH');
    }
  } finally {
    await watch.close();
  }
});

test('an encoder that fails mid-ladder is replaced: the package is complete, frame for frame, and valid', async () => {
  // Rung v360's encoder fails after its 100th frame: in the second 2 s segment (frames 60–119).
  const page = await start('codecs failure.mp4', {
    sets: ['h264'],
    keep: ['v360', 'v234'],
    before: (p) => p.evaluate(() => (window.__upcastFailEncoderAt = { rung: 'v360', frame: 100 })),
  });
  await page.waitForFunction(() => /encoder replaced 1×/.test(document.querySelector('#m-rungs').textContent), null, {
    timeout: 120_000,
  });
  const { base } = await published(page);
  await page.close();
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  assert.equal(vs.length, 2);
  assert.match(validate(`${base}master.m3u8`), /pass/i);
  // Both rungs have every frame of the source, each once, at the same instants, and every segment starts
  // with a key frame.
  const times = {};
  for (const v of vs) {
    const dir = v.uri.slice(0, v.uri.lastIndexOf('/') + 1);
    const pl = media((await get(base + v.uri)).toString());
    assert.equal(pl.segs.length, 8, `${dir}: 8 segments of 2 s`);
    const segs = [];
    for (const s of pl.segs) {
      const seg = await get(base + dir + s.uri);
      assert.ok(fragments(seg)[0].sync, `${dir}${s.uri} starts with a sync sample`);
      segs.push(seg);
    }
    times[dir] = frameTimes(segs);
  }
  const [a, b] = Object.values(times);
  assert.equal(a.length, 480, 'every one of the 480 frames');
  assert.deepEqual(a, b, 'the same frame times in both rungs');
  assert.equal(new Set(a).size, a.length, 'no frame twice');
});

test('an encoder that keeps failing stops the ladder after three replacements, and says so', async () => {
  const page = await start('codecs failing.mp4', {
    sets: ['h264'],
    keep: ['v234'],
    before: (p) => p.evaluate(() => (window.__upcastFailEncoderAt = { rung: 'v234', frame: 20, times: 4 })),
  });
  await page.waitForSelector('#problem:not([hidden])', { timeout: 120_000 });
  const text = await page.textContent('#problem');
  assert.match(text, /rung v234/);
  assert.match(text, /replaced 3 times already and failed again/);
  await page.close();
});
