// @ts-check
// `makeStoryboard(file)`: the seek-bar thumbnails of a video, made in the browser without a ladder. A
// dedicated Worker (workers/storyboard-worker.js) decodes only the key frames the tiles show and draws
// them 160 px wide into sprite sheets (WebP, or JPEG where the browser cannot encode WebP); the core writes
// the WebVTT thumbnail track (`storyboard/storyboard.vtt`, cues `sheet_001.webp#xywh=x,y,w,h`). With a
// ladder (`openLadder`), the ladder's Worker draws them from the frames it decodes anyway.
//
//   const sb = await makeStoryboard(file, { signal, mpd });   // mpd: the package's manifest.mpd text
//   sb.files;       // [PackageFile]: storyboard/storyboard.vtt, storyboard/sheet_001.webp, ...
//   sb.manifest;    // PackageFile manifest.mpd with the sheets as a DASH thumbnails AdaptationSet (or null)
//   sb.storyboard;  // {tiles, intervalS, sheets, picture, missing, decoded, bytes, ms}
import { abortReason } from './error.js';
import { PackageFile } from './package-file.js';
import { WorkerClient } from './worker-rpc.js';

const workerUrl = new URL('../workers/storyboard-worker.js', import.meta.url);

/**
 * What a storyboard holds, as the upload page shows it.
 * @typedef {{tiles: number, intervalS: number, sheets: number, picture: 'webp' | 'jpeg', missing: number,
 *   decoded?: number, bytes: number, ms: number}} StoryboardInfo
 */

/**
 * @param {File} file
 * @param {{signal?: AbortSignal, mpd?: string | null}} [options] `mpd`: the package's MPD text, returned
 *   as `manifest` with the storyboard announced in it
 * @returns {Promise<{files: PackageFile[], manifest: PackageFile | null, storyboard: StoryboardInfo}>}
 */
export async function makeStoryboard(file, { signal, mpd = null } = {}) {
  if (signal?.aborted) throw abortReason(signal);
  const worker = new WorkerClient(workerUrl);
  try {
    const done = await worker.request(
      { file, options: {}, mpd },
      { until: 'done', failure: 'the storyboard could not be made', signal },
    );
    const all = storyboardPackageFiles(done.files);
    return {
      files: all.filter((f) => f.path !== 'manifest.mpd'),
      manifest: all.find((f) => f.path === 'manifest.mpd') ?? null,
      storyboard: done.storyboard,
    };
  } finally {
    worker.terminate();
  }
}

/**
 * Files made in memory (a storyboard's track and sheets) as package files.
 * @param {{path: string, type: string, bytes: Uint8Array<ArrayBuffer>}[]} files
 */
export function storyboardPackageFiles(files) {
  return files.map(
    (f) => new PackageFile(null, { path: f.path, size: f.bytes.length, type: f.type, head: f.bytes, layout: null }),
  );
}
