// @ts-check
// One rung's VideoEncoder, replaced when it fails. A browser may reclaim a codec (WebCodecs § 11, "Codec
// reclamation": a background tab's codecs are closed with a QuotaExceededError) and a GPU encoder may
// crash; instead of failing the job, the rung gets a new VideoEncoder with the same configuration, which
// starts with a key frame at the start of the segment that was in progress (video.js re-decodes that
// segment's frames for it). At most MAX_RESTARTS per rung; then the job fails and says why.

export const MAX_RESTARTS = 3;

/** @typedef {import('../../lib/types.js').Rung} Rung */

/**
 * The test hook `failEncoderAt` (the page's `window.__upcastFailEncoderAt`): the encoder of rung `rung`
 * fails as a reclaimed codec does, right after its `frame`-th frame, `times` times (once by default, each
 * time counted from the new encoder's first frame).
 * @typedef {{rung: string, frame: number, times?: number}} FailAt
 */

/** The error of rung `r`'s encoder, in words (a reclaimed codec: WebCodecs § 11, "Codec reclamation"). */
export function refused(r, e) {
  const what = `rung ${r.id} (${r.codec} ${r.width}x${r.height} at ${r.framerate} fps)`;
  if (e.name === 'QuotaExceededError')
    return new Error(`${what}: the browser reclaimed the encoder (${e.message}); start again with this tab in front`);
  if (e.name === 'NotSupportedError') return new Error(`${what}: this browser cannot encode it (${e.message})`);
  return new Error(`${what}: the encoder failed: ${e.message}`);
}

export class RungEncoder {
  /**
   * @param {Rung} rung
   * @param {VideoEncoderConfig} config
   * @param {{onChunk: (chunk: EncodedVideoChunk, meta?: EncodedVideoChunkMetadata) => void,
   *          onOutput: () => void, onBroken: (rung: RungEncoder, e: unknown) => void,
   *          fail: (e: unknown) => void, failAt?: FailAt | null}} to
   */
  constructor(rung, config, { onChunk, onOutput, onBroken, fail, failAt }) {
    this.rung = rung;
    this.config = config;
    this.onChunk = onChunk;
    this.onOutput = onOutput;
    this.onBroken = onBroken;
    this.fail = fail;
    this.failAt = failAt?.rung === rung.id ? { frame: failAt.frame, times: failAt.times ?? 1 } : null;
    this.restarts = 0;
    /** Set while the encoder is broken and its replacement catches up (video.js). */
    this.broken = false;
    /** Presentation time (µs) of the last frame handed to the current encoder; -Infinity before any. */
    this.lastUs = -Infinity;
    this.given = 0;
    /** Presentation time (µs) of the first frame any of this rung's encoders was given (a resumed ladder's
     * starts at its resume point); null before any. */
    this.firstUs = null;
    /** @type {VideoEncoder} */
    this.enc = this.make();
  }

  /** A configured VideoEncoder whose outputs and errors are this rung's while it is the current one. */
  make() {
    const enc = new VideoEncoder({
      output: (chunk, meta) => {
        if (enc !== this.enc) return; // a replaced encoder's last words
        this.onOutput();
        try {
          this.onChunk(chunk, meta);
        } catch (e) {
          this.fail(e);
        }
      },
      error: (e) => this.broke(enc, e),
    });
    try {
      enc.configure(this.config);
    } catch (e) {
      // A configuration WebCodecs rejects outright (TypeError): no new encoder would take it either.
      this.fail(refused(this.rung, e));
    }
    return enc;
  }

  /** `enc` reported an error: a configuration it cannot encode fails the job, anything else replaces it. */
  broke(enc, e) {
    if (enc !== this.enc || this.broken) return;
    // Refused before its first frame: the configuration, which a new encoder would refuse too.
    if (e?.name === 'NotSupportedError' || (this.given === 0 && this.restarts === 0)) {
      this.fail(refused(this.rung, e));
      return;
    }
    if (this.restarts >= MAX_RESTARTS) {
      this.fail(
        new Error(
          `${refused(this.rung, e).message} — it was replaced ${MAX_RESTARTS} times already and failed again, so the ` +
            'ladder stops here (a browser that keeps reclaiming its encoders: keep this tab in front, or encode fewer rungs)',
        ),
      );
      return;
    }
    this.broken = true;
    this.onBroken(this, e);
  }

  /** Replace the broken encoder by a new one with the same configuration (video.js feeds it from the
   * segment's start). */
  restart() {
    const old = this.enc;
    this.restarts++;
    this.broken = false;
    this.given = 0;
    this.lastUs = -Infinity;
    this.enc = this.make();
    try {
      if (old.state !== 'closed') old.close();
    } catch {
      /* closed by its error */
    }
  }

  /** @param {VideoFrame} frame @param {boolean} keyFrame */
  encode(frame, keyFrame) {
    if (this.broken) return;
    const enc = this.enc;
    try {
      enc.encode(frame, { keyFrame });
    } catch (e) {
      // An encoder closed by an error reported after this frame was chosen for it (InvalidStateError).
      this.broke(enc, e);
      return;
    }
    this.lastUs = frame.timestamp;
    this.firstUs ??= frame.timestamp;
    this.given++;
    const f = this.failAt;
    if (f && f.times > 0 && this.given === f.frame) {
      f.times--;
      // What reclamation does: the codec is closed (pending outputs dropped) and its error callback runs.
      enc.close();
      this.broke(
        enc,
        new DOMException('Codec reclaimed (forced by the failEncoderAt test hook)', 'QuotaExceededError'),
      );
    }
  }

  get queueSize() {
    return this.broken || this.enc.state !== 'configured' ? 0 : this.enc.encodeQueueSize;
  }

  /** Flush the current encoder; an encoder that breaks meanwhile resolves (its replacement is flushed
   * by the caller once it has caught up). */
  async flush() {
    if (this.broken) return;
    const enc = this.enc;
    try {
      await enc.flush();
    } catch (e) {
      if (enc !== this.enc || this.broken) return;
      this.broke(enc, e);
      if (!this.broken) throw e;
    }
  }

  close() {
    try {
      if (this.enc.state !== 'closed') this.enc.close();
    } catch {
      /* already closed */
    }
  }
}
