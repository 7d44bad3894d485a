// @ts-check
// One decode, many encoders: the source's video samples go through one VideoDecoder, and every decoded
// frame is handed to each rung's VideoEncoder (Chromium's encoder scales a larger frame to its configured
// size itself), with a key frame forced at each of the plan's segment boundaries so that every rung cuts at
// the same instants. Back-pressure: no sample is decoded while the decoder or any encoder has more than a
// few requests queued, so memory holds a handful of frames whatever the length of the input.
//
// A rung whose encoder fails (reclaimed, crashed) gets a new one (rung-encoder.js): the core drops the
// rung's segment in progress, the source is decoded again from that segment's start for the new encoder
// (catch-up.js) up to the next boundary after the last frame the old one was given; the main decoder's
// frames before that boundary are dropped for the rung, those from it on that come out while the rung
// catches up are held (a decoder queue's worth: no sample is fed meanwhile) and given to the new encoder
// after. The other rungs take every frame as before.

import { catchUp } from './catch-up.js';
import { closeQuietly, faultLatch, feed, stopped } from './codec-queue.js';
import { RungEncoder } from './rung-encoder.js';
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
  // VP9's vpcC is not a WebCodecs description (vp09 and vp8 take none); the others are the box payloads.
  if (video.description && !/^vp(09|8)/.test(video.codec)) cfg.description = video.description;
  return cfg;
}

/** Draws frames turned upright into a canvas (sources with a rotation matrix: encoded rungs are upright). */
export function rotator(rotation, width, height) {
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
 * What to do with each decoded frame: hand it to every rung's encoder, as a key frame at each of the plan's
 * boundaries, every n-th frame for rungs below the source's frame rate (boundary frames always), drawn
 * upright first for a rotated source. A rung whose encoder is being replaced gets nothing here: the
 * frames before its hold's `untilUs` are decoded again for it, those after are kept (cloned) in the hold.
 * The caller closes the frame.
 * @param {{encoders: RungEncoder[], rungs: Rung[], boundaries: number[], frameRate: number,
 *          rotation: number, fromUs?: number, rungsFromUs?: number[] | null}} plan
 */
function fanOut({ encoders, rungs, boundaries, frameRate, rotation, fromUs = -Infinity, rungsFromUs = null }) {
  // A resumed ladder starts at a boundary: the frames decoded before it (from its key sample) are dropped.
  let nextBoundary = Math.max(
    0,
    boundaries.findIndex((b) => b >= fromUs - 1),
  );
  const fps = frameRate || 30;
  const keepEvery = rungs.map((r) => (r.framerate && r.framerate < fps * 0.95 ? fps / r.framerate : 1));
  const owed = rungs.map(() => 0);
  /** @type {({untilUs: number, frames: {frame: VideoFrame, key: boolean}[]} | null)[]} */
  const holds = rungs.map(() => null);
  // After a catch-up, the frames before its end came from the second decoder: the main decoder's are
  // dropped (it was held back meanwhile, so it puts them out after the catch-up).
  const caughtUpTo = rungs.map(() => -Infinity);
  const top = rungs.reduce((a, r) => (r.width * r.height > a.width * a.height ? r : a), rungs[0]);
  const upright = rotator(rotation, top.width, top.height);
  /** Rung `i` takes `src` (as a key frame when `key`) unless its frame rate skips it. */
  const deliver = (i, src, key) => {
    owed[i] += 1;
    if (!key && owed[i] < keepEvery[i] - 1e-6) return;
    owed[i] = key ? 0 : owed[i] - keepEvery[i];
    encoders[i].encode(src, key);
  };
  /** Hand `frame` (key when `key`) to rung `i`, or to its hold while it is replaced. */
  const route = (i, src, key) => {
    // A resumed rung whose segments past the decoder's start are stored starts at its own first missing one.
    if (rungsFromUs && src.timestamp + 1 < rungsFromUs[i]) return;
    const h = holds[i];
    if (!h) {
      if (src.timestamp + 1 >= caughtUpTo[i]) deliver(i, src, key);
    } else if (src.timestamp + 1 >= h.untilUs) h.frames.push({ frame: src.clone(), key });
  };
  /** @param {VideoFrame} frame */
  const onFrame = (frame) => {
    const ts = frame.timestamp;
    if (ts + 1 < fromUs) return;
    let key = false;
    while (nextBoundary < boundaries.length && boundaries[nextBoundary] <= ts + 1) {
      key = true;
      nextBoundary++;
    }
    const src = upright ? upright(frame) : frame;
    try {
      for (let i = 0; i < encoders.length; i++) route(i, src, key);
    } finally {
      if (src !== frame) src.close();
    }
  };
  /** The frames of a catch-up for rung `i` from `fromUs`: key frames at the boundaries from there on. */
  const catchUpFeed = (i, fromUs) => {
    let next = boundaries.findIndex((b) => b >= fromUs - 1);
    if (next < 0) next = boundaries.length;
    owed[i] = 0;
    return (/** @type {VideoFrame} */ frame) => {
      let key = false;
      while (next < boundaries.length && boundaries[next] <= frame.timestamp + 1) {
        key = true;
        next++;
      }
      const src = upright ? upright(frame) : frame;
      try {
        deliver(i, src, key);
      } finally {
        if (src !== frame) src.close();
      }
    };
  };
  /** Rung `i`'s hold is over: its frames go to the encoder (or into a new hold if it breaks again), and
   * the main decoder's frames before the hold's start are dropped from now on. */
  const release = (i, hold) => {
    holds[i] = null;
    caughtUpTo[i] = hold.untilUs;
    for (const h of hold.frames) {
      try {
        route(i, h.frame, h.key);
      } finally {
        h.frame.close();
      }
    }
  };
  return { onFrame, holds, catchUpFeed, release };
}

/** The columns of `samples` from decode-order index `a` on (views). */
function tableFrom(samples, a) {
  return {
    offset: samples.offset.subarray(a),
    size: samples.size.subarray(a),
    timestampUs: samples.timestampUs.subarray(a),
    durationUs: samples.durationUs.subarray(a),
    key: samples.key.subarray(a),
  };
}

/**
 * Encode `rungs` from the source's `samples` (the columns of Ladder.videoSamples(), decode order).
 * `onChunk(rungIndex, chunk, metadata)` gets every encoded chunk in output order; `onRestart(rungIndex)`
 * is called when a rung's encoder is replaced, drops the rung's segment in progress (Ladder.restartRung)
 * and returns the instant (µs) the new encoder starts at; `onProgress(p)` about four times a second;
 * `pause()` (optional) is awaited before each sample, for the caller's own back-pressure (files not yet
 * taken away); `onFrame(frame)` (optional) sees every decoded frame before the encoders do (the
 * storyboard's tiles are drawn from it; the frame is closed after); `failAt` is the test hook of
 * rung-encoder.js. A resumed ladder (Ladder.resume()) gives `fromSample`, the key sample the decoder
 * starts at, `fromUs`, the boundary it starts showing frames at, and `rungsFromUs`, the boundary each
 * rung's encoder starts at with a key frame (its first missing segment, at or after `fromUs`). Resolves to {frames,
 * decoded, ms}; rejects on the first error that replacing an encoder cannot mend, naming the rung.
 * @param {{file: Blob, video: import('../../lib/types.js').LadderSource['video'],
 *   samples: import('../core.js').SampleTable, boundariesUs: ArrayLike<number>, rungs: Rung[], rotation?: number,
 *   onChunk: (i: number, chunk: EncodedVideoChunk, meta?: EncodedVideoChunkMetadata) => void,
 *   onRestart: (i: number) => number,
 *   onFrame?: (frame: VideoFrame) => void, onProgress?: (p: object) => void, pause?: (signal: AbortSignal) => Promise<void> | null,
 *   signal?: AbortSignal, failAt?: import('./rung-encoder.js').FailAt | null, fromSample?: number,
 *   fromUs?: number, rungsFromUs?: number[] | null}} job
 */
export async function encodeVideo({
  file,
  video,
  samples,
  boundariesUs,
  rungs,
  rotation = 0,
  onChunk,
  onRestart,
  onFrame,
  onProgress,
  pause,
  signal,
  failAt,
  fromSample = 0,
  fromUs = -Infinity,
  rungsFromUs = null,
}) {
  const latch = faultLatch(signal);
  const fail = latch.fail;
  const total = samples.size.length;
  const counts = rungs.map(() => 0);
  const boundaries = Array.from(boundariesUs, (b) => Math.round(b));
  /** @type {Set<Promise<void>>} encoders being replaced */
  const recoveries = new Set();
  let decoded = 0;
  let lastOutput = performance.now();
  let waiting = false;
  const t0 = performance.now();
  const onOutput = (/** @type {number} */ i) => {
    lastOutput = performance.now();
    counts[i]++;
  };
  /** @type {ReturnType<typeof fanOut>} */
  let fan;
  /** Replace rung `i`'s encoder: the core drops its segment in progress, a new encoder encodes it again
   * from the source, then takes the frames held meanwhile. Again if the new one breaks too. */
  const recover = async (i, hold) => {
    const re = encoders[i];
    do {
      const fromUs = Math.round(onRestart(i));
      re.restart();
      await catchUp({
        file,
        config: decoderConfig(video, rotation),
        samples,
        fromUs,
        untilUs: hold.untilUs,
        onFrame: fan.catchUpFeed(i, fromUs),
        queueSize: () => re.queueSize,
        encoder: () => re.enc,
        latch,
        onOutput: () => {
          lastOutput = performance.now();
        },
      });
    } while (re.broken && !latch.error);
    if (!latch.error) fan.release(i, hold);
    else for (const h of hold.frames) h.frame.close();
  };
  /** @param {number} i */
  const broken = (i) => {
    if (fan.holds[i]) return; // breaking while it catches up: `recover` starts it again
    const last = encoders[i].lastUs;
    const hold = { untilUs: boundaries.find((b) => b > last + 1) ?? Infinity, frames: [] };
    fan.holds[i] = hold;
    const p = recover(i, hold)
      .catch(fail)
      .finally(() => recoveries.delete(p));
    recoveries.add(p);
  };
  const encoders = rungs.map(
    (r, i) =>
      new RungEncoder(r, encoderConfig(r), {
        onChunk: (chunk, meta) => onChunk(i, chunk, meta),
        onOutput: () => onOutput(i),
        onBroken: () => broken(i),
        fail,
        failAt,
      }),
  );
  fan = fanOut({ encoders, rungs, boundaries, frameRate: video.frameRate, rotation, fromUs, rungsFromUs });
  const encodeFrame = fan.onFrame;
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
      rungs: rungs.map((r, i) => ({
        id: r.id,
        frames: counts[i],
        restarts: encoders[i].restarts,
        firstUs: encoders[i].firstUs,
      })),
    });
  const ticker = setInterval(() => {
    report();
    if (!waiting && performance.now() - lastOutput > STALL_MS)
      fail(new Error(`no frame came out of the codecs for ${STALL_MS / 1000} s: the encode stalled`));
  }, 250);
  const codecs = () => [decoder, ...encoders.map((e) => e.enc)];
  // No sample is fed while a rung catches up: what the main decoder puts out meanwhile is held for it.
  const roomy = () =>
    recoveries.size === 0 &&
    decoder.decodeQueueSize <= DECODE_QUEUE &&
    encoders.every((e) => e.queueSize <= ENCODE_QUEUE);
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
      samples: fromSample > 0 ? tableFrom(samples, fromSample) : samples,
      decoder,
      Chunk: EncodedVideoChunk,
      roomy,
      codecs: codecs(),
      latch,
      pause: paused,
    });
    // Flush every encoder; one that breaks meanwhile is replaced, catches up, and is flushed again.
    while (!latch.error) {
      await Promise.race([Promise.all(recoveries), stopped(latch.signal)]);
      await Promise.race([Promise.all(encoders.map((e) => e.flush())), stopped(latch.signal)]);
      if (recoveries.size === 0) break;
    }
  } catch (e) {
    fail(e);
  } finally {
    clearInterval(ticker);
    latch.dispose();
    closeQuietly(decoder);
    for (const e of encoders) e.close();
  }
  if (latch.error) throw latch.error;
  report();
  return { frames: counts, decoded, ms: performance.now() - t0 };
}
