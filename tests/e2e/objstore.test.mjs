// Object storage end to end, in Debian's headless Chromium: a real S3-compatible server (s3s-fs) behind
// Debian's nginx as a CORS proxy (tests/e2e/objstore-kit.mjs), a writer `upcast serve --store s3://…`
// (`presign_endpoint=` the proxy) and a `--read-only` origin on the same bucket.
//
// The upload page sends every file straight to the bucket with URLs the writer presigns; the writer's own
// `--access-log` proves no media byte went through it. The bucket killed mid-upload: the page retries,
// nothing is half-published, publish refuses until every file is in the bucket. Then hls.js plays through
// the read-only origin, the writer is killed and playback goes on fetching segments, and a fresh origin
// with an empty data directory rebuilds the catalog from the bucket.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN, api, dropFile, launch, longFixture, out, startOrigin } from './harness.mjs';
import { accessLog, S3_ENV, startBucket, startCorsProxy, storeSpec } from './objstore-kit.mjs';

let bucket;
let proxy;
let writer;
let reader;
let ctx;
let logFile;
const others = [];

before(async () => {
  bucket = await startBucket();
  proxy = await startCorsProxy(bucket);
  const store = storeSpec(bucket, proxy);
  logFile = join(mkdtempSync(join(tmpdir(), 'upcast-access-')), 'access.log');
  // Two attempts per bucket request: with the bucket down, the origin says so quickly and the page retries.
  writer = await startOrigin({
    env: S3_ENV,
    args: ['--store', store, '--store-attempts', '2', '--access-log', logFile],
  });
  // Started before anything is published: it follows the writer by polling the bucket's catalog.
  reader = await startOrigin({ env: S3_ENV, args: ['--store', store, '--read-only', '--read-only-poll-secs', '1'] });
  ctx = await launch();
});

after(async () => {
  await ctx?.close();
  writer?.stop();
  reader?.stop();
  for (const o of others) o.stop();
  await proxy?.stop();
  await bucket?.kill();
});

async function uploadPage(query) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${writer.url}/index.html${query}#token=${ADMIN}`);
  await page.uncheck('#encode'); // the copy of the source: the ladder has its own tests
  return page;
}

const published = (page, timeout = 120_000) =>
  page.waitForFunction(() => document.body.dataset.state === 'published', null, { timeout });

/** Every stored file of video `id` is an object in the bucket of its size (s3s-fs keeps them as files). */
async function allInBucket(id) {
  const { files } = await api(writer, `/api/videos/${id}/files`);
  assert.ok(files.length > 10, `${files.length} files`);
  for (const f of files) {
    const p = bucket.objectFile(`objects/${id}/${f.sha256}`);
    assert.ok(existsSync(p), `${f.path} is in the bucket`);
    assert.equal(statSync(p).size, f.size, f.path);
  }
  return files;
}

test('the bucket killed mid-upload: the page retries, nothing is half-published, publish waits for every file', async () => {
  const page = await uploadPage('?target=1');
  let completes = 0;
  let killed = null;
  let open;
  const gate = new Promise((r) => (open = r));
  // The bucket dies as the fourth file is being recorded: that `complete` meets a dead bucket (503 from the
  // origin), and every PUT after it too (the proxy answers 502). Later `complete`s wait at the gate, so the
  // package stays incomplete after the bucket is back until the test opens it.
  await page.route('**/api/videos/*/direct-uploads/complete', async (route) => {
    const n = ++completes;
    if (n === 4) killed = bucket.kill();
    if (n > 4) await gate;
    await killed;
    await route.continue();
  });
  await dropFile(page, '#drop', 'bucket dies.mp4', longFixture());
  await page.waitForSelector('#progress .status:has-text("trying again")', { timeout: 60_000 });
  assert.ok(killed, 'the bucket was killed mid-upload');
  const id = await page.evaluate(() => document.body.dataset.video);
  const total = Number(await page.evaluate(() => document.body.dataset.packaged));

  // Nothing half-published: not ready, nothing served, and publish refuses while files are missing.
  // (The file list is the database's; the video's own view reads its master playlist from the bucket, and
  // answers 503 store-unavailable while the bucket is down.)
  const v = await api(writer, `/api/videos/${id}/files`);
  assert.notEqual(v.state, 'ready');
  assert.ok(v.files.length < total, `${v.files.length} of ${total} recorded`);
  const view = await fetch(`${writer.url}/api/videos/${id}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(view.status, 503);
  // No manifest in the bucket: no read-only origin can serve it. (The writer serves an uploading video's
  // playlists as a growing EVENT view; with the bucket down it answers 503, never a half package.)
  assert.equal(existsSync(bucket.objectFile(`manifests/${id}.json`)), false);
  assert.equal((await fetch(`${writer.url}/v/${id}/master.m3u8`)).status, 503);
  const publish = async () => {
    const r = await fetch(`${writer.url}/api/videos/${id}/publish`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    return [r.status, (await r.json()).code];
  };
  await page.screenshot({ path: join(out, 'objstore-retrying.png') });

  // The bucket back, files still missing: publish refuses them by name. (Asked once: a refused publish
  // makes the next wait a moment, 429.)
  await bucket.restart();
  assert.deepEqual(await publish(), [409, 'missing-files']);
  assert.notEqual((await api(writer, `/api/videos/${id}`)).state, 'ready');
  // The page's retries (or, once they are used up, Resume) finish the upload.
  open();
  await page.waitForFunction(
    () => document.body.dataset.state === 'published' || !document.querySelector('#resume').hidden,
    null,
    { timeout: 60_000 },
  );
  if (await page.isVisible('#resume')) await page.click('#resume');
  await published(page);
  const done = await api(writer, `/api/videos/${id}`);
  assert.equal(done.state, 'ready');
  assert.equal(done.files, total);
  await allInBucket(id);
  await page.close();
});

test('direct uploads from the page: no media through the origin; a read-only origin plays and outlives the writer; a fresh origin recovers the catalog', async () => {
  const page = await uploadPage('?target=2');
  const bucketPuts = [];
  page.on('requestfinished', (r) => {
    if (r.method() === 'PUT' && r.url().startsWith(`${proxy.url}/`)) bucketPuts.push(r.url());
  });
  await dropFile(page, '#drop', 'straight to the bucket.mp4', longFixture());
  await published(page);
  assert.equal(await page.evaluate(() => document.body.dataset.direct), 'true');
  assert.match(await page.textContent('#m-upload .label'), /straight to the bucket/);
  const id = await page.evaluate(() => document.body.dataset.video);
  const files = await allInBucket(id);
  const mediaBytes = files.reduce((n, f) => n + f.size, 0);
  assert.equal(bucketPuts.length, files.length, 'every file was PUT to the bucket, through the CORS proxy');
  // The proxy saw each object PUT with its body (request length ≥ the object's size).
  const proxied = proxy
    .log()
    .split('\n')
    .filter((l) => l.startsWith('PUT 200 ') && l.includes(`/objects/${id}/`));
  assert.equal(proxied.length, files.length, proxy.log());

  // The writer's own log: no segment or other media body came to it, and what it received in all is tiny.
  const log = accessLog(logFile);
  assert.ok(log.length > files.length, `${log.length} requests logged`);
  const bodies = log.filter((l) => l.method === 'PUT' || l.method === 'POST');
  assert.deepEqual(
    bodies.filter((l) => /\/files\/|\.m4s$|\.mp4$/.test(l.path)),
    [],
    'no file was PUT or POSTed to the origin',
  );
  for (const l of bodies) assert.ok(l.req_bytes <= 4096, `${l.method} ${l.path}: ${l.req_bytes} bytes`);
  const received = log.filter((l) => l.path.includes(id)).reduce((n, l) => n + l.req_bytes, 0);
  assert.ok(mediaBytes > 1_000_000, `${mediaBytes} bytes of media`);
  assert.ok(received < mediaBytes / 50, `the origin received ${received} bytes for ${mediaBytes} of media`);
  console.log(`# media ${mediaBytes} bytes to the bucket; request bytes the origin received for it: ${received}`);
  await page.close();

  // The read-only origin lists it once its poll of the bucket's catalog has run (the viewer page picks
  // videos from that list).
  while (!(await api(reader, '/api/videos')).videos.some((x) => x.id === id))
    await new Promise((r) => setTimeout(r, 100));
  // Playback through the read-only origin. Segments after the third are held until the writer is dead,
  // so hls.js must fetch them from an origin whose writer is gone.
  const watch = await ctx.newPage();
  let writerDead;
  const dead = new Promise((r) => (writerDead = r));
  const afterKill = [];
  let killedAt = null;
  await watch.route(`**/v/${id}/**`, async (route) => {
    const n = Number(
      route
        .request()
        .url()
        .match(/seg_(\d+)\.m4s/)?.[1] ?? 0,
    );
    if (n > 3) await dead;
    if (killedAt !== null) afterKill.push(route.request().url());
    await route.continue();
  });
  watch.on('pageerror', (e) => console.error('page error:', e.message));
  // This origin's pages have not seen the admin token yet (the upload page saved it for the writer's).
  await watch.addInitScript((t) => localStorage.setItem('upcast.admin', t), ADMIN);
  await watch.goto(`${reader.url}/watch.html#v=${id}`);
  await watch.waitForFunction(() => document.querySelector('#player').currentTime > 1, null, { timeout: 60_000 });
  writer.stop();
  await writer.exited;
  killedAt = Date.now();
  writerDead();
  await watch.waitForFunction(() => document.querySelector('#player').currentTime > 9, null, { timeout: 90_000 });
  assert.equal(await watch.evaluate(() => window.upcastFatal ?? null), null);
  const segs = afterKill.filter((u) => /seg_\d+\.m4s/.test(u));
  assert.ok(segs.length >= 3, `segments fetched after the writer died: ${segs.length}`);
  await watch.screenshot({ path: join(out, 'objstore-read-only-playing.png') });
  await watch.close();

  // A fresh origin, empty data directory: the catalog comes back from the bucket's manifests at start.
  const fresh = await startOrigin({ env: S3_ENV, args: ['--store', storeSpec(bucket, proxy), '--read-only'] });
  others.push(fresh);
  // Both videos of this file (the one uploaded through the bucket's death, and this one).
  assert.match(fresh.log(), /catalog from the store: Recovered \{ imported: 2,/);
  const list = await api(fresh, '/api/videos');
  const mine = list.videos.find((x) => x.id === id);
  assert.equal(mine?.state, 'ready');
  assert.equal(mine.files, files.length);
  const master = await fetch(`${fresh.url}/v/${id}/master.m3u8`);
  assert.equal(master.status, 200);
  assert.match(await master.text(), /#EXT-X-STREAM-INF/);
});
