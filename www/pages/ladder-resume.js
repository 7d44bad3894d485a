// @ts-check
// Resuming a ladder's encoding after a reload or a crashed tab. Each encoded segment the origin stores is
// recorded here (localStorage, beside resume.js's record of the video) with what a later run needs of it:
// its size, its SHA-256 and the core's record (timing, fragment numbers, key frames). When the same file is
// dropped again, the origin is asked which files it has; the records of those it has with the same size
// and SHA-256 go to the ladder, which starts encoding at the first segment any encoded rendition lacks.

import * as api from './api.js';
import * as resume from './resume.js';

const PREFIX = 'upcast.ladder-segments:';

/** @param {File} file @returns {Record<string, {record: string, size: number, sha256: string}>} */
function load(file) {
  try {
    return JSON.parse(localStorage.getItem(PREFIX + resume.key(file)) ?? '{}') ?? {};
  } catch {
    return {};
  }
}

/**
 * An encoded segment of `file`'s ladder is on the origin: keep its record.
 * @param {File} file @param {import('../lib/package-file.js').PackageFile & {record?: string | null}} f
 */
export async function keepSegment(file, f) {
  if (!f?.record) return;
  const sha256 = await f.sha256();
  const all = load(file);
  all[f.path] = { record: f.record, size: f.size, sha256 };
  try {
    localStorage.setItem(PREFIX + resume.key(file), JSON.stringify(all));
  } catch {
    /* storage full: this segment is made again after a reload, nothing else is lost */
  }
}

/**
 * Rendition `dir`'s encoder changed since the first run: its stored segments are made again, their records
 * are of no more use (and must not be: a later resume would mix them with the new init).
 * @param {File} file @param {string} dir
 */
export function forgetRendition(file, dir) {
  const all = load(file);
  for (const path of Object.keys(all)) if (path.startsWith(`${dir}/`)) delete all[path];
  try {
    localStorage.setItem(PREFIX + resume.key(file), JSON.stringify(all));
  } catch {
    /* storage full: nothing was added */
  }
}

/** The video is published: its records are of no more use. @param {File} file */
export function forgetSegments(file) {
  localStorage.removeItem(PREFIX + resume.key(file));
}

/**
 * The records of the encoded segments the origin still has of the video this file was uploading to
 * (same path, size and SHA-256), and the SHA-256 of each rendition's stored init segment (by rendition
 * directory: a resumed rung's encoder must write the same, see workers/ladder/init-check.js), or null when
 * there is nothing to resume (no earlier upload, the origin does not answer or has forgotten the video:
 * the ladder then starts from the beginning). `board`: the files under storyboard/ the origin has (a
 * complete storyboard of the first run is not drawn again).
 * @param {File} file
 * @returns {Promise<{records: object[], inits: Record<string, string>,
 *   board: {path: string, size: number}[]} | null>}
 */
export async function storedSegments(file) {
  const rec = resume.get(file);
  const mine = load(file);
  if (!rec || !Object.keys(mine).length) return null;
  let have;
  try {
    have = await api.storedFiles(rec.ticket, rec.id);
  } catch {
    return null;
  }
  const out = [];
  /** @type {Record<string, string>} */
  const inits = {};
  for (const f of have.files ?? []) {
    const m = mine[f.path];
    if (m && m.size === f.size && m.sha256 === f.sha256) out.push(JSON.parse(m.record));
    const dir = f.path.match(/^([^/]+)\/init\.mp4$/)?.[1];
    if (dir) inits[dir] = f.sha256;
  }
  const board = (have.files ?? [])
    .filter((f) => f.path.startsWith('storyboard/'))
    .map((f) => ({ path: f.path, size: f.size }));
  return out.length ? { records: out, inits, board } : null;
}

/** "m:ss" (or "h:mm:ss") of `us` microseconds. @param {number} us */
export function clock(us) {
  const s = Math.floor(us / 1e6);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** What the page says when encoding resumes at `atUs`. @param {number} atUs */
export const resumingText = (atUs) => `resuming at ${clock(atUs)}`;

/**
 * What the upload says of a file, for the records: a stored encoded segment is kept, a published video's
 * records are dropped.
 * @param {File} file @param {{files: Map<string, any>}} pkg @param {{type: string, path?: string}} e
 */
export function trackUpload(file, pkg, e) {
  if (e.type === 'file' && e.path) keepSegment(file, pkg.files.get(e.path)).catch(() => {});
  else if (e.type === 'published') forgetSegments(file);
}

/**
 * Say on the page where a resumed ladder starts ("resuming at 25:00"), above the rung meters.
 * @param {HTMLElement} meters @param {{segment: number, atUs: number}} r
 */
export function showResuming(meters, r) {
  const p = document.createElement('p');
  p.className = 'resuming';
  p.textContent = `Already on the origin up to segment ${r.segment}: ${resumingText(r.atUs)}.`;
  meters.before(p);
  document.body.dataset.resumingAt = clock(r.atUs);
}

/** The text the page shows of a rung encoded again from the start. @param {number} height */
export const encoderChangedText = (height) =>
  `${height}p: the encoder changed since the first run; encoding it again from the start`;

/**
 * Say on the page that a rung with stored segments is encoded again from its start (its encoder writes
 * another init than the first run's), above the rung meters.
 * @param {HTMLElement} meters @param {{rung: string, height: number}} r
 */
export function showEncoderChanged(meters, r) {
  const p = document.createElement('p');
  p.className = 'encoder-changed';
  p.dataset.rung = r.rung;
  p.textContent = `${encoderChangedText(r.height)}.`;
  meters.before(p);
}

/** The test hook of the e2e: the first frame time (µs) each rung's encoder was given, by rung id.
 * @param {any} p */
export function noteProgress(p) {
  const rungs = p?.video?.rungs;
  if (rungs) window.__upcastLadderFirstUs = Object.fromEntries(rungs.map((/** @type {any} */ r) => [r.id, r.firstUs]));
}
