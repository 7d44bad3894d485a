// @ts-check
// The ladder's dedicated Worker (`openLadder()` in lib/ladder.js): the wasm core's `class Ladder` (full build) demuxes and plans the File,
// WebCodecs decodes it once and encodes every rung, and the core muxes each rung's chunks into CMAF and
// writes the playlists. Files go to the page as soon as they are complete.
//
// Messages in:  {type: 'open', file, options, assumeHardware} · {type: 'run', rungs, copy, maxPendingBytes} ·
//               {type: 'release', bytes} (`storyboard: false` in 'run': no storyboard; `failEncoderAt`:
//               the test hook of ladder/rung-encoder.js; `resume`: the records of an earlier run's
//               segments the origin has, see resumeAt(); `storedInits`: the SHA-256 of each rendition's
//               stored init.mp4, see ladder/init-check.js; `encoderCodec`: the test hook that configures
//               one rung's encoder with another codec string, {rung, codec}; `storedBoard`: the paths
//               and sizes of the files under storyboard/ the origin has, see storyboard/stored.js)
// Messages out: {type: 'opened', source, candidates, proposal, summary, audioTarget, rotation, decodePath} ·
//               {type: 'resumed', segment, atUs} (only when encoding starts past the first segment) ·
//               {type: 'encoder-changed', rung, height} (a rung with stored segments is encoded again from
//               its first: its encoder's init differs from the stored one) ·
//               {type: 'files', files: [{path, bytes} | recipe]} (the planned playlists first, see
//               postPlanned; the measured ones again in 'done') · {type: 'progress', ...} ·
//               {type: 'done', files, summary} · {type: 'error', error} (workers/worker-host.js)

import { audioTarget, audioUndecodable, encodeAudio } from './ladder/audio.js';
import { avcDescription } from './ladder/avc-config.js';
import { checkEncoders, sameBytes } from './ladder/init-check.js';
import { decoderConfig, encoderConfig, encodeVideo } from './ladder/video.js';
import { drawFromKeyFrames } from './storyboard/keyframes.js';
import { Sheets, storyboardFiles, tileTargets } from './storyboard/sheets.js';
import { completeStoredBoard } from './storyboard/stored.js';
import { loadCore, serve } from './worker-host.js';

/** @typedef {import('../lib/types.js').Rung} Rung */
/** @typedef {import('./core.js').Ladder} Ladder */

/**
 * The open job: the core's ladder over the File, and what this browser can do with it.
 * @typedef {object} Job
 * @property {Ladder} ladder
 * @property {File} file
 * @property {import('../lib/types.js').LadderSource} source
 * @property {number} rotation
 * @property {{codec: string, sampleRate: number, numberOfChannels: number, bitrate: number} | null} audio
 * @property {string | null} audioProblem
 * @property {string | null} decodeProblem
 */

/** @type {Job | null} */
let job = null;
let pending = 0; // bytes of files posted and not yet released by the page
let maxPending = Infinity;
/** @type {(() => void)[]} */
let waiters = [];

/** Hardware first, then software: the first configuration this browser says it can encode. Supported
 * with 'prefer-hardware' means a hardware encoder (Chromium answers that query from its accelerated
 * encoders only; WebCodecs has no 'require'). `assumeHardware` (codec string prefixes) is the page test's
 * hook: a configuration supported in software is reported as hardware, to show the proposal a hardware
 * encoder gets (nothing is encoded with it). */
async function support(c, assumeHardware = []) {
  for (const hardwareAcceleration of ['prefer-hardware', 'prefer-software']) {
    try {
      const r = await VideoEncoder.isConfigSupported(encoderConfig({ ...c, hardwareAcceleration }));
      if (!r.supported) continue;
      const assumed = assumeHardware.some((p) => c.codec.startsWith(p));
      return { ...c, hardwareAcceleration: assumed ? 'prefer-hardware' : hardwareAcceleration };
    } catch {
      /* a configuration this browser cannot even parse */
    }
  }
  return null;
}

/** How the source's video is decoded for the encoders: WebCodecs' VideoDecoder with its codec string, in
 * hardware when a 'prefer-hardware' configuration is supported. The page names it (a VP8 source has every
 * rendition encoded from these frames). */
async function decodePath(video, rotation) {
  let hardware = false;
  try {
    const cfg = { ...decoderConfig(video, rotation), hardwareAcceleration: 'prefer-hardware' };
    hardware = (await VideoDecoder.isConfigSupported(/** @type {VideoDecoderConfig} */ (cfg))).supported === true;
  } catch {
    /* unknown codec string: `undecodable` says so */
  }
  return { api: 'VideoDecoder', codec: video.codec, hardware };
}

/** Why this browser cannot decode the source's video (null when it can): nothing can be encoded then. */
async function undecodable(video, rotation) {
  try {
    const r = await VideoDecoder.isConfigSupported(decoderConfig(video, rotation));
    if (r.supported) return null;
  } catch {
    /* a codec string this browser does not know at all */
  }
  const name =
    { hvc1: 'HEVC', hev1: 'HEVC', avc1: 'H.264', avc3: 'H.264', vp09: 'VP9', av01: 'AV1', vp8: 'VP8' }[
      video.codec.slice(0, 4)
    ] ?? 'video';
  // VP8 is never copied: without a decoder nothing of its picture can be published.
  if (name === 'VP8')
    return "this browser's WebCodecs cannot decode VP8 (VideoDecoder “vp8” is not supported), and VP8 cannot be copied: no video can be made from this file here (untick the ladder to publish its sound alone)";
  return `this browser cannot decode the source's ${name} video (${video.codec}), so no lower rendition can be encoded from it`;
}

/** @param {{file: File, options: object, assumeHardware?: string[] | null}} request */
async function open({ file, options, assumeHardware }) {
  const { Ladder } = await loadCore('upcast_full');
  const ladder = new Ladder(file, options);
  const source = ladder.source();
  const summary = ladder.summary();
  const track = summary.tracks.find((t) => t.kind === 'video' && t.packaged);
  const rotation = track?.rotation ?? 0;
  const candidates = ladder.candidates();
  const decodeProblem = await undecodable(source.video, rotation);
  const supported = decodeProblem
    ? []
    : (await Promise.all(candidates.map((c) => support(c, assumeHardware ?? [])))).filter(Boolean);
  const proposal = ladder.propose(supported);
  let audio = null;
  let audioProblem = null;
  if (source.audio && !source.audio.copy) {
    audioProblem = await audioUndecodable(source.audio);
    audio = audioProblem ? null : await audioTarget(source.audio);
    if (!audio && !audioProblem)
      audioProblem = `this browser can encode neither AAC nor Opus audio, and the source's ${source.audio.codec} is not AAC`;
  }
  job = { ladder, file, source, rotation, audio, audioProblem, decodeProblem };
  const marked = candidates.map((c) => {
    const s = supported.find((x) => x.id === c.id);
    const reason = s ? null : (decodeProblem ?? `this browser cannot encode ${c.codec} at ${c.width}x${c.height}`);
    return { ...c, supported: !!s, hardwareAcceleration: s?.hardwareAcceleration ?? null, reason };
  });
  return {
    message: {
      type: 'opened',
      source,
      candidates: marked,
      proposal,
      summary,
      audioTarget: audio,
      audioProblem,
      rotation,
      decodeProblem,
      decodePath: decodeProblem ? null : await decodePath(source.video, rotation),
    },
  };
}

function post(files) {
  if (!files.length) return;
  const buffers = [];
  for (const f of files) {
    if (f.bytes) {
      pending += f.bytes.length;
      buffers.push(f.bytes.buffer);
    }
  }
  postMessage({ type: 'files', files }, buffers);
}

/** Wait while the page holds more than `maxPending` bytes it has not taken away (uploaded).
 * @param {AbortSignal} signal @returns {Promise<void> | null} */
function pause(signal) {
  if (pending <= maxPending) return null;
  return new Promise((resolve, reject) => {
    waiters.push(() => resolve());
    signal?.addEventListener('abort', () => reject(signal.reason));
  });
}

function release(bytes) {
  pending = Math.max(0, pending - bytes);
  if (pending <= maxPending) {
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  }
}

/** A copy of a codec description (an ArrayBuffer or a view). */
function bytesOf(d) {
  return ArrayBuffer.isView(d)
    ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice()
    : new Uint8Array(d).slice();
}

/**
 * Where this run starts: from the records (`Ladder` files' `record`) of the segments an earlier run of the
 * same ladder stored, the core adopts the leading ones of every encoded rendition and says where encoding
 * starts (Ladder.resume); null when it starts at the beginning.
 * @param {Ladder} ladder @param {object[] | null | undefined} records @param {string | null} audioCodec
 */
function resumeAt(ladder, records, audioCodec) {
  if (!records?.length) return null;
  const point = ladder.resume(JSON.stringify(records), audioCodec);
  if (!point.resumed) return null;
  postMessage({ type: 'resumed', segment: point.segment, atUs: point.atUs });
  return point;
}

/**
 * The records a resume may use: those of a rung whose encoder now writes another init than the stored one
 * (ladder/init-check.js) are left out, so that rung is encoded again from its first segment; the page is
 * told of each such rung. Returns the records and, by rung index, the init each resumed rung must write.
 * @param {{ladder: Ladder, file: File, source: import('../lib/types.js').LadderSource, rotation: number,
 *   rungs: Rung[], added: number[], records: {rendition: string}[] | null | undefined,
 *   storedInits: Record<string, string> | null | undefined,
 *   describe: (i: number, d: AllowSharedBufferSource | null, key: Uint8Array) => Uint8Array | null}} r
 */
async function checkedRecords({ ladder, file, source, rotation, rungs, added, records, storedInits, describe }) {
  if (!records?.length || !rungs.length) return { records, expected: new Map() };
  const { changed, expected } = await checkEncoders({
    file,
    video: source.video,
    rotation,
    samples: ladder.videoSamples(),
    rungs,
    records,
    storedInits: storedInits ?? {},
    initOf: (i, d, key) => ladder.rungInit(added[i], describe(i, d, key), key),
  });
  const gone = new Set(changed.map((i) => rungs[i].id));
  for (const i of changed) postMessage({ type: 'encoder-changed', rung: rungs[i].id, height: rungs[i].height });
  return { records: records.filter((r) => !gone.has(r.rendition)), expected };
}

/** @param {{rungs: Rung[], copy: boolean, storyboard?: boolean, text?: object, maxPendingBytes: number | null,
 *   failEncoderAt?: import('./ladder/rung-encoder.js').FailAt | null, resume?: object[] | null,
 *   storedInits?: Record<string, string> | null, encoderCodec?: {rung: string, codec: string} | null,
 *   storedBoard?: {path: string, size: number}[] | null}} request */
async function run({
  rungs,
  copy: copyTop,
  storyboard: withStoryboard = true,
  text,
  maxPendingBytes,
  failEncoderAt,
  resume,
  storedInits,
  encoderCodec,
  storedBoard,
}) {
  if (!job) throw new Error('open a file first');
  const { ladder, file, source, rotation } = job;
  if (rungs.length && job.decodeProblem) throw new Error(job.decodeProblem);
  // Captions and chapters go into the ladder's manifests at the end; a bad caption file is refused now,
  // before any encoding.
  ladder.setText({ text });
  maxPending = maxPendingBytes ?? Infinity;
  const added = rungs.map((r) => ladder.addRung(r));
  const encodesAudio = !!source.audio && !source.audio.copy;
  // What the encoders are configured with: the rungs, but for the test hook's rung (another profile, so
  // that its encoder really writes another avcC than the first run's).
  const encoding = rungs.map((r) => (encoderCodec?.rung === r.id ? { ...r, codec: encoderCodec.codec } : r));
  // avcC (fixed where Firefox gets it wrong) or an AV1 encoder's av1C; VP9 encoders give none, and an AV1
  // encoder may not either: the core reads the key frame then (sequence header OBU, VP9 uncompressed
  // header).
  const describe = (
    /** @type {number} */ i,
    /** @type {AllowSharedBufferSource | null | undefined} */ d,
    /** @type {Uint8Array} */ key,
  ) => (d ? (/^avc[13]\./.test(rungs[i].codec) ? avcDescription(bytesOf(d), key) : bytesOf(d)) : null);
  const checked = await checkedRecords({
    ladder,
    file,
    source,
    rotation,
    rungs: encoding,
    added,
    records: /** @type {{rendition: string}[] | null | undefined} */ (resume),
    storedInits,
    describe,
  });
  const point = resumeAt(ladder, checked.records, encodesAudio ? (job.audio?.codec ?? null) : null);
  // The copy rung and copied AAC audio: recipes (header bytes + source ranges), gathered by the page.
  const recipes = ladder.copyFiles(!!copyTop);
  postPlanned(ladder, source, job.audio);
  postMessage({ type: 'files', files: recipes });
  const progress = { video: null, audio: null };
  let last = 0;
  const tell = (force) => {
    const now = performance.now();
    if (!force && now - last < 250) return;
    last = now;
    postMessage({ type: 'progress', ...progress, pendingBytes: pending });
  };
  const tasks = [];
  // A storyboard that cannot be planned leaves the video without one; the ladder goes on. A full run draws
  // its tiles from the frames it decodes. A resumed one decodes only from its resume point, too late for
  // the tiles before it: its tiles come from the source's key frames (the copy-only upload's path, a few
  // dozen frames decoded beside the encoding), unless the origin has the first run's whole storyboard,
  // which is announced again and not made twice.
  const board =
    rungs.length && withStoryboard
      ? await storyboardFor(source, rotation, ladder.videoSamples(), !point).catch(() => null)
      : null;
  if (board && point) {
    board.stored = completeStoredBoard(board.plan, storedBoard);
    if (!board.stored) {
      tasks.push(
        drawFromKeyFrames({
          file,
          video: source.video,
          rotation,
          samples: ladder.videoSamples(),
          plan: board.plan,
        }).then(
          (r) => {
            board.sheets = r.sheets;
          },
          (e) => {
            board.problem = `no storyboard: ${e.message ?? e}`;
          },
        ),
      );
    }
  }
  if (rungs.length) {
    tasks.push(
      encodeVideo({
        file,
        video: source.video,
        samples: ladder.videoSamples(),
        boundariesUs: ladder.boundariesUs(),
        rungs: encoding,
        rotation,
        pause,
        failAt: failEncoderAt ?? null,
        fromSample: point?.videoSample ?? 0,
        fromUs: point ? Math.round(point.atUs) : -Infinity,
        rungsFromUs: point ? point.rungsAtUs.map((u) => Math.round(u)) : null,
        onChunk: (i, chunk, meta) => {
          const bytes = new Uint8Array(chunk.byteLength);
          chunk.copyTo(bytes);
          const files = ladder.pushVideo(
            added[i],
            bytes,
            chunk.timestamp,
            chunk.type === 'key',
            describe(i, meta?.decoderConfig?.description, bytes),
          );
          // A resumed rung's init must be the one checked against the stored init before the resume: an
          // encoder that gives another one now is refused before its init replaces the stored one, and its
          // records are dropped (the page forgets them), so the next run encodes it again from the start.
          const want = point && checked.expected.get(i);
          const init = want && files.find((/** @type {{path: string}} */ f) => f.path === `${rungs[i].id}/init.mp4`);
          if (init && !sameBytes(init.bytes, want)) {
            postMessage({ type: 'encoder-changed', rung: rungs[i].id, height: rungs[i].height });
            throw new Error(
              `rung ${rungs[i].id}: its encoder's init segment differs from the one checked before resuming; drop the file again to encode this rung from the start`,
            );
          }
          post(files);
        },
        onRestart: (i) => ladder.restartRung(added[i]),
        onFrame: board && !point ? (frame) => board.sheets?.draw(frame) : undefined,
        onProgress: (p) => {
          progress.video = p;
          tell(false);
        },
      }),
    );
  }
  if (source.audio && !source.audio.copy) {
    const target = job.audio;
    if (!target) throw new Error(`${job.audioProblem}: the ladder would have no sound`);
    let configured = false;
    let frames = 0;
    let firstInputUs = null;
    const samples = ladder.audioSamples();
    tasks.push(
      encodeAudio({
        file,
        audio: source.audio,
        samples,
        target,
        endUs: (ladder.boundariesUs()[0] ?? 0) + source.video.durationUs,
        fromUs: point?.audio?.feedFromUs ?? null,
        onFirstInput: (us) => {
          firstInputUs = us;
        },
        onChunk: (chunk, meta) => {
          if (!configured) {
            const d = meta?.decoderConfig;
            const desc = d?.description;
            ladder.setAudioEncoding({
              codec: target.codec,
              sampleRate: d?.sampleRate ?? target.sampleRate,
              channels: d?.numberOfChannels ?? target.numberOfChannels,
              description: desc ? bytesOf(desc) : null,
            });
            if (firstInputUs != null) ladder.setAudioFirstInput(firstInputUs);
            configured = true;
          }
          const bytes = new Uint8Array(chunk.byteLength);
          chunk.copyTo(bytes);
          // An encoder that leaves out durations: an Opus packet here is 20 ms, an AAC frame 1024 samples.
          const dur = chunk.duration || (target.codec === 'opus' ? 20_000 : (1024 * 1e6) / target.sampleRate);
          post(ladder.pushAudio(bytes, chunk.timestamp, dur));
          progress.audio = { chunks: ++frames, total: samples.size.length, codec: target.codec };
          tell(false);
        },
      }),
    );
  }
  await Promise.all(tasks);
  tell(true);
  const sheets = board && (await encodeStoryboard(board));
  const files = ladder.finish();
  const summary = ladder.summary();
  const storyboard = sheets && postStoryboard(board, sheets, files);
  post(files.filter((f) => !f.path.endsWith('.m3u8')));
  // Playlists last, once every segment they name has gone out.
  return { message: { type: 'done', files: files.filter((f) => f.path.endsWith('.m3u8')), summary, storyboard } };
}

/**
 * The playlists to upload first, before any segment, so that the video plays while it encodes: the core's
 * multivariant playlist from the planned rungs and every media playlist with its planned durations (the
 * origin serves each as the EVENT view of the segments stored). `finish` writes the measured ones, which
 * replace them before publish. `audio`: the audio encoder's configuration when the source's audio is
 * re-encoded. Without it (the browser cannot encode it), nothing is planned: the run stops on that.
 * @param {Ladder} ladder @param {import('../lib/types.js').LadderSource} source
 * @param {{codec: string, numberOfChannels: number, bitrate: number} | null} audio
 */
function postPlanned(ladder, source, audio) {
  const encoded = !!source.audio && !source.audio.copy;
  if (encoded && !audio) return;
  post(ladder.plannedPlaylists(encoded ? audio : null));
}

/**
 * The storyboard of a ladder: its plan, and with `drawn` its sheets, drawn from the frames the ladder
 * decodes: each tile shows the decoded frame nearest its time (every sample's presentation time is known
 * from the sample table). Without, a resumed ladder's sheets come later (from the key frames), or none
 * when `stored` (the origin's are complete).
 * @param {import('../lib/types.js').LadderSource} source @param {number} rotation
 * @param {import('./core.js').SampleTable} samples @param {boolean} drawn
 * @returns {Promise<Board>}
 */
async function storyboardFor(source, rotation, samples, drawn) {
  const core = await loadCore('upcast_full');
  const v = source.video;
  const turned = rotation === 90 || rotation === 270;
  const size = {
    durationMs: Math.round(v.durationUs / 1000),
    width: turned ? v.displayHeight : v.displayWidth,
    height: turned ? v.displayWidth : v.displayHeight,
  };
  const plan = core.storyboardPlan(size.durationMs, size.width, size.height);
  const sheets = drawn ? new Sheets(plan, tileTargets(plan, samples.timestampUs), rotation) : null;
  return { core, size, plan, sheets, stored: null, problem: null };
}

/**
 * @typedef {{core: any, size: {durationMs: number, width: number, height: number}, plan: any,
 *   sheets: Sheets | null, stored: {picture: 'webp' | 'jpeg', largestBytes: number} | null,
 *   problem: string | null}} Board
 */

/** Encode the sheets; a storyboard the browser could not encode (or draw) leaves the video without one
 * (said in `problem`), never the upload stopped. A complete stored one needs no sheets: its track and
 * announcement are written again (the same bytes as the first run's track).
 * @param {Board} board */
async function encodeStoryboard({ sheets, stored, problem }) {
  if (problem) return { problem };
  if (stored) return { ...stored, sheets: [], missing: 0 };
  try {
    if (!sheets) throw new Error('no sheets were drawn');
    return await sheets.finish();
  } catch (e) {
    return { problem: `no storyboard: ${e.message ?? e}` };
  }
}

/**
 * Post the storyboard's track and sheets, and announce them in the ladder's MPD (`files`' manifest.mpd
 * replaced in place); what the page shows of it.
 * @param {Board} board
 * @param {{picture: 'webp' | 'jpeg', sheets: any[], missing: number} | {problem: string}} done
 * @param {{path: string, type: string, bytes: Uint8Array}[]} files the ladder's last files
 */
function postStoryboard({ core, size, plan, sheets, stored }, done, files) {
  if ('problem' in done) return done;
  try {
    const at = files.findIndex((f) => f.path === 'manifest.mpd');
    const mpd = at >= 0 ? new TextDecoder().decode(files[at].bytes) : null;
    const made = storyboardFiles(core, size, done, mpd);
    const board = made.filter((f) => f.path !== 'manifest.mpd');
    const manifest = made.find((f) => f.path === 'manifest.mpd');
    if (manifest) files[at] = manifest;
    const bytes = board.reduce((n, f) => n + f.bytes.length, 0); // before post() transfers the buffers
    post(board);
    return {
      tiles: plan.count,
      intervalS: plan.intervalMs / 1000,
      sheets: plan.sheets,
      picture: done.picture,
      missing: done.missing,
      bytes,
      ms: sheets?.ms ?? 0,
      // Announced again from the origin's complete storyboard (not drawn): the sheets are the first run's.
      reused: !!stored,
    };
  } catch (e) {
    return { problem: `no storyboard: ${e.message ?? e}` };
  }
}

serve(async (data) => {
  if (data.type === 'release') {
    release(data.bytes);
    return null;
  }
  // A refusal from the core (an UpcastError naming the box and byte offset), a codec error, or a wasm trap
  // goes back as {type: 'error', error}.
  return data.type === 'open' ? open(data) : run(data);
});
