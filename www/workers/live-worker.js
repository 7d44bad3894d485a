// @ts-check
// The Go live page's dedicated Worker: the capture's frames in (a MediaStreamTrackProcessor's stream,
// transferred, or VideoFrames the page draws from its <video> where the browser has no processor), every
// rung's VideoEncoder and the one AudioEncoder, the core's live muxer per rendition, and the uploads.
// Encoding is driven by the frames, never by timers, so a tab in the background keeps its pace as long
// as the browser delivers frames.
//
// Messages in:  {type: 'start', video?: ReadableStream<VideoFrame>, audio?: ReadableStream<AudioData>,
//                 rungs, segmentMs, session, failEncoderAt?} · {type: 'frame', frame} · {type: 'audio', data} ·
//               {type: 'republish', session} · {type: 'stop'}
// Messages out: {type: 'started', captureStartMs} · {type: 'stats', ...} · {type: 'notice', message} ·
//               {type: 'lost', code, message} · {type: 'dropped', rung, reason} · {type: 'restored', rung} ·
//               {type: 'stopped'} ·
//               {type: 'error', error}

import { errorData } from '../lib/error.js';
import { AudioRung } from './live/audio.js';
import { AudioClock, silenceAt } from './live/clock.js';
import { Ending } from './live/ending.js';
import { UplinkRestore } from './live/restore.js';
import { Session } from './live/session.js';
import { coreCodec, VideoRung } from './live/video.js';
import { loadCore } from './worker-host.js';

/** A rung is dropped when its uploads are this far behind (parts waiting). */
const DROP_WAITING_PARTS = 6;
/** A part that took longer than this from made to taken (`uplink.js` `uploadMs`) says the uplink is behind. */
const DROP_UPLOAD_MS = 3000;

/** @type {any} */
let core = null;
/** @type {Session | null} */
let session = null;
/** @type {VideoRung[]} */
let rungs = [];
/** @type {AudioRung | null} */
let audio = null;
let segmentUs = 2_000_000;
let stopping = false;
/** Clocks: the capture's timestamp (µs) at this publish's media time 0, performance.now() then. */
let videoZero = null;
let startedAt = 0;
/** The sound on the video's clock: pieces restamped in media time. */
let clock = new AudioClock();
let lastCutUs = -Infinity;
/** Where each track has got to (µs, this publish's media time), for an [`Ending`] that ends them together. */
let lastFrameUs = -1;
let videoEndUs = 0;
let audioEndUs = -Infinity;
/** The sound's sample rate and channels, from its last piece (what silence to pad with is shaped like). */
let audioShape = /** @type {{sampleRate: number, numberOfChannels: number} | null} */ (null);
/** @type {Ending | null} */
let ending = null;
let framesIn = 0;
/** When the rung paused for the uplink comes back (`live/restore.js`). */
const restorer = new UplinkRestore();
const stats = { atUs: 0, frames: new Map(), bytes: new Map(), framesIn: 0 };

const post = (m) => self.postMessage(m);
const renditionName = (i) => (i === 0 ? 'video' : `video_${i + 1}`);
const bytesOf = (chunk) => {
  const b = new Uint8Array(chunk.byteLength);
  chunk.copyTo(b);
  return b;
};

function newSession(info) {
  session?.close();
  session = new Session(
    core,
    info,
    (e) => post({ type: 'lost', code: e.code, message: e.message }),
    (message) => post({ type: 'notice', message }),
  );
  rungs.forEach((r, i) => {
    if (!r.active && !r.broken) {
      // A rung dropped for the uplink comes back with a new publish (its encoder is made again at the
      // first segment boundary).
      r.active = true;
      r.broken = true;
      r.pausedForUplink = false;
      r.dropReason = null;
    }
    if (r.active) session?.add(renditionName(i), coreCodec(r.plan.codec));
  });
  if (audio?.config && !audio.failed) session.add('audio', audio.coreCodec);
  restorer.back();
  audio?.restart();
  videoZero = null;
  clock.drop();
  clock = new AudioClock();
  lastCutUs = -Infinity;
  lastFrameUs = -1;
  videoEndUs = 0;
  audioEndUs = -Infinity;
}

/** @param {VideoFrame} frame */
function onFrame(frame) {
  try {
    if (stopping || !session) return;
    framesIn++;
    if (videoZero === null) {
      videoZero = frame.timestamp;
      startedAt = performance.now();
      // The frame's arrival here stands for its capture (the few ms from the camera are not counted).
      session.info.captureMs = performance.timeOrigin + startedAt;
      post({ type: 'started', captureStartMs: session.info.captureMs });
    }
    const t = frame.timestamp - videoZero;
    // A camera's frames carry no duration: the last interval stands for it.
    const dur = frame.duration ?? (lastFrameUs >= 0 && t > lastFrameUs ? t - lastFrameUs : 33_333);
    if (ending && !ending.frame(t, dur)) {
      releaseHeldAudio();
      return;
    }
    lastFrameUs = t;
    videoEndUs = t + dur;
    const key = t - lastCutUs >= segmentUs;
    if (key) {
      lastCutUs = t;
      // A paused rung comes back here, at a segment boundary where every rung takes a key frame.
      if (restorer.due() !== null) restore();
      session.cut(t);
    }
    for (const r of rungs) r.encode(frame, key);
    adapt();
    if (t - stats.atUs >= 1_000_000) postStats(t);
  } finally {
    frame.close();
  }
}

/**
 * Pause the top rung still uploaded when its uploads fall behind (the origin keeps the others and
 * writes GAP segments for it); bring a paused rung back once the uplink has kept up for a while.
 */
function adapt() {
  if (!session) return;
  const live = rungs.map((r, i) => ({ r, i })).filter(({ r }) => r.active);
  if (restorer.pausedRung) {
    const up = live.length ? session.uplink(renditionName(live[0].i)) : null;
    if (up) restorer.observe(up);
    return;
  }
  if (live.length < 2) return;
  const { r, i } = live[0];
  const up = session.uplink(renditionName(i));
  // Parts piling up behind a PUT that gets no answer are an outage, not a slow uplink: the retry window
  // decides (the publish is lost and made again), and dropping the rung would not help.
  if (!up || up.failing) return;
  const behind = up.waiting > DROP_WAITING_PARTS || up.uploadMs > DROP_UPLOAD_MS;
  if (!behind) return;
  const reason = `uplink behind (${up.waiting} parts waiting, a part took ${(up.uploadMs / 1000).toFixed(1)} s)`;
  r.active = false;
  r.pausedForUplink = true;
  r.dropReason = `${reason}: paused; back when the uplink keeps up`;
  r.encoder?.close();
  r.encoder = null;
  const next = live[1] && session.uplink(renditionName(live[1].i));
  const need = restorer.paused(i, next?.sentParts ?? 0);
  session.pause(renditionName(i)).catch((e) => post({ type: 'notice', message: `pausing ${r.plan.label}: ${e}` }));
  post({ type: 'dropped', rung: r.plan.label, reason, backAfterParts: need });
}

/** The paused rung comes back (called at a segment boundary, before the cut). */
function restore() {
  const i = restorer.due();
  if (i === null || !session) return;
  const r = rungs[i];
  // Not yet: the origin is still being told of the pause.
  if (!session.resume(renditionName(i))) return;
  restorer.back();
  r.active = true;
  r.pausedForUplink = false;
  // Its encoder is made again by this boundary's key frame.
  r.broken = true;
  r.dropReason = null;
  post({ type: 'restored', rung: r.plan.label });
}

function postStats(tUs) {
  const secs = (tUs - stats.atUs) / 1e6;
  const out = rungs.map((r, i) => {
    const up = session?.uplink(renditionName(i));
    const name = renditionName(i);
    const frames = r.frames - (stats.frames.get(name) ?? 0);
    const bytes = (up?.sentBytes ?? 0) - (stats.bytes.get(name) ?? 0);
    stats.frames.set(name, r.frames);
    stats.bytes.set(name, up?.sentBytes ?? 0);
    return {
      label: r.plan.label,
      rendition: name,
      active: r.active,
      paused: r.pausedForUplink,
      fps: frames / secs,
      bitrate: (bytes * 8) / secs,
      queue: r.queue,
      waiting: up?.waiting ?? 0,
      lagMs: up?.lagMs ?? 0,
      uploadMs: up?.uploadMs ?? 0,
      frames: r.frames,
      dropped: r.dropped.busy + r.dropped.encoder + r.dropped.uplink,
      droppedEncoder: r.dropped.encoder,
      restarts: r.restarts,
      retries: up?.retries ?? 0,
      dropReason: r.dropReason,
    };
  });
  const aup = session?.uplink('audio');
  post({
    type: 'stats',
    mediaS: tUs / 1e6,
    framesIn,
    fpsIn: (framesIn - stats.framesIn) / secs,
    rungs: out,
    audio: audio && {
      codec: audio.config?.codec ?? null,
      // Where the sound has got to against the video (ms; > 0: ahead). Tells a drifting clock on the page.
      aheadMs: clock.pos === null ? null : (audioEndUs - videoEndUs) / 1000,
      frames: audio.frames,
      waiting: aup?.waiting ?? 0,
      lagMs: aup?.lagMs ?? 0,
    },
  });
  stats.atUs = tUs;
  stats.framesIn = framesIn;
}

/** @param {AudioData} data */
function onAudio(data) {
  if (stopping || !session || !audio || videoZero === null) {
    data.close();
    return;
  }
  for (const piece of clock.audio(data, performance.now(), startedAt)) feedAudio(piece.data, piece.tUs);
}

/** A piece of sound at media time `tUs`: encoded, unless the publish has ended before it. @param {AudioData} data @param {number} tUs */
function feedAudio(data, tUs) {
  if (!audio) return data.close();
  if (ending) {
    const what = ending.audio(tUs);
    if (what === 'hold') return ending.hold(tUs, data);
    if (what === 'drop') return data.close();
  }
  audioEndUs = tUs + data.duration;
  audioShape = { sampleRate: data.sampleRate, numberOfChannels: data.numberOfChannels };
  audio.encode(data);
}

/**
 * Sound still short of the video's end once the deadline passed (its pieces stopped coming, or lag too
 * far behind): silence up to that end, so the recording's renditions cover the same time (HLS Authoring
 * Spec 8.7) and the publish is not refused for a second of missing sound.
 * @param {number} endUs @returns {Promise<void>}
 */
async function padAudioTo(endUs) {
  if (!audio || !audioShape || !Number.isFinite(audioEndUs)) return;
  const pad = silenceAt(audioShape, audioEndUs, endUs - audioEndUs);
  if (!pad) return;
  audioEndUs = endUs;
  await audio.encode(pad);
}

/** The video's end is known: the audio held until then is encoded up to it, the rest closed. */
function releaseHeldAudio() {
  if (!ending || ending.videoEnd === null) return;
  for (const h of ending.release()) {
    if (ending.audio(h.tUs) === 'encode' && audio) {
      audioEndUs = h.tUs + h.data.duration;
      audio.encode(h.data);
    } else h.data.close();
  }
}

/** @param {ReadableStream<any>} stream @param {(v: any) => void} each */
async function drain(stream, each) {
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || stopping) {
      value?.close?.();
      reader.cancel().catch(() => {});
      return;
    }
    each(value);
  }
}

async function start(m) {
  core = await loadCore('upcast_full');
  segmentUs = m.segmentMs * 1000;
  rungs = m.rungs.map(
    (plan, i) =>
      new VideoRung(
        plan,
        (_r, chunk, desc) => {
          if (videoZero === null || chunk.timestamp < videoZero) return; // a frame of an earlier publish
          session?.push(renditionName(i), bytesOf(chunk), chunk.timestamp - videoZero, chunk.type === 'key', desc);
        },
        (_r, message) => post({ type: 'notice', message }),
        m.failEncoderAt ?? null,
      ),
  );
  if (m.audio || m.withAudio) {
    audio = new AudioRung(
      (chunk, desc) => {
        // The encoder was given media time (the clock restamps every piece).
        session?.push('audio', bytesOf(chunk), Math.round(chunk.timestamp), true, desc);
      },
      (message) => post({ type: 'notice', message }),
    );
    // The audio's codec is known once the first AudioData arrives: the rendition is added then.
    const open = audio.open.bind(audio);
    audio.open = async (d) => {
      await open(d);
      if (!audio?.failed) session?.add('audio', audio.coreCodec);
    };
  }
  newSession(m.session);
  if (m.video) drain(m.video, onFrame).catch((e) => post({ type: 'notice', message: `capture: ${e.message}` }));
  if (m.audio) drain(m.audio, onAudio).catch((e) => post({ type: 'notice', message: `audio capture: ${e.message}` }));
}

/**
 * How long the tracks get to reach their common end before they are ended where they are: 1.5 s, or the
 * sound's lag behind the picture and a second more (sound arrives in real time, so a lagging track needs
 * that long to catch up with real sound), at most 6 s.
 * @param {number} lagUs how far the audio's end is behind the video's (µs; negative when ahead)
 */
const endDeadlineMs = (lagUs) => Math.min(6000, Math.max(1500, lagUs / 1000 + 1000));

async function stop() {
  if (session && videoZero !== null && !ending) {
    // Sound the clock still holds (a burst not yet placed) goes out first.
    for (const piece of clock.settle(startedAt)) feedAudio(piece.data, piece.tUs);
    const withAudio = Boolean(audio && !audio.failed && clock.pos !== null);
    ending = new Ending(videoEndUs, withAudio ? audioEndUs : -Infinity, withAudio);
    const lagUs = withAudio ? videoEndUs - audioEndUs : 0;
    const deadline = setTimeout(() => ending?.force(), endDeadlineMs(lagUs));
    await ending.done;
    clearTimeout(deadline);
    // Given to the encoder before it is flushed below (its `encode` waits for the encoder to be open).
    if (withAudio && ending.videoEnd !== null) await padAudioTo(ending.videoEnd);
  }
  stopping = true;
  await Promise.all([...rungs.map((r) => r.flush()), audio?.flush()]);
  await session?.finish();
  for (const r of rungs) r.close();
  audio?.close();
  post({ type: 'stopped' });
}

self.onmessage = async ({ data: m }) => {
  try {
    if (m.type === 'start') await start(m);
    else if (m.type === 'frame') onFrame(m.frame);
    else if (m.type === 'audio') onAudio(m.data);
    else if (m.type === 'republish') newSession(m.session);
    else if (m.type === 'stop') await stop();
  } catch (e) {
    post({ type: 'error', error: errorData(e) });
  }
};
