// In the page: the storyboard's cost on one File. (1) Copy-only: makeStoryboard() alone (a Worker that
// demuxes, decodes the key frames the tiles show, draws and encodes the sheets). (2) Ladder: the same rungs
// encoded with and without the storyboard, alternating, so the added time is the difference of medians.

import { openLadder } from '/www/lib/ladder.js';
import { makeStoryboard } from '/www/lib/storyboard.js';

const input = () => document.querySelector('#file').files[0];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rungs(frameRate) {
  return [
    { id: 'v720', width: 1280, height: 720, bitrate: 3_000_000, framerate: frameRate, codec: 'avc1.64001f' },
    { id: 'v360', width: 640, height: 360, bitrate: 700_000, framerate: frameRate, codec: 'avc1.4d401e' },
  ];
}

async function ladder(file, storyboard) {
  const t0 = performance.now();
  const job = await openLadder(file, { targetDuration: 6 });
  const pkg = job.run({ rungs: rungs(job.source.video.frameRate), copy: false, storyboard });
  await pkg.done;
  return { ms: performance.now() - t0, storyboard: pkg.storyboard };
}

export async function run(runs, withLadder = true) {
  const file = input();
  const copy = [];
  let info = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    info = (await makeStoryboard(file)).storyboard;
    copy.push(performance.now() - t0);
  }
  if (!withLadder) return { copy: { ms: median(copy), times: copy, info }, ladder: { skipped: true } };
  const withBoard = [];
  const without = [];
  let drawn = null;
  for (let i = 0; i < runs; i++) {
    without.push((await ladder(file, false)).ms);
    const r = await ladder(file, true);
    withBoard.push(r.ms);
    drawn = r.storyboard;
  }
  return {
    copy: { ms: median(copy), times: copy, info },
    ladder: { with: median(withBoard), without: median(without), withTimes: withBoard, withoutTimes: without, drawn },
  };
}
