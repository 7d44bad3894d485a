// @ts-check
// The live ladder's audio, encoded once and shared by every rung (its own rendition, `audio`): AAC where
// the browser's AudioEncoder has it (Apple devices play it everywhere), else Opus (what Chromium and
// Firefox ship). The encoder is configured from the first AudioData (its rate and channels).

/** @param {number} sampleRate @param {number} numberOfChannels */
export async function audioConfig(sampleRate, numberOfChannels) {
  const channels = Math.min(2, numberOfChannels);
  /** @type {AudioEncoderConfig[]} */
  const tries = [
    { codec: 'mp4a.40.2', sampleRate, numberOfChannels: channels, bitrate: 128_000 },
    // Opus runs at 48 kHz whatever the input (the encoder resamples); 20 ms frames.
    { codec: 'opus', sampleRate: 48_000, numberOfChannels: channels, bitrate: 96_000 },
  ];
  for (const c of tries) {
    try {
      const r = await AudioEncoder.isConfigSupported(c);
      if (r.supported) return c;
    } catch {
      /* a codec this browser does not know */
    }
  }
  return null;
}

export class AudioRung {
  /**
   * @param {(chunk: EncodedAudioChunk, description: Uint8Array | null) => void} onChunk
   * @param {(message: string) => void} onTrouble
   */
  constructor(onChunk, onTrouble) {
    this.onChunk = onChunk;
    this.onTrouble = onTrouble;
    /** @type {AudioEncoder | null} */
    this.encoder = null;
    /** @type {Promise<void> | null} */
    this.opening = null;
    /** @type {AudioEncoderConfig | null} */
    this.config = null;
    /** @type {Uint8Array | null} the encoder's decoder configuration (AudioSpecificConfig, OpusHead) */
    this.description = null;
    this.frames = 0;
    this.dropped = 0;
    this.failed = false;
  }

  /** 'aac' or 'opus', the core's name, once configured. */
  get coreCodec() {
    return this.config?.codec === 'opus' ? 'opus' : 'aac';
  }

  /** @param {AudioData} data */
  async open(data) {
    const cfg = await audioConfig(data.sampleRate, data.numberOfChannels);
    if (!cfg) {
      this.fail('this browser encodes neither AAC nor Opus; the stream goes out without sound');
      return;
    }
    this.config = cfg;
    this.encoder = new AudioEncoder({
      output: (chunk, meta) => {
        const d = meta?.decoderConfig?.description;
        const desc = d
          ? new Uint8Array(ArrayBuffer.isView(d) ? d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) : d)
          : null;
        // Only the first chunk carries it; a new publish's muxer, made at its first chunk, needs it too.
        if (desc) this.description = desc;
        this.onChunk(chunk, desc ?? this.description);
      },
      error: (e) => this.fail(`${e.name}: ${e.message}`),
    });
    this.encoder.configure(cfg);
  }

  /** @param {string} why */
  fail(why) {
    if (this.failed) return;
    this.failed = true;
    this.onTrouble(`audio: ${why}`);
    try {
      this.encoder?.close();
    } catch {
      /* closed already */
    }
  }

  /** Encode and close `data` (its timestamp already on the stream's clock). @param {AudioData} data */
  async encode(data) {
    try {
      if (this.failed) return;
      if (!this.opening) this.opening = this.open(data);
      await this.opening;
      if (this.failed || !this.encoder || this.encoder.state !== 'configured') return;
      if (this.encoder.encodeQueueSize > 32) {
        this.dropped++;
        return;
      }
      this.encoder.encode(data);
      this.frames++;
    } catch (e) {
      this.fail(String(e));
    } finally {
      data.close();
    }
  }

  /**
   * A new publish (media time from 0 again): a new encoder at the next piece. An AudioEncoder stamps its
   * output by counting samples from its first input (Chromium's Opus), so one kept across publishes
   * would go on from the old publish's end: its sound seconds ahead of the video, the origin's clock
   * anchored on it and every video part's lag off by as much (seen as the top rung dropped for a 6 s
   * "lag" after each new publish).
   */
  restart() {
    if (this.failed || !this.encoder) return;
    if (this.encoder.state !== 'closed') this.encoder.close();
    this.encoder = null;
    this.opening = null;
  }

  async flush() {
    if (this.encoder?.state === 'configured') await this.encoder.flush().catch(() => {});
  }

  close() {
    if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
  }
}
