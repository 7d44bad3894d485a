// @ts-check
// A storyboard without a ladder (copy-only uploads): a VideoDecoder fed only the sync samples that some
// tile shows — for each tile the key frame nearest its time — so a 60 s file decodes a few dozen
// independent frames instead of every one.

import { closeQuietly, faultLatch, feed, stopped } from '../ladder/codec-queue.js';
import { SampleReader } from '../ladder/sample-reader.js';
import { decoderConfig } from '../ladder/video.js';
import { Sheets, tileTargets } from './sheets.js';

const DECODE_QUEUE = 4;

/**
 * The sync samples the tiles show, as a sample table in decode order (feed()'s columns).
 * @param {import('../core.js').SampleTable} samples @param {Set<number>} times presentation times (µs)
 */
function chosen(samples, times) {
  const idx = [];
  for (let i = 0; i < samples.size.length; i++)
    if (samples.key[i] && times.has(Math.round(samples.timestampUs[i]))) idx.push(i);
  const pick = (/** @type {any} */ col, /** @type {any} */ Type) => Type.from(idx, (i) => col[i]);
  return {
    offset: pick(samples.offset, Float64Array),
    size: pick(samples.size, Uint32Array),
    timestampUs: pick(samples.timestampUs, Float64Array),
    durationUs: pick(samples.durationUs, Float64Array),
    key: pick(samples.key, Uint8Array),
  };
}

/**
 * Draw the storyboard of `plan` from the key frames of the source's video.
 * @param {{file: Blob, video: import('../../lib/types.js').LadderSource['video'], rotation: number,
 *   samples: import('../core.js').SampleTable, plan: import('./sheets.js').Plan, signal?: AbortSignal}} job
 * @returns {Promise<{sheets: Sheets, decoded: number}>}
 */
export async function drawFromKeyFrames({ file, video, rotation, samples, plan, signal }) {
  const syncTimes = [];
  for (let i = 0; i < samples.size.length; i++) if (samples.key[i]) syncTimes.push(samples.timestampUs[i]);
  const targets = tileTargets(plan, syncTimes);
  const sheets = new Sheets(plan, targets, rotation);
  const table = chosen(samples, new Set(targets));
  const latch = faultLatch(signal);
  let decoded = 0;
  const decoder = new VideoDecoder({
    output: (frame) => {
      decoded++;
      try {
        sheets.draw(frame);
      } catch (e) {
        latch.fail(e);
      } finally {
        frame.close();
      }
    },
    error: (e) => latch.fail(new Error(`the source's video (${video.codec}) could not be decoded: ${e.message}`)),
  });
  try {
    decoder.configure(decoderConfig(video, rotation));
    await feed({
      reader: new SampleReader(file, 1 << 20),
      samples: table,
      decoder,
      Chunk: EncodedVideoChunk,
      roomy: () => decoder.decodeQueueSize <= DECODE_QUEUE,
      codecs: [decoder],
      latch,
      pause: null,
      isKey: () => true,
    });
    if (!latch.error) await Promise.race([decoder.flush(), stopped(latch.signal)]);
  } catch (e) {
    latch.fail(e);
  } finally {
    latch.dispose();
    closeQuietly(decoder);
  }
  if (latch.error) throw latch.error;
  return { sheets, decoded };
}
