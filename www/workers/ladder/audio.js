// @ts-check
// The audio of a ladder whose source audio is not AAC (Opus, MP3): decoded with AudioDecoder and encoded
// again with AudioEncoder — AAC where this browser can encode it (Apple devices play it everywhere), else
// Opus (Chromium and Firefox have no AAC encoder; Safari plays Opus in fMP4 from iOS 17 / macOS 14 only).

import { closeQuietly, faultLatch, feed, stopped } from './codec-queue.js';
import { SampleReader } from './sample-reader.js';

const QUEUE = 16;
const STALL_MS = 60_000; // no output from either codec for this long: a hung codec, reported, not waited on

/** dOps (the Opus box of ISO BMFF, big-endian, "Encapsulation of Opus in ISOBMFF" § 4.3.2) → OpusHead (RFC
 * 7845 § 5.1, little-endian), the description WebCodecs' Opus decoder takes. The demuxer hands the box. */
export function opusHead(dops) {
  const d = new DataView(dops.buffer, dops.byteOffset, dops.byteLength);
  if (dops.length < 11) throw new Error(`the source's dOps box is ${dops.length} bytes, too short for Opus`);
  const channels = d.getUint8(1);
  const family = d.getUint8(10);
  const table = family ? dops.subarray(11, 13 + channels) : new Uint8Array(0);
  const out = new Uint8Array(19 + table.length);
  const o = new DataView(out.buffer);
  out.set(new TextEncoder().encode('OpusHead'));
  o.setUint8(8, 1);
  o.setUint8(9, channels);
  o.setUint16(10, d.getUint16(2), true); // pre-skip
  o.setUint32(12, d.getUint32(4), true); // input sample rate
  o.setInt16(16, d.getInt16(8), true); // output gain
  o.setUint8(18, family);
  out.set(table, 19);
  return out;
}

/** What this browser encodes the audio as: AAC-LC when it can, else Opus. */
export async function audioTarget(audio) {
  const base = {
    sampleRate: audio.sampleRate,
    numberOfChannels: audio.channels,
    bitrate: audio.channels > 2 ? 256_000 : 128_000,
  };
  for (const codec of ['mp4a.40.2', 'opus']) {
    try {
      const r = await AudioEncoder.isConfigSupported({ ...base, codec });
      if (r.supported) return { ...base, codec };
    } catch {
      /* not this one */
    }
  }
  return null;
}

/** Why this browser cannot decode the source's audio, or null when it can. */
export async function audioUndecodable(audio) {
  try {
    if ((await AudioDecoder.isConfigSupported(decoderConfig(audio))).supported) return null;
  } catch {
    /* not a codec string this browser knows */
  }
  return `this browser cannot decode the source's ${audio.codec} audio`;
}

function decoderConfig(audio) {
  const codec = audio.codec === 'mp3' ? 'mp3' : audio.codec;
  const cfg = { codec, sampleRate: audio.sampleRate, numberOfChannels: audio.channels };
  if (codec === 'opus' && audio.description) cfg.description = opusHead(audio.description);
  else if (audio.description && codec.startsWith('mp4a')) cfg.description = audio.description;
  return cfg;
}

/** The first `frames` frames of `data` (a new AudioData; `data` stays open). */
function head(data, frames) {
  const planes = data.format.endsWith('-planar') ? data.numberOfChannels : 1;
  const per = data.allocationSize({ planeIndex: 0, frameCount: frames });
  const buf = new Uint8Array(per * planes);
  for (let p = 0; p < planes; p++)
    data.copyTo(buf.subarray(p * per, (p + 1) * per), { planeIndex: p, frameCount: frames });
  const { format, sampleRate, numberOfChannels, timestamp } = data;
  return new AudioData({ format, sampleRate, numberOfChannels, numberOfFrames: frames, timestamp, data: buf });
}

/** `data` without its first `skip` frames (a new AudioData; `data` stays open). */
function tail(data, skip) {
  const frames = data.numberOfFrames - skip;
  const planes = data.format.endsWith('-planar') ? data.numberOfChannels : 1;
  const per = data.allocationSize({ planeIndex: 0, frameOffset: skip, frameCount: frames });
  const buf = new Uint8Array(per * planes);
  for (let p = 0; p < planes; p++)
    data.copyTo(buf.subarray(p * per, (p + 1) * per), { planeIndex: p, frameOffset: skip, frameCount: frames });
  const { format, sampleRate, numberOfChannels } = data;
  const timestamp = data.timestamp + Math.round((skip * 1e6) / sampleRate);
  return new AudioData({ format, sampleRate, numberOfChannels, numberOfFrames: frames, timestamp, data: buf });
}

/** The samples to decode for sound from `fromUs` on: from two samples before the one that holds it, so
 * that the decoder's overlap (AAC, MP3 and Opus frames overlap their neighbours) is filled when it gets
 * there. The columns are views. */
function samplesFrom(samples, fromUs) {
  let at = 0;
  while (at + 1 < samples.size.length && samples.timestampUs[at + 1] <= fromUs) at++;
  const a = Math.max(0, at - 2);
  return {
    offset: samples.offset.subarray(a),
    size: samples.size.subarray(a),
    timestampUs: samples.timestampUs.subarray(a),
    durationUs: samples.durationUs.subarray(a),
    key: samples.key.subarray(a),
  };
}

/**
 * Decode the source's audio `samples` (columns of Ladder.audioSamples()) and encode them as `target`,
 * up to `endUs` (the end of the video: HLS wants every rendition to cover the same time range, HLS
 * Authoring Spec 8.7, and an MP3 or Opus track runs on past the video by its frame padding).
 * `onChunk(chunk, metadata)` gets each encoded chunk. Resolves when every chunk is out.
 *
 * A resumed ladder gives `fromUs` (Ladder.resume()'s `audio.feedFromUs`): the encoder is given sound from
 * that instant on, cut out of the decoded AudioData to the sample, so it is fed on the first run's input
 * grid; its first chunks are the warm-up the core drops. `onFirstInput(us)` is told the timestamp of the
 * first AudioData the encoder gets (the grid a later resume starts on).
 */
/**
 * @param {{file: Blob, audio: NonNullable<import('../../lib/types.js').LadderSource['audio']>,
 *   samples: import('../core.js').SampleTable, target: {codec: string, sampleRate: number, numberOfChannels: number},
 *   endUs?: number, onChunk: (chunk: EncodedAudioChunk, meta?: EncodedAudioChunkMetadata) => void,
 *   signal?: AbortSignal, fromUs?: number | null, onFirstInput?: (us: number) => void}} job
 */
export async function encodeAudio({
  file,
  audio,
  samples,
  target,
  endUs = Infinity,
  onChunk,
  signal,
  fromUs = null,
  onFirstInput,
}) {
  const latch = faultLatch(signal);
  const fail = latch.fail;
  let lastOutput = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastOutput > STALL_MS)
      fail(new Error(`no audio came out of the codecs for ${STALL_MS / 1000} s: the audio encode stalled`));
  }, 1000);
  const encoder = new AudioEncoder({
    output: (chunk, meta) => {
      lastOutput = performance.now();
      try {
        onChunk(chunk, meta);
      } catch (e) {
        fail(e);
      }
    },
    error: (e) => fail(new Error(`the audio encoder (${target.codec}) failed: ${e.message}`)),
  });
  // The encoder is configured from the first decoded AudioData, not from the sample entry: MP4 writers
  // put channelcount 2 (and sometimes another rate) in an MP3 entry whatever the stream holds, and
  // WebCodecs refuses AudioData whose rate or channels differ from the configuration ("Input audio
  // buffer is incompatible with codec parameters").
  let configured = false;
  /** @param {AudioData} data */
  const give = (data) => {
    if (!configured) {
      encoder.configure({ ...target, sampleRate: data.sampleRate, numberOfChannels: data.numberOfChannels });
      configured = true;
      onFirstInput?.(data.timestamp);
    }
    const frames = Math.round(((endUs - data.timestamp) * data.sampleRate) / 1e6);
    if (frames >= data.numberOfFrames) encoder.encode(data);
    else if (frames > 0) {
      const cut = head(data, frames);
      encoder.encode(cut);
      cut.close();
    }
  };
  const decoder = new AudioDecoder({
    output: (data) => {
      lastOutput = performance.now();
      try {
        if (latch.error) return;
        // A resumed encode: the sound before `fromUs` is only the decoder's warm-up.
        const skip = fromUs == null ? 0 : Math.round(((fromUs - data.timestamp) * data.sampleRate) / 1e6);
        if (skip <= 0) give(data);
        else if (skip < data.numberOfFrames) {
          const rest = tail(data, skip);
          try {
            give(rest);
          } finally {
            rest.close();
          }
        }
      } catch (e) {
        fail(e);
      } finally {
        data.close();
      }
    },
    error: (e) => fail(new Error(`the source's audio (${audio.codec}) could not be decoded: ${e.message}`)),
  });
  decoder.configure(decoderConfig(audio));
  const codecs = [decoder, encoder];
  const roomy = () => decoder.decodeQueueSize <= QUEUE && encoder.encodeQueueSize <= QUEUE;
  try {
    // Every audio chunk is a key chunk to the decoder (AAC, MP3 and Opus frames decode on their own).
    const isKey = () => true;
    await feed({
      reader: new SampleReader(file, 1 << 20),
      samples: fromUs == null ? samples : samplesFrom(samples, fromUs),
      decoder,
      Chunk: EncodedAudioChunk,
      roomy,
      codecs,
      latch,
      pause: null,
      isKey,
    });
    if (!latch.error && configured) await Promise.race([encoder.flush(), stopped(latch.signal)]);
  } catch (e) {
    fail(e);
  } finally {
    clearInterval(watchdog);
    latch.dispose();
    codecs.forEach(closeQuietly);
  }
  if (latch.error) throw latch.error;
}
