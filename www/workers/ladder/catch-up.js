// @ts-check
// The frames a replaced encoder missed: a second VideoDecoder decodes the source again from the key frame
// at or before `fromUs` and hands over every frame presented in [fromUs, untilUs), then stops at the
// first key sample presented at or after `untilUs`.
//
// Why decode again instead of keeping the decoded frames of the segment in progress: a segment is up to
// 6 s, 180 frames at 30 fps, 560 MB of 1080p pictures per segment; and a hardware decoder lends its
// frames from a small pool, so holding them would stall the decoder that produced them. The source
// samples are in the File, read again by offset (a few MB), and one segment decodes in a fraction of the
// time it took to encode.

import { closeQuietly, feed } from './codec-queue.js';
import { SampleReader } from './sample-reader.js';

const DECODE_QUEUE = 8;
const ENCODE_QUEUE = 8;

/** The decode-order range [a, z) of `samples` whose frames cover [fromUs, untilUs). */
export function sampleRange(samples, fromUs, untilUs) {
  const n = samples.size.length;
  const ts = (k) => Math.round(samples.timestampUs[k]);
  let a = 0;
  for (let k = 0; k < n; k++) {
    if (ts(k) > fromUs + 1 && samples.key[k]) break;
    if (samples.key[k] && ts(k) <= fromUs + 1) a = k;
  }
  let z = n;
  for (let k = a + 1; k < n; k++) {
    if (samples.key[k] && ts(k) + 1 >= untilUs) {
      z = k;
      break;
    }
  }
  return [a, z];
}

/**
 * Decode the source's frames presented in [fromUs, untilUs) again and give each to `onFrame(frame)` (the
 * caller does not close it). Waits while `queueSize()` (the new encoder's queue) is long.
 * @param {{file: Blob, config: VideoDecoderConfig, samples: import('../core.js').SampleTable,
 *   fromUs: number, untilUs: number, onFrame: (frame: VideoFrame) => void, queueSize: () => number,
 *   encoder: () => VideoEncoder, latch: ReturnType<typeof import('./codec-queue.js').faultLatch>,
 *   onOutput: () => void}} job
 */
export async function catchUp({
  file,
  config,
  samples,
  fromUs,
  untilUs,
  onFrame,
  queueSize,
  encoder,
  latch,
  onOutput,
}) {
  const [a, z] = sampleRange(samples, fromUs, untilUs);
  const decoder = new VideoDecoder({
    output: (frame) => {
      onOutput();
      try {
        const t = frame.timestamp;
        if (!latch.error && t + 1 >= fromUs && t + 1 < untilUs) onFrame(frame);
      } catch (e) {
        latch.fail(e);
      } finally {
        frame.close();
      }
    },
    error: (e) =>
      latch.fail(new Error(`the source's video could not be decoded again for a replaced encoder: ${e.message}`)),
  });
  try {
    decoder.configure(config);
    const part = {
      offset: samples.offset.subarray(a, z),
      size: samples.size.subarray(a, z),
      timestampUs: samples.timestampUs.subarray(a, z),
      durationUs: samples.durationUs.subarray(a, z),
      key: samples.key.subarray(a, z),
    };
    await feed({
      reader: new SampleReader(file),
      samples: part,
      decoder,
      Chunk: EncodedVideoChunk,
      roomy: () => decoder.decodeQueueSize <= DECODE_QUEUE && queueSize() <= ENCODE_QUEUE,
      codecs: [decoder, encoder()],
      latch,
      pause: null, // the main feed holds back while a rung catches up; this one goes at the codecs' pace
    });
  } finally {
    closeQuietly(decoder);
  }
}
