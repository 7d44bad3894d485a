// Resuming a ladder's encoding after a reload, in Debian's headless Chromium against a real `upcast serve`:
// a 24 s file (H.264 + Opus: the audio is encoded again too) is laddered with 2 s segments, and the page is
// reloaded once about half of the encoded segments are on the origin. Dropping the same file again starts
// every encoder at its rendition's first missing segment: the test checks the first frame time each rung's
// encoder was given, the files sent (none the origin had, except a segment after a gap, which is made again,
// and the measured playlists, which replace the planned ones), the page's "resuming at m:ss", and then the
// published package: `upcast validate`, the fragment sequence numbers and decode times across the seam, and
// playback of every level in hls.js.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { boxes, fragments, path, timescale } from './cmaf-bytes.mjs';
import { ADMIN, api, dropFile, out, resumeFixture, session } from './harness.mjs';
import { audioMedia, frameTimes, get, media, playEveryLevel, validate, variants } from './ladder-check.mjs';

const e2e = session();

const SEGMENT = /^(.+)\/seg_(\d{5})\.m4s$/;

/** "m:ss" of `us` microseconds, as the page writes it. */
const clock = (us) => {
  const s = Math.floor(us / 1e6);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** The mfhd sequence number of every fragment of a media segment. */
function sequenceNumbers(seg) {
  return boxes(seg)
    .filter((b) => b.type === 'moof')
    .map((moof) => seg.readUInt32BE(path(seg, ['mfhd'], moof).body + 4));
}

/** Drop the file and start the proposed ladder, with the 416x234 H.264 rung, the copy rung on; the rungs
 * encoded. */
async function start(page, file) {
  await dropFile(page, '#drop', 'ladder resume.mp4', file);
  await page.waitForSelector('#ladder:not([hidden])');
  await page.check('#ladder tr[data-rung="v234"] input[type=checkbox]');
  await page.check('#ladder input[name=copy]');
  const rungs = await page.$$eval('#ladder tbody tr[data-rung]', (trs) =>
    trs.filter((tr) => tr.querySelector('input[type=checkbox]')?.checked).map((tr) => tr.dataset.rung),
  );
  await page.click('#ladder .start');
  return rungs;
}

/**
 * The first run, stopped by a reload once about half the encoded segments are on the origin and the page
 * keeps a record of each. Returns the video, the rungs and the origin's files before the second run.
 */
async function firstHalf(page, file) {
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  // Every PUT a little slow, so the reload lands mid-ladder; once half the encoded segments are stored,
  // further PUTs are held (never answered) until the reload drops them.
  let hold = false;
  let inFlight = 0;
  let settled = () => {};
  const done = () => {
    inFlight--;
    if (inFlight === 0) settled();
  };
  await page.route('**/api/videos/*/files/**', async (route) => {
    if (hold) return;
    inFlight++;
    await new Promise((r) => setTimeout(r, 100));
    await route.continue().catch(() => {});
  });
  page.on('requestfinished', (r) => r.method() === 'PUT' && done());
  page.on('requestfailed', (r) => r.method() === 'PUT' && done());
  let encodedStored = 0;
  page.on('response', (r) => {
    const m = decodeURIComponent(new URL(r.url()).pathname).match(/\/files\/(.+)$/);
    if (r.request().method() === 'PUT' && r.ok() && m && SEGMENT.test(m[1]) && !m[1].startsWith('video/'))
      encodedStored++;
  });
  const rungs = await start(page, file);
  assert.ok(rungs.includes('v234'), `rungs ${rungs}`);
  // 12 segments of 2 s per encoded rendition: the rungs and the audio (Opus is encoded again).
  const half = ((rungs.length + 1) * 12) / 2;
  await page.waitForFunction(() => document.body.dataset.video);
  const id = await page.evaluate(() => document.body.dataset.video);
  while (encodedStored < half) await page.waitForEvent('response');
  hold = true;
  // The PUTs already let through finish; then the page keeps a record of each stored encoded segment:
  // wait until it has one for every encoded segment the origin lists, so that what the page knows is what
  // the origin has.
  if (inFlight > 0) await new Promise((r) => (settled = r));
  const encodedListed = async () =>
    (await api(e2e.origin, `/api/videos/${id}/files`)).files
      .map((f) => f.path)
      .filter((p) => SEGMENT.test(p) && !p.startsWith('video/'));
  for (let listed = await encodedListed(), again; ; listed = again) {
    await page.waitForFunction((paths) => {
      const kept = Object.keys(localStorage)
        .filter((k) => k.startsWith('upcast.ladder-segments:'))
        .flatMap((k) => Object.keys(JSON.parse(localStorage.getItem(k))));
      return paths.every((p) => kept.includes(p));
    }, listed);
    again = await encodedListed();
    if (again.length === listed.length) break;
  }
  // Reload first: the held PUTs die with the page (removing the route first would let them through).
  await page.reload();
  await page.unroute('**/api/videos/*/files/**');
  const storedBefore = new Map((await api(e2e.origin, `/api/videos/${id}/files`)).files.map((f) => [f.path, f]));
  return { id, rungs, storedBefore };
}

/** Record the paths of the files PUT from now on. */
function sentFiles(page) {
  const sent = [];
  page.on('request', (r) => {
    const m = decodeURIComponent(new URL(r.url()).pathname).match(/\/api\/videos\/[^/]+\/files\/(.+)$/);
    if (r.method() === 'PUT' && m) sent.push(m[1]);
  });
  return sent;
}

/** Wait until the second run is published (or failed: the test then says why). */
async function published(page, id) {
  await page.waitForFunction(
    () => document.body.dataset.state === 'published' || !document.querySelector('#problem').hidden,
    null,
    { timeout: 300_000 },
  );
  assert.equal(await page.isHidden('#problem'), true, await page.textContent('#problem'));
  assert.equal(await page.evaluate(() => document.body.dataset.video), id, 'the same video continues');
}

test('a reload at half the ladder resumes encoding at the first missing segment', async () => {
  const file = resumeFixture();
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const { id, rungs, storedBefore } = await firstHalf(page, file);

  const sent = sentFiles(page);
  assert.deepEqual(await start(page, file), rungs, 'the same ladder both times');
  await page.waitForFunction(() => document.body.dataset.resumingAt, null, { timeout: 120_000 });
  const said = await page.textContent('#progress');
  await published(page, id);
  const firstUs = await page.evaluate(() => window.__upcastLadderFirstUs);
  await page.waitForFunction(() => document.body.dataset.encoded);
  const storyboardTiles = Number(await page.evaluate(() => document.body.dataset.storyboard ?? 0));
  await page.close();

  // The published package: the encoded renditions and, per rendition, how many leading segments the
  // origin had before the reload.
  const base = `${e2e.origin.url}/v/${id}/`;
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  const audioUri = audioMedia(master).URI;
  assert.ok(audioUri, master);
  const dirOf = (uri) => uri.slice(0, uri.lastIndexOf('/'));
  const renditions = [...vs.map((v) => dirOf(v.uri)), dirOf(audioUri)];
  assert.ok(renditions.includes('video'), 'the copy rung is in the ladder');
  const encoded = renditions.filter((d) => d !== 'video');
  assert.equal(encoded.length, rungs.length + 1);
  const read = async (dir) => {
    const uri = dir === dirOf(audioUri) ? audioUri : vs.find((v) => dirOf(v.uri) === dir).uri;
    const pl = media((await get(base + uri)).toString());
    const init = await get(`${base}${dir}/${pl.map}`);
    const segs = [];
    for (const s of pl.segs) segs.push(await get(`${base}${dir}/${s.uri}`));
    return { init, segs, ts: timescale(init) };
  };
  const pkg = Object.fromEntries(await Promise.all(renditions.map(async (d) => [d, await read(d)])));
  const count = pkg.video.segs.length;
  assert.equal(count, 12);
  const leading = (dir) => {
    let n = 0;
    while (storedBefore.has(`${dir}/seg_${String(n + 1).padStart(5, '0')}.m4s`)) n++;
    return Math.min(n, count - 1);
  };
  const startOf = (dir, k) => (fragments(pkg[dir].segs[k])[0].decodeTime * 1e6) / pkg[dir].ts;
  const k = Math.min(...encoded.map(leading));
  assert.ok(k >= 2 && k <= 10, `resumed at segment ${k}, about half way`);

  // Where each encoder started: its rung's first missing segment, a boundary of the copy rung.
  for (const dir of encoded.filter((d) => d !== dirOf(audioUri))) {
    const at = startOf('video', leading(dir));
    assert.ok(Math.abs(firstUs[dir] - at) <= 1, `${dir}: first frame at ${firstUs[dir]} µs, segment at ${at} µs`);
    assert.ok(Math.abs(startOf(dir, leading(dir)) - at) <= 1, `${dir} starts where the copy rung does`);
  }
  assert.match(said, new RegExp(`resuming at ${clock(startOf('video', k))}`), said);

  // Files sent: none the origin had, except a segment after its rendition's first gap (made again) and the
  // playlists: the origin had the planned ones (uploaded first, to watch while it encodes), which the
  // measured ones replace at the end.
  for (const p of sent) {
    const m = p.match(SEGMENT);
    const madeAgain = m && encoded.includes(m[1]) && Number(m[2]) - 1 >= leading(m[1]);
    const measured = p.endsWith('.m3u8');
    assert.ok(!storedBefore.has(p) || madeAgain || measured, `${p} was on the origin and was sent again`);
  }

  // The seam: every fragment sequence number follows the one before, and the encoded video segments
  // start at the copy rung's decode times.
  for (const dir of encoded) {
    const seqs = pkg[dir].segs.flatMap(sequenceNumbers);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      `${dir}: fragment sequence numbers`,
    );
    if (dir === dirOf(audioUri)) continue;
    for (let j = 0; j < count; j++) assert.equal(startOf(dir, j), startOf('video', j), `${dir} segment ${j}`);
  }

  // The storyboard: the first run stopped before making one; the resumed run draws it from the source's
  // key frames. Stored, listed on the video, and its cues follow each other from 0 to the video's end,
  // every sheet they name stored.
  assert.ok(![...storedBefore.keys()].some((p) => p.startsWith('storyboard/')), 'no storyboard before');
  assert.ok(sent.includes('storyboard/storyboard.vtt'), 'the resumed run sent a storyboard');
  assert.equal(storyboardTiles > 0, true, 'the page says how many thumbnails');
  const info = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(info.storyboard, true, JSON.stringify(info));
  const cues = storyboardCues((await get(`${base}storyboard/storyboard.vtt`)).toString());
  assert.equal(cues.length, storyboardTiles);
  assert.equal(cues[0].start, 0);
  for (let j = 1; j < cues.length; j++) assert.equal(cues[j].start, cues[j - 1].end, `cue ${j} follows cue ${j - 1}`);
  const videoEnd = media((await get(`${base}${vs.find((v) => dirOf(v.uri) === 'video').uri}`)).toString()).segs.reduce(
    (n, s) => n + s.dur,
    0,
  );
  assert.ok(
    Math.abs(cues.at(-1).end - videoEnd) < 0.1,
    `the cues end at ${cues.at(-1).end} s, the video at ${videoEnd} s`,
  );
  for (const sheet of new Set(cues.map((c) => c.sheet))) await get(`${base}storyboard/${sheet}`);

  assert.match(validate(`${base}master.m3u8`), /pass/i);
  await playEveryLevel(e2e.ctx, e2e.origin, id, vs);
});

/** The cues of a WebVTT thumbnail track: start and end (s) and the sheet each names. */
function storyboardCues(vtt) {
  const secs = (t) => t.split(':').reduce((n, x) => n * 60 + Number(x), 0);
  return [...vtt.matchAll(/^(\S+) --> (\S+)[^\n]*\n([^#\s]+)#xywh=/gm)].map((m) => ({
    start: secs(m[1]),
    end: secs(m[2]),
    sheet: m[3],
  }));
}

/** AVCProfileIndication of an init segment's avcC (ISO/IEC 14496-15 § 5.3.3.1: the byte after
 * configurationVersion). */
function avcProfile(init) {
  const at = init.indexOf('avcC');
  assert.ok(at > 0, 'the init has an avcC');
  return init[at + 5];
}

/** Frames ffmpeg decodes from `init` + `seg` with every decoding error fatal (-xerror). */
function decodedFrames(init, seg, name) {
  const folder = join(out, 'ladder-resume');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, name);
  writeFileSync(file, Buffer.concat([init, seg]));
  const crc = execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-map', '0:v', '-f', 'framecrc', '-'], {
    encoding: 'utf8',
  });
  return crc.split('\n').filter((l) => l && !l.startsWith('#')).length;
}

test('a rung whose encoder changed after the reload is encoded again from its first segment; the others resume', async () => {
  const file = resumeFixture();
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const { id, rungs, storedBefore } = await firstHalf(page, file);
  const leading = (dir) => {
    let n = 0;
    while (storedBefore.has(`${dir}/seg_${String(n + 1).padStart(5, '0')}.m4s`)) n++;
    return n;
  };
  assert.ok(leading('v234') >= 1, 'v234 had stored segments');
  assert.ok(storedBefore.has('v234/init.mp4'));

  // The second run configures v234's encoder with Constrained Baseline (the rung is Main): Chromium's
  // encoder writes another avcC, so another init, under the same rung.
  await page.evaluate(() => {
    window.__upcastEncoderCodec = { rung: 'v234', codec: 'avc1.42e01e' };
  });
  const sent = sentFiles(page);
  assert.deepEqual(await start(page, file), rungs, 'the same ladder both times');
  await page.waitForSelector('.encoder-changed[data-rung="v234"]', { timeout: 120_000 });
  const said = await page.textContent('.encoder-changed[data-rung="v234"]');
  assert.equal(said, '234p: the encoder changed since the first run; encoding it again from the start.');
  await published(page, id);
  const firstUs = await page.evaluate(() => window.__upcastLadderFirstUs);
  const kept = await page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith('upcast.ladder-segments:'))
      .flatMap((k) => Object.keys(JSON.parse(localStorage.getItem(k)))),
  );
  await page.close();
  assert.deepEqual(kept, [], 'the records are dropped once the video is published');

  const base = `${e2e.origin.url}/v/${id}/`;
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  const audioUri = audioMedia(master).URI;
  const dirOf = (uri) => uri.slice(0, uri.lastIndexOf('/'));
  const encoded = vs.map((v) => dirOf(v.uri)).filter((d) => d !== 'video');
  assert.ok(encoded.includes('v234') && encoded.length >= 2, `encoded rungs ${encoded}`);
  const read = async (uri) => {
    const dir = dirOf(uri);
    const pl = media((await get(base + uri)).toString());
    const init = await get(`${base}${dir}/${pl.map}`);
    const segs = [];
    for (const s of pl.segs) segs.push(await get(`${base}${dir}/${s.uri}`));
    return { init, segs };
  };
  const copy = await read(vs.find((v) => dirOf(v.uri) === 'video').uri);
  const copyTs = timescale(copy.init);
  const startOf = (k) => (fragments(copy.segs[k])[0].decodeTime * 1e6) / copyTs;

  // v234: a new init (another profile), every segment sent again from the first, each decoding without
  // an error with the init stored, frame for frame.
  const v234 = await read(vs.find((v) => dirOf(v.uri) === 'v234').uri);
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  assert.notEqual(sha(v234.init), storedBefore.get('v234/init.mp4').sha256, 'v234 has a new init');
  assert.equal(avcProfile(v234.init), 0x42, "the init is the Constrained Baseline encoder's");
  assert.ok(sent.includes('v234/init.mp4'));
  assert.equal(v234.segs.length, 12);
  for (let k = 0; k < v234.segs.length; k++) {
    const name = `seg_${String(k + 1).padStart(5, '0')}.m4s`;
    // Made again from the first segment (its encoder's first frame, below); the upload skips a segment the
    // origin has with the same bytes (content-addressed), so one is either sent or the same as stored.
    const stored = storedBefore.get(`v234/${name}`);
    assert.ok(
      sent.includes(`v234/${name}`) || stored?.sha256 === sha(v234.segs[k]),
      `v234/${name}: neither sent again nor the same bytes as stored`,
    );
    const frames = frameTimes([v234.segs[k]]).length;
    assert.equal(decodedFrames(v234.init, v234.segs[k], `v234-${name}.mp4`), frames, `v234/${name} decodes`);
  }
  assert.ok(Math.abs(firstUs.v234 - startOf(0)) <= 1, `v234's encoder started at ${firstUs.v234} µs`);

  // The other rungs and the audio kept their resume: nothing stored before their first missing segment
  // was made again, and each other rung's encoder started there.
  for (const dir of [...encoded.filter((d) => d !== 'v234'), dirOf(audioUri)]) {
    const n = Math.min(leading(dir), 11);
    assert.ok(n >= 1, `${dir} had stored segments`);
    for (let k = 0; k < n; k++) {
      const p = `${dir}/seg_${String(k + 1).padStart(5, '0')}.m4s`;
      assert.ok(!sent.includes(p), `${p} was on the origin and was sent again`);
    }
    if (dir !== dirOf(audioUri))
      assert.ok(Math.abs(firstUs[dir] - startOf(n)) <= 1, `${dir}: first frame at ${firstUs[dir]} µs`);
  }

  assert.match(validate(`${base}master.m3u8`), /pass/i);
  await playEveryLevel(e2e.ctx, e2e.origin, id, vs);
});

test('a reload after every file is stored but before the publish: the stored storyboard is not made twice', async () => {
  const file = resumeFixture();
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  // The publish is held (never answered): the page asks for it only once every file is stored.
  await page.route('**/api/videos/*/publish', () => {});
  const publishAsked = page.waitForRequest((r) => r.method() === 'POST' && /\/publish$/.test(r.url()), {
    timeout: 300_000,
  });
  const rungs = await start(page, file);
  await publishAsked;
  const id = await page.evaluate(() => document.body.dataset.video);
  const listed = (await api(e2e.origin, `/api/videos/${id}/files`)).files.map((f) => f.path);
  const encodedSegments = listed.filter((p) => SEGMENT.test(p) && !p.startsWith('video/'));
  await page.waitForFunction((paths) => {
    const kept = Object.keys(localStorage)
      .filter((k) => k.startsWith('upcast.ladder-segments:'))
      .flatMap((k) => Object.keys(JSON.parse(localStorage.getItem(k))));
    return paths.every((p) => kept.includes(p));
  }, encodedSegments);
  await page.reload();
  await page.unroute('**/api/videos/*/publish');
  const storedBefore = new Map((await api(e2e.origin, `/api/videos/${id}/files`)).files.map((f) => [f.path, f]));
  const boardBefore = [...storedBefore.keys()].filter((p) => p.startsWith('storyboard/'));
  assert.ok(boardBefore.includes('storyboard/storyboard.vtt') && boardBefore.length >= 2, `${boardBefore}`);

  const sent = sentFiles(page);
  assert.deepEqual(await start(page, file), rungs, 'the same ladder both times');
  await page.waitForFunction(() => document.body.dataset.resumingAt, null, { timeout: 120_000 });
  await published(page, id);
  await page.waitForFunction(() => document.body.dataset.encoded);
  assert.equal(await page.evaluate(() => document.body.dataset.storyboardReused), 'true', 'announced, not drawn');
  await page.close();
  assert.deepEqual(
    sent.filter((p) => p.startsWith('storyboard/')),
    [],
    'no storyboard file sent again (its track is the same bytes, and no sheet is drawn)',
  );
  const after = new Map((await api(e2e.origin, `/api/videos/${id}/files`)).files.map((f) => [f.path, f]));
  for (const p of boardBefore) assert.equal(after.get(p)?.sha256, storedBefore.get(p).sha256, `${p} unchanged`);
  assert.equal((await api(e2e.origin, `/api/videos/${id}`)).storyboard, true);
  const base = `${e2e.origin.url}/v/${id}/`;
  assert.match(
    (await get(`${base}manifest.mpd`)).toString(),
    /contentType="image"[\s\S]*media="storyboard\/sheet_/,
    'the MPD announces it',
  );
  assert.match(validate(`${base}master.m3u8`), /pass/i);
});
