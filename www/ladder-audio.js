// The audio of a ladder whose source audio is not AAC (Opus, MP3): decoded with AudioDecoder and encoded
// again with AudioEncoder — AAC where this browser can encode it (Apple devices play it everywhere), else
// Opus (Chromium and Firefox have no AAC encoder; Safari plays Opus in fMP4 from iOS 17 / macOS 14 only).
import { SampleReader } from './sample-reader.js';
import { until, closeQuietly } from './codec-queue.js';

const QUEUE = 16;

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
  const base = { sampleRate: audio.sampleRate, numberOfChannels: audio.channels, bitrate: audio.channels > 2 ? 256_000 : 128_000 };
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

function decoderConfig(audio) {
  const codec = audio.codec === 'mp3' ? 'mp3' : audio.codec;
  const cfg = { codec, sampleRate: audio.sampleRate, numberOfChannels: audio.channels };
  if (codec === 'opus' && audio.description) cfg.description = opusHead(audio.description);
  else if (audio.description && codec.startsWith('mp4a')) cfg.description = audio.description;
  return cfg;
}

/**
 * Decode the source's audio `samples` (columns of Ladder.audioSamples()) and encode them as `target`.
 * `onChunk(chunk, metadata)` gets each encoded chunk. Resolves when every chunk is out.
 */
export async function encodeAudio({ file, audio, samples, target, onChunk, signal }) {
  let fault = null;
  const inner = new AbortController();
  const fail = (e) => {
    if (fault) return;
    fault = e instanceof Error ? e : new Error(String(e));
    inner.abort(fault);
  };
  const onOuterAbort = () => fail(signal.reason ?? new DOMException('cancelled', 'AbortError'));
  signal?.addEventListener('abort', onOuterAbort);
  const encoder = new AudioEncoder({
    output: (chunk, meta) => {
      try {
        onChunk(chunk, meta);
      } catch (e) {
        fail(e);
      }
    },
    error: (e) => fail(new Error(`the audio encoder (${target.codec}) failed: ${e.message}`)),
  });
  encoder.configure(target);
  const decoder = new AudioDecoder({
    output: (data) => {
      try {
        if (!fault) encoder.encode(data);
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
    const reader = new SampleReader(file, 1 << 20);
    for (let i = 0; i < samples.size.length && !fault; i++) {
      if (!roomy()) await until(roomy, codecs, inner.signal);
      const data = await reader.read(samples.offset[i], samples.size[i]);
      if (fault) break;
      decoder.decode(
        new EncodedAudioChunk({
          type: 'key',
          timestamp: Math.round(samples.timestampUs[i]),
          duration: Math.round(samples.durationUs[i]),
          data,
        }),
      );
    }
    if (!fault) await decoder.flush();
    if (!fault) await encoder.flush();
  } catch (e) {
    fail(e);
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
    codecs.forEach(closeQuietly);
  }
  if (fault) throw fault;
}
