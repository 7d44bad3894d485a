// `node tests/bench/objstore.mjs` (not a test): object storage against the origin's own disk, in one run.
//
// 1. Upload throughput, the same file through the same upload page in headless Chromium: to a writer whose
//    store is a bucket (s3s-fs behind the nginx CORS proxy; every file PUT straight to the bucket, the origin
//    only presigns and checks), and to an origin on local disk (every file PUT to the origin). Timed from
//    the video's creation to its publication, so both include the origin's checks and the publish; the
//    seconds each kind of page request took are printed beside (where the time goes).
// 2. Serving segments: keep-alive clients GET the published segments through nginx caching the bucket's
//    bytes (tests/e2e/objstore-kit.mjs `startSegmentCache`: the origin redirects, nginx follows and keeps
//    the answer; the warm-up must miss once per segment, the cached bytes must hash to the recorded SHA-256
//    and every measured GET must be a hit in nginx's log), and straight from the local-disk origin's files.
// Goals: direct upload >= 0.8x the disk's throughput; the cache >= 1x the origin's req/s.
// Options: --runs N (uploads per side, default 3), --requests N (per side, default 600), --clients N (8),
// --input FILE (default: the 60 s 1080p file of tests/fixtures/make_big.sh, made once).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, statSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ADMIN, api, launch, root, startOrigin } from '../e2e/harness.mjs';
import { accessLog, S3_ENV, startBucket, startCorsProxy, startSegmentCache, storeSpec } from '../e2e/objstore-kit.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 3);
const REQUESTS = arg('requests', 600);
const CLIENTS = arg('clients', 8);

const inputAt = process.argv.indexOf('--input');
const input = inputAt > 0 ? process.argv[inputAt + 1] : join(root, 'tests/fixtures/generated/bench_60s_1080p.mp4');
if (!existsSync(input))
  execFileSync(join(root, 'tests/fixtures/make_big.sh'), [input, '60', '1920x1080'], { stdio: 'inherit' });
const sourceBytes = statSync(input).size;
// The page is given the file by path (Playwright refuses a buffer over 50 MB), under a name of its own per
// upload (a link to the input), so that no upload can be taken for another's resume.
const links = mkdtempSync(join(tmpdir(), 'upcast-bench-input-'));

// Every server this run starts, stopped (SIGKILL, sent at once) when the process exits, refusing figures
// included: a thrown error must not leave s3s-fs, nginx or an origin running.
const started = [];
process.on('exit', () => {
  for (const stop of started) stop();
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));
const bucket = await startBucket();
started.push(() => bucket.kill());
const proxy = await startCorsProxy(bucket);
started.push(() => proxy.stop());
const logFile = join(mkdtempSync(join(tmpdir(), 'upcast-bench-log-')), 'access.log');
const s3 = await startOrigin({
  env: S3_ENV,
  args: ['--store', storeSpec(bucket, proxy), '--access-log', logFile, '--cache-max-object-kib', '0'],
});
const disk = await startOrigin();
started.push(
  () => s3.stop(),
  () => disk.stop(),
);
const ctx = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n) => (n / 1e6).toFixed(1);

/** What an upload request of the page is, by its method and URL; null for the rest. */
function requestKind(origin, req) {
  const url = req.url();
  const own = url.startsWith(`${origin.url}/`);
  if (req.method() === 'PUT') return own ? 'PUT to the origin' : 'PUT to the bucket';
  if (req.method() !== 'POST' || !own) return null;
  if (url.endsWith('/direct-uploads')) return 'presign';
  if (url.endsWith('/direct-uploads/complete')) return 'complete (read back)';
  if (url.endsWith('/publish')) return 'publish';
  return null;
}

/**
 * One upload of the input through the page on `origin`: {id, bytes, seconds, files, direct, spent}; `spent`
 * sums the seconds each kind of request took from its start to its answer's last byte (the page sends
 * several files at once, so sums can exceed the wall time).
 */
async function upload(origin, name) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const spent = {};
  page.on('requestfinished', (req) => {
    const kind = requestKind(origin, req);
    const end = req.timing().responseEnd;
    if (kind && end >= 0) spent[kind] = (spent[kind] ?? 0) + end / 1000;
  });
  // The moments the video is created and published, taken in the page as they happen.
  await page.addInitScript(() => {
    const t = {};
    window.benchTimes = t;
    new MutationObserver(() => {
      const d = document.body.dataset;
      if (d.video && t.created === undefined) t.created = performance.now();
      if (d.state === 'published' && t.published === undefined) t.published = performance.now();
    }).observe(document, {
      attributes: true,
      subtree: true,
      attributeFilter: ['data-video', 'data-state'],
    });
  });
  await page.goto(`${origin.url}/index.html?target=2#token=${ADMIN}`);
  await page.uncheck('#encode');
  const file = join(links, name);
  symlinkSync(resolve(input), file);
  await page.setInputFiles('#pick', file);
  await page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout: 600_000 });
  const t = await page.evaluate(() => window.benchTimes);
  if (t?.created === undefined || t.published === undefined)
    throw new Error(`${name}: the page's creation and publication times were not taken: ${JSON.stringify(t)}`);
  const id = await page.evaluate(() => document.body.dataset.video);
  const direct = (await page.evaluate(() => document.body.dataset.direct)) === 'true';
  await page.close();
  const v = await api(origin, `/api/videos/${id}`);
  return { id, bytes: v.bytes, files: v.files, seconds: (t.published - t.created) / 1000, direct, spent };
}

const runs = { s3: [], disk: [] };
for (let i = 0; i < RUNS; i++) {
  // Alternate, so that a busier moment of the machine does not fall on one side only.
  runs.s3.push(await upload(s3, `bench direct ${i}.mp4`));
  runs.disk.push(await upload(disk, `bench disk ${i}.mp4`));
}
if (!runs.s3.every((r) => r.direct)) throw new Error('the bucket side did not upload directly');
if (runs.disk.some((r) => r.direct)) throw new Error('the disk side uploaded to a bucket');
const rate = (rs) => median(rs.map((r) => r.bytes / r.seconds));
const [directRate, diskRate] = [rate(runs.s3), rate(runs.disk)];
const received = accessLog(logFile)
  .filter((l) => l.path.includes(runs.s3[0].id))
  .reduce((n, l) => n + l.req_bytes, 0);

// Serving: the segments of one published video from each side.
/** The published segments of `id` on `origin`: [{uri, sha256}]. */
const segmentsOf = async (origin, id) =>
  (await api(origin, `/api/videos/${id}/files`)).files
    .filter((f) => f.path.endsWith('.m4s'))
    .map((f) => ({ uri: `/v/${id}/${f.path}`, sha256: f.sha256 }));
const cdn = await startSegmentCache(s3);
started.push(() => cdn.stop());
const cachedSegments = await segmentsOf(s3, runs.s3[0].id);
const cachedPaths = cachedSegments.map((f) => f.uri);
const diskPaths = (await segmentsOf(disk, runs.disk[0].id)).map((f) => f.uri);

/** `total` GETs of `paths` in turn by `clients` keep-alive clients: {rps, bytesPerS, statuses}. */
async function load(base, paths, total, clients) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const statuses = {};
  let next = 0;
  let bytes = 0;
  const get = (url) =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          res.on('data', (d) => (bytes += d.length));
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) await get(base + paths[next++ % paths.length]);
    }),
  );
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  return { rps: total / s, bytesPerS: bytes / s, statuses };
}

/** nginx's log lines once it has `n` (a line is written as a request ends, maybe after its last byte). */
async function cdnLog(n) {
  for (;;) {
    const lines = cdn.log().split('\n').filter(Boolean);
    if (lines.length >= n) return lines;
    await new Promise((r) => setImmediate(r));
  }
}

// Warm the cache (one miss per segment, each followed to the bucket), then measure.
const warm = await load(cdn.url, cachedPaths, cachedPaths.length, 1);
const warmLog = (await cdnLog(cachedPaths.length)).slice(0, cachedPaths.length);
// What the cache keeps is the segment itself: the bytes of a hit hash to the SHA-256 the origin recorded.
for (const f of cachedSegments) {
  const got = createHash('sha256')
    .update(Buffer.from(await (await fetch(cdn.url + f.uri)).arrayBuffer()))
    .digest('hex');
  if (got !== f.sha256) throw new Error(`cache: ${f.uri} has SHA-256 ${got}, recorded ${f.sha256}`);
}
const cached = await load(cdn.url, cachedPaths, REQUESTS, CLIENTS);
const own = await load(disk.url, diskPaths, REQUESTS, CLIENTS);
const measuredLog = (await cdnLog(2 * cachedPaths.length + REQUESTS)).slice(2 * cachedPaths.length);
const hits = measuredLog.filter((l) => l.startsWith('HIT ')).length;

for (const [side, r] of [
  ['cache warm-up', warm],
  ['cache', cached],
  ['origin', own],
])
  if (Object.keys(r.statuses).some((k) => k !== '200'))
    throw new Error(`${side}: not every segment GET answered 200: ${JSON.stringify(r.statuses)}`);
if (!warmLog.every((l) => l.startsWith('MISS 200 ')))
  throw new Error(`cache warm-up: not one miss per segment: ${warmLog.join('; ')}`);
if (hits !== REQUESTS) throw new Error(`cache: ${hits} of ${REQUESTS} measured GETs were cache hits`);
const r0 = runs.s3[0];
console.log(`upload: ${mb(r0.bytes)} MB package (${r0.files} files, 2 s segments) from a ${mb(sourceBytes)} MB file,`);
console.log(`  Chromium upload page, video created → published, median of ${RUNS}`);
const line = (label, rs) =>
  console.log(
    `  ${label.padEnd(42)} ${mb(rate(rs)).padStart(6)} MB/s   runs ${rs.map((r) => r.seconds.toFixed(2)).join(', ')} s`,
  );
line('browser → bucket (direct, via CORS proxy)', runs.s3);
line('browser → origin → its disk', runs.disk);
const verdict = (ratio, goal) => `${ratio.toFixed(2)}x (goal: >= ${goal}x) ${ratio >= goal ? 'met' : 'MISSED'}`;
console.log(`  ratio direct / disk ${verdict(directRate / diskRate, 0.8)}`);
for (const [label, rs] of [
  ['bucket', runs.s3],
  ['disk', runs.disk],
]) {
  const kinds = [...new Set(rs.flatMap((r) => Object.keys(r.spent)))];
  const each = kinds.map((k) => `${k} ${(rs.reduce((n, r) => n + (r.spent[k] ?? 0), 0) / rs.length).toFixed(2)}`);
  console.log(`  ${label} side, request-seconds per upload (mean): ${each.join(', ')}`);
}
console.log(
  `  request bytes the bucket-backed origin received for one upload: ${received} (${mb(r0.bytes)} MB of media)`,
);
console.log(`serving: ${REQUESTS} segment GETs per side, ${CLIENTS} keep-alive clients (node http)`);
console.log(
  `  nginx cache (bucket behind)   ${cached.rps.toFixed(0).padStart(6)} req/s  ${mb(cached.bytesPerS)} MB/s  statuses ${JSON.stringify(cached.statuses)}, ${hits} cache hits (nginx log)`,
);
console.log(
  `  origin's own files (disk)     ${own.rps.toFixed(0).padStart(6)} req/s  ${mb(own.bytesPerS)} MB/s  statuses ${JSON.stringify(own.statuses)}`,
);
console.log(`  ratio cache / origin ${verdict(cached.rps / own.rps, 1)}`);

await ctx.close();
process.exit(0); // the exit handler above stops the servers
