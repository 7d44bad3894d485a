// In the page: one 720p rung of each codec family through upcast's ladder (www/lib/ladder.js, no copy
// rung, no storyboard), at the bit rate the planner gives it (wasm/src/ladder/codecs.rs); the rung's
// init segment and media segments are handed back as one fragmented MP4 for ffmpeg to measure.

import { openLadder } from '/www/lib/ladder.js';

const input = () => document.querySelector('#file').files[0];
const TARGET = 6;

/** The planner's 720p candidate of each family, and whether this browser encodes it (and how). */
export async function plan() {
  const job = await openLadder(input(), { targetDuration: TARGET });
  const rungs = job.candidates.filter((c) => c.height === 720);
  job.close();
  return { frames: job.source.video.frames, rungs };
}

const b64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

/** Encode rung `id` alone; its time and the rung's files as one fragmented MP4 (base64). */
export async function encode(id) {
  const file = input();
  const job = await openLadder(file, { targetDuration: TARGET });
  const rung = job.candidates.find((c) => c.id === id);
  if (!rung?.supported) throw new Error(`this browser cannot encode ${id}`);
  const { supported: _s, reason: _r, ...r } = rung;
  const t0 = performance.now();
  const pkg = job.run({ rungs: [r], copy: false, storyboard: false });
  await pkg.done;
  const ms = performance.now() - t0;
  const mine = pkg.list.filter((f) => f.path.startsWith(`${id}/`) && /\.(mp4|m4s)$/.test(f.path));
  mine.sort((a, b) => (a.path.endsWith('init.mp4') ? -1 : b.path.endsWith('init.mp4') ? 1 : a.path < b.path ? -1 : 1));
  const parts = await Promise.all(mine.map((f) => f.bytes()));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const hw = rung.hardwareAcceleration === 'prefer-hardware' ? 'hardware' : 'software';
  return { ms, codec: rung.codec, bitrate: rung.bitrate, encoder: hw, bytes: b64(all) };
}
