// Glass-to-glass latency of live playback (a benchmark, not a test): the wall clock minus `hls.playingDate`
// (the EXT-X-PROGRAM-DATE-TIME of the media at the playhead), sampled every 250 ms in headless Chromium for
// 60 s after a warm-up, p50 and p95, for
//   (a) upcast LL-HLS, default 0.5 s parts, played by the Live page (hls.js lowLatencyMode)
//   (b) upcast LL-HLS with --live-part-target-ms 333
//   (c) the plain HLS that the same ffmpeg writes itself (-f hls -hls_time 1, fMP4) served statically on
//       127.0.0.1, played by hls.js without lowLatencyMode
//   (d) (a) while 200 simulated LL-HLS viewers hold blocking reloads on the origin (./viewers.mjs)
//   (e) (a) played by ./player.html from another origin with hls.js's default maxLiveSyncPlaybackRate of
//       1× (it never speeds up to reach its target latency); the Live page allows 1.5×
//   (f) (e) with the 200 viewers of (d).
// Every player joins a running stream (its playlist holds 6 s), so its own start rule places it.
// What "glass" is: the origin stamps a stream's PDT as the arrival of the publisher's first tag plus media
// time; ffmpeg's HLS muxer stamps its wall clock when it opens (whole seconds) plus media time, and lists a
// segment within ~15 ms of its PDT end. So "glass" is the encoder's output, not a camera: capture and x264
// (zerolatency: no lookahead, no B-frames) are not counted. One machine, so all clocks are one clock.
//
//   node tests/bench/live/latency.mjs [--seconds 60] [--warmup 10] [--viewers 200] [--only a,b,c,d,e,f]

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, launch, root, startOrigin } from '../../e2e/harness.mjs';
import { publisher, untilOk } from '../../e2e/live-publisher.mjs';
import { startViewers } from './viewers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SECONDS = Number(opt('seconds', '60'));
const WARMUP = Number(opt('warmup', '10'));
const VIEWERS = Number(opt('viewers', '200'));
const ONLY = opt('only', 'a,b,c,d,e,f').split(',');
// ffmpeg publishes for longer than a run needs and is stopped at its end.
const PUBLISH_SECS = SECONDS + WARMUP + 120;

// A viewer joins a running stream: each player opens once its playlist holds JOIN_SECS of media, so that
// its own join rule (HOLD-BACK, PART-HOLD-BACK, three target durations) decides where it starts; a player
// opened on a playlist of one segment would start at that segment, closer than a real join.
const JOIN_SECS = 6;
const listed = (playlist) =>
  [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0) >= JOIN_SECS;

/** Wait for `WARMUP` s of playback, then sample `Date.now() - hls.playingDate` every 250 ms for SECONDS. */
async function sample(page) {
  await page.waitForFunction(
    (w) => {
      const v = /** @type {HTMLVideoElement} */ (document.querySelector('#player'));
      return v.currentTime > w && !v.paused && window.upcastHls?.playingDate;
    },
    WARMUP,
    { timeout: 120_000 },
  );
  await page.evaluate(() => {
    const s = { lag: [], latency: [], stalls: 0 };
    window.benchSamples = s;
    const v = document.querySelector('#player');
    v.addEventListener('waiting', () => s.stalls++);
    setInterval(() => {
      const hls = window.upcastHls;
      const at = hls?.playingDate?.getTime();
      if (!at || v.paused) return;
      s.lag.push((Date.now() - at) / 1000);
      if (Number.isFinite(hls.latency)) s.latency.push(hls.latency);
    }, 250);
  });
  await page.waitForFunction((n) => window.benchSamples.lag.length >= n, SECONDS * 4, {
    timeout: (SECONDS + 120) * 1000,
    polling: 500,
  });
  return page.evaluate(() => ({
    ...window.benchSamples,
    fatal: window.upcastFatal ?? null,
    lowLatencyMode: window.upcastHls.lowLatencyMode,
    targetLatency: window.upcastHls.targetLatency,
    levelTarget: window.upcastHls.levels[Math.max(0, window.upcastHls.currentLevel)]?.details?.targetduration,
    startAt: window.upcastHls.startPosition ?? null,
  }));
}

function spawnPublisher(args) {
  const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ff.log = '';
  ff.stderr.on('data', (d) => {
    ff.log = (ff.log + d).slice(-4000);
  });
  return ff;
}

/**
 * One upcast run: a fresh origin with `args`, ffmpeg over RTMP, played by the Live page (or, with `rate`,
 * by player.html with that maxLiveSyncPlaybackRate); `viewers` simulated LL viewers beside it.
 */
async function upcast(ctx, args, { viewers = 0, rate = 0 } = {}) {
  const origin = await startOrigin({ rtmp: true, args: ['--api-rate-per-ip', '0', ...args] });
  let ff;
  let web;
  try {
    const r = await fetch(`${origin.url}/api/streams`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'latency bench', visibility: 'public', record: false }),
    });
    if (r.status !== 201) throw new Error(`POST /api/streams: ${r.status} ${await r.text()}`);
    const s = await r.json();
    ff = spawnPublisher(publisher(s.publish_url, PUBLISH_SECS));
    const index = `${origin.url}${s.playback_url}`;
    const multivariant = await untilOk(
      index,
      60_000,
      () => ff.log,
      (b) => b.includes('#EXT-X-STREAM-INF'),
    );
    const video = new URL(
      multivariant.split('\n').find((l) => l && !l.startsWith('#')),
      index,
    ).href;
    await untilOk(
      video,
      60_000,
      () => ff.log,
      (b) => b.includes('#EXT-X-PART:') && listed(b),
    );
    const crowd = viewers ? startViewers(video, viewers) : null;
    const page = await ctx.newPage();
    if (rate) {
      // The benchmark's player page, from another origin (the live routes' CORS at work).
      web = await serveStatic(null);
      await page.goto(`${web.base}/player.html?ll=1&rate=${rate}&src=${encodeURIComponent(index)}`);
    } else {
      await page.goto(`${origin.url}/live.html#token=${ADMIN}`);
      await page.waitForFunction(() => location.hash === '');
      await page.evaluate((id) => {
        location.hash = `s=${id}`;
      }, s.id);
    }
    const result = await sample(page);
    result.viewers = crowd ? await crowd.stop() : null;
    await page.close();
    return result;
  } finally {
    ff?.kill('SIGKILL');
    web?.close();
    origin.stop();
  }
}

/** player.html, hls.js and ffmpeg's own HLS in `dir` (`/hls/`) on 127.0.0.1, with CORS and no caching. */
async function serveStatic(dir) {
  const types = { '.m3u8': 'application/vnd.apple.mpegurl', '.m4s': 'video/iso.segment', '.mp4': 'video/mp4' };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x').pathname;
    const path =
      url === '/player.html'
        ? join(here, 'player.html')
        : url === '/vendor/hls.min.js'
          ? join(root, 'node_modules/hls.js/dist/hls.min.js')
          : dir && url.startsWith('/hls/') && !url.includes('..')
            ? join(dir, url.slice(5))
            : null;
    if (!path || !existsSync(path) || statSync(path).isDirectory()) return res.writeHead(404).end();
    res.writeHead(200, {
      'Content-Type': types[extname(path)] ?? (path.endsWith('.html') ? 'text/html' : 'text/javascript'),
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'no-cache',
    });
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** The plain-HLS run: ffmpeg's HLS muxer writing 1 s fMP4 segments, served as files. */
async function plain(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'upcast-plain-hls-'));
  const web = await serveStatic(dir);
  const hls = ['-f', 'hls', '-hls_time', '1', '-hls_list_size', '6'];
  const flags = ['-hls_flags', 'program_date_time+delete_segments+independent_segments', '-hls_segment_type', 'fmp4'];
  const ff = spawnPublisher(publisher(join(dir, 'index.m3u8'), PUBLISH_SECS, [...hls, ...flags]));
  try {
    await untilOk(`${web.base}/hls/index.m3u8`, 60_000, () => ff.log, listed);
    const page = await ctx.newPage();
    await page.goto(`${web.base}/player.html?src=/hls/index.m3u8`);
    const result = await sample(page);
    await page.close();
    return result;
  } finally {
    ff.kill('SIGKILL');
    web.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

const crowdArgs = [
  '--live-max-blocked-per-ip',
  String(VIEWERS * 4),
  '--live-max-blocked',
  String(VIEWERS * 4),
  '--max-conns-per-ip',
  String(VIEWERS * 4),
];
const RUNS = {
  a: { name: '(a) upcast LL-HLS, 0.5 s parts', goal: 2, run: (ctx) => upcast(ctx, []) },
  b: {
    name: '(b) upcast LL-HLS, 0.333 s parts',
    goal: 1.5,
    run: (ctx) => upcast(ctx, ['--live-part-target-ms', '333']),
  },
  c: { name: '(c) ffmpeg -f hls -hls_time 1, static', goal: null, run: plain },
  d: {
    name: `(d) = (a) + ${VIEWERS} LL viewers`,
    goal: 2,
    run: (ctx) => upcast(ctx, crowdArgs, { viewers: VIEWERS }),
  },
  // Not asked for: (a) with hls.js's default, which never plays faster than 1× to reach its target.
  e: {
    name: '(e) = (a), hls.js default maxLiveSyncPlaybackRate 1',
    goal: 2,
    run: (ctx) => upcast(ctx, [], { rate: 1 }),
  },
  f: {
    name: `(f) = (e) + ${VIEWERS} LL viewers`,
    goal: 2,
    run: (ctx) => upcast(ctx, crowdArgs, { viewers: VIEWERS, rate: 1 }),
  },
};

const ctx = await launch();
const results = {};
try {
  for (const key of ONLY) {
    const { name, run } = RUNS[key];
    console.error(`running ${name} …`);
    results[key] = await run(ctx);
    const { lag, latency, viewers, ...rest } = results[key];
    console.error(JSON.stringify(rest));
  }
} finally {
  await ctx.close();
}

const f = (x) => `${x.toFixed(2)} s`.padStart(8);
console.log(
  `glass-to-glass latency = wall clock − hls.playingDate, every 250 ms for ${SECONDS} s after ${WARMUP} s of playback; ` +
    'ffmpeg -re testsrc2 320x180@30 + sine, x264 ultrafast zerolatency -g 30, AAC; headless Chromium, hls.js 1.7.4',
);
console.log(
  `${'run'.padEnd(46)}${'p50'.padStart(8)}${'p95'.padStart(9)}  hls.latency p50 (target)  stalls  goal (p50)  ratio`,
);
for (const [key, r] of Object.entries(results)) {
  const { name, goal } = RUNS[key];
  const p50 = pct(r.lag, 50);
  const line = `${name.padEnd(46)}${f(p50)} ${f(pct(r.lag, 95))}  ${f(pct(r.latency, 50))} (${r.targetLatency.toFixed(2)} s)  ${String(r.stalls).padStart(6)}`;
  const verdict = goal
    ? `  < ${goal.toFixed(1)} s     ${(p50 / goal).toFixed(2)}x ${p50 < goal ? 'met' : 'MISSED'}`
    : results.a
      ? `  (reference) ${(p50 / pct(results.a.lag, 50)).toFixed(2)}x of (a)`
      : '  (reference)';
  console.log(line + verdict + (r.fatal ? `  fatal: ${r.fatal}` : '') + (r.lowLatencyMode ? '' : '  [no LL mode]'));
}
for (const key of ['d', 'f']) {
  const crowd = results[key]?.viewers;
  if (!crowd) continue;
  const failures = Object.entries(crowd.failures);
  console.log(
    `(${key}) ${VIEWERS} simulated viewers: ${crowd.reloads} blocked reloads answered (held p50 ${pct(crowd.held, 50).toFixed(0)} ms, ` +
      `p95 ${pct(crowd.held, 95).toFixed(0)} ms), ${crowd.parts} parts fetched ` +
      `(${(crowd.bytes / 1e6).toFixed(1)} MB); failures: ${failures.length ? failures.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}`,
  );
}
