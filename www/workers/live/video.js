// @ts-check
// One rung of the live ladder: its VideoEncoder (`latencyMode: 'realtime'`, the capture scaled by the
// encoder to the rung's size) and the core's muxer for it (`class LiveRung`, a follower: it starts a
// segment at the key frame the Worker forces in every rung at the same frame). An encoder that fails
// mid-stream (an error, a codec the browser reclaimed) is made again at the next frame, which it encodes
// as a key frame: only the frames the failed encoder held are lost (counted), so no sample of the rung
// stretches past the origin's part-duration limit, as waiting for the next segment boundary did (a
// second-long sample, `422 bad-part-duration`, and the whole publish lost). At most MAX_RESTARTS per
// rung; then the rung stops (the others go on) until the next publish.
//
// The test hook `failAt` (the Go live page's `window.__upcastFailEncoderAt`, as on the upload page): the
// encoder of the rung labelled `rung` fails as a reclaimed codec does (closed, a QuotaExceededError) right
// after its `frame`-th frame, `times` times (once by default, each counted from the new encoder's start).

/** Frames queued in one encoder before a frame that is not a segment's first is dropped for it. */
const MAX_QUEUE = 4;
/** New encoders one rung gets in a publish before it stops. */
export const MAX_RESTARTS = 3;

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
   * @param {{rung: string, frame: number, times?: number} | null} [failAt] test hook (above)
   */
  constructor(plan, onChunk, onTrouble, failAt = null) {
    this.plan = plan;
    this.failAt = failAt?.rung === plan.label ? { frame: failAt.frame, times: failAt.times ?? 1 } : null;
    /** Frames given to the current encoder (the test hook counts them), and its chunks out. */
    this.given = 0;
    this.out = 0;
    /** Encoders that failed, and those made again after a failure. */
    this.failures = 0;
    this.restarts = 0;
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
        if (enc !== this.encoder) return; // a failed encoder's last words
        this.out++;
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
        // Only an encoder's first chunk carries the description: a new publish (a new muxer per
        // rendition, made at its first key frame) gets the one this rung has.
        this.onChunk(this, chunk, desc ?? this.description);
      },
      error: (e) => this.fail(`${e.name}: ${e.message}`),
    });
    enc.configure(liveEncoderConfig(this.plan));
    // (A rung the Worker turned off for the uplink and back on with a new publish is no restart.)
    const again = this.failures > this.restarts;
    this.encoder = enc;
    this.broken = false;
    this.given = 0;
    this.out = 0;
    if (again) {
      this.restarts++;
      this.dropReason = `encoder failed and made again (${this.restarts}×)`;
      this.onTrouble(this, `${this.plan.label}: a new encoder took over with a key frame (${this.restarts}×)`);
    }
  }

  /** @param {string} why */
  fail(why) {
    if (this.broken) return;
    this.broken = true;
    this.failures++;
    // The frames it was given and did not put out are lost with it.
    this.dropped.encoder += Math.max(0, this.given - this.out);
    this.dropReason = `encoder failed (${why})`;
    this.onTrouble(this, `${this.plan.label}: the encoder failed (${why}); a new one takes over at the next frame`);
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
      if (this.restarts >= MAX_RESTARTS) {
        this.active = false;
        this.dropReason = `the encoder failed ${this.restarts + 1} times; this rung stops until the next publish`;
        this.onTrouble(this, `${this.plan.label}: ${this.dropReason}. The other rungs go on.`);
        return;
      }
      try {
        this.open();
      } catch (e) {
        this.fail(String(e));
        this.dropped.encoder++;
        return;
      }
      // A new encoder starts with a key frame (the muxer starts no segment there unless it is a cut).
      key = true;
    }
    if (!key && this.queue >= MAX_QUEUE) {
      this.dropped.busy++;
      this.dropReason = `encoder busy (${this.queue} frames queued)`;
      return;
    }
    try {
      // A key frame (the one every rung cuts at, or a new encoder's first) is never skipped: the rungs'
      // segments must start together.
      this.encoder.encode(frame, { keyFrame: key });
      this.frames++;
      this.given++;
    } catch (e) {
      this.fail(String(e));
    }
    if (this.failAt && this.failAt.times > 0 && this.given === this.failAt.frame) {
      this.failAt.times--;
      // What a reclaimed codec does: the browser closes it and its error callback gets a QuotaExceededError.
      this.encoder?.close();
      this.fail('QuotaExceededError: Codec reclaimed (forced by the failEncoderAt test hook)');
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
