// In the page: the same File and rungs as ladder-page.js, encoded twice by upcast's ladder (www/lib/ladder.js):
// (a) in full, keeping the record every encoded segment carries, as the upload page does once a segment is
// stored; (b) resumed with the records of the first half of the segments, as after a reload at 50 %:
// encoding starts at the first missing segment, after each resumed rung's encoder is checked against the
// SHA-256 of the init it wrote in (a) (`storedInits`, as the page gives the origin's listing). Both to a
// complete package, files let go as they come.

import { openLadder } from '/www/lib/ladder.js';

const input = () => document.querySelector('#file').files[0];
const TARGET = 6;

function rungs(frameRate) {
  return [
    { id: 'v720', width: 1280, height: 720, bitrate: 3_000_000, framerate: frameRate, codec: 'avc1.64001f' },
    { id: 'v480', width: 854, height: 480, bitrate: 1_200_000, framerate: frameRate, codec: 'avc1.4d401f' },
    { id: 'v360', width: 640, height: 360, bitrate: 700_000, framerate: frameRate, codec: 'avc1.4d401e' },
  ];
}

/** One ladder to a complete package from `resume` (null: from the start, else `{records, inits}`); its
 * time, records, init SHA-256s and files. */
async function ladder(file, resume) {
  const t0 = performance.now();
  const job = await openLadder(file, { targetDuration: TARGET });
  // The encode is timed from here: opening (demux, plan, asking the browser which rungs it can encode) is
  // the same for both runs and comes before the person picks the rungs.
  const t1 = performance.now();
  let resumedAt = null;
  const pkg = job.run({
    rungs: rungs(job.source.video.frameRate),
    copy: false,
    storyboard: false,
    resume: resume?.records ?? null,
    storedInits: resume?.inits ?? null,
    onResume: (r) => {
      resumedAt = r;
    },
    maxPendingBytes: 64 << 20,
  });
  const records = [];
  /** @type {Record<string, string>} */
  const inits = {};
  let files = 0;
  for (let i = 0; ; i++) {
    const f = await pkg.at(i);
    if (!f) break;
    if ('record' in f && f.record) records.push(JSON.parse(/** @type {string} */ (f.record)));
    if (f.path.endsWith('/init.mp4')) inits[f.path.slice(0, -'/init.mp4'.length)] = await f.sha256();
    pkg.release(f);
    files++;
  }
  await pkg.done;
  const t2 = performance.now();
  return { ms: t2 - t1, openMs: t1 - t0, records, inits, files, resumedAt, durationUs: job.source.video.durationUs };
}

export async function run() {
  const file = input();
  const full = await ladder(file, null);
  const segments = Math.max(...full.records.map((r) => r.index)) + 1;
  const half = Math.floor(segments / 2);
  const resumed = await ladder(file, {
    records: full.records.filter((r) => r.index < half),
    inits: full.inits,
  });
  return {
    full: { ms: full.ms, openMs: full.openMs, files: full.files },
    resumed: { ms: resumed.ms, openMs: resumed.openMs, files: resumed.files, at: resumed.resumedAt },
    segments,
    half,
    durationUs: full.durationUs,
  };
}
