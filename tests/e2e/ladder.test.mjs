// The adaptive ladder end to end in Debian's headless Chromium against a real `upcast serve` on 127.0.0.1:
// a 1080p file becomes three encoded rungs plus the copied source (WebCodecs, in the page's Worker), is
// uploaded while it encodes, and hls.js plays every level; the test then checks the served bytes: every
// rung's segments start with an IDR at the same decode times, and each rung's bitrate is what its
// AVERAGE-BANDWIDTH says.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fragments, nalTypes, timescale } from './cmaf-bytes.mjs';
import { ADMIN, api, dropFile, hdFixture, out, session } from './harness.mjs';
import { get, media, variants } from './ladder-check.mjs';

const e2e = session();

test('a 1080p file becomes a 3-rung ladder plus the copy rung; every level plays; the bytes line up', async () => {
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  await dropFile(page, '#drop', 'ladder 1080p.mp4', hdFixture());
  await page.waitForSelector('#ladder:not([hidden])');
  // The proposal: the original (copied), then rungs below 1080p at 16:9; keep three of them.
  const rows = await page.$$eval('#ladder tbody tr', (trs) =>
    trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())),
  );
  assert.equal(rows[0][1], 'Original');
  assert.equal(rows[0][5], 'copied, no re-encoding');
  const sizes = rows.slice(1).map((r) => r[2]);
  for (const s of ['1280×720', '960×540', '640×360']) assert.ok(sizes.includes(s), `proposed ${sizes}`);
  const keep = new Set(['1280×720', '960×540', '640×360']);
  for (const [i, r] of rows.entries()) {
    if (i === 0) continue;
    const box = `#ladder tbody tr:nth-child(${i + 1}) input[type=checkbox]`;
    if (keep.has(r[2])) await page.check(box);
    else await page.uncheck(box);
  }
  await page.screenshot({ path: join(out, 'upload-ladder.png'), fullPage: true });
  await page.click('#ladder .start');
  await page.waitForSelector('#m-rungs .meter');
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 240_000 });
  await page.screenshot({ path: join(out, 'upload-ladder-done.png'), fullPage: true });
  const id = await page.evaluate(() => document.body.dataset.video);
  const base = `${e2e.origin.url}/v/${id}/`;
  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(v.state, 'ready');

  // The multivariant playlist: four variants, every attribute the Authoring Spec asks for.
  const master = (await get(`${base}master.m3u8`)).toString();
  const vs = variants(master);
  assert.equal(vs.length, 4, master);
  const resolutions = vs.map((x) => x.RESOLUTION).sort();
  assert.deepEqual(resolutions, ['1280x720', '1920x1080', '640x360', '960x540']);
  for (const x of vs) {
    for (const k of ['BANDWIDTH', 'AVERAGE-BANDWIDTH', 'CODECS', 'RESOLUTION', 'FRAME-RATE', 'AUDIO'])
      assert.ok(x[k], `${k} in ${JSON.stringify(x)}`);
    assert.match(x.CODECS, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    assert.equal(Number(x['FRAME-RATE']).toFixed(3), '30.000');
  }
  assert.match(master, /#EXT-X-MEDIA:TYPE=AUDIO/);
  assert.equal((master.match(/#EXT-X-I-FRAME-STREAM-INF/g) ?? []).length, 4, 'an I-frame playlist per rung');

  // From the bytes: IDR at every segment start, the same decode times in every rung, and the measured bit
  // rate of each variant (its video and the audio it plays with, as AVERAGE-BANDWIDTH counts them).
  const audioUri = master.match(/#EXT-X-MEDIA:TYPE=AUDIO.*URI="([^"]+)"/)[1];
  const audio = media((await get(base + audioUri)).toString());
  const audioDir = audioUri.slice(0, audioUri.lastIndexOf('/') + 1);
  let audioBytes = 0;
  for (const s of audio.segs) audioBytes += (await get(base + audioDir + s.uri)).length;
  const audioSecs = audio.segs.reduce((n, s) => n + s.dur, 0);
  const starts = [];
  for (const x of vs) {
    const dir = x.uri.slice(0, x.uri.lastIndexOf('/') + 1);
    const pl = media((await get(base + x.uri)).toString());
    const ts = timescale(await get(base + dir + pl.map));
    let bytes = 0;
    let secs = 0;
    const times = [];
    for (const s of pl.segs) {
      const seg = await get(base + dir + s.uri);
      bytes += seg.length;
      secs += s.dur;
      const [first] = fragments(seg);
      assert.ok(first.sync, `${dir}${s.uri}: the first sample is a sync sample`);
      const nals = nalTypes(first.first);
      assert.ok(
        nals.includes(5) && !nals.includes(1),
        `${dir}${s.uri}: the first sample is an IDR (NAL types ${nals})`,
      );
      times.push(Math.round((first.decodeTime * 1e3) / ts)); // ms
    }
    starts.push({ dir, times });
    const measured = (bytes * 8) / secs + (audioBytes * 8) / audioSecs;
    const declared = Number(x['AVERAGE-BANDWIDTH']);
    assert.ok(
      Math.abs(measured - declared) / declared <= 0.1,
      `${dir}: measured ${measured.toFixed(0)} b/s, declared ${declared}`,
    );
    assert.ok(Number(x.BANDWIDTH) >= declared, `${dir}: peak ${x.BANDWIDTH} ≥ average ${declared}`);
  }
  assert.ok(starts[0].times.length >= 5, `${starts[0].times.length} segments of 2 s`);
  for (const s of starts.slice(1))
    assert.deepEqual(s.times, starts[0].times, `${s.dir} cuts at the same instants as ${starts[0].dir}`);

  // hls.js plays every level, forced, past several segments, with no fatal error.
  const watch = await e2e.ctx.newPage();
  await watch.goto(`${e2e.origin.url}/watch.html#v=${id}`);
  await watch.waitForFunction(() => window.upcastHls?.levels?.length === 4, null, { timeout: 90_000 });
  for (let level = 0; level < 4; level++) {
    await watch.evaluate((level) => {
      const hls = window.upcastHls;
      const video = document.querySelector('#player');
      window.playedFrags = new Set();
      hls.off('hlsFragChanged', window.onFrag);
      window.onFrag = (_e, d) => d.frag.level === level && window.playedFrags.add(d.frag.sn);
      hls.on('hlsFragChanged', window.onFrag);
      hls.currentLevel = level;
      video.currentTime = 0;
      video.play();
    }, level);
    await watch
      .waitForFunction(
        (level) =>
          window.upcastHls.currentLevel === level &&
          window.playedFrags.size >= 3 &&
          document.querySelector('#player').currentTime > 4.5,
        level,
        { timeout: 60_000 },
      )
      .catch(async (e) => {
        const state = await watch.evaluate(() => {
          const v = document.querySelector('#player');
          const b = [...Array(v.buffered.length).keys()].map(
            (i) => `${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`,
          );
          return {
            level: window.upcastHls.currentLevel,
            frags: [...window.playedFrags],
            t: v.currentTime,
            paused: v.paused,
            ready: v.readyState,
            buffered: b,
            fatal: window.upcastFatal ?? null,
          };
        });
        throw new Error(`level ${level} did not play: ${JSON.stringify(state)} (${e.message})`);
      });
    assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  }
  await watch.screenshot({ path: join(out, 'watch-ladder.png') });
  await watch.close();
  await page.close();
});

test('a reload in the middle of a ladder upload continues: what the origin has is not sent again', async () => {
  const file = hdFixture();
  const page = await e2e.ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${e2e.origin.url}/index.html?target=2#token=${ADMIN}`);
  const start = async () => {
    await dropFile(page, '#drop', 'ladder resume.mp4', file);
    await page.waitForSelector('#ladder:not([hidden])');
    // Two rungs below the copy, the same choice both times.
    const rows = await page.$$eval('#ladder tbody tr', (trs) => trs.map((tr) => tr.cells[2].textContent.trim()));
    for (const [i, size] of rows.entries()) {
      if (i === 0) continue;
      const box = `#ladder tbody tr:nth-child(${i + 1}) input[type=checkbox]`;
      if (size === '640×360' || size === '960×540') await page.check(box);
      else await page.uncheck(box);
    }
    await page.click('#ladder .start');
  };
  // Slow every PUT so that the reload lands mid-upload.
  await page.route('**/api/videos/*/files/**', async (route) => {
    await new Promise((r) => setTimeout(r, 150));
    await route.continue();
  });
  let stored = 0;
  page.on('response', (r) => r.request().method() === 'PUT' && r.status() === 201 && stored++);
  await start();
  await page.waitForFunction(() => document.body.dataset.video);
  const id = await page.evaluate(() => document.body.dataset.video);
  while (stored < 10) await page.waitForTimeout(50);
  await page.reload();
  assert.match(await page.textContent('#pending'), /ladder resume\.mp4.*did not finish/s);
  const before = await api(e2e.origin, `/api/videos/${id}`);
  assert.ok(before.files >= 10, `${before.files} files stored before the reload`);

  let puts = 0;
  page.on('request', (r) => r.method() === 'PUT' && puts++);
  await start();
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 240_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.video), id, 'the same video continues');
  const skipped = Number(await page.evaluate(() => document.body.dataset.skipped));
  const total = Number(await page.evaluate(() => document.body.dataset.packaged));
  // Files made, the planned playlists (sent first, replaced by the measured ones at the end) included.
  const made = Number(await page.evaluate(() => document.body.dataset.made));
  // The encoded segments the origin has before each rung's first missing one are not made again (the
  // encoding resumes there, tests/e2e/ladder-resume.test.mjs); what is made again and is on the origin
  // already (the copy rung, init segments, the planned playlists) is skipped, and only the rest is sent.
  assert.ok(skipped > 0 && skipped <= before.files, `skipped ${skipped} of the ${before.files} stored`);
  assert.equal(puts, made - skipped, 'only the missing files are sent');
  const v = await api(e2e.origin, `/api/videos/${id}`);
  assert.equal(v.state, 'ready');
  // Every file is one this run made, or one stored before that it did not make again.
  assert.ok(v.files >= total && v.files <= total + before.files - skipped, `${v.files} files, ${total} made`);
  await page.close();
});

test('a corrupt file in ladder mode shows what is wrong and where, and creates nothing', async () => {
  const count = (await api(e2e.origin, '/api/videos')).videos.length;
  const bad = Buffer.from(hdFixture());
  const at = bad.indexOf('stsz');
  bad.writeUInt32BE(0xffffffff, at + 12);
  const page = await e2e.ctx.newPage();
  await page.goto(`${e2e.origin.url}/index.html#token=${ADMIN}`);
  assert.equal(await page.isChecked('#encode'), true);
  await dropFile(page, '#drop', 'corrupt ladder.mp4', bad);
  await page.waitForSelector('#problem:not([hidden])');
  const text = await page.textContent('#problem');
  assert.match(text, /4294967295 samples/);
  assert.match(text, /stsz.*at byte/s);
  assert.equal(await page.isHidden('#ladder'), true);
  assert.equal((await api(e2e.origin, '/api/videos')).videos.length, count);
  await page.close();
});
