// @ts-check
// The video list's storyboard preview: while the pointer is over a video's card, its poster gives way to
// the storyboard's tiles in turn (about three a second, through the whole video), as video sites do.

import { loadThumbnails } from './cues.js';

const STEP_MS = 330;
const FRAMES = 12; // tiles shown per pass, spread over the video

/** @param {HTMLElement} card @param {string} storyboardUrl */
export function listPreview(card, storyboardUrl) {
  /** @type {Promise<Awaited<ReturnType<typeof loadThumbnails>>> | null} */
  let thumbs = null;
  let timer = 0;
  const box = Object.assign(document.createElement('div'), { className: 'preview', hidden: true });
  card.prepend(box);
  card.addEventListener('pointerenter', async () => {
    thumbs ??= loadThumbnails(storyboardUrl).catch(() => null);
    const t = await thumbs;
    if (!t || timer) return;
    const picks = Array.from(
      { length: Math.min(FRAMES, t.tiles.length) },
      (_, i) => t.tiles[Math.floor((i * t.tiles.length) / Math.min(FRAMES, t.tiles.length))],
    );
    let i = 0;
    const show = () => {
      const tile = picks[i++ % picks.length];
      Object.assign(box.style, {
        width: `${tile.w}px`,
        height: `${tile.h}px`,
        backgroundImage: `url("${tile.sheet}")`,
        backgroundPosition: `-${tile.x}px -${tile.y}px`,
      });
      box.dataset.start = String(tile.start);
    };
    show();
    box.hidden = false;
    card.classList.add('previewing');
    timer = window.setInterval(show, STEP_MS);
  });
  card.addEventListener('pointerleave', () => {
    clearInterval(timer);
    timer = 0;
    box.hidden = true;
    card.classList.remove('previewing');
  });
}
