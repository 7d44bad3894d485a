// @ts-check
// The Go live page: pick a camera or a screen, preview it, let the planner propose a ladder, exchange the
// stream key for a publish ticket (never the admin token) and hand the capture to the live Worker
// (workers/live-worker.js), which encodes every rung, muxes CMAF parts in wasm, uploads them and renews
// the ticket (a Worker's timers run on while the page is in the background). The page shows each rung's
// status, publishes again after an outage, and ends the stream on Stop or when the tab closes.

import { ApiError, endLive, liveStatus, publishLive } from './api.js';
import { hasProcessor, openSource, pumpAudio, pumpFrames, trackStream } from './golive-capture.js';
import { proposeLadder } from './golive-planner.js';
import { originLine, renderLadder, renderStats } from './golive-status.js';

const $ = (s) => document.querySelector(s);
const preview = /** @type {HTMLVideoElement} */ ($('#preview'));
/** What the end-to-end tests and the console read. */
const live = { state: 'idle', stats: null, notices: [], publish: null, captureStartMs: 0 };
/** @type {any} */ (window).upcastLive = live;

/** @type {MediaStream | null} */
let stream = null;
/** @type {import('./golive-status.js').PlannedRung[]} */
let ladder = [];
/** @type {Worker | null} */
let worker = null;
/** @type {AbortController | null} */
let pumps = null;
/** @type {any} the publish answer: stream_id, ticket, part_target_ms, idle_timeout_secs, playback_url */
let pub = null;
let key = '';
let lastOriginCheck = 0;

const setState = (s, text) => {
  live.state = s;
  $('#state').textContent = text;
};
const showError = (msg) => {
  $('#error').textContent = msg;
};
const notice = (msg) => {
  live.notices.push(msg);
  const li = Object.assign(document.createElement('li'), { textContent: `${new Date().toLocaleTimeString()} ${msg}` });
  $('#notices').prepend(li);
};

/** Plain words for a refused publish. @param {any} e */
function publishRefusal(e) {
  if (e instanceof ApiError) {
    if (e.code === 'unknown-key') return 'The origin does not know this stream key. Copy it again from the Live page.';
    if (e.code === 'revoked') return 'This stream key was revoked or rotated. Get the new key on the Live page.';
    if (e.code === 'already-live') return 'Another publisher (OBS, or another tab) is live on this stream.';
  }
  return `Going live failed: ${e.message}`;
}

async function preview_(kind) {
  showError('');
  stream?.getTracks().forEach((t) => {
    t.stop();
  });
  try {
    stream = await openSource(kind);
  } catch (e) {
    showError(e.message);
    return;
  }
  preview.srcObject = stream;
  const track = stream.getVideoTracks()[0];
  track.addEventListener(
    'ended',
    () => live.state === 'live' && stop('The capture ended (the camera or screen was stopped).'),
  );
  const s = track.getSettings();
  const width = s.width ?? preview.videoWidth;
  const height = s.height ?? preview.videoHeight;
  setState('planning', `Planning a ladder for ${width}×${height}…`);
  try {
    const plan = await proposeLadder(width, height, s.frameRate ?? 30);
    ladder = plan.rungs;
    renderLadder($('#ladder tbody'), ladder);
    $('#plan-notes').replaceChildren(
      ...plan.notes.map((n) => Object.assign(document.createElement('li'), { textContent: n })),
    );
    if (!ladder.length) throw new Error('this browser cannot encode any rung of the ladder in real time (H.264)');
  } catch (e) {
    showError(`Encoder configuration rejected: ${e.message}`);
    setState('idle', 'Not live');
    return;
  }
  $('#ladder').hidden = false;
  $('#publish').hidden = false;
  setState('ready', `Ready: ${width}×${height}${stream.getAudioTracks().length ? ' with sound' : ', no sound'}`);
}

function session() {
  return {
    base: location.origin,
    streamId: pub.stream_id,
    ticket: pub.ticket,
    windowMs: (pub.idle_timeout_secs ?? 5) * 1000,
    partTargetMs: pub.part_target_ms,
    expiresInSecs: pub.expires_in_secs,
  };
}

async function start() {
  showError('');
  const rungs = ladder.filter((r) => r.on).map(({ on: _on, ...r }) => r);
  if (!rungs.length) return showError('Turn at least one rung on.');
  try {
    pub = await publishLive(key);
  } catch (e) {
    return showError(publishRefusal(e));
  }
  live.publish = { streamId: pub.stream_id, playbackUrl: pub.playback_url, partTargetMs: pub.part_target_ms };
  worker = new Worker(new URL('../workers/live-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => onWorker(data);
  worker.onerror = (e) => showError(`The encoder Worker failed: ${e.message}`);
  pumps = new AbortController();
  const [vt] = stream.getVideoTracks();
  const [at] = stream.getAudioTracks();
  const m = {
    type: 'start',
    rungs,
    segmentMs: 2000,
    session: session(),
    withAudio: !!at,
    failEncoderAt: window.__upcastFailEncoderAt ?? null,
  };
  /** @type {Transferable[]} */
  const transfer = [];
  if (hasProcessor()) {
    m.video = trackStream(vt);
    transfer.push(m.video);
    if (at) {
      m.audio = trackStream(at);
      transfer.push(m.audio);
    }
  }
  worker.postMessage(m, transfer);
  if (!hasProcessor()) {
    notice('This browser has no MediaStreamTrackProcessor: frames are drawn from the preview on this page.');
    pumpFrames(preview, worker, pumps.signal);
    if (at)
      pumpAudio(stream, worker, pumps.signal)
        .then((note) => note && notice(note))
        .catch((e) => notice(`No sound: ${e.message}`));
  }
  const watch = /** @type {HTMLAnchorElement} */ ($('#watch'));
  watch.href = `live.html#s=${pub.stream_id}`;
  watch.hidden = false;
  $('#start').hidden = true;
  $('#stop').hidden = false;
  $('#stats').hidden = false;
  setState('live', `Live: ${rungs.map((r) => r.label).join(', ')}`);
}

/** After an outage or an expired ticket: a new publish (the origin marks a discontinuity). */
async function republish(why) {
  setState('reconnecting', `Reconnecting: ${why}`);
  for (let wait = 1000; live.state === 'reconnecting'; wait = Math.min(wait * 2, 8000)) {
    try {
      pub = await publishLive(key);
      live.publish.streamId = pub.stream_id;
      worker?.postMessage({ type: 'republish', session: session() });
      setState('live', 'Live again (viewers see a discontinuity)');
      notice('Published again: a new ticket; the origin continues the stream after a discontinuity.');
      return;
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'unknown-key' || e.code === 'revoked')) return stop(publishRefusal(e));
      // `already-live`: the origin still holds the lost publish until its idle timeout.
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

function onWorker(m) {
  if (m.type === 'started') live.captureStartMs = m.captureStartMs;
  else if (m.type === 'stats') {
    live.stats = m;
    renderStats($('#stats tbody'), m.rungs);
    $('#audio-line').textContent = m.audio?.codec
      ? `Audio: ${m.audio.codec}, ${m.audio.waiting} part(s) waiting, lag ${(m.audio.lagMs / 1000).toFixed(2)} s`
      : '';
    checkOrigin();
  } else if (m.type === 'notice') notice(m.message);
  else if (m.type === 'dropped')
    notice(
      `${m.rung} paused: uplink (${m.reason}). The other rungs go on; viewers of ${m.rung} are moved to them. It comes back after ${m.backAfterParts} calm parts.`,
    );
  else if (m.type === 'restored') notice(`${m.rung} back: the uplink keeps up again.`);
  else if (m.type === 'lost') {
    if (m.code === 'publisher-stopped')
      return stop('The origin stopped this publish (the key was revoked or the stream deleted).');
    const why =
      m.code === 'ticket-expired'
        ? 'the publish ticket expired'
        : m.code === 'outage'
          ? 'the uploads stopped getting through'
          : m.message;
    notice(`Upload lost: ${m.message}`);
    if (live.state === 'live') republish(why);
  } else if (m.type === 'stopped') finishStop();
  else if (m.type === 'error') {
    showError(`Encoding failed: ${m.error?.message ?? m.error}`);
    stop();
  }
}

/** The origin's status for the stream (viewers, live since), read with the publish ticket. */
async function checkOrigin() {
  if (!pub || Date.now() - lastOriginCheck < 5000) return;
  lastOriginCheck = Date.now();
  try {
    $('#origin').textContent = originLine(await liveStatus(pub.ticket, pub.stream_id));
  } catch {
    /* status is a nicety; the stream goes on */
  }
}

let stopNote = '';
function stop(note = '') {
  stopNote = note;
  if (note) showError(note);
  if (!worker || live.state === 'stopping') return;
  setState('stopping', 'Stopping: sending the last parts…');
  // The frames and sound keep coming until the Worker has ended every track at the same time ('stopped').
  worker.postMessage({ type: 'stop' });
}

async function finishStop() {
  pumps?.abort();
  await endLive(pub.ticket, pub.stream_id).catch(() => {});
  worker?.terminate();
  worker = null;
  setState('ended', stopNote ? `Ended: ${stopNote}` : 'Ended: the recording is published if the stream records');
  $('#start').hidden = false;
  $('#stop').hidden = true;
}

$('#source').addEventListener('submit', (e) => {
  e.preventDefault();
  preview_(/** @type {any} */ ($('#source')).elements.kind.value);
});
$('#publish').addEventListener('submit', (e) => {
  e.preventDefault();
  key = /** @type {any} */ ($('#publish')).elements.key.value.trim();
  start();
});
$('#stop').addEventListener('click', () => stop());
document.addEventListener('visibilitychange', () => {
  if (document.hidden && live.state === 'live')
    notice(
      hasProcessor()
        ? 'Tab in the background: timers are throttled, but encoding follows the capture’s frames and goes on.'
        : 'Tab in the background: this browser slows the preview loop that feeds the encoders; frames may be dropped.',
    );
});
// Closing the tab ends the stream (keepalive POST …/end); the origin's idle timeout ends it otherwise.
window.addEventListener('pagehide', () => {
  if (!pub || (live.state !== 'live' && live.state !== 'reconnecting')) return;
  // Ended here, before the end goes out: the Worker's PUTs in flight are refused once the ticket has
  // ended, and a page still live would take that for a lost publish and publish again as it closes.
  setState('ended', 'Ended: the tab closed');
  worker?.terminate();
  worker = null;
  endLive(pub.ticket, pub.stream_id);
});
const hashKey = location.hash.match(/key=([^&]+)/);
if (hashKey) {
  /** @type {any} */ ($('#publish')).elements.key.value = decodeURIComponent(hashKey[1]);
  history.replaceState(null, '', location.pathname + location.search);
}
