// @ts-check
// The viewer: the origin's videos, played by a choice of player — hls.js on the HLS playlists, or Shaka
// Player, dash.js or video.js (VHS) on the DASH manifest written beside them over the same CMAF segments —
// with a quality menu, the current level and bitrate, and which manifest is playing. A video still
// uploading plays from the origin's growing playlist. The DASH players are loaded only when chosen.
/* global Hls */

import { clock, mbps } from '../lib/findings.js';
import { listVideos, videoPlayback } from './api.js';
import { PlayerUi } from './player/controls.js';
import { hms, loadChapters, loadThumbnails } from './player/cues.js';
import { skipLeadIn } from './player/lead-in.js';
import { listPreview } from './player/preview.js';
import { playlistInfo } from './playlist-info.js';
import { askToken } from './token.js';

const $ = (s) => document.querySelector(s);
/** @type {any} */
const w = window;

/**
 * One player behind the page's controls. Levels are what the quality menu lists: the video
 * Representations (or the audio ones of a package without video), in the library's own order.
 * @typedef {{height: number, bitrate: number, id: string}} Level
 * @typedef {{
 *   levels: () => Level[],
 *   current: () => number,
 *   auto: () => boolean,
 *   select: (index: number) => void,
 *   audios: () => string[],
 *   audio: () => number,
 *   selectAudio: (index: number) => void,
 *   destroy: () => void | Promise<void>,
 * }} Engine
 * @typedef {{levels: () => void, level: () => void, fail: (message: string) => void}} Hooks
 */

/** The choices: the menu's label, the manifest each plays, the script (and style) it needs. */
const ENGINES = {
  hls: { label: 'HLS (hls.js)', manifest: 'HLS', scripts: [] },
  shaka: { label: 'DASH (Shaka Player)', manifest: 'DASH', scripts: ['vendor/shaka-player.dash.js'] },
  dashjs: { label: 'DASH (dash.js)', manifest: 'DASH', scripts: ['vendor/dash.mediaplayer.min.js'] },
  videojs: {
    label: 'DASH (video.js)',
    manifest: 'DASH',
    scripts: ['vendor/video.min.js'],
    style: 'vendor/video-js.min.css',
  },
};
const STORE = 'upcast.player';

/** @type {Engine | null} */
let engine = null;
/** @type {PlayerUi | null} */
let ui = null;
let generation = 0;

/** The hash's `v=` (video), `player=` (engine), `q=` (a level to start on) and `t=` (a time to start at,
 * seconds, as a share link has it) values. */
function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  return { id: h.get('v'), player: h.get('player'), quality: h.get('q'), t: Number(h.get('t')) || 0 };
}

/** A file beside the master playlist (a signed link's query kept, as for the MPD). */
const besideMaster = (master, path) => master.replace(/master\.m3u8(?=$|[?#])/, path);

/** The engine to use: the hash's, else the one last chosen here, else hls.js. */
function chosenEngine() {
  const p = fromHash().player ?? localStorage.getItem(STORE);
  return p && p in ENGINES ? p : 'hls';
}

/** @type {Map<string, Promise<void>>} */
const loading = new Map();
/** Load a classic script (or a style sheet) once. */
function load(src, style = false) {
  let p = loading.get(src);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const el = style
        ? Object.assign(document.createElement('link'), { rel: 'stylesheet', href: src })
        : Object.assign(document.createElement('script'), { src });
      el.onload = () => resolve();
      el.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(el);
    });
    loading.set(src, p);
  }
  return p;
}

/** The MPD beside a master playlist (its query, a signed link's, kept). */
export const mpdUrl = (playback) => playback.replace(/master\.m3u8(?=$|[?#])/, 'manifest.mpd');

/** A public video has its playback URL; a private one, once published, plays through a signed link. */
const playable = (v) => v.playback_url || (v.visibility === 'private' && v.state === 'ready');

/** The master playlist's URL: the public path, or a signed link (one hour) the admin token asks for. */
async function masterUrl(admin, v) {
  return v.playback_url ?? (await videoPlayback(admin, v.id)).url;
}

async function renderList(admin) {
  const { videos } = await listVideos(admin);
  const ul = $('#videos');
  ul.replaceChildren();
  for (const v of videos.filter(playable)) {
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
    if (v.storyboard_url) listPreview(a, v.storyboard_url);
    if (v.state !== 'ready')
      a.append(Object.assign(document.createElement('span'), { className: 'badge', textContent: 'uploading' }));
    if (v.visibility === 'private')
      a.append(Object.assign(document.createElement('span'), { className: 'badge', textContent: 'private' }));
    li.append(a);
    ul.append(li);
    masterUrl(admin, v)
      .then(playlistInfo)
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

const levelName = (l, i) => (l.height ? `${l.height}p` : `level ${i}`);

function showLevel() {
  if (!engine) return;
  const i = engine.current();
  const l = engine.levels()[i];
  $('#level').textContent = l ? `Playing ${levelName(l, i)} · ${mbps(l.bitrate)}${engine.auto() ? ' (auto)' : ''}` : '';
}

function fillMenus() {
  if (!engine) return;
  const q = $('#quality');
  const chosen = engine.auto() ? '-1' : String(engine.current());
  q.replaceChildren(new Option('Auto', '-1'));
  for (const [i, l] of engine.levels().entries())
    q.append(new Option(`${levelName(l, i)} · ${mbps(l.bitrate)}`, String(i)));
  q.value = chosen;
  const langs = engine.audios();
  $('#audio-choice').hidden = langs.length < 2;
  $('#audio').replaceChildren(...langs.map((l, i) => new Option(l || `track ${i + 1}`, String(i))));
  $('#audio').value = String(engine.audio());
  showLevel();
}

/** A fresh <video> in the stage for each player (video.js wraps and, when disposed, removes it). */
function freshVideo() {
  const video = Object.assign(document.createElement('video'), {
    id: 'player',
    controls: true,
    muted: true,
    playsInline: true,
  });
  $('#stage').replaceChildren(video);
  return video;
}

/**
 * hls.js on the master playlist (Safari, without MSE, plays HLS natively). A video still uploading (or
 * encoding) is served as growing EVENT playlists, which hls.js would join at their live edge: it starts
 * from the beginning instead, as the finished video will.
 * @param {HTMLVideoElement} video @param {string} url @param {Hooks} on @param {{growing?: boolean}} [opts]
 * @returns {Engine}
 */
function startHls(video, url, on, { growing = false } = {}) {
  if (!Hls.isSupported()) {
    video.src = url;
    return plain(video);
  }
  const hls = new Hls({ lowLatencyMode: false, ...(growing && { startPosition: 0 }) });
  w.upcastHls = hls; // For the end-to-end tests and for curious people in the console.
  w.upcastPlayer = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    on.levels();
    video.play().catch(() => {});
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, on.level);
  hls.on(Hls.Events.FRAG_CHANGED, on.level);
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, on.levels); // after MANIFEST_PARSED: the audio menu
  hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, on.levels);
  hls.on(Hls.Events.ERROR, (_e, d) => {
    if (d.fatal) on.fail(`${d.type}: ${d.details}${d.reason ? ` (${d.reason})` : ''}`);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    // A level's id: its rendition's folder (the Representation id in the MPD).
    levels: () =>
      hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate, id: l.url[0]?.split('/').at(-2) ?? '' })),
    current: () => hls.currentLevel,
    auto: () => hls.autoLevelEnabled,
    select: (i) => (hls.currentLevel = i),
    audios: () => hls.audioTracks.map((t) => t.lang ?? t.name),
    audio: () => hls.audioTrack,
    selectAudio: (i) => (hls.audioTrack = i),
    destroy: () => hls.destroy(),
  };
}

/** @param {HTMLVideoElement} video @returns {Engine} */
function plain(video) {
  return {
    levels: () => [],
    current: () => -1,
    auto: () => true,
    select: () => {},
    audios: () => [],
    audio: () => 0,
    selectAudio: () => {},
    destroy: () => video.removeAttribute('src'),
  };
}

/**
 * Shaka Player. Its variants are video × audio pairs: the menu lists those of the playing audio language,
 * one per video Representation (per audio one, without video); choosing one turns ABR off.
 * @param {HTMLVideoElement} video @param {string} url @param {Hooks} on @returns {Engine}
 */
function startShaka(video, url, on) {
  const shaka = w.shaka;
  shaka.polyfill.installAll();
  const player = new shaka.Player();
  w.upcastShaka = player;
  w.upcastPlayer = player;
  player.configure({ streaming: { bufferingGoal: 10 } });
  player.addEventListener('error', (e) => {
    const d = e.detail;
    on.fail(`Shaka error ${d.code} (category ${d.category})${d.data?.length ? `: ${JSON.stringify(d.data)}` : ''}`);
  });
  player.addEventListener('adaptation', on.level);
  player.addEventListener('variantchanged', on.level);
  player.addEventListener('trackschanged', on.levels);
  const variants = () => {
    const all = player.getVariantTracks();
    const lang = all.find((t) => t.active)?.language;
    const mine = all.filter((t) => t.language === lang);
    const key = (t) => t.videoId ?? t.audioId ?? t.id;
    // One per video (or, audio only, per audio) Representation, in the manifest's order.
    const seen = new Set();
    return mine.filter((t) => !seen.has(key(t)) && seen.add(key(t)));
  };
  player
    .attach(video)
    .then(() => player.load(url))
    .then(() => {
      on.levels();
      video.play().catch(() => {});
    })
    .catch((e) => on.fail(`Shaka error ${e.code ?? ''} ${e.message ?? ''}`.trim()));
  return {
    levels: () =>
      variants().map((t) => ({
        height: t.height ?? 0,
        bitrate: t.videoBandwidth || t.audioBandwidth || t.bandwidth,
        id: t.originalVideoId ?? t.originalAudioId ?? '',
      })),
    current: () => {
      const v = variants();
      const active = player.getVariantTracks().find((t) => t.active);
      return v.findIndex((t) => active && (t.videoId ?? t.audioId) === (active.videoId ?? active.audioId));
    },
    auto: () => player.getConfiguration().abr.enabled,
    select: (i) => {
      player.configure({ abr: { enabled: i < 0 } });
      if (i >= 0) player.selectVariantTrack(variants()[i], true);
    },
    audios: () => player.getAudioTracks().map((t) => t.language),
    audio: () => player.getAudioTracks().findIndex((t) => t.active),
    selectAudio: (i) => player.selectAudioTrack(player.getAudioTracks()[i]),
    destroy: () => player.destroy(),
  };
}

/**
 * dash.js. Levels are the Representations of the video AdaptationSet (audio, without video); choosing
 * one turns its ABR off and replaces what is buffered.
 * @param {HTMLVideoElement} video @param {string} url @param {Hooks} on @returns {Engine}
 */
function startDashjs(video, url, on) {
  const dashjs = w.dashjs;
  const player = dashjs.MediaPlayer().create();
  w.upcastDash = player;
  w.upcastPlayer = player;
  const events = dashjs.MediaPlayer.events;
  let type = 'video';
  let ready = false;
  player.on(events.STREAM_INITIALIZED, () => {
    ready = true;
    type = player.getRepresentationsByType('video').length ? 'video' : 'audio';
    on.levels();
  });
  player.on(events.QUALITY_CHANGE_RENDERED, on.level);
  player.on(events.TRACK_CHANGE_RENDERED, on.levels);
  player.on(events.FRAGMENT_LOADING_COMPLETED, on.level);
  player.on(events.ERROR, (e) => {
    const err = e.error ?? e;
    on.fail(`dash.js error ${err.code ?? ''}: ${err.message ?? JSON.stringify(err)}`);
  });
  player.on(events.PLAYBACK_ERROR, (e) => on.fail(`dash.js playback error: ${e.error?.message ?? e.error}`));
  skipLeadIn(video, url); // before dash.js listens to the element
  player.initialize(video, url, true);
  const reps = () => (ready ? player.getRepresentationsByType(type) : []);
  /** @type {Engine} */
  const engine = {
    levels: () => reps().map((r) => ({ height: r.height ?? 0, bitrate: r.bandwidth, id: r.id })),
    current: () => {
      const c = ready ? player.getCurrentRepresentationForType(type) : null;
      return c ? reps().findIndex((r) => r.id === c.id) : -1;
    },
    auto: () => player.getSettings().streaming.abr.autoSwitchBitrate[type] !== false,
    select: (i) => {
      player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { [type]: i < 0 } } } });
      if (i >= 0) player.setRepresentationForTypeByIndex(type, i, true);
    },
    audios: () => (ready ? player.getTracksFor('audio').map((t) => t.lang) : []),
    audio: () => {
      const c = ready ? player.getCurrentTrackFor('audio') : null;
      return c ? player.getTracksFor('audio').findIndex((t) => t.id === c.id && t.lang === c.lang) : 0;
    },
    selectAudio: (i) => switchLanguage(player.getTracksFor('audio')[i]),
    destroy: () => player.destroy(),
  };
  return engine;

  /**
   * Another language: the MPD attached again where the video is, with the new language as the initial
   * one. dash.js 5.2's own switch (`setCurrentTrack`, even with its buffer flushed) does not fetch the new
   * language's segments before the switch point again: seeking back after a switch, or switching once the
   * whole file is buffered, plays the rest without sound.
   */
  function switchLanguage(track) {
    const at = video.currentTime;
    const playing = !video.paused && !video.ended;
    const rate = video.playbackRate;
    const level = engine.auto() ? -1 : engine.current();
    ready = false;
    player.setAutoPlay(playing);
    player.attachSource(url, at);
    player.setInitialMediaSettingsFor('audio', { lang: track.lang });
    const resume = () => {
      player.off(events.STREAM_INITIALIZED, resume);
      video.playbackRate = rate;
      if (level >= 0) engine.select(level);
    };
    player.on(events.STREAM_INITIALIZED, resume);
  }
}

/**
 * video.js with its built-in VHS. Levels are its qualityLevels (one per VHS representation, the MPD's
 * video Representations); choosing one enables it alone (VHS then drops what it had buffered).
 * @param {HTMLVideoElement} video @param {string} url @param {Hooks} on @returns {Engine}
 */
function startVideojs(video, url, on) {
  const videojs = w.videojs;
  video.classList.add('video-js');
  const player = videojs(video, {
    fluid: true, // the page's 16:9 box, as the <video> of the other players
    aspectRatio: '16:9',
    html5: { vhs: { overrideNative: true }, nativeAudioTracks: false, nativeVideoTracks: false },
  });
  w.upcastVjs = player;
  w.upcastPlayer = player;
  const q = player.qualityLevels();
  let forced = -1;
  q.on('addqualitylevel', (e) => {
    if (forced >= 0) e.qualityLevel.enabled = q.length - 1 === forced;
    on.levels();
  });
  q.on('change', on.level);
  player.audioTracks().on('change', on.levels);
  player.on('error', () => {
    const e = player.error();
    on.fail(`video.js error ${e?.code ?? ''}: ${e?.message ?? ''}`);
  });
  player.on('loadedmetadata', () => {
    on.levels();
    player.play()?.catch(() => {});
  });
  player.src({ src: url, type: 'application/dash+xml' });
  const list = () => Array.from({ length: q.length }, (_, i) => q[i]);
  return {
    levels: () => list().map((l) => ({ height: l.height ?? 0, bitrate: l.bitrate, id: l.id })),
    current: () => q.selectedIndex,
    auto: () => forced < 0,
    select: (i) => {
      forced = i;
      for (const [j, l] of list().entries()) l.enabled = i < 0 || i === j;
    },
    audios: () => Array.from({ length: player.audioTracks().length }, (_, i) => player.audioTracks()[i].language),
    audio: () => {
      const t = player.audioTracks();
      return Math.max(0, Array.from({ length: t.length }, (_, i) => t[i].enabled).indexOf(true));
    },
    selectAudio: (i) => {
      const t = player.audioTracks();
      for (let j = 0; j < t.length; j++) t[j].enabled = j === i;
    },
    destroy: () => player.dispose(),
  };
}

/** Does the origin have an MPD for this video? (Packages made before upcast wrote one do not.) */
async function hasMpd(url) {
  const r = await fetch(url, { method: 'HEAD' }).catch(() => null);
  return !!r?.ok;
}

/**
 * @param {any} v the video
 * @param {string} master its master playlist's URL (signed, for a private video)
 * @param {number} [quality] the level to start on (-1: automatic)
 * @param {number} [startAt] the time to start at, in seconds (a share link's `#t=`)
 */
async function play(v, master, quality = -1, startAt = 0) {
  const mine = ++generation;
  const was = engine;
  engine = null;
  ui?.destroy();
  ui = null;
  $('#chapters').replaceChildren();
  $('#share-url').hidden = true;
  // No handle on a player being destroyed (a test polling `upcastHls.levels` would read a dead one).
  w.upcastView = w.upcastPlayer = w.upcastHls = w.upcastShaka = w.upcastDash = w.upcastVjs = null;
  w.upcastFatal = undefined;
  await was?.destroy();
  $('#error').textContent = '';
  $('#note').textContent = '';
  $('#level').textContent = '';
  $('#title').textContent = v.title || v.id;
  // A ladder's planned playlists are stored first, so a video still encoding plays too.
  $('#state').textContent =
    v.state === 'ready' ? '' : 'still uploading (or encoding): it plays from the start and grows as segments arrive';
  for (const a of document.querySelectorAll('#videos a'))
    a.toggleAttribute('aria-current', /** @type {HTMLElement} */ (a).dataset.id === v.id);
  let kind = chosenEngine();
  $('#engine').value = kind;
  const mpd = mpdUrl(master);
  if (kind !== 'hls' && !(await hasMpd(mpd))) {
    const why =
      v.state === 'ready' ? 'it was packaged before upcast wrote one' : 'not yet: its upload is still running';
    const instead = ENGINES[kind].label.replace(/^DASH \((.*)\)$/, '$1');
    $('#note').textContent =
      `This video has no DASH manifest (${why}): playing its HLS with hls.js instead of ${instead}.`;
    kind = 'hls';
  }
  const spec = ENGINES[kind];
  try {
    if (spec.style) await load(spec.style, true);
    for (const s of spec.scripts) await load(s);
  } catch (e) {
    $('#error').textContent = e.message;
    return;
  }
  if (mine !== generation) return; // Another video or player was chosen meanwhile.
  const url = kind === 'hls' ? master : mpd;
  $('#manifest').textContent = `${spec.manifest} · ${new URL(url, location.href).pathname.split('/').pop()}`;
  $('#manifest').title = url;
  document.body.dataset.manifest = spec.manifest;
  document.body.dataset.player = kind;
  const video = freshVideo();
  const live = () => mine === generation;
  /** @type {Hooks} */
  const on = {
    levels: () => {
      if (!live()) return;
      // A level named by the address is chosen as soon as the player knows it, before it buffers much.
      if (quality >= 0 && engine && engine.levels().length > quality) {
        engine.select(quality);
        quality = -1;
      }
      fillMenus();
    },
    level: () => live() && showLevel(),
    fail: (message) => {
      if (!live()) return;
      w.upcastFatal = message;
      $('#error').textContent = `Playback failed: ${message}`;
    },
  };
  if (startAt > 0)
    video.addEventListener('loadedmetadata', () => (video.currentTime = Math.min(startAt, video.duration || startAt)), {
      once: true,
    });
  // video.js draws its own skin; the other three play into a plain <video> that gets the page's controls.
  if (kind !== 'videojs') {
    ui = new PlayerUi($('#stage'), video, { share: (t) => shareLink(v.id, t) });
    w.upcastUi = ui;
    decorate(ui, v, master, live);
  }
  const start = { hls: startHls, shaka: startShaka, dashjs: startDashjs, videojs: startVideojs }[kind];
  engine = start(video, url, on, { growing: v.state !== 'ready' });
  w.upcastView = engine; // The page's controls' view of any player: for the tests, and the console.
}

/** The link to video `id` at `t` seconds on this page (the player is the viewer's own choice). */
const shareLink = (id, t) => `${location.origin}${location.pathname}#v=${id}${t > 0 ? `&t=${t}` : ''}`;

/**
 * The storyboard's thumbnails on the seek bar and the chapters (marks on the bar, a list below it), read
 * from the package: `storyboard/storyboard.vtt` when the video has one, the chapters track the API names
 * (`chapters_url`), else `chapters.vtt` beside the master playlist when there is one.
 * @param {PlayerUi} target @param {any} v @param {string} master @param {() => boolean} live
 */
async function decorate(target, v, master, live) {
  const [thumbs, chapters] = await Promise.all([
    v.storyboard ? loadThumbnails(besideMaster(master, 'storyboard/storyboard.vtt')).catch(() => null) : null,
    loadChapters(v.chapters_url ?? besideMaster(master, 'chapters.vtt')),
  ]);
  if (!live()) return;
  target.thumbs = thumbs;
  target.setChapters(chapters);
  document.body.dataset.storyboard = thumbs ? String(thumbs.tiles.length) : '0';
  $('#chapters').replaceChildren(
    ...chapters.map((c) => {
      const b = Object.assign(document.createElement('button'), {
        type: 'button',
        textContent: `${hms(c.start)} ${c.text}`,
      });
      b.onclick = () => {
        target.video.currentTime = c.start;
        target.video.play().catch(() => {});
      };
      const li = document.createElement('li');
      li.append(b);
      return li;
    }),
  );
}

$('#quality').addEventListener('change', (e) => {
  engine?.select(Number(e.target.value));
  showLevel();
});
$('#audio').addEventListener('change', (e) => engine?.selectAudio(Number(e.target.value)));

async function main() {
  const admin = await askToken($('#token'));
  let videos = await renderList(admin);
  let shown = null;
  const pick = async () => {
    const { id } = fromHash();
    let v = videos.find((x) => x.id === id);
    if (id && !v) videos = await renderList(admin);
    v = videos.find((x) => x.id === id && playable(x)) ?? videos.find(playable);
    // The player is remembered both ways: the address names it (a link someone shares), and this browser
    // keeps the last one chosen (a video picked from the list, whose link names none).
    const player = chosenEngine();
    const quality = Number(fromHash().quality ?? -1);
    const startAt = fromHash().t;
    localStorage.setItem(STORE, player);
    if (v) history.replaceState(null, '', `${location.pathname}${location.search}#v=${v.id}&player=${player}`);
    const key = v && `${v.id} ${player}`;
    if (v && key !== shown) {
      shown = key;
      await play(v, await masterUrl(admin, v), quality, startAt);
    } else if (v && startAt > 0 && ui) {
      ui.video.currentTime = startAt; // a share link of the video already playing
    }
  };
  $('#engine').value = chosenEngine();
  $('#engine').addEventListener('change', (e) => {
    localStorage.setItem(STORE, e.target.value);
    const h = new URLSearchParams(location.hash.slice(1));
    h.set('player', e.target.value);
    location.hash = h.toString(); // → hashchange → pick()
  });
  window.addEventListener('hashchange', pick);
  await pick();
}

main().catch((e) => ($('#error').textContent = e.message));
