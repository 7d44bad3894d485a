// @ts-check
// One rung of the live ladder: its VideoEncoder (`latencyMode: 'realtime'`, the capture scaled by the
// encoder to the rung's size) and the core's muxer for it (`class LiveRung`, a follower: it starts a
// segment at the key frame the Worker forces in every rung at the same frame). An encoder that fails
// mid-stream (an error, a codec the browser reclaimed) is made again at the next segment boundary, where
// a key frame is due anyway; until then the rung's frames are dropped and counted.

/** Frames queued in one encoder before a frame that is not a segment's first is dropped for it. */
const MAX_QUEUE = 4;

/**
 * @typedef {object} RungPlan
 * @property {string} label e.g. `720p`
 * @property {string} codec WebCodecs codec string
 * @property {number} width @property {number} height @property {number} bitrate @property {number} framerate
 * @property {HardwareAcceleration} [hardwareAcceleration]
 */

/** @param {RungPlan} r @returns {VideoEncoderConfig} */
export function liveEncoderConfig(r) {
  /** @type {VideoEncoderConfig} */
  const cfg = {
    codec: r.codec,
    width: r.width,
    height: r.height,
    bitrate: r.bitrate,
    framerate: r.framerate,
    bitrateMode: 'variable',
    latencyMode: 'realtime',
    hardwareAcceleration: r.hardwareAcceleration ?? 'no-preference',
  };
  // Length-prefixed NAL units and an avcC description, as CMAF wants (not Annex B).
  if (r.codec.startsWith('avc')) cfg.avc = { format: 'avc' };
  return cfg;
}

/** The core's codec name for a WebCodecs codec string. */
export const coreCodec = (codec) =>
  codec.startsWith('avc') ? 'h264' : codec.startsWith('av01') ? 'av1' : codec.startsWith('vp09') ? 'vp9' : 'hevc';

const sameBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

export class VideoRung {
  /**
   * @param {RungPlan} plan
   * @param {(rung: VideoRung, chunk: EncodedVideoChunk, description: Uint8Array | null) => void} onChunk
   * @param {(rung: VideoRung, message: string) => void} onTrouble
   */
  constructor(plan, onChunk, onTrouble) {
    this.plan = plan;
    this.onChunk = onChunk;
    this.onTrouble = onTrouble;
    /** @type {VideoEncoder | null} */
    this.encoder = null;
    /** @type {Uint8Array | null} the first encoder's description: the init segment the origin has */
    this.description = null;
    this.frames = 0;
    this.dropped = { busy: 0, encoder: 0, uplink: 0 };
    /** @type {string | null} why frames are dropped now */
    this.dropReason = null;
    this.active = true;
    /** Paused because the uplink could not keep up (the Worker brings it back): its frames are dropped. */
    this.pausedForUplink = false;
    this.broken = false;
    this.open();
  }

  open() {
    const enc = new VideoEncoder({
      output: (chunk, meta) => {
        const d = meta?.decoderConfig?.description;
        const desc = d
          ? new Uint8Array(ArrayBuffer.isView(d) ? d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) : d)
          : null;
        if (desc && this.description && !sameBytes(desc, this.description)) {
          this.fail('the new encoder writes other parameter sets; this rung stops (publish again to bring it back)');
          this.active = false;
          return;
        }
        if (desc && !this.description) this.description = desc;
        this.onChunk(this, chunk, desc);
      },
      error: (e) => this.fail(`${e.name}: ${e.message}`),
    });
    enc.configure(liveEncoderConfig(this.plan));
    this.encoder = enc;
    this.broken = false;
  }

  /** @param {string} why */
  fail(why) {
    if (this.broken) return;
    this.broken = true;
    this.dropReason = `encoder failed (${why}); made again at the next segment`;
    this.onTrouble(
      this,
      `${this.plan.label}: the encoder failed (${why}); it is made again at the next segment boundary`,
    );
    try {
      if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    } catch {
      /* already closed by the browser */
    }
    this.encoder = null;
  }

  get queue() {
    return this.encoder?.encodeQueueSize ?? 0;
  }

  /**
   * Encode `frame` (the caller keeps ownership and closes it); `key` at a segment boundary.
   * @param {VideoFrame} frame @param {boolean} key
   */
  encode(frame, key) {
    if (!this.active) {
      if (this.pausedForUplink) this.dropped.uplink++;
      return;
    }
    if (this.broken || !this.encoder || this.encoder.state === 'closed') {
      if (!key) {
        this.dropped.encoder++;
        return;
      }
      try {
        this.open();
      } catch (e) {
        this.fail(String(e));
        this.dropped.encoder++;
        return;
      }
    }
    if (!key && this.queue >= MAX_QUEUE) {
      this.dropped.busy++;
      this.dropReason = `encoder busy (${this.queue} frames queued)`;
      return;
    }
    try {
      // The key frame every rung cuts at is never skipped: the rungs' segments must start together.
      this.encoder.encode(frame, { keyFrame: key });
      this.frames++;
    } catch (e) {
      this.fail(String(e));
    }
  }

  async flush() {
    if (this.encoder && this.encoder.state === 'configured') await this.encoder.flush().catch(() => {});
  }

  close() {
    this.active = false;
    if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    this.encoder = null;
  }
}
