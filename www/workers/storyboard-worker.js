// @ts-check
// The storyboard's dedicated Worker for uploads without a ladder (`makeStoryboard()` in lib/storyboard.js):
// the core (full build) demuxes the File and plans the tiles, WebCodecs decodes only the key frames the
// tiles show, the sheets are drawn and encoded (WebP, else JPEG) and the core writes the thumbnail track.
// (With a ladder, the ladder's Worker draws the tiles from the frames it decodes anyway.)
//
// Request: {file, options, mpd} (mpd: the package's manifest.mpd text, or null) · reply: {type: 'done',
// files: [{path, type, bytes}] (with manifest.mpd when an MPD was given), storyboard} ·
// {type: 'error', error} (workers/worker-host.js)

import { drawFromKeyFrames } from './storyboard/keyframes.js';
import { storyboardFiles } from './storyboard/sheets.js';
import { loadCore, serve } from './worker-host.js';

/** @param {{file: File, options: object, mpd?: string | null}} request */
async function run({ file, options, mpd = null }) {
  const t0 = performance.now();
  const core = await loadCore('upcast_full');
  const ladder = new core.Ladder(file, options);
  try {
    const video = ladder.source().video;
    const track = ladder.summary().tracks.find((t) => t.kind === 'video' && t.packaged);
    const rotation = track?.rotation ?? 0;
    const turned = rotation === 90 || rotation === 270;
    const size = {
      durationMs: Math.round(video.durationUs / 1000),
      width: turned ? video.displayHeight : video.displayWidth,
      height: turned ? video.displayWidth : video.displayHeight,
    };
    const plan = core.storyboardPlan(size.durationMs, size.width, size.height);
    const samples = ladder.videoSamples();
    const t1 = performance.now();
    const { sheets, decoded } = await drawFromKeyFrames({ file, video, rotation, samples, plan });
    const t2 = performance.now();
    const drawMs = sheets.ms;
    const done = await sheets.finish();
    const files = storyboardFiles(core, size, done, mpd);
    const storyboard = {
      tiles: plan.count,
      intervalS: plan.intervalMs / 1000,
      sheets: plan.sheets,
      picture: done.picture,
      missing: done.missing,
      decoded,
      bytes: files.filter((f) => f.path.startsWith('storyboard/')).reduce((n, f) => n + f.bytes.length, 0),
      ms: performance.now() - t0,
      // Where the time went: loading the core and reading the moov; decoding (and drawing, `drawMs` of it);
      // encoding the sheets.
      openMs: t1 - t0,
      decodeMs: t2 - t1,
      drawMs,
      encodeMs: performance.now() - t2,
    };
    return { message: { type: 'done', files, storyboard }, transfer: files.map((f) => f.bytes.buffer) };
  } finally {
    ladder.free?.();
  }
}

serve(run);
