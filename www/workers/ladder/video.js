// @ts-check
// One decode, many encoders: the source's video samples go through one VideoDecoder, and every decoded
// frame is handed to each rung's VideoEncoder (Chromium's encoder scales a larger frame to its configured
// size itself), with a key frame forced at each of the plan's segment boundaries so that every rung cuts at
// the same instants. Back-pressure: no sample is decoded while the decoder or any encoder has more than a
// few requests queued, so memory holds a handful of frames whatever the length of the input.

import { closeQuietly, faultLatch, feed, stopped } from './codec-queue.js';
import { SampleReader } from './sample-reader.js';

const DECODE_QUEUE = 8;
const ENCODE_QUEUE = 8;
const STALL_MS = 60_000; // no frame out of any codec for this long: a hung codec, reported, not waited on

/** @typedef {import('../../lib/types.js').Rung} Rung */

/**
 * The encoder configuration of a rung (bits per second, frames per second).
 * @param {Rung} rung
 * @returns {VideoEncoderConfig}
 */
export function encoderConfig(rung) {
  /** @type {VideoEncoderConfig} */
  const cfg = {
    codec: rung.codec,
    width: rung.width,
    height: rung.height,
    bitrate: rung.bitrate,
    framerate: rung.framerate,
    bitrateMode: 'variable',
    latencyMode: 'quality',
    hardwareAcceleration: /** @type {HardwareAcceleration} */ (rung.hardwareAcceleration ?? 'no-preference'),
  };
  // 'avc': length-prefixed NAL units and an avcC description, as CMAF wants (not Annex B).
  if (rung.codec.startsWith('avc1') || rung.codec.startsWith('avc3')) cfg.avc = { format: 'avc' };
  return cfg;
}

/** The decoder configuration of the source's video (codec string and avcC/hvcC/av1C/vpcC from the demuxer).
 * The source's display size is after rotation; the decoder's aspect is that of the stored picture. */
export function decoderConfig(video, rotation = 0) {
  /** @type {VideoDecoderConfig} */
  const cfg = { codec: video.codec, codedWidth: video.codedWidth, codedHeight: video.codedHeight };
  if (video.displayWidth && video.displayHeight) {
    const turned = rotation === 90 || rotation === 270;
    cfg.displayAspectWidth = turned ? video.displayHeight : video.displayWidth;
    cfg.displayAspectHeight = turned ? video.displayWidth : video.displayHeight;
  }
  // VP9's vpcC is not a WebCodecs description (vp09 takes none); the others are the box payloads.
  if (video.description && !video.codec.startsWith('vp09')) cfg.description = video.description;
  return cfg;
}

/** Draws frames turned upright into a canvas (sources with a rotation matrix: encoded rungs are upright). */
function rotator(rotation, width, height) {
  if (![90, 180, 270].includes(rotation)) return null;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  return (frame) => {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.translate(width / 2, height / 2);
    ctx.rotate((rotation * Math.PI) / 180);
    const [w, h] = rotation === 180 ? [width, height] : [height, width];
    ctx.drawImage(frame, -w / 2, -h / 2, w, h);
    return new VideoFrame(canvas, { timestamp: frame.timestamp, duration: frame.duration ?? undefined });
  };
}

/**
 * One VideoEncoder per rung, configured; each encoded chunk goes to `onChunk(rungIndex, chunk, meta)`.
 * @param {Rung[]} rungs
 * @param {{onChunk: (i: number, chunk: EncodedVideoChunk, meta?: EncodedVideoChunkMetadata) => void,
 *          onOutput: (i: number) => void, fail: (e: unknown) => void}} to
 */
function rungEncoders(rungs, { onChunk, onOutput, fail }) {
  return rungs.map((r, i) => {
    const enc = new VideoEncoder({
      output: (chunk, meta) => {
        onOutput(i);
        try {
          onChunk(i, chunk, meta);
        } catch (e) {
          fail(e);
        }
      },
      error: (e) => fail(refused(r, e)),
    });
    try {
      enc.configure(encoderConfig(r));
    } catch (e) {
      fail(refused(r, e)); // a configuration WebCodecs rejects outright (TypeError), before any frame
    }
    return enc;
  });
}

/**
 * What to do with each decoded frame: hand it to every rung's encoder, as a key frame at each of the plan's
 * boundaries, every n-th frame for rungs below the source's frame rate (boundary frames always), drawn
 * upright first for a rotated source. The caller closes the frame.
 * @param {{encoders: VideoEncoder[], rungs: Rung[], boundariesUs: ArrayLike<number>, frameRate: number,
 *          rotation: number}} plan
 * @returns {(frame: VideoFrame) => void}
 */
function fanOut({ encoders, rungs, boundariesUs, frameRate, rotation }) {
  const boundaries = Array.from(boundariesUs, (b) => Math.round(b));
  let nextBoundary = 0;
  const fps = frameRate || 30;
  const keepEvery = rungs.map((r) => (r.framerate && r.framerate < fps * 0.95 ? fps / r.framerate : 1));
  const owed = rungs.map(() => 0);
  const top = rungs.reduce((a, r) => (r.width * r.height > a.width * a.height ? r : a), rungs[0]);
  const upright = rotator(rotation, top.width, top.height);
  return (frame) => {
    const ts = frame.timestamp;
    let key = false;
    while (nextBoundary < boundaries.length && boundaries[nextBoundary] <= ts + 1) {
      key = true;
      nextBoundary++;
    }
    const src = upright ? upright(frame) : frame;
    try {
      for (let i = 0; i < encoders.length; i++) {
        owed[i] += 1;
        if (!key && owed[i] < keepEvery[i] - 1e-6) continue;
        owed[i] = key ? 0 : owed[i] - keepEvery[i];
        encoders[i].encode(src, { keyFrame: key });
      }
    } finally {
      if (src !== frame) src.close();
    }
  };
}

/**
 * Encode `rungs` from the source's `samples` (the columns of Ladder.videoSamples(), decode order).
 * `onChunk(rungIndex, chunk, metadata)` gets every encoded chunk in output order; `onProgress(p)` about
 * four times a second; `pause()` (optional) is awaited before each sample, for the caller's own
 * back-pressure (files not yet taken away); `onFrame(frame)` (optional) sees every decoded frame before
 * the encoders do (the storyboard's tiles are drawn from it; the frame is closed after). Resolves to
 * {frames, decoded, ms}; rejects on the first codec error, naming the rung.
 * @param {{file: Blob, video: import('../../lib/types.js').LadderSource['video'],
 *   samples: import('../core.js').SampleTable, boundariesUs: ArrayLike<number>, rungs: Rung[], rotation?: number,
 *   onChunk: (i: number, chunk: EncodedVideoChunk, meta?: EncodedVideoChunkMetadata) => void,
 *   onFrame?: (frame: VideoFrame) => void, onProgress?: (p: object) => void, pause?: (signal: AbortSignal) => Promise<void> | null,
 *   signal?: AbortSignal}} job
 */
export async function encodeVideo({
  file,
  video,
  samples,
  boundariesUs,
  rungs,
  rotation = 0,
  onChunk,
  onFrame,
  onProgress,
  pause,
  signal,
}) {
  const latch = faultLatch(signal);
  const fail = latch.fail;
  const total = samples.size.length;
  const counts = rungs.map(() => 0);
  let decoded = 0;
  let lastOutput = performance.now();
  let waiting = false;
  const t0 = performance.now();
  const onOutput = (/** @type {number} */ i) => {
    lastOutput = performance.now();
    counts[i]++;
  };
  const encoders = rungEncoders(rungs, { onChunk, onOutput, fail });
  const encodeFrame = fanOut({ encoders, rungs, boundariesUs, frameRate: video.frameRate, rotation });
  const decoder = new VideoDecoder({
    output: (frame) => {
      lastOutput = performance.now();
      decoded++;
      try {
        if (!latch.error) {
          onFrame?.(frame);
          encodeFrame(frame);
        }
      } catch (e) {
        fail(e);
      } finally {
        frame.close();
      }
    },
    error: (e) =>
      fail(
        new Error(
          e.name === 'QuotaExceededError'
            ? `the browser reclaimed the video decoder (${e.message}); start again with this tab in front`
            : `the source's video (${video.codec}) could not be decoded: ${e.message}`,
        ),
      ),
  });
  decoder.configure(decoderConfig(video, rotation));

  const report = () =>
    onProgress?.({
      decoded,
      total,
      ms: performance.now() - t0,
      rungs: rungs.map((r, i) => ({ id: r.id, frames: counts[i] })),
    });
  const ticker = setInterval(() => {
    report();
    if (!waiting && performance.now() - lastOutput > STALL_MS)
      fail(new Error(`no frame came out of the codecs for ${STALL_MS / 1000} s: the encode stalled`));
  }, 250);
  const codecs = [decoder, ...encoders];
  const roomy = () =>
    decoder.decodeQueueSize <= DECODE_QUEUE && encoders.every((e) => e.encodeQueueSize <= ENCODE_QUEUE);
  try {
    // Waiting for the upload to take files away is not a stalled codec.
    const paused =
      pause &&
      (async (sig) => {
        waiting = true;
        try {
          await pause(sig);
        } finally {
          waiting = false;
          lastOutput = performance.now();
        }
      });
    await feed({
      reader: new SampleReader(file),
      samples,
      decoder,
      Chunk: EncodedVideoChunk,
      roomy,
      codecs,
      latch,
      pause: paused,
    });
    if (!latch.error) await Promise.race([Promise.all(encoders.map((e) => e.flush())), stopped(latch.signal)]);
  } catch (e) {
    fail(e);
  } finally {
    clearInterval(ticker);
    latch.dispose();
    codecs.forEach(closeQuietly);
  }
  if (latch.error) throw latch.error;
  report();
  return { frames: counts, decoded, ms: performance.now() - t0 };
}

/** The error of rung `r`'s encoder, in words (a reclaimed codec: WebCodecs § 11, "Codec reclaimation"). */
function refused(r, e) {
  const what = `rung ${r.id} (${r.codec} ${r.width}x${r.height} at ${r.framerate} fps)`;
  if (e.name === 'QuotaExceededError')
    return new Error(`${what}: the browser reclaimed the encoder (${e.message}); start again with this tab in front`);
  if (e.name === 'NotSupportedError') return new Error(`${what}: this browser cannot encode it (${e.message})`);
  return new Error(`${what}: the encoder failed: ${e.message}`);
}
