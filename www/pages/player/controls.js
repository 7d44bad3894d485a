// @ts-check
// The viewer's own controls over a plain <video> (hls.js, Shaka Player and dash.js all play into one):
// play, a seek bar with the storyboard's thumbnail and the chapter under the pointer and a mark at each
// chapter, time, volume and mute (remembered in this browser), speed, captions (the player's own text
// tracks: hls.js, Shaka and dash.js all expose subtitle renditions as `video.textTracks`), fullscreen, a
// share link that starts at the current time (`#t=`), and the keyboard shortcuts people know from YouTube:
// space/k play, ←/→ 5 s, ↑/↓ volume, f fullscreen, m mute, c captions.

import { hms as clock } from './cues.js';

const VOLUME = 'upcast.volume';
const MUTED = 'upcast.muted';
const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];

/** @param {string} tag @param {Record<string, any>} [props] @param {(Node | string)[]} [kids] */
function el(tag, props = {}, kids = []) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids);
  return e;
}

/** The captions and subtitles among a video's text tracks. @param {HTMLVideoElement} video */
export const captionTracks = (video) =>
  Array.from(video.textTracks).filter((t) => t.kind === 'subtitles' || t.kind === 'captions');

export class PlayerUi {
  /**
   * @param {HTMLElement} stage the element that holds the video (and goes fullscreen)
   * @param {HTMLVideoElement} video
   * @param {{share: (t: number) => string}} options `share(t)`: the link to this video at t seconds
   */
  constructor(stage, video, { share }) {
    this.stage = stage;
    this.video = video;
    this.share = share;
    /** @type {Awaited<ReturnType<typeof import('./cues.js').loadThumbnails>>} */
    this.thumbs = null;
    /** @type {{start: number, end: number, text: string}[]} */
    this.chapters = [];
    this.lastCaption = 0;
    video.controls = false;
    this.build();
    this.restoreVolume();
    this.listen();
  }

  build() {
    const b = (label, cls, text) =>
      el('button', { type: 'button', className: cls, title: label, ariaLabel: label, textContent: text });
    this.play = b('Play (space)', 'play', '▶');
    this.fill = el('div', { className: 'fill' });
    this.marks = el('div', { className: 'marks' });
    this.thumb = el('div', { className: 'thumb', hidden: true }, [el('div', { className: 'tile' }), el('span')]);
    this.seek = el('div', { className: 'seek', role: 'slider', tabIndex: -1, ariaLabel: 'Seek' }, [
      this.fill,
      this.marks,
      this.thumb,
    ]);
    this.time = el('span', { className: 'time', textContent: '0:00 / 0:00' });
    this.mute = b('Mute (m)', 'mute', 'Mute');
    this.volume = el('input', {
      type: 'range',
      min: '0',
      max: '1',
      step: '0.05',
      className: 'volume',
      ariaLabel: 'Volume',
    });
    this.speed = el(
      'select',
      { className: 'speed', ariaLabel: 'Speed', title: 'Speed' },
      SPEEDS.map((s) => new Option(`${s}×`, String(s))),
    );
    this.speed.value = '1';
    this.captions = el('select', { className: 'captions', ariaLabel: 'Captions', title: 'Captions (c)' }, [
      new Option('Captions off', '-1'),
    ]);
    this.captions.hidden = true;
    this.shareBtn = b('Copy a link to this moment', 'share', 'Share');
    this.full = b('Fullscreen (f)', 'full', 'Full screen');
    this.bar = el('div', { className: 'player-bar' }, [
      this.play,
      this.seek,
      this.time,
      this.mute,
      this.volume,
      this.speed,
      this.captions,
      this.shareBtn,
      this.full,
    ]);
    this.stage.append(this.bar);
  }

  restoreVolume() {
    const v = Number(localStorage.getItem(VOLUME));
    if (localStorage.getItem(VOLUME) !== null && v >= 0 && v <= 1) this.video.volume = v;
    // Muted unless this browser unmuted before (a muted video may start by itself; one with sound may not).
    this.video.muted = localStorage.getItem(MUTED) !== 'false';
    this.showVolume();
  }

  showVolume() {
    this.volume.value = String(this.video.muted ? 0 : this.video.volume);
    this.mute.textContent = this.video.muted || this.video.volume === 0 ? 'Unmute' : 'Mute';
  }

  listen() {
    const v = this.video;
    this.play.onclick = () => this.toggle();
    v.addEventListener('click', () => this.toggle());
    for (const e of ['play', 'pause']) v.addEventListener(e, () => (this.play.textContent = v.paused ? '▶' : '❚❚'));
    v.addEventListener('timeupdate', () => this.showTime());
    v.addEventListener('durationchange', () => this.showChapters());
    v.addEventListener('volumechange', () => {
      localStorage.setItem(VOLUME, String(v.volume));
      localStorage.setItem(MUTED, String(v.muted));
      this.showVolume();
    });
    v.addEventListener('ratechange', () => (this.speed.value = String(v.playbackRate)));
    v.textTracks.addEventListener('addtrack', () => this.fillCaptions());
    v.textTracks.addEventListener('removetrack', () => this.fillCaptions());
    v.textTracks.addEventListener('change', () => this.showCaptionChoice());
    this.mute.onclick = () => (v.muted = !v.muted);
    this.volume.oninput = () => {
      v.volume = Number(this.volume.value);
      v.muted = v.volume === 0;
    };
    this.speed.onchange = () => (v.playbackRate = Number(this.speed.value));
    this.captions.onchange = () => this.selectCaption(Number(this.captions.value));
    this.full.onclick = () => this.fullscreen();
    this.shareBtn.onclick = () => this.copyLink();
    this.seek.addEventListener('pointermove', (e) => this.hover(e));
    this.seek.addEventListener('pointerleave', () => (this.thumb.hidden = true));
    this.seek.addEventListener('pointerdown', (e) => (v.currentTime = this.timeAt(e)));
    this.onKey = (/** @type {KeyboardEvent} */ e) => this.key(e);
    document.addEventListener('keydown', this.onKey);
  }

  /** Stop listening to the page (the video is being replaced). */
  destroy() {
    document.removeEventListener('keydown', this.onKey);
    this.bar.remove();
  }

  toggle() {
    if (this.video.paused) this.video.play().catch(() => {});
    else this.video.pause();
  }

  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else this.stage.requestFullscreen?.().catch(() => {});
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    const t = /** @type {HTMLElement} */ (e.target);
    if (e.ctrlKey || e.metaKey || e.altKey || t?.closest?.('input, select, textarea')) return;
    const v = this.video;
    const end = Number.isFinite(v.duration) ? v.duration : Infinity;
    const act = {
      ' ': () => this.toggle(),
      k: () => this.toggle(),
      ArrowLeft: () => (v.currentTime = Math.max(0, v.currentTime - 5)),
      ArrowRight: () => (v.currentTime = Math.min(end, v.currentTime + 5)),
      ArrowUp: () => {
        v.volume = Math.min(1, v.volume + 0.1);
        v.muted = false;
      },
      ArrowDown: () => (v.volume = Math.max(0, v.volume - 0.1)),
      f: () => this.fullscreen(),
      m: () => (v.muted = !v.muted),
      c: () => this.toggleCaptions(),
    }[e.key];
    if (!act) return;
    e.preventDefault();
    act();
  }

  /** The time under the pointer on the seek bar. @param {PointerEvent} e */
  timeAt(e) {
    const r = this.seek.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    return f * (Number.isFinite(this.video.duration) ? this.video.duration : 0);
  }

  /** The preview over the seek bar: the storyboard's tile for the time under the pointer, the chapter and
   * the time. @param {PointerEvent} e */
  hover(e) {
    const t = this.timeAt(e);
    const r = this.seek.getBoundingClientRect();
    const tile = this.thumbs?.at(t);
    const box = /** @type {HTMLElement} */ (this.thumb.firstChild);
    box.hidden = !tile;
    if (tile) {
      Object.assign(box.style, {
        width: `${tile.w}px`,
        height: `${tile.h}px`,
        backgroundImage: `url("${tile.sheet}")`,
        backgroundPosition: `-${tile.x}px -${tile.y}px`,
      });
      Object.assign(box.dataset, {
        sheet: tile.sheet,
        xywh: `${tile.x},${tile.y},${tile.w},${tile.h}`,
        start: String(tile.start),
      });
    }
    const chapter = this.chapterAt(t);
    /** @type {HTMLElement} */ (this.thumb.lastChild).textContent = chapter
      ? `${chapter.text} · ${clock(t)}`
      : clock(t);
    const w = tile?.w ?? 80;
    this.thumb.style.left = `${Math.min(Math.max(0, e.clientX - r.left - w / 2), r.width - w)}px`;
    this.thumb.dataset.time = String(t);
    this.thumb.hidden = false;
  }

  showTime() {
    const v = this.video;
    const d = Number.isFinite(v.duration) ? v.duration : 0;
    this.time.textContent = `${clock(v.currentTime)} / ${clock(d)}`;
    this.fill.style.width = d ? `${(100 * v.currentTime) / d}%` : '0';
  }

  /** @param {number} t */
  chapterAt(t) {
    return this.chapters.findLast((c) => c.start <= t) ?? null;
  }

  /** @param {{start: number, end: number, text: string}[]} chapters */
  setChapters(chapters) {
    this.chapters = chapters;
    this.showChapters();
  }

  showChapters() {
    const d = this.video.duration;
    this.marks.replaceChildren(
      ...(Number.isFinite(d) && d > 0 ? this.chapters.filter((c) => c.start > 0) : []).map((c) =>
        el('i', { title: c.text, style: `left: ${(100 * c.start) / d}%` }),
      ),
    );
  }

  fillCaptions() {
    const tracks = captionTracks(this.video);
    this.captions.replaceChildren(
      new Option('Captions off', '-1'),
      ...tracks.map((t, i) => new Option(t.label || t.language || `Track ${i + 1}`, String(i))),
    );
    this.captions.hidden = tracks.length === 0;
    this.showCaptionChoice();
  }

  showCaptionChoice() {
    const i = captionTracks(this.video).findIndex((t) => t.mode === 'showing');
    this.captions.value = String(i);
    if (i >= 0) this.lastCaption = i;
  }

  /** Show track `i` (-1: none). @param {number} i */
  selectCaption(i) {
    for (const [j, t] of captionTracks(this.video).entries()) t.mode = j === i ? 'showing' : 'disabled';
    this.showCaptionChoice();
  }

  toggleCaptions() {
    const tracks = captionTracks(this.video);
    if (!tracks.length) return;
    const on = tracks.some((t) => t.mode === 'showing');
    this.selectCaption(on ? -1 : Math.min(this.lastCaption, tracks.length - 1));
  }

  async copyLink() {
    const url = this.share(Math.floor(this.video.currentTime));
    this.shareBtn.dataset.url = url;
    // The link is shown at once; the clipboard (which may ask or refuse) only changes the button's word.
    const out = document.querySelector('#share-url');
    if (out instanceof HTMLInputElement) {
      out.value = url;
      out.hidden = false;
    }
    try {
      await navigator.clipboard.writeText(url);
      this.shareBtn.textContent = 'Link copied';
    } catch {
      this.shareBtn.textContent = 'Link below';
    }
    setTimeout(() => (this.shareBtn.textContent = 'Share'), 2000);
  }
}
