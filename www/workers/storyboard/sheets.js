// @ts-check
// Storyboard sheets: each tile of the core's plan (`storyboardPlan`) shows one decoded frame, drawn 160 px
// wide into its place in an OffscreenCanvas sheet; `finish()` encodes each sheet as WebP, or as JPEG where
// the browser's canvas cannot encode WebP (convertToBlob then hands back a PNG: HTML § 4.12.5.1.6, "if the
// type is not supported, use image/png"), and the core writes the thumbnail track naming the tiles.

/**
 * The core's storyboard plan (camelCase, see wasm/src/web/storyboard.rs).
 * @typedef {{intervalMs: number, durationMs: number, count: number, tileWidth: number, tileHeight: number,
 *   columns: number, tilesPerSheet: number, sheets: number, sheetSizes: [number, number][],
 *   tiles: {sheet: number, x: number, y: number, startMs: number, endMs: number}[]}} Plan
 * @typedef {{path: string, type: string, bytes: Uint8Array<ArrayBuffer>}} OutFile
 */

const QUALITY = 0.8;

/**
 * For each tile, the presentation time (µs, as the decoder's frames carry it) of the frame it shows: the
 * frame among `timesUs` nearest to the tile's start. `timesUs` need not be sorted.
 * @param {Plan} plan @param {ArrayLike<number>} timesUs @returns {number[]}
 */
export function tileTargets(plan, timesUs) {
  const sorted = Float64Array.from(timesUs, (t) => Math.round(t)).sort();
  if (!sorted.length) return [];
  let j = 0;
  return plan.tiles.map((t) => {
    const want = t.startMs * 1000;
    while (j + 1 < sorted.length && Math.abs(sorted[j + 1] - want) <= Math.abs(sorted[j] - want)) j++;
    return sorted[j];
  });
}

export class Sheets {
  /**
   * @param {Plan} plan @param {number[]} targets the frame time of each tile ({@link tileTargets})
   * @param {number} [rotation] the source's rotation (90, 180, 270): tiles are drawn upright
   */
  constructor(plan, targets, rotation = 0) {
    this.plan = plan;
    this.rotation = [90, 180, 270].includes(rotation) ? rotation : 0;
    /** @type {Map<number, number[]>} frame time → the tiles that show it */
    this.byTime = new Map();
    for (const [i, t] of targets.entries()) this.byTime.set(t, [...(this.byTime.get(t) ?? []), i]);
    this.canvases = plan.sheetSizes.map(([w, h]) => new OffscreenCanvas(w, h));
    this.contexts = this.canvases.map((c) => {
      const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (c.getContext('2d'));
      ctx.imageSmoothingQuality = 'high';
      return ctx;
    });
    this.drawn = 0;
    this.ms = 0; // time spent drawing, for the benchmark
  }

  /** Whether a frame at `timestampUs` is shown by any tile (a caller can skip the others cheaply). */
  wants(timestampUs) {
    return this.byTime.has(Math.round(timestampUs));
  }

  /** Draw `frame` (upright) into every tile that shows it; any other frame is ignored. The caller closes it.
   * @param {VideoFrame} frame */
  draw(frame) {
    const tiles = this.byTime.get(Math.round(frame.timestamp));
    if (!tiles) return;
    const t0 = performance.now();
    const { tileWidth: w, tileHeight: h } = this.plan;
    // The frame is scaled once (a 1080p VideoFrame drawn to a canvas costs ~25 ms in software), then the
    // small picture is copied to every tile that shows it.
    const [first, ...rest] = tiles.map((i) => this.plan.tiles[i]);
    this.drawScaled(frame, first);
    for (const t of rest)
      this.contexts[t.sheet].drawImage(this.canvases[first.sheet], first.x, first.y, w, h, t.x, t.y, w, h);
    this.drawn += tiles.length;
    this.byTime.delete(Math.round(frame.timestamp));
    this.ms += performance.now() - t0;
  }

  /** Draw `frame` scaled (and turned upright) into tile `t`. @param {VideoFrame} frame @param {{sheet: number,
   * x: number, y: number}} t */
  drawScaled(frame, t) {
    const { tileWidth: w, tileHeight: h } = this.plan;
    const ctx = this.contexts[t.sheet];
    if (!this.rotation) {
      ctx.drawImage(frame, t.x, t.y, w, h);
      return;
    }
    ctx.save();
    ctx.translate(t.x + w / 2, t.y + h / 2);
    ctx.rotate((this.rotation * Math.PI) / 180);
    const [dw, dh] = this.rotation === 180 ? [w, h] : [h, w];
    ctx.drawImage(frame, -dw / 2, -dh / 2, dw, dh);
    ctx.restore();
  }

  /**
   * The sheets as files, and the picture format used: WebP when the browser encodes it (decided on the
   * first sheet, so every sheet of a track has one format), else JPEG. A tile whose frame never came (a
   * sample that did not decode) stays black, and is counted in `missing`.
   * @returns {Promise<{picture: 'webp' | 'jpeg', sheets: OutFile[], missing: number}>}
   */
  async finish() {
    const t0 = performance.now();
    let picture = /** @type {'webp' | 'jpeg'} */ ('webp');
    const sheets = [];
    for (const [k, c] of this.canvases.entries()) {
      let blob = picture === 'webp' ? await c.convertToBlob({ type: 'image/webp', quality: QUALITY }) : null;
      if (blob?.type !== 'image/webp') {
        picture = 'jpeg';
        blob = await c.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
      }
      sheets.push({
        path: `storyboard/sheet_${String(k + 1).padStart(3, '0')}.${picture === 'webp' ? 'webp' : 'jpg'}`,
        type: blob.type,
        bytes: new Uint8Array(await blob.arrayBuffer()),
      });
    }
    this.ms += performance.now() - t0;
    let missing = 0;
    for (const tiles of this.byTime.values()) missing += tiles.length;
    return { picture, sheets, missing };
  }
}

/**
 * The storyboard's files: the thumbnail track the core writes for `plan`, then the sheets; and, when the
 * package's MPD text is given, that MPD with the sheets announced as a DASH-IF thumbnails AdaptationSet
 * (the core's `storyboardManifest`), to replace the package's `manifest.mpd`.
 * @param {{storyboardTrack: (d: number, w: number, h: number, p: string) => string,
 *   storyboardManifest: (mpd: string, d: number, w: number, h: number, p: string, max: number) => string}} core
 * @param {{durationMs: number, width: number, height: number}} video
 * @param {{picture: 'webp' | 'jpeg', sheets: OutFile[], largestBytes?: number}} done (`largestBytes`: the
 *   largest sheet's size when the sheets are not given, the origin's from an earlier run)
 * @param {string | null} [mpd]
 * @returns {OutFile[]}
 */
export function storyboardFiles(core, video, done, mpd = null) {
  const track = core.storyboardTrack(video.durationMs, video.width, video.height, done.picture);
  const text = (/** @type {string} */ t) => /** @type {Uint8Array<ArrayBuffer>} */ (new TextEncoder().encode(t));
  const files = [{ path: 'storyboard/storyboard.vtt', type: 'text/vtt', bytes: text(track) }, ...done.sheets];
  if (mpd) {
    const largest = done.largestBytes ?? Math.max(0, ...done.sheets.map((f) => f.bytes.length));
    const withImages = core.storyboardManifest(mpd, video.durationMs, video.width, video.height, done.picture, largest);
    files.push({ path: 'manifest.mpd', type: 'application/dash+xml', bytes: text(withImages) });
  }
  return files;
}
