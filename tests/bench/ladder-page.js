// In the page: the same File three ways, with the same rungs (720p 3 Mb/s, 480p 1.2 Mb/s, 360p 0.7 Mb/s,
// H.264): (a) the floor — decode once, feed the encoders, drop the chunks (floor-worker.js); (b) upcast's
// ladder (www/ladder.js) to a complete package; (c) Mediabunny's HLS conversion (CMAF segments) with the
// same rungs fanned out from the one video track.

import * as MB from '/mb/mediabunny.min.mjs';
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

let floorWorker = null;
function floor(file, list) {
  floorWorker ??= new Worker(new URL('./floor-worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    floorWorker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data.ok));
    floorWorker.postMessage({ file, rungs: list, targetDuration: TARGET });
  });
}

/** upcast's ladder to a complete package; files are let go as they arrive when `release` (as an upload would). */
async function ladder(file, list, { release = false, onProgress } = {}) {
  const t0 = performance.now();
  const job = await openLadder(file, { targetDuration: TARGET });
  const pkg = job.run({ rungs: list, copy: false, onProgress, maxPendingBytes: release ? 64 << 20 : Infinity });
  let done = 0;
  let bytes = 0;
  if (release) {
    for (let i = 0; ; i++) {
      const f = await pkg.at(i);
      if (!f) break;
      bytes += f.size;
      pkg.release(f);
      done++;
    }
  }
  await pkg.done;
  if (!release) bytes = pkg.list.reduce((n, f) => n + f.size, 0);
  return { ms: performance.now() - t0, files: release ? done : pkg.list.length, bytes };
}

async function mediabunny(file, list) {
  const t0 = performance.now();
  const targets = [];
  const output = new MB.Output({
    format: new MB.HlsOutputFormat({ segmentFormat: new MB.CmafOutputFormat(), targetDuration: TARGET }),
    target: new MB.PathedTarget('master.m3u8', () => {
      const t = new MB.BufferTarget();
      targets.push(t);
      return t;
    }),
  });
  const source = new MB.Input({ source: new MB.BlobSource(file), formats: MB.ALL_FORMATS });
  const conversion = await MB.Conversion.init({
    input: source,
    output,
    showWarnings: false,
    video: list.map((r) => ({
      width: r.width,
      height: r.height,
      bitrate: r.bitrate,
      codec: 'avc',
      keyFrameInterval: 2,
      fit: 'fill',
    })),
  });
  if (!conversion.isValid)
    throw new Error(`mediabunny: ${JSON.stringify(conversion.discardedTracks.map((d) => d.reason))}`);
  await conversion.execute();
  return {
    ms: performance.now() - t0,
    files: targets.length,
    bytes: targets.reduce((n, t) => n + (t.buffer?.byteLength ?? 0), 0),
  };
}

/** The bench's rungs at the source's frame rate, and its frame count (the ladder opened and closed). */
async function plan(file) {
  const probe = await openLadder(file, { targetDuration: TARGET });
  const v = probe.source.video;
  probe.close();
  return { list: rungs(v.frameRate), frames: v.frames };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(runs) {
  const file = input();
  const { list, frames } = await plan(file);
  const out = { frames };
  await floor(file, list.slice(2)); // warm up: module compile, codec start
  await ladder(file, list.slice(2));
  // (a) and (b) take turns, so that whatever else the machine does weighs on both alike.
  const times = { floor: [], ladder: [] };
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of [
      ['floor', floor],
      ['ladder', ladder],
    ]) {
      const made = await fn(file, list);
      times[name].push(made.ms);
      out[name] = { ...made, times: times[name], ms: median(times[name]) };
    }
  }
  const m = await mediabunny(file, list);
  out.mediabunny = { ...m, times: [m.ms] };
  return out;
}

/** A long input through the ladder, its files let go as they are finished (as the upload page does). */
export async function long(_onTick) {
  const file = input();
  const { list, frames } = await plan(file);
  window.ladderProgress = 0;
  const r = await ladder(file, list, {
    release: true,
    onProgress: (p) => (window.ladderProgress = p.rungs[0].frames / frames),
  });
  return { ...r, frames, size: file.size };
}
