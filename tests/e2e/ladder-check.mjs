// What the ladder tests read back from a published video, from the served bytes and with outside tools:
// the playlists, each rendition's init + segments joined into one file for ffprobe/ffmpeg, `upcast
// validate` over HTTP, and whether an encoded picture is the source's turned upright.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { boxes, fragments, nalTypes, path, timescale } from './cmaf-bytes.mjs';
import { out, root } from './harness.mjs';

const attrs = (line) =>
  Object.fromEntries([...line.matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')]));

/** The variants of a multivariant playlist: their attributes and `uri`. */
export function variants(master) {
  const lines = master.split('\n');
  const found = [];
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF:')) found.push({ ...attrs(l.slice(18)), uri: lines[i + 1].trim() });
  });
  return found;
}

export const audioMedia = (master) =>
  attrs(master.split('\n').find((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO')) ?? '');

/** A media playlist's segments ({uri, dur}) and its EXT-X-MAP. */
export function media(text) {
  const segs = [];
  let dur = 0;
  for (const l of text.split('\n')) {
    if (l.startsWith('#EXTINF:')) dur = Number(l.slice(8).split(',')[0]);
    else if (l && !l.startsWith('#')) segs.push({ uri: l.trim(), dur });
  }
  return { segs, map: text.match(/#EXT-X-MAP:URI="([^"]+)"/)?.[1] };
}

export async function get(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return Buffer.from(await r.arrayBuffer());
}

/** The rendition of playlist `uri` under `base`: its segments, and init + segments joined into a local
 * file (tests/out/ladder-sources/`tag`-`dir`.mp4) that ffprobe and ffmpeg read as one fragmented MP4. */
export async function rendition(base, uri, tag) {
  const dir = uri.slice(0, uri.lastIndexOf('/') + 1);
  const pl = media((await get(base + uri)).toString());
  const parts = [await get(base + dir + pl.map)];
  for (const s of pl.segs) parts.push(await get(base + dir + s.uri));
  const folder = join(out, 'ladder-sources');
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${tag}-${dir.replace(/\/$/, '') || 'top'}.mp4`);
  writeFileSync(path, Buffer.concat(parts));
  return {
    dir,
    segs: pl.segs,
    init: parts[0],
    segments: parts.slice(1),
    path,
    seconds: pl.segs.reduce((n, s) => n + s.dur, 0),
  };
}

/** ffprobe's view of a file's first stream of `kind` ('v' or 'a'). */
export function probe(path, kind = 'v') {
  const j = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', kind, '-show_streams', '-of', 'json', path], {
      encoding: 'utf8',
    }),
  );
  return j.streams[0];
}

/** Presentation times (track ticks) of every sample of a rendition's media segments, sorted: tfdt plus the
 * durations before it plus its composition offset (trun version 1 offsets are signed, ISO/IEC 14496-12
 * § 8.8.8; ffprobe shifts a track with negative offsets later, so it is read here). */
export function frameTimes(segments) {
  const times = [];
  for (const seg of segments) {
    for (const moof of boxes(seg).filter((b) => b.type === 'moof')) {
      const traf = path(seg, ['traf'], moof);
      const tfhd = path(seg, ['tfhd'], traf);
      const tfdt = path(seg, ['tfdt'], traf);
      const trun = path(seg, ['trun'], traf);
      const tf = seg.readUInt32BE(tfhd.body) & 0xffffff;
      const p = tfhd.body + 8 + (tf & 0x1 ? 8 : 0) + (tf & 0x2 ? 4 : 0);
      const defaultDuration = tf & 0x8 ? seg.readUInt32BE(p) : 0;
      let t = seg[tfdt.body] === 1 ? Number(seg.readBigUInt64BE(tfdt.body + 4)) : seg.readUInt32BE(tfdt.body + 4);
      const version = seg[trun.body];
      const tr = seg.readUInt32BE(trun.body) & 0xffffff;
      const count = seg.readUInt32BE(trun.body + 4);
      let q = trun.body + 8 + (tr & 0x1 ? 4 : 0) + (tr & 0x4 ? 4 : 0);
      for (let i = 0; i < count; i++) {
        let duration = defaultDuration;
        let cts = 0;
        if (tr & 0x100) {
          duration = seg.readUInt32BE(q);
          q += 4;
        }
        if (tr & 0x200) q += 4;
        if (tr & 0x400) q += 4;
        if (tr & 0x800) {
          cts = version === 1 ? seg.readInt32BE(q) : seg.readUInt32BE(q);
          q += 4;
        }
        times.push(t + cts);
        t += duration;
      }
    }
  }
  return times.sort((a, b) => a - b);
}

/** `upcast validate` against the origin's URL; returns its report line, fails the test on a MUST. */
export function validate(url) {
  try {
    return execFileSync(join(root, 'target/debug/upcast'), ['validate', url], { encoding: 'utf8' }).trim();
  } catch (e) {
    assert.fail(`upcast validate ${url}:\n${e.stdout}${e.stderr}`);
  }
}

/** The first frame of `path` as 36x64 (or `w`x`h`) grey pixels, as ffmpeg shows it (rotation applied
 * unless `raw`). */
function grey(path, { raw = false, w, h }) {
  return execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      ...(raw ? ['-noautorotate'] : []),
      '-i',
      path,
      '-frames:v',
      '1',
      '-vf',
      `scale=${w}:${h}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-',
    ],
    { maxBuffer: 1 << 20 },
  );
}

/** Pearson correlation of two equal-length pixel arrays (1: the same picture up to brightness and
 * contrast, as a different YUV↔RGB matrix leaves it; about 0: unrelated). */
function correlation(x, y) {
  const n = x.length;
  const mx = x.reduce((a, v) => a + v, 0) / n;
  const my = y.reduce((a, v) => a + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy || 1);
}

/** The first picture of `source` as a player shows it against the first picture of `encoded` taken as it
 * is stored (no rotation), and against that picture upside down: {upright, turned} correlations and the
 * mean absolute difference (0–255) of the upright pair. */
export function orientation(source, encoded, { w, h }) {
  const a = grey(source, { w, h });
  const b = grey(encoded, { raw: true, w, h });
  const flipped = Buffer.from(b).reverse();
  const mad = a.reduce((n, v, i) => n + Math.abs(v - b[i]), 0) / a.length;
  return { upright: correlation(a, b), turned: correlation(a, flipped), mad };
}

/** Each video rendition's segments start with a sync sample at the same decode times (ms) as the others. */
export function sameCuts(list) {
  const starts = list.map((x) => {
    const ts = timescale(x.init);
    return x.segments.map((seg) => {
      const [first] = fragments(seg);
      assert.ok(first.sync, `${x.dir}: every segment starts with a sync sample`);
      if (/^avc1/.test(x.CODECS)) assert.ok(nalTypes(first.first).includes(5), `${x.dir}: an IDR first`);
      return Math.round((first.decodeTime * 1e3) / ts);
    });
  });
  for (const [i, s] of starts.entries())
    assert.deepEqual(s, starts[0], `${list[i].dir} cuts where ${list[0].dir} does`);
  return starts[0];
}

/**
 * hls.js plays every level of video `id` (a Playwright context `ctx`, the origin at `originUrl`), forced, from the start into its second segment: the element
 * shows that level's picture size there, and decodes new frames after the switch. No fatal error.
 */
export async function playEveryLevel(ctx, originUrl, id, levels) {
  const watch = await ctx.newPage();
  try {
    await watch.goto(`${originUrl}/watch.html#v=${id}`);
    await watch.waitForFunction((n) => window.upcastHls?.levels?.length === n, levels.length, { timeout: 90_000 });
    await watch.evaluate(() => {
      window.hlsErrors = [];
      window.upcastHls.on('hlsError', (_e, d) =>
        window.hlsErrors.push(`${d.type}/${d.details}: ${d.error?.message ?? d.reason ?? ''}`),
      );
    });
    for (let level = 0; level < levels.length; level++) {
      // hls.js orders its levels by bit rate, not as the playlist lists them: its own level's size.
      const [w, h, uri] = await watch.evaluate((level) => {
        const l = window.upcastHls.levels[level];
        return [l.width, l.height, Array.isArray(l.url) ? l.url[0] : l.url];
      }, level);
      assert.ok(
        levels.some((v) => v.RESOLUTION === `${w}x${h}` && uri.endsWith(v.uri)),
        `hls.js level ${level}: ${w}x${h} ${uri}`,
      );
      const frames0 = await watch.evaluate((level) => {
        const hls = window.upcastHls;
        const video = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
        window.levelFrags = 0;
        hls.off('hlsFragChanged', window.onFrag);
        window.onFrag = (_e, d) => d.frag.level === level && window.levelFrags++;
        hls.on('hlsFragChanged', window.onFrag);
        hls.currentLevel = level;
        video.playbackRate = 2;
        video.currentTime = 0;
        video.play();
        return video.getVideoPlaybackQuality().totalVideoFrames;
      }, level);
      await watch
        .waitForFunction(
          ({ level, w, h, frames0 }) => {
            const v = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
            return (
              window.upcastFatal ||
              (window.upcastHls.currentLevel === level &&
                window.levelFrags >= 2 &&
                v.currentTime > 2.6 &&
                v.videoWidth === w &&
                v.videoHeight === h &&
                v.getVideoPlaybackQuality().totalVideoFrames > frames0 + 30)
            );
          },
          { level, w, h, frames0 },
          { timeout: 60_000 },
        )
        .catch(async (e) => {
          const s = await watch.evaluate(() => {
            const v = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
            return {
              level: window.upcastHls.currentLevel,
              frags: window.levelFrags,
              t: v.currentTime,
              w: v.videoWidth,
              h: v.videoHeight,
              decoded: v.getVideoPlaybackQuality().totalVideoFrames,
              errors: window.hlsErrors,
              codecs: window.upcastHls.levels.map((l) => l.attrs.CODECS),
              fatal: window.upcastFatal ?? null,
            };
          });
          throw new Error(`level ${level} (${uri}) did not play: ${JSON.stringify(s)} (${e.message.split('\n')[0]})`);
        });
      assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null, `level ${level}`);
    }
  } finally {
    await watch.close();
  }
}
