// @ts-check
// The streams page: create a stream (its RTMP URL and key are shown once), see every stream's status live
// (server-sent events), and watch one in hls.js's low-latency mode with its latency and level.
/* global Hls */

import { mbps } from '../lib/findings.js';
import { createStream, deleteStream, listStreams, revokeStreamKey, rotateStreamKey, streamPlayback } from './api.js';
import { followEvents } from './events.js';
import { askToken } from './token.js';

const $ = (s) => document.querySelector(s);
const video = /** @type {HTMLVideoElement} */ ($('#player'));
/** @type {any} */
let hls = null;
/** @type {Map<string, any>} */
const streams = new Map();
let current = '';
let admin = '';

const selected = () => location.hash.match(/s=([a-z0-9]+)/)?.[1] ?? '';

const ago = (ms) => {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
};

/** The status lines of a stream, as label → value (missing values left out). */
function statusRows(s) {
  const st = s.status ?? {};
  const ing = st.ingest ?? {};
  const size = ing.width ? `${ing.width}×${ing.height}` : null;
  return [
    ['State', `${st.state ?? 'idle'}${st.reason ? ` (${st.reason})` : ''}`],
    ['Since', st.since ? `${ago(st.since)} ago` : null],
    ['Ingest', ing.bitrate_bps ? mbps(ing.bitrate_bps) : null],
    ['Frame rate', ing.frame_rate ? `${ing.frame_rate.toFixed(1)} fps` : null],
    ['Resolution', size],
    ['Codecs', ing.codecs?.length ? ing.codecs.join(', ') : null],
    ['Key frames', ing.keyframe_interval_ms ? `every ${(ing.keyframe_interval_ms / 1000).toFixed(2)} s` : null],
    ['B-frames', st.ingest ? (ing.b_frames ? 'yes' : 'no') : null],
    [
      'Renditions',
      ing.renditions?.length
        ? ing.renditions.map((r) => (r.height ? `${r.height}p ${mbps(r.bitrate_bps)}` : r.codec)).join(', ')
        : null,
    ],
    ['Viewers', st.viewers != null ? String(st.viewers) : null],
    ['Last error', st.last_error ? `${st.last_error.code}: ${st.last_error.msg}` : null],
  ].filter(([, v]) => v);
}

function renderList() {
  const ul = $('#streams');
  ul.replaceChildren();
  for (const s of streams.values()) {
    const li = document.createElement('li');
    const a = Object.assign(document.createElement('a'), { href: `#s=${s.id}` });
    a.dataset.id = s.id;
    a.toggleAttribute('aria-current', s.id === current);
    const state = s.status?.state ?? 'idle';
    a.append(
      Object.assign(document.createElement('strong'), { textContent: s.title || s.id }),
      Object.assign(document.createElement('span'), {
        className: 'meta',
        textContent: [s.visibility, s.record ? 'recorded' : null, `DVR ${s.dvr_window_secs} s`]
          .filter(Boolean)
          .join(' · '),
      }),
      Object.assign(document.createElement('span'), { className: `badge state-${state}`, textContent: state }),
    );
    li.append(a);
    ul.append(li);
  }
}

function renderStatus() {
  const s = streams.get(current);
  const dl = $('#status');
  dl.replaceChildren();
  $('#actions').hidden = !s;
  if (!s) return;
  for (const [k, v] of statusRows(s)) {
    dl.append(Object.assign(document.createElement('dt'), { textContent: k }));
    dl.append(Object.assign(document.createElement('dd'), { textContent: v }));
  }
}

function showKey(s) {
  const box = $('#key');
  box.hidden = false;
  box.querySelector('.server').textContent = s.rtmp_url ?? 'this origin has no RTMP listener (--rtmp-listen)';
  box.querySelector('.stream-key').textContent = s.stream_key;
  box.querySelector('.golive').href = `golive.html#key=${encodeURIComponent(s.stream_key)}`;
  box.querySelector('.ffmpeg').textContent =
    `ffmpeg -re -i input.mp4 -c:v libx264 -tune zerolatency -g 60 -c:a aac -f flv ${s.publish_url}`;
}

function showLevel() {
  if (!hls) return;
  const l = hls.levels[hls.currentLevel];
  $('#level').textContent = l
    ? `Playing ${l.height ? `${l.height}p` : `level ${hls.currentLevel}`} · ${mbps(l.bitrate)}` +
      (hls.autoLevelEnabled ? ' (auto)' : '')
    : '';
}

async function watch(id) {
  // A fatal error is the stream's that had it (the tests read it): another stream starts clean.
  if (id !== current) /** @type {any} */ (window).upcastFatal = undefined;
  current = id;
  renderList();
  renderStatus();
  const s = streams.get(id);
  if (!s) return;
  hls?.destroy();
  $('#error').textContent = '';
  $('#title').textContent = s.title || s.id;
  const url = s.visibility === 'public' ? s.playback_url : (await streamPlayback(admin, id)).url;
  if (!Hls.isSupported()) {
    video.src = url;
    return;
  }
  // Up to 1.5× to reach the target latency (PART-HOLD-BACK) after a join or a stall: hls.js's default of 1×
  // never catches up, and sits about a second behind it (tests/bench/live/RESULTS.md).
  hls = new Hls({ lowLatencyMode: true, backBufferLength: 30, maxLiveSyncPlaybackRate: 1.5 });
  /** @type {any} */ (window).upcastHls = hls; // For the end-to-end tests and the console.
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
    const q = $('#quality');
    q.replaceChildren(new Option('Auto', '-1'));
    for (const [i, l] of data.levels.entries())
      q.append(new Option(`${l.height ? `${l.height}p` : `level ${i}`} · ${mbps(l.bitrate)}`, String(i)));
    video.play().catch(() => {});
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, showLevel);
  hls.on(Hls.Events.FRAG_CHANGED, showLevel);
  hls.on(Hls.Events.ERROR, (_e, d) => {
    if (!d.fatal) return;
    /** @type {any} */ (window).upcastFatal = `${d.type}: ${d.details}`;
    // Not live yet (404) or between publishers: try again in a moment rather than give up.
    $('#error').textContent = `Not playing: ${d.details}. Retrying…`;
    setTimeout(() => current === id && watch(id), 3000);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
}

setInterval(() => {
  if (hls && Number.isFinite(hls.latency) && hls.latency > 0)
    $('#latency').textContent = `latency ${hls.latency.toFixed(2)} s (target ${hls.targetLatency?.toFixed(2)} s)`;
}, 500);

$('#quality').addEventListener('change', (e) => {
  if (hls) hls.currentLevel = Number(/** @type {HTMLSelectElement} */ (e.target).value);
  showLevel();
});

$('#create').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = /** @type {any} */ (/** @type {HTMLFormElement} */ (e.target).elements);
  try {
    const s = await createStream(admin, {
      title: f.title.value,
      visibility: f.visibility.value,
      record: f.record.checked,
      dvr_window_secs: Number(f.dvr.value),
    });
    streams.set(s.id, s);
    showKey(s);
    location.hash = `s=${s.id}`;
  } catch (err) {
    $('#error').textContent = `Could not create the stream: ${err.message}`;
  }
});

$('#key').addEventListener('click', (e) => {
  const which = /** @type {HTMLElement} */ (e.target).dataset.copy;
  if (which) navigator.clipboard?.writeText($(`#key .${which}`).textContent);
});

$('#actions').addEventListener('click', async (e) => {
  const act = /** @type {HTMLElement} */ (e.target).dataset.act;
  const id = current;
  if (!act || !id) return;
  try {
    if (act === 'rotate') showKey({ ...streams.get(id), ...(await rotateStreamKey(admin, id)) });
    if (act === 'revoke') await revokeStreamKey(admin, id);
    if (act === 'delete' && confirm('Delete this stream? Its key stops working at once.')) {
      await deleteStream(admin, id);
      streams.delete(id);
      hls?.destroy();
      hls = null;
      current = '';
      renderList();
      renderStatus();
    }
  } catch (err) {
    $('#error').textContent = err.message;
  }
});

async function main() {
  admin = await askToken($('#token'));
  for (const s of (await listStreams(admin)).streams) streams.set(s.id, s);
  renderList();
  // Status changes of every stream, as they happen.
  followEvents(
    '/api/streams/events',
    admin,
    ({ data }) => {
      const ev = JSON.parse(data);
      const s = streams.get(ev.stream_id);
      if (!s) return;
      s.status = ev.status;
      renderList();
      if (ev.stream_id === current) renderStatus();
    },
    new AbortController().signal,
  );
  const pick = () => {
    const id = selected() || streams.keys().next().value;
    if (id && id !== current) watch(id);
  };
  window.addEventListener('hashchange', pick);
  pick();
}

main().catch((e) => ($('#error').textContent = e.message));
