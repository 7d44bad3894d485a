// Watch while it encodes: a ladder upload plays in a second page while its rungs are still being encoded.
// The ladder uploads its planned playlists first (the multivariant playlist from the planned rungs, every
// media playlist with its planned durations); the origin serves each media playlist as the EVENT view of
// the segments stored. The test holds the uploads of every encoded rung's segments after the third and
// gives the page a small budget of finished files, so encoding waits at about a third of the video
// (back-pressure, no clock); meanwhile hls.js in watch.html lists every planned level and plays the lowest
// encoded rung past its first segment. Released, the upload ends with the measured playlists: VOD with
// ENDLIST, BANDWIDTH and AVERAGE-BANDWIDTH as computed here from the stored segments, `upcast validate`
// clean.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timescale } from './cmaf-bytes.mjs';
import { ADMIN, api, dropFile, ladderWatchFixture, session } from './harness.mjs';
import { audioMedia, get, media, validate, variants } from './ladder-check.mjs';

const e2e = session();

/** Segments of an encoded rung stored before the hold: the viewer plays these. */
const FREE_SEGMENTS = 3;

/** The encoding progress the page shows: the least advanced rung's frames over the total. */
const progressOf = (page) =>
  page.evaluate(() => {
    const bars = [...document.querySelectorAll('#m-rungs progress')];
    return bars.length ? Math.min(...bars.map((b) => b.value / b.max)) : 0;
  });

/** Segment bytes and exact durations (ticks from the EXTINFs' microseconds) of the playlist at `uri`. */
async function stored(base, uri) {
  const dir = uri.slice(0, uri.lastIndexOf('/') + 1);
  const pl = media((await get(base + uri)).toString());
  const ts = timescale(await get(base + dir + pl.map));
  const segs = [];
  for (const s of pl.segs) segs.push({ bytes: (await get(base + dir + s.uri)).length, ticks: Math.round(s.dur * ts) });
  return { ts, segs };
}

/** The variant's peak and average bits per second as the core measures them (wasm/src/hls/master.rs):
 * per segment, video and audio together when both cut at the same instants; the averages summed. */
function measured(video, audio) {
  const rate = (r, k) => (r.segs[k].bytes * 8 * r.ts) / r.segs[k].ticks;
  const avg = (r) => (r.segs.reduce((n, s) => n + s.bytes, 0) * 8 * r.ts) / r.segs.reduce((n, s) => n + s.ticks, 0);
  const peakOf = (r) => Math.max(...r.segs.map((_, k) => rate(r, k)));
  const peak =
    audio.segs.length === video.segs.length
      ? Math.max(...video.segs.map((s, k) => ((s.bytes + audio.segs[k].bytes) * 8 * video.ts) / s.ticks))
      : peakOf(video) + peakOf(audio);
  return { peak: Math.ceil(peak), average: Math.ceil(avg(video) + avg(audio)) };
}

test('a ladder upload plays in a second page while it encodes; at publish the playlists are measured', async () => {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.addInitScript(() => {
    window.__upcastMaxPendingBytes = 256 << 10;
  });
  /** @type {(() => void)[]} */
  const held = [];
  let holding = true;
  await page.route('**/api/videos/*/files/**', async (route) => {
    const m = route
      .request()
      .url()
      .match(/\/files\/([a-z0-9_-]+)\/seg_(\d+)\.m4s$/);
    const encoded = m && m[1] !== 'video' && !m[1].startsWith('audio');
    if (holding && encoded && Number(m[2]) > FREE_SEGMENTS) await new Promise((r) => held.push(() => r(undefined)));
    await route.continue();
  });
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  await dropFile(page, '#drop', 'watch while it encodes.mp4', ladderWatchFixture());
  await page.waitForSelector('#ladder:not([hidden])');
  assert.equal(await page.isChecked('#encode'), true, 'lower renditions are ticked by default');
  await page.click('#ladder .start');
  await page.waitForFunction(() => document.body.dataset.video);
  const id = await page.evaluate(() => document.body.dataset.video);
  assert.match(await page.textContent('#progress'), /Watch while it encodes/);
  const base = `${e2e.origin.url}/v/${id}/`;

  // The planned multivariant playlist is on the origin from the start.
  await page.waitForFunction(
    () => [...document.querySelectorAll('#m-rungs progress')].some((b) => b.value / b.max >= 0.3),
    null,
    { timeout: 240_000 },
  );
  const planned = (await get(`${base}master.m3u8`)).toString();
  const plannedVariants = variants(planned);
  const rungDirs = plannedVariants.map((v) => v.uri.split('/')[0]).filter((d) => d !== 'video');
  assert.ok(rungDirs.length >= 2, `encoded rungs planned: ${rungDirs}`);
  assert.ok(plannedVariants.length >= 3, planned);
  for (const v of plannedVariants)
    for (const k of ['BANDWIDTH', 'AVERAGE-BANDWIDTH', 'CODECS', 'RESOLUTION', 'FRAME-RATE', 'AUDIO'])
      assert.ok(v[k], `${k} in ${JSON.stringify(v)}`);
  assert.doesNotMatch(planned, /I-FRAME/, 'no I-frame playlist before the I-frames exist');

  // A second page watches while the rungs are still encoding.
  const watch = await e2e.ctx.newPage();
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}&q=0`);
  await watch.waitForFunction(() => window.upcastHls?.levels?.length > 0, null, { timeout: 60_000 });
  const levels = await watch.evaluate(() =>
    window.upcastHls.levels.map((l) => ({ dir: l.url[0].split('/').at(-2), height: l.height })),
  );
  assert.deepEqual(
    levels.map((l) => l.dir).sort(),
    plannedVariants.map((v) => v.uri.split('/')[0]).sort(),
    'hls.js lists every planned level',
  );
  const lowest = levels[0].dir;
  assert.ok(rungDirs.includes(lowest), `level 0 (${lowest}) is an encoded rung`);
  // The fixture has a key frame every 2 s and the page cuts at 2 s: the first segment lasts 2 s.
  await watch.waitForFunction(
    () => document.querySelector('#player').currentTime > 2.2 && window.upcastHls.currentLevel === 0,
    null,
    { timeout: 120_000 },
  );
  const first = media((await get(`${base}${lowest}/playlist.m3u8`)).toString()).segs[0];
  assert.equal(first.dur, 2, `${lowest}: the first segment's EXTINF`);
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  assert.match(await watch.textContent('#state'), /still uploading \(or encoding\)/);
  const atPlay = await progressOf(page);
  assert.ok(atPlay < 0.6, `the rungs are still encoding while it plays (${(atPlay * 100).toFixed(0)} %)`);
  console.log(`# watched past ${first.dur} s while encoding was at ${(atPlay * 100).toFixed(0)} %`);
  for (const dir of rungDirs) {
    const served = (await get(`${base}${dir}/playlist.m3u8`)).toString();
    assert.match(served, /#EXT-X-PLAYLIST-TYPE:EVENT/, `${dir}: ${served}`);
    assert.doesNotMatch(served, /#EXT-X-ENDLIST/, dir);
    const n = media(served).segs.length;
    assert.ok(n >= 1 && n <= FREE_SEGMENTS, `${dir}: ${n} segments served while the rest are held`);
  }
  assert.notEqual((await api(e2e.origin, `/api/videos/${id}`)).state, 'ready');
  await watch.close();

  // Released: the upload ends, the measured playlists replace the planned ones, and it is published.
  holding = false;
  for (const r of held.splice(0)) r();
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 240_000 });
  assert.equal((await api(e2e.origin, `/api/videos/${id}`)).state, 'ready');
  const master = (await get(`${base}master.m3u8`)).toString();
  assert.notEqual(master, planned, 'the measured master replaced the planned one');
  const vs = variants(master);
  assert.deepEqual(vs.map((v) => v.uri).sort(), plannedVariants.map((v) => v.uri).sort());
  assert.match(master, /#EXT-X-I-FRAME-STREAM-INF/);
  const audio = await stored(base, audioMedia(master).URI);
  for (const v of vs) {
    const pl = (await get(base + v.uri)).toString();
    assert.match(pl, /#EXT-X-PLAYLIST-TYPE:VOD/, v.uri);
    assert.match(pl, /#EXT-X-ENDLIST/, v.uri);
    const m = measured(await stored(base, v.uri), audio);
    assert.equal(Number(v.BANDWIDTH), m.peak, `${v.uri}: BANDWIDTH is the measured peak`);
    assert.equal(Number(v['AVERAGE-BANDWIDTH']), m.average, `${v.uri}: AVERAGE-BANDWIDTH is the measured average`);
  }
  const changed = vs.filter((v) => plannedVariants.find((p) => p.uri === v.uri)?.BANDWIDTH !== v.BANDWIDTH);
  assert.ok(changed.length > 0, 'some planned BANDWIDTH was an estimate, corrected at publish');
  validate(`${base}master.m3u8`);
  await page.close();
});
