// Go live from the browser (a benchmark, not a test): glass-to-glass latency of a stream the Go live page
// encodes in the tab (three rungs, 720p/480p/360p H.264 + Opus, Chromium's fake camera) and uploads part by
// part, played by the Live page (hls.js lowLatencyMode) in a second browser.
//   - latency = the wall clock − `hls.playingDate`, the EXT-X-PROGRAM-DATE-TIME of the media at the
//     playhead, every 250 ms for 60 s after a warm-up. The page sends its capture clock (`capture=` on its
//     first part: the arrival of the first frame in the encoding Worker), so "glass" is the capture, and
//     the figure counts encoding, muxing, the upload, the origin and the player.
//   - frames dropped per rung (the page's counters: encoder busy, encoder failed, uplink behind);
//   - the encoding CPU share: CPU time of every process of the publishing browser (/proc/PID/stat utime +
//     stime) over the sampled minute, as a share of the machine's cores.
// One machine, one clock.
//
//   node tests/bench/live/browser.mjs [--seconds 60] [--warmup 10] [--rungs 3]

import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createStream } from '../../e2e/golive-check.mjs';
import { ADMIN, launch, startOrigin } from '../../e2e/harness.mjs';

const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SECONDS = Number(opt('seconds', '60'));
const WARMUP = Number(opt('warmup', '10'));
const RUNGS = Number(opt('rungs', '3'));
const TICK = 100; // USER_HZ: /proc's clock ticks per second on Linux

/** CPU seconds of every process of the browser whose profile is `profile`. */
function cpuSeconds(profile) {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.includes(profile)) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {
      /* gone */
    }
  }
  return ticks / TICK;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const origin = await startOrigin({ args: ['--api-rate-per-ip', '0'] });
const fake = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const pub = await launch(fake);
const view = await launch();
try {
  const s = await createStream(origin, 'bench go live');
  const page = await pub.newPage();
  await page.goto(`${origin.url}/golive.html#key=${encodeURIComponent(s.stream_key)}`);
  await page.click('#source button[type=submit]');
  await page.waitForSelector('#publish:not([hidden])', { timeout: 120_000 });
  const labels = await page.$$eval('#ladder tbody tr', (rows) => rows.map((r) => r.dataset.rung));
  const notes = await page.textContent('#plan-notes');
  for (const [i, label] of labels.entries()) await page.setChecked(`input[name="on-${label}"]`, i < RUNGS);
  await page.click('#start');
  await page.waitForFunction(() => window.upcastLive?.state === 'live', null, { timeout: 30_000 });

  const viewer = await view.newPage();
  await viewer.goto(`${origin.url}/live.html#token=${ADMIN}`);
  await viewer.waitForFunction(() => location.hash === '');
  // Join once the playlist holds a few seconds, as a viewer of a running stream does.
  await page.waitForFunction(() => (window.upcastLive.stats?.mediaS ?? 0) >= 6, null, { timeout: 60_000 });
  await viewer.evaluate((id) => {
    location.hash = `s=${id}`;
  }, s.id);
  await viewer.waitForFunction(
    (w) => {
      const v = document.querySelector('#player');
      return v.currentTime > w && !v.paused && window.upcastHls?.playingDate;
    },
    WARMUP,
    { timeout: 120_000 },
  );
  const before = await page.evaluate(() => window.upcastLive.stats);
  const cpu0 = cpuSeconds(pub.profileDir);
  const t0 = performance.now();
  await viewer.evaluate(() => {
    const s = { lag: [], stalls: 0 };
    window.benchSamples = s;
    document.querySelector('#player').addEventListener('waiting', () => s.stalls++);
    setInterval(() => {
      const at = window.upcastHls?.playingDate?.getTime();
      if (at) s.lag.push((Date.now() - at) / 1000);
    }, 250);
  });
  // The sampled minute: the viewer's clock, waited for as an event.
  await viewer.waitForFunction((n) => window.benchSamples.lag.length >= n, SECONDS * 4, {
    timeout: (SECONDS + 120) * 1000,
  });
  const cpu = (cpuSeconds(pub.profileDir) - cpu0) / ((performance.now() - t0) / 1000);
  const samples = await viewer.evaluate(() => window.benchSamples);
  const after = await page.evaluate(() => window.upcastLive.stats);
  const fatal = await viewer.evaluate(() => window.upcastFatal ?? null);
  const p50 = pct(samples.lag, 50);
  const p95 = pct(samples.lag, 95);
  const cores = cpus().length;
  const met = (ok) => (ok ? 'met' : 'MISSED');
  console.log(
    `Go live from the browser: ${after.rungs.map((r) => r.label).join('/')} H.264 + ${after.audio?.codec ?? 'no audio'}, ` +
      `Chromium fake camera, ${SECONDS} s sampled every 250 ms after ${WARMUP} s of playback; hls.js lowLatencyMode in a second browser`,
  );
  console.log(`planner: ${notes.trim()}`);
  console.log(
    `glass-to-glass (wall clock − PROGRAM-DATE-TIME at the playhead, capture clock from the page): p50 ${p50.toFixed(2)} s, ` +
      `p95 ${p95.toFixed(2)} s; goal p50 < 2 s: ${(p50 / 2).toFixed(2)}x ${met(p50 < 2)}; stalls ${samples.stalls}; fatal ${fatal ?? 'none'}`,
  );
  for (const r of after.rungs) {
    const b = before.rungs.find((x) => x.label === r.label);
    const dropped = r.dropped - (b?.dropped ?? 0);
    console.log(
      `  ${r.label.padEnd(5)} frames ${r.frames - (b?.frames ?? 0)} in the minute (${r.fps.toFixed(1)} fps), dropped ${dropped} ` +
        `(whole run ${r.dropped}${r.dropReason ? `: ${r.dropReason}` : ''}); goal 0: ${met(r.dropped === 0)}; ` +
        `${(r.bitrate / 1e6).toFixed(2)} Mb/s, upload lag ${r.lagMs} ms, ${r.active ? 'uploaded' : 'DROPPED'}`,
    );
  }
  console.log(
    `encoding CPU share: the publishing browser used ${cpu.toFixed(2)} CPU-seconds per second ` +
      `(${((cpu / cores) * 100).toFixed(0)} % of ${cores} cores)`,
  );
  await page.click('#stop');
  await page.waitForFunction(() => window.upcastLive.state === 'ended', null, { timeout: 60_000 });
} finally {
  await pub.close();
  await view.close();
  origin.stop();
}
