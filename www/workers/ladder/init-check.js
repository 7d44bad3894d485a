// @ts-check
// Before a ladder resumes: does each resumed rung's encoder still write the init segment its stored
// segments were made with? A restarted encoder can give another decoder configuration (another profile or
// level, a hardware encoder gone after the reload, another browser build); its init would then sit over
// segments that decode only with the old one, a broken package. Each rung with stored segments gets an
// encoder configured as the run configures it, given the source's first key frame (decoded, drawn upright
// as the run draws it, so that the encoder sees the same kind of frame); the init the core makes from its
// output (Ladder.rungInit) is compared with the SHA-256 the origin lists for the rung's stored init.
//
// The check lives here, not in the core: it needs an encoder's output (WebCodecs) and a SHA-256
// (crypto.subtle; the core carries no hash), and what follows from a mismatch is already said in the
// core's terms: a rung whose records are left out of Ladder.resume starts at its first segment (and pulls
// the decoder back there) while the other renditions keep their stored segments.

import { sha256Hex } from '../../lib/package-file.js';
import { decoderConfig, encoderConfig, rotator } from './video.js';

/** @typedef {import('../../lib/types.js').Rung} Rung */

/**
 * The source's first key frame, decoded (the caller closes it).
 * @param {Blob} file @param {import('../../lib/types.js').LadderSource['video']} video
 * @param {import('../core.js').SampleTable} samples @param {number} rotation
 * @returns {Promise<VideoFrame>}
 */
async function firstFrame(file, video, samples, rotation) {
  const at = samples.offset[0];
  const data = new Uint8Array(await file.slice(at, at + samples.size[0]).arrayBuffer());
  /** @type {VideoFrame[]} */
  const frames = [];
  let failed = null;
  const dec = new VideoDecoder({
    output: (f) => frames.push(f),
    error: (e) => {
      failed = e;
    },
  });
  try {
    dec.configure(decoderConfig(video, rotation));
    dec.decode(new EncodedVideoChunk({ type: 'key', timestamp: samples.timestampUs[0], data }));
    await dec.flush();
  } finally {
    if (dec.state !== 'closed') dec.close();
  }
  const [frame, ...rest] = frames;
  for (const f of rest) f.close();
  if (!frame) throw new Error(`the source's first key frame does not decode: ${failed ?? 'no frame'}`);
  return frame;
}

/**
 * The first chunk (a key frame) and decoder description the encoder of `config` gives for `frame`.
 * @param {VideoEncoderConfig} config @param {VideoFrame} frame
 * @returns {Promise<{bytes: Uint8Array<ArrayBuffer>, description: AllowSharedBufferSource | null}>}
 */
async function encodeOne(config, frame) {
  /** @type {{bytes: Uint8Array<ArrayBuffer>, description: AllowSharedBufferSource | null} | null} */
  let got = null;
  let failed = null;
  const enc = new VideoEncoder({
    output: (chunk, meta) => {
      if (got) return;
      const bytes = new Uint8Array(chunk.byteLength);
      chunk.copyTo(bytes);
      got = { bytes, description: meta?.decoderConfig?.description ?? null };
    },
    error: (e) => {
      failed = e;
    },
  });
  try {
    enc.configure(config);
    enc.encode(frame, { keyFrame: true });
    await enc.flush();
  } finally {
    if (enc.state !== 'closed') enc.close();
  }
  if (!got) throw new Error(`the encoder gave no chunk: ${failed ?? 'nothing'}`);
  return got;
}

/**
 * Check the encoder of every rung that has stored segments in `records`.
 * `storedInits`: the SHA-256 of each rendition's stored `init.mp4`, by rendition id (the origin's listing).
 * `initOf(i, description, key)`: the init rung `i` writes for that encoder output (Ladder.rungInit, the
 * description made right as the run makes it). Returns the rungs (indexes) whose encoder changed (their
 * stored init differs, or none is listed) and, for the others, the init bytes their run must write.
 * @param {{file: Blob, video: import('../../lib/types.js').LadderSource['video'], rotation: number,
 *   samples: import('../core.js').SampleTable, rungs: Rung[], records: {rendition: string}[],
 *   storedInits: Record<string, string>,
 *   initOf: (i: number, description: AllowSharedBufferSource | null, key: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>}} job
 * @returns {Promise<{changed: number[], expected: Map<number, Uint8Array>}>}
 */
export async function checkEncoders({ file, video, rotation, samples, rungs, records, storedInits, initOf }) {
  const resumed = rungs.map((_, i) => i).filter((i) => records.some((rec) => rec.rendition === rungs[i].id));
  const changed = [];
  const expected = new Map();
  if (!resumed.length || !samples.size.length) return { changed, expected };
  const decoded = await firstFrame(file, video, samples, rotation);
  const top = rungs.reduce((a, r) => (r.width * r.height > a.width * a.height ? r : a), rungs[0]);
  const upright = rotator(rotation, top.width, top.height);
  const frame = upright ? upright(decoded) : decoded;
  try {
    for (const i of resumed) {
      const out = await encodeOne(encoderConfig(rungs[i]), frame);
      const init = initOf(i, out.description, out.bytes);
      if ((await sha256Hex(init)) === storedInits[rungs[i].id]) expected.set(i, init);
      else changed.push(i);
    }
  } finally {
    if (frame !== decoded) frame.close();
    decoded.close();
  }
  return { changed, expected };
}

/** Whether two byte arrays are equal. @param {Uint8Array} a @param {Uint8Array} b */
export const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
