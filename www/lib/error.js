// @ts-check
// The one error class of the library: what failed and where, as fields. The wasm core throws the same
// shape (wasm/src/web/error.rs); a Worker posts it as plain data (`errorData`), and the page side makes it
// an `UpcastError` again (`fromData`), so a caller reads `code`, `path` and `offset` instead of parsing text.

/**
 * @typedef {object} ErrorData What an error is, as it crosses from a Worker.
 * @property {string} message the whole message, as `upcast segment` prints it
 * @property {string} code a stable code: the core's (`malformed-mp4`, `unsupported-mp4`, `mp4-over-limit`,
 *   `not-mp4`, `read-failed`, `invalid-option`, `no-video`, `encoder-output`, `call-order`, `too-large`,
 *   `internal`: wasm/src/error.rs) or the library's (`worker-failed`, `wasm-trap`, `job-failed`)
 * @property {string | null} path the box path in the file (`moov/trak[0]/mdia/minf/stbl/stsz`), or null
 * @property {number | null} offset the absolute byte offset in the file, or null
 * @property {string} reason what is wrong, without the place
 * @property {boolean} trap the wasm module trapped (a bug, not the file): the next job gets a fresh one
 */

/** Codes of errors that are about the file's bytes (as opposed to an option, the browser or a codec). */
export const FILE_CODES = Object.freeze([
  'malformed-mp4',
  'unsupported-mp4',
  'mp4-over-limit',
  'not-mp4',
  'read-failed',
]);

/** A job of the library failed: a file the core refused, a Worker that failed, an encoder's error. */
export class UpcastError extends Error {
  /**
   * @param {string} message
   * @param {Partial<Omit<ErrorData, 'message'>>} [fields]
   */
  constructor(message, { code = 'job-failed', path = null, offset = null, reason = message, trap = false } = {}) {
    super(message);
    this.name = 'UpcastError';
    /** @type {string} */
    this.code = code;
    /** @type {string | null} */
    this.path = path;
    /** @type {number | null} */
    this.offset = offset;
    /** @type {string} */
    this.reason = reason;
    /** @type {boolean} */
    this.trap = trap;
  }

  /** Whether the file's bytes are the problem (the core refused it), rather than an option or the browser. */
  get aboutFile() {
    return FILE_CODES.includes(this.code);
  }

  /**
   * An error posted by a Worker, as an `UpcastError` again.
   * @param {ErrorData} d
   */
  static fromData(d) {
    return new UpcastError(d.message, d);
  }
}

/** @deprecated the same class as `UpcastError` (the name `segment()` used). */
export const SegmentError = UpcastError;
/** @deprecated the same class as `UpcastError` (the name `openLadder()` used). */
export const LadderError = UpcastError;

/**
 * Anything a Worker caught, as data to post: the core's `UpcastError` keeps its fields; a wasm trap and
 * any other exception (a codec's, a DOMException) get the library's codes.
 * @param {unknown} e
 * @returns {ErrorData}
 */
export function errorData(e) {
  const trap = e instanceof WebAssembly.RuntimeError;
  const message = e instanceof Error ? e.message : String(e);
  /** @type {Partial<ErrorData>} */
  const f =
    e && typeof e === 'object' && /** @type {Error} */ (e).name === 'UpcastError'
      ? /** @type {Partial<ErrorData>} */ (e)
      : {};
  return {
    message,
    code: f.code ?? (trap ? 'wasm-trap' : 'job-failed'),
    path: f.path ?? null,
    offset: f.offset ?? null,
    reason: f.reason ?? message,
    trap: f.trap ?? trap,
  };
}

/**
 * Why a job stopped when its signal was aborted.
 * @param {AbortSignal} signal
 * @returns {unknown}
 */
export function abortReason(signal) {
  return signal.reason ?? new DOMException('cancelled', 'AbortError');
}
