// @ts-check
// The viewer: the origin's videos, and an hls.js player with a quality menu and the current level and
// bitrate. A video still uploading plays from the origin's growing playlist.
/* global Hls */

import { clock, mbps } from '../lib/findings.js';
import { listVideos } from './api.js';
import { playlistInfo } from './playlist-info.js';
import { askToken } from './token.js';

const $ = (s) => document.querySelector(s);
const video = $('#player');
let hls = null;

function selected() {
  return location.hash.match(/v=([a-z0-9]+)/)?.[1] ?? null;
}

async function renderList(admin) {
  const { videos } = await listVideos(admin);
  const ul = $('#videos');
  ul.replaceChildren();
  for (const v of videos.filter((v) => v.playback_url)) {
    const li = document.createElement('li');
    const a = Object.assign(document.createElement('a'), { href: `#v=${v.id}` });
    a.dataset.id = v.id;
    const title = Object.assign(document.createElement('strong'), { textContent: v.title || v.id });
    const meta = Object.assign(document.createElement('span'), { className: 'meta', textContent: '…' });
    if (v.poster_url) {
      a.append(
        Object.assign(document.createElement('img'), {
          src: v.poster_url,
          alt: '',
          loading: 'lazy',
          className: 'poster',
        }),
      );
    }
    a.append(title, meta);
    if (v.state !== 'ready')
      a.append(Object.assign(document.createElement('span'), { className: 'badge', textContent: 'uploading' }));
    li.append(a);
    ul.append(li);
    playlistInfo(v.playback_url)
      .then((i) => {
        // Largest first (the playlist lists the ~2 Mb/s rendition first, for players to start with).
        const res = i.renditions
          .map((r) => Number(r.resolution?.split('x')[1]))
          .filter(Boolean)
          .sort((a, b) => b - a)
          .map((h) => `${h}p`);
        meta.textContent = [
          clock(i.duration),
          res.length ? res.join(', ') : null,
          i.audio ? `${i.audio} audio` : null,
          `${(v.bytes / 1e6).toFixed(1)} MB`,
        ]
          .filter(Boolean)
          .join(' · ');
      })
      .catch(() => (meta.textContent = 'no playlist yet'));
  }
  return videos;
}

function showLevel() {
  if (!hls) return;
  const l = hls.levels[hls.currentLevel];
  $('#level').textContent = l
    ? `Playing ${l.height ? `${l.height}p` : `level ${hls.currentLevel}`} · ${mbps(l.bitrate)}` +
      (hls.autoLevelEnabled ? ' (auto)' : '')
    : '';
}

function play(v) {
  hls?.destroy();
  $('#error').textContent = '';
  $('#title').textContent = v.title || v.id;
  $('#state').textContent = v.state === 'ready' ? '' : 'still uploading: the playlist grows as segments arrive';
  for (const a of document.querySelectorAll('#videos a'))
    a.toggleAttribute('aria-current', /** @type {HTMLElement} */ (a).dataset.id === v.id);
  if (!Hls.isSupported()) {
    video.src = v.playback_url; // Safari plays HLS natively.
    return;
  }
  hls = new Hls({ lowLatencyMode: false });
  /** @type {any} */ (window).upcastHls = hls; // For the end-to-end tests and for curious people in the console.
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
    const q = $('#quality');
    q.replaceChildren(new Option('Auto', '-1'));
    for (const [i, l] of data.levels.entries()) {
      q.append(new Option(`${l.height ? `${l.height}p` : `level ${i}`} · ${mbps(l.bitrate)}`, String(i)));
    }
    video.play().catch(() => {});
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, showLevel);
  hls.on(Hls.Events.FRAG_CHANGED, showLevel);
  hls.on(Hls.Events.ERROR, (_e, d) => {
    if (d.fatal) {
      /** @type {any} */ (window).upcastFatal = `${d.type}: ${d.details}`;
      $('#error').textContent = `Playback failed: ${d.details}${d.reason ? ` (${d.reason})` : ''}`;
    }
  });
  hls.loadSource(v.playback_url);
  hls.attachMedia(video);
}

$('#quality').addEventListener('change', (e) => {
  if (hls) hls.currentLevel = Number(e.target.value);
  showLevel();
});

async function main() {
  const admin = await askToken($('#token'));
  let videos = await renderList(admin);
  const pick = async () => {
    const id = selected();
    let v = videos.find((x) => x.id === id);
    if (id && !v) videos = await renderList(admin);
    v = videos.find((x) => x.id === id) ?? videos.find((x) => x.playback_url);
    if (v) play(v);
  };
  window.addEventListener('hashchange', pick);
  await pick();
}

main().catch((e) => ($('#error').textContent = e.message));
