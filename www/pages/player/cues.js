// @ts-check
// The viewer's reading of two WebVTT tracks beside a video: the storyboard's thumbnail track (cues
// `sheet_001.webp#xywh=x,y,w,h`, the form video.js, Vidstack, JW Player and Mux Player read) and a chapters
// track (cue text = chapter title). Only what these need: cue timings and text; a cue that cannot be read
// is skipped (the origin checked the storyboard at publish).

/** Seconds as a clock, whole seconds: `1:05`, `1:02:03`. @param {number} s */
export function hms(s) {
  const t = Math.max(0, Math.floor(s || 0));
  const [h, m, sec] = [Math.floor(t / 3600), Math.floor((t % 3600) / 60), t % 60];
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** `[hh:]mm:ss.ttt` in seconds, or NaN. */
export function vttTime(s) {
  const m = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(s.trim());
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000 : Number.NaN;
}

/**
 * The cues of a WebVTT file: start, end (seconds) and text.
 * @param {string} text @returns {{start: number, end: number, text: string}[]}
 */
export function parseCues(text) {
  const cues = [];
  for (const block of text.replace(/^\uFEFF/, '').split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/);
    const at = lines.findIndex((l) => l.includes('-->'));
    if (at < 0) continue;
    const [a, rest] = lines[at].split('-->');
    const start = vttTime(a);
    const end = vttTime(rest.trim().split(/\s+/)[0]);
    if (Number.isFinite(start) && Number.isFinite(end))
      cues.push({
        start,
        end,
        text: lines
          .slice(at + 1)
          .join('\n')
          .trim(),
      });
  }
  return cues;
}

/**
 * The thumbnails of a storyboard track at `url`: `at(t)` is the tile shown for time t (seconds).
 * @param {string} url
 */
export async function loadThumbnails(url) {
  const r = await fetch(url);
  if (!r.ok) return null;
  const tiles = parseCues(await r.text()).flatMap((c) => {
    const m = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(c.text);
    if (!m) return [];
    const [x, y, w, h] = m.slice(2).map(Number);
    return [{ start: c.start, end: c.end, sheet: new URL(m[1], new URL(url, location.href)).href, x, y, w, h }];
  });
  if (!tiles.length) return null;
  // Fetch the sheets once, ahead of the first hover.
  for (const s of new Set(tiles.map((t) => t.sheet))) new Image().src = s;
  return {
    tiles,
    /** @param {number} t */
    at: (t) => tiles.find((x) => t >= x.start && t < x.end) ?? (t >= tiles.at(-1).end ? tiles.at(-1) : tiles[0]),
  };
}

const ENTITIES = /** @type {Record<string, string>} */ ({
  amp: '&',
  lt: '<',
  gt: '>',
  nbsp: '\u00a0',
  lrm: '\u200e',
  rlm: '\u200f',
  quot: '"',
  apos: "'",
});

/**
 * A cue's text as plain text: tags (`<b>`, `<c.x>`, `<v Name>`) dropped and character references
 * (`&amp;`, `&#233;`, `&#xe9;`) resolved, as a browser renders WebVTT cue text (W3C WebVTT § 6.4).
 * @param {string} text
 */
export function plainText(text) {
  return text.replace(/<[^>]*>/g, '').replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, ref) => {
    if (ref[0] !== '#') return ENTITIES[ref.toLowerCase()] ?? all;
    const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/**
 * The chapters of a chapters track at `url`, or [] when there is none; titles as plain text.
 * @param {string} url @returns {Promise<{start: number, end: number, text: string}[]>}
 */
export async function loadChapters(url) {
  const r = await fetch(url).catch(() => null);
  if (!r?.ok) return [];
  return parseCues(await r.text())
    .map((c) => ({ ...c, text: plainText(c.text) }))
    .sort((a, b) => a.start - b.start);
}
