// @ts-check
// upcast's adaptive ladder as a library: the source is decoded once with WebCodecs in a Worker, every rung
// is encoded from the same frames with key frames at the same instants, and each rung is muxed into CMAF
// by the wasm core. Files become available as they are finished, so they can be uploaded while later
// parts are still encoding.
//
//   import { openLadder } from '@upcast/browser';   // or './lib/index.js' beside the pages
//   const job = await openLadder(file, { targetDuration: 6 });
//   job.source, job.candidates, job.proposal      // what was found; what this browser can encode; the plan
//   job.decodeProblem                               // set when this browser cannot decode the source: copy only
//   const pkg = job.run({ rungs: job.proposal.rungs, copy: job.proposal.copy, onProgress, signal });
//   pkg.list / pkg.files / await pkg.at(i)         // grows as files are finished
//   await pkg.done                                  // {summary}: every file is there, playlists last
//
// or in one call: `const pkg = await ladder(file, { targetDuration: 6, onProgress })`.
import { findings } from './findings.js';
import { PackageFile, SourceReader, timeOrder } from './package-file.js';
import { WorkerClient } from './worker-rpc.js';

/** @typedef {import('./types.js').Summary} Summary */
/** @typedef {import('./types.js').Recipe} Recipe */

/** @typedef {import('./types.js').Rung} Rung */
/** @typedef {Rung & {supported: boolean, reason: string | null}} Candidate */

/** @typedef {import('./types.js').LadderSource} LadderSource */

/**
 * @typedef {object} RunOptions
 * @property {Rung[]} [rungs] the rungs to encode (default: the proposal's)
 * @property {boolean} [copy] copy the source as the top rung (default: the proposal's)
 * @property {(p: LadderProgress) => void} [onProgress]
 * @property {AbortSignal} [signal]
 * @property {boolean} [storyboard] draw the storyboard's tiles from the decoded frames (default true);
 *   its files arrive before the playlists, and `pkg.storyboard` says what it holds
 * @property {{captions?: {lang: string, name?: string, default?: boolean, forced?: boolean, bytes: Uint8Array}[],
 *   chapters?: string, sourceChapters?: boolean}} [text] caption files and chapters, as `segment()` takes
 *   them: announced in the ladder's master.m3u8 and MPD when it finishes (a bad caption file is refused
 *   before encoding starts); the source's own chapters are the chapters track unless `chapters` is given or
 *   `sourceChapters` is false
 * @property {number} [maxPendingBytes] encoding waits while more than this many bytes of finished files
 *   are not yet released (`pkg.release(f)`)
 * @property {{rung: string, frame: number, times?: number} | null} [failEncoderAt] test hook: rung `rung`'s
 *   encoder fails as a reclaimed codec does after its `frame`-th frame, `times` times (see
 *   workers/ladder/rung-encoder.js); a failed encoder is replaced at most 3 times per rung
 * @property {object[] | null} [resume] the `record`s of an earlier run's encoded segments the origin still
 *   has (each encoded segment file carries its `record`, JSON text, to keep once it is stored): encoding
 *   starts at the first segment an encoded rendition lacks, and the segments before it are not made again
 * @property {(r: {segment: number, atUs: number}) => void} [onResume] told where a resumed run starts
 * @property {Record<string, string> | null} [storedInits] with `resume`: the SHA-256 of each rendition's
 *   stored `init.mp4` (the origin's listing). A rung whose encoder now writes another init (or whose stored
 *   init is not given) is not resumed: it is encoded again from its first segment (workers/ladder/init-check.js)
 * @property {(r: {rung: string, height: number}) => void} [onEncoderChanged] told of each such rung (its
 *   stored segments' records are of no more use)
 * @property {{path: string, size: number}[] | null} [storedBoard] with `resume`: the files under
 *   `storyboard/` the origin has (path and size); a
 *   complete storyboard of the first run is announced again, not drawn twice (a resumed ladder otherwise
 *   draws its storyboard from the source's key frames)
 * @property {{rung: string, codec: string} | null} [encoderCodec] test hook: rung `rung`'s encoder is
 *   configured with `codec` (another H.264 profile) instead of the rung's own codec string
 */

/**
 * @typedef {object} LadderProgress
 * @property {{id: string, width: number, height: number, frames: number, total: number, fps: number,
 *   etaS: number | null, restarts: number}[]} rungs (`restarts`: how often its encoder was replaced)
 * @property {number} total frames of the source
 * @property {any} video
 * @property {any} audio
 * @property {number} pendingBytes
 */

/** A file an encoder made: its bytes are in memory until the package lets them go (`release`). */
class EncodedFile extends PackageFile {
  /** @param {{path: string, type: string, bytes: Uint8Array<ArrayBuffer>, record?: string}} f (its MIME
   * type is the core's; `record`: what a resumed run needs of an encoded segment, JSON) */
  constructor({ path, type, bytes, record }) {
    super(null, { path, size: bytes.length, type, head: bytes, layout: null });
    this.encoded = true;
    /** @type {string | null} */
    this.record = record ?? null;
  }

  /** @param {Uint8Array<ArrayBuffer>} [into] */
  async bytes(into) {
    if (!this.head) throw new Error(`${this.path}: its bytes were released after it was uploaded`);
    return super.bytes(into);
  }
}

/** A package whose files arrive over time; `at(i)` waits for the i-th, and is null past the last one. */
export class GrowingPackage {
  /** @param {{onRelease?: (bytes: number) => void}} [options] */
  constructor({ onRelease } = {}) {
    /** @type {PackageFile[]} */
    this.list = [];
    /** @type {Map<string, PackageFile>} */
    this.files = new Map();
    /** @type {Summary | null} */
    this.summary = null;
    /** @type {string[]} */
    this.findings = [];
    /** @type {(import('./storyboard.js').StoryboardInfo | {problem: string}) | null} what the storyboard holds */
    this.storyboard = null;
    this.complete = false;
    /** @type {unknown} */
    this.error = null;
    this.expectedBytes = 0;
    this.onRelease = onRelease;
    /** @type {(() => void)[]} */
    this.wake = [];
    /** @type {{resolve: (p: GrowingPackage) => void, reject: (e: unknown) => void}} */
    this.settle = { resolve: () => {}, reject: () => {} };
    /** @type {Promise<GrowingPackage>} every file is there, playlists last */
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  /** @param {PackageFile[]} files */
  add(files) {
    for (const f of files) {
      this.list.push(f);
      this.files.set(f.path, f);
    }
    this.notify();
  }

  /** @param {Summary} summary */
  end(summary) {
    this.summary = summary;
    this.findings = findings(summary);
    this.complete = true;
    this.notify();
    this.settle.resolve(this);
  }

  /** @param {unknown} e */
  fail(e) {
    if (this.complete || this.error) return;
    this.error = e;
    this.notify();
    this.settle.reject(e);
  }

  notify() {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  /** @param {number} i @returns {Promise<PackageFile | null>} */
  async at(i) {
    for (;;) {
      if (i < this.list.length) return this.list[i];
      if (this.error) throw this.error;
      if (this.complete) return null;
      await new Promise((r) => {
        this.wake.push(() => r(undefined));
      });
    }
  }

  /** The caller is done with `f` (it is uploaded): an encoded file's bytes are dropped (its size and
   * SHA-256 stay), and the encoder may go on if it was waiting for room.
   * @param {PackageFile} f */
  release(f) {
    if (!(f instanceof EncodedFile) || !f.head) return;
    f.head = null;
    this.onRelease?.(f.size);
  }
}

const workerUrl = new URL('../workers/ladder-worker.js', import.meta.url);

/**
 * Demux and plan `file` in a fresh Worker, and ask this browser which rungs it can encode. Rejects with an
 * `UpcastError` (`code`, `path`, `offset`) when the file cannot be laddered.
 * @param {Blob} file
 * `assumeHardware` (codec string prefixes such as 'av01') is a test hook: encoders of those codecs that this
 * browser supports are reported as hardware ones, to see the proposal a hardware encoder gets.
 * @param {{targetDuration?: number, limits?: Record<string, number>, signal?: AbortSignal,
 *   assumeHardware?: string[] | null}} [options]
 * @returns {Promise<LadderJob>}
 */
export async function openLadder(file, { targetDuration = 6, limits, signal, assumeHardware = null } = {}) {
  const worker = new WorkerClient(workerUrl);
  const options = { plan: { targetDurationS: targetDuration }, ...(limits && { limits }) };
  const opened = await worker.request(
    { type: 'open', file, options, assumeHardware },
    { until: 'opened', failure: 'the encoder could not start', signal },
  );
  return new LadderJob(worker, file, opened);
}

export class LadderJob {
  /** @param {WorkerClient} worker @param {Blob} file @param {Record<string, any>} opened */
  constructor(worker, file, opened) {
    this.worker = worker;
    this.file = file;
    /** @type {LadderSource} */
    this.source = opened.source;
    /** @type {Candidate[]} */
    this.candidates = opened.candidates;
    /** @type {{rungs: Rung[], copy: boolean, copyReason: string | null, av1Note: string | null}} the rungs
     * proposed (AV1 ones beside H.264's when AV1 is encoded in hardware) and why AV1 is or is not in it */
    this.proposal = opened.proposal;
    /** @type {Summary} */
    this.summary = opened.summary;
    /** @type {{codec: string, sampleRate: number, numberOfChannels: number} | null} */
    this.audioTarget = opened.audioTarget;
    /** @type {string | null} why the source's non-AAC audio cannot be re-encoded here */
    this.audioProblem = opened.audioProblem;
    /** @type {string | null} why no rung can be encoded here (only the copy is left) */
    this.decodeProblem = opened.decodeProblem;
    /** @type {{api: string, codec: string, hardware: boolean} | null} how the source's video is decoded
     * for the encoders (null when it cannot be) */
    this.decodePath = opened.decodePath;
    /** @type {number} */
    this.rotation = opened.rotation;
    this.started = false;
  }

  /**
   * Encode `rungs` (and copy the source as the top rung when `copy`). Returns the growing package at
   * once. `onProgress({rungs: [{id, frames, total, fps, etaS}], decoded, total, audio, ms})`.
   * `maxPendingBytes`: encoding waits while more than this many bytes of finished files are not yet
   * released (`pkg.release(f)`), so memory stays flat when the consumer (an upload) is slower.
   * @param {RunOptions} [options]
   * @returns {GrowingPackage}
   */
  run({
    rungs = this.proposal.rungs,
    copy = this.proposal.copy,
    onProgress,
    signal,
    maxPendingBytes = Infinity,
    storyboard = true,
    failEncoderAt = null,
    text,
    resume = null,
    onResume,
    storedInits = null,
    storedBoard = null,
    onEncoderChanged,
    encoderCodec = null,
  } = {}) {
    if (this.started) throw new Error('a ladder job runs once; open the file again');
    this.started = true;
    const w = this.worker;
    const pkg = new GrowingPackage({ onRelease: (bytes) => w.post({ type: 'release', bytes }) });
    const source = new SourceReader(this.file);
    const seconds = this.source.video.durationUs / 1e6;
    pkg.expectedBytes = Math.round(
      ((rungs.reduce((n, r) => n + r.bitrate, 0) + (copy ? this.source.video.bitrate : 0) + 128_000) * seconds) / 8,
    );
    const totalFrames = this.source.video.frames;
    /** @param {(Recipe | {path: string, type: string, bytes: Uint8Array<ArrayBuffer>, layout?: undefined})[]} files */
    const wrap = (files) => files.map((f) => ('bytes' in f ? new EncodedFile(f) : new PackageFile(source, f)));
    /** @param {Record<string, any>} data */
    const progress = (data) => {
      const v = data.video;
      onProgress?.({
        video: v,
        audio: data.audio,
        pendingBytes: data.pendingBytes,
        total: totalFrames,
        rungs: rungs.map((r, i) => {
          const frames = Math.min(totalFrames, v?.rungs[i]?.frames ?? 0);
          const fps = v && v.ms > 0 ? (frames * 1000) / v.ms : 0;
          return {
            id: r.id,
            width: r.width,
            height: r.height,
            frames,
            total: totalFrames,
            fps,
            etaS: fps > 0 ? (totalFrames - frames) / fps : null,
            restarts: v?.rungs[i]?.restarts ?? 0,
          };
        }),
      });
    };
    const request = {
      type: 'run',
      rungs,
      copy,
      storyboard,
      text,
      maxPendingBytes: Number.isFinite(maxPendingBytes) ? maxPendingBytes : null,
      failEncoderAt,
      resume,
      storedInits,
      storedBoard,
      encoderCodec,
    };
    w.request(request, {
      until: 'done',
      failure: 'the encoder stopped',
      signal,
      onReply: (data) => {
        if (data.type === 'files')
          pkg.add(data.files[0]?.layout !== undefined ? timeOrder(wrap(data.files)) : wrap(data.files));
        else if (data.type === 'progress') progress(data);
        else if (data.type === 'resumed') onResume?.({ segment: data.segment, atUs: data.atUs });
        else if (data.type === 'encoder-changed') onEncoderChanged?.({ rung: data.rung, height: data.height });
      },
    }).then(
      (done) => {
        pkg.add(wrap(done.files));
        w.terminate(); // a fresh module instance for the next job
        pkg.storyboard = done.storyboard ?? null;
        pkg.end(done.summary);
      },
      (e) => pkg.fail(e), // the Worker is terminated already
    );
    return pkg;
  }

  /** Drop the Worker without running (a job that was only looked at). */
  close() {
    if (!this.started) this.worker.terminate();
    this.started = true;
  }
}

/**
 * Open, propose and run in one call; resolves to the complete package.
 * @param {Blob} file
 * @param {{targetDuration?: number, limits?: Record<string, number>} & RunOptions} [options]
 */
export async function ladder(file, { targetDuration, limits, rungs, copy, onProgress, signal } = {}) {
  const job = await openLadder(file, { targetDuration, limits, signal });
  return job.run({ rungs, copy, onProgress, signal }).done;
}
