// What the Go live tests (Chromium and Firefox) share: driving the Go live page through its steps, and
// reading back what the origin serves of the live stream and of its recording.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN, root } from './harness.mjs';
import { audioMedia, get, sameCuts, variants } from './ladder-check.mjs';

/**
 * Open the Go live page (Chromium) with `key`, preview the camera, turn the first `rungs` rungs on (the
 * last ones with `lowest`: cheaper to encode), run `beforeStart(labelsOn)` on the page, go live; the labels
 * of the rungs on.
 * @param {{lowest?: boolean, beforeStart?: ((labels: string[]) => any) | null}} [options]
 */
export async function goLive(page, origin, key, rungs, { lowest = false, beforeStart = null } = {}) {
  await page.goto(`${origin.url}/golive.html#key=${encodeURIComponent(key)}`);
  await page.click('#source button[type=submit]');
  await page.waitForSelector('#publish:not([hidden])', { timeout: 120_000 });
  const labels = await page.$$eval('#ladder tbody tr', (rows) => rows.map((r) => /** @type {any} */ (r).dataset.rung));
  assert.ok(labels.length >= rungs, `the planner offers ${labels.join(', ')}`);
  // The probe may propose fewer on a loaded machine; the test asks for the ladder it proves.
  const on = lowest ? labels.slice(-rungs) : labels.slice(0, rungs);
  for (const label of labels) await page.setChecked(`input[name="on-${label}"]`, on.includes(label));
  if (beforeStart) await page.evaluate(beforeStart, on);
  await page.click('#start');
  await page.waitForFunction(() => window.upcastLive?.state === 'live', null, { timeout: 30_000 });
  return on;
}

/** A recorded public stream created through the API: {id, stream_key, playback_url}. */
export async function createStream(origin, title = 'e2e go live') {
  const r = await fetch(`${origin.url}/api/streams`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title, visibility: 'public', record: true }),
  });
  assert.equal(r.status, 201);
  return r.json();
}

/** The admin view of a stream's status: {state, reason, since, ingest, viewers, last_error}. */
export async function streamStatus(origin, id) {
  const r = await fetch(`${origin.url}/api/streams/${id}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  return (await r.json()).status ?? {};
}

/** The stream's state (`idle`, `live`, `reconnecting`, `ended`, …). */
export async function streamState(origin, id) {
  return (await streamStatus(origin, id)).state;
}

/** Every video and audio media playlist of the live stream, as served now: [{uri, text}]. */
export async function mediaPlaylists(origin, s) {
  const base = `${origin.url}/live/${s.id}/`;
  const master = await (await fetch(`${origin.url}${s.playback_url}`)).text();
  const audio = audioMedia(master).URI;
  const uris = [...variants(master).map((v) => v.uri), ...(audio ? [audio] : [])];
  const out = [];
  for (const uri of uris) out.push({ uri, text: await (await fetch(base + uri)).text() });
  return out;
}

/**
 * `upcast validate --live` on the stream: every media playlist followed for `reloads` blocking reloads,
 * each snapshot checked (alone and against the one before) and every INDEPENDENT part fetched and checked
 * for a key frame; fails the test with the report unless it passes. Its summary line.
 */
export async function validateLive(origin, s, reloads = 4) {
  const url = `${origin.url}${s.playback_url}`;
  try {
    const { stdout } = await promisify(execFile)(
      join(root, 'target/debug/upcast'),
      ['validate', '--live', url, '--reloads', String(reloads)],
      { encoding: 'utf8' },
    );
    return stdout.trim().split('\n').at(-1);
  } catch (e) {
    assert.fail(`upcast validate --live ${url}:\n${e.stdout}${e.stderr}`);
  }
}

/** Until `f()` returns something truthy (every 250 ms, at most `ms`); its value. */
export async function until(what, ms, f) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The multivariant playlist once it lists `n` video variants (and, with `audio`, once every variant names
 * the sound's codec too: the audio rendition's first part may reach the origin after the video's).
 */
export async function masterWith(origin, s, n, { audio = false } = {}) {
  const what = `${n} variants${audio ? ' with their audio' : ''} in ${s.playback_url}`;
  return until(what, 90_000, async () => {
    const r = await fetch(`${origin.url}${s.playback_url}`);
    if (r.status !== 200) return null;
    const text = await r.text();
    const vs = variants(text);
    const heard = !audio || vs.every((v) => /,(opus|mp4a\.)/.test(v.CODECS ?? ''));
    return vs.length >= n && heard ? text : null;
  });
}

/** A live media playlist's init segment URI and its segments as `{uri, gap}` (EXT-X-GAP: a paused rung). */
export function liveMedia(text) {
  const segs = [];
  let gap = false;
  for (const l of text.split('\n')) {
    if (l === '#EXT-X-GAP') gap = true;
    else if (l && !l.startsWith('#')) {
      segs.push({ uri: l.trim(), gap });
      gap = false;
    }
  }
  return { segs, map: text.match(/#EXT-X-MAP:URI="([^"]+)"/)?.[1] };
}

/**
 * Every video rendition of the live window read back (init + the segments every rendition lists with
 * media: a rung paused for the uplink lists EXT-X-GAP segments, which are not served), and their segments
 * checked to start with an IDR at the same decode times; the cut times (ms).
 */
export async function liveCuts(origin, s, master) {
  const base = `${origin.url}/live/${s.id}/`;
  const read = [];
  for (const v of variants(master)) {
    const dir = v.uri.slice(0, v.uri.lastIndexOf('/') + 1);
    const pl = liveMedia((await get(base + v.uri)).toString());
    read.push({ v, dir, pl, init: await get(base + dir + pl.map) });
  }
  // The playlists were read one after the other: compare the segments every rendition lists with media.
  const common = read[0].pl.segs
    .filter((x) => !x.gap)
    .map((x) => x.uri)
    .filter((uri) => read.every((r) => r.pl.segs.some((y) => y.uri === uri && !y.gap)));
  assert.ok(common.length >= 3, `at least three whole segments with media in every rendition (${common.length})`);
  const list = [];
  for (const r of read) {
    const segments = [];
    for (const uri of common) segments.push(await get(base + r.dir + uri));
    list.push({ dir: r.dir, init: r.init, segments, CODECS: r.v.CODECS });
  }
  return sameCuts(list);
}

/**
 * The recording of stream `streamId`, once published: its video id, from `GET /api/videos?stream=` (a
 * recording names its stream), which the stream's own JSON lists among its recordings.
 */
export async function recording(origin, streamId) {
  const auth = { headers: { Authorization: `Bearer ${ADMIN}` } };
  let seen = [];
  try {
    const id = await until('the recording, published', 120_000, async () => {
      const r = await fetch(`${origin.url}/api/videos?stream=${streamId}`, auth);
      seen = (await r.json()).videos ?? [];
      return seen.find((x) => x.state === 'ready')?.id ?? null;
    });
    const stream = await (await fetch(`${origin.url}/api/streams/${streamId}`, auth)).json();
    if (!stream.recordings?.includes(id))
      throw new Error(`the stream does not list its recording ${id}: ${JSON.stringify(stream)}`);
    return id;
  } catch (e) {
    const stream = await fetch(`${origin.url}/api/streams/${streamId}`, auth);
    throw new Error(`${e.message}: videos ${JSON.stringify(seen)}; stream ${await stream.text()}`);
  }
}

/** Until every variant's media playlist lists a whole segment: a player opened on a playlist without one
 * gets hls.js's fatal `levelEmptyError` (the Live page then tries again, but a test counts the error). */
export async function untilSegments(origin, s, master) {
  const base = `${origin.url}/live/${s.id}/`;
  for (const v of variants(master))
    await until(`a segment in ${v.uri}`, 60_000, async () => {
      const r = await fetch(base + v.uri);
      return r.status === 200 && (await r.text()).includes('#EXTINF:');
    });
}

/**
 * The recording plays as a video on demand in the viewer's hls.js: `levels` levels, a playlist with
 * ENDLIST, the playhead past `secs` with no fatal error.
 */
export async function playsRecording(ctx, origin, id, levels, secs = 4) {
  const watch = await ctx.newPage();
  await watch.goto(`${origin.url}/watch.html#v=${id}&player=hls`);
  await watch.waitForFunction((n) => window.upcastHls?.levels?.length === n, levels, { timeout: 60_000 });
  await watch.evaluate(() => {
    const v = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
    v.muted = true;
    v.play();
  });
  await watch.waitForFunction((s) => document.querySelector('#player').currentTime > s, secs, { timeout: 60_000 });
  const seen = await watch.evaluate(() => {
    const hls = window.upcastHls;
    return { live: hls.levels[Math.max(0, hls.currentLevel)].details?.live, fatal: window.upcastFatal ?? null };
  });
  assert.equal(seen.fatal, null, 'no fatal error playing the recording');
  assert.equal(seen.live, false, 'the recording is a video on demand (ENDLIST)');
  await watch.close();
}
