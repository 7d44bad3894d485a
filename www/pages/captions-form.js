// @ts-check
// Captions and chapters on the upload page: caption files (WebVTT or SRT) per language with a name and
// DEFAULT/FORCED, and chapters typed one per line (`0:00 Intro`). They go to the core with the package
// (`segment(file, {text})`: checked, segmented on the video's boundaries, announced in master.m3u8 and the
// MPD), or to the origin's captions API for a video already published (`addLater`).
import * as api from './api.js';

/**
 * One caption file as the core and the API take it.
 * @typedef {{lang: string, name: string, default: boolean, forced: boolean, bytes: Uint8Array<ArrayBuffer>}} CaptionInput
 */

/** Add a caption row to `list` (a clone of the template row). @param {HTMLElement} root */
function addRow(root) {
  const tpl = /** @type {HTMLTemplateElement} */ (root.querySelector('template.caption-row'));
  const row = /** @type {HTMLElement} */ (tpl.content.firstElementChild?.cloneNode(true));
  row.querySelector('.remove')?.addEventListener('click', () => row.remove());
  root.querySelector('.captions')?.append(row);
  return row;
}

/** Wire the captions card: one empty row to start, "Add a language" adds more. @param {HTMLElement} root */
export function captionsCard(root) {
  addRow(root);
  root.querySelector('.add-caption')?.addEventListener('click', () => addRow(root));
}

/** `m:ss` or `h:mm:ss` of a time in milliseconds, as chapters are typed. @param {number} ms */
function clock(ms) {
  const s = Math.floor(ms / 1000);
  const frac = ms % 1000 ? `.${String(ms % 1000).padStart(3, '0')}` : '';
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:${two(m)}` : m}:${two(s % 60)}${frac}`;
}

/**
 * Show the chapters a file carries in the chapters box (unless the person typed their own), so they can
 * be edited or removed. Chapters shown from an earlier file are replaced.
 * @param {HTMLElement} root @param {{startMs: number, title: string}[] | undefined} chapters
 */
export function showSourceChapters(root, chapters) {
  const area = /** @type {HTMLTextAreaElement} */ (root.querySelector('.chapters'));
  const note = /** @type {HTMLElement} */ (root.querySelector('.chapters-note'));
  const use = /** @type {HTMLInputElement} */ (root.querySelector('.source-chapters'));
  const typed = area.value.trim() && area.value !== area.dataset.fromFile;
  if (!chapters?.length || typed) {
    if (!typed && area.dataset.fromFile) area.value = '';
    delete area.dataset.fromFile;
    note.textContent = chapters?.length ? `The file has ${chapters.length} chapters; the typed ones are used.` : '';
    return;
  }
  const text = chapters.map((c) => `${clock(c.startMs)} ${c.title}`).join('\n');
  area.value = text;
  area.dataset.fromFile = text;
  note.textContent = use.checked
    ? `${chapters.length} chapters from the file.`
    : `The file has ${chapters.length} chapters (not used).`;
  /** @type {HTMLDetailsElement} */ (root).open = true;
}

/**
 * The caption files and chapters the person gave, read: `undefined` when there are none and the file's
 * own chapters are wanted (the core's default). Chapters shown from the file and left as they were are
 * not sent as typed (the file's are used, as they are); shown and then cleared, or the box unticked, the
 * file's chapters are left out.
 * @param {HTMLElement} root
 * @returns {Promise<{captions: CaptionInput[], chapters: string, sourceChapters: boolean} | undefined>}
 */
export async function textOptions(root) {
  /** @type {CaptionInput[]} */
  const captions = [];
  for (const row of root.querySelectorAll('.caption')) {
    const input = (/** @type {string} */ sel) => /** @type {HTMLInputElement} */ (row.querySelector(sel));
    const file = input('.file').files?.[0];
    if (!file) continue;
    const lang = input('.lang').value.trim();
    if (!lang) throw new Error(`give the language of ${file.name} (for example en or pt-BR)`);
    captions.push({
      lang,
      name: input('.cname').value.trim(),
      default: input('.default').checked,
      forced: input('.forced').checked,
      bytes: new Uint8Array(await file.arrayBuffer()),
    });
  }
  const area = /** @type {HTMLTextAreaElement} */ (root.querySelector('.chapters'));
  const fromFile = area.dataset.fromFile;
  const chapters = fromFile && area.value === fromFile ? '' : area.value;
  const sourceChapters =
    /** @type {HTMLInputElement} */ (root.querySelector('.source-chapters')).checked &&
    !(fromFile && !area.value.trim());
  if (!captions.length && !chapters.trim() && sourceChapters) return undefined;
  return { captions, chapters, sourceChapters };
}

/**
 * Send caption files to a published video through the origin's API; the warnings it gave.
 * @param {string} token @param {string} id @param {CaptionInput[]} captions
 */
export async function addLater(token, id, captions) {
  const warnings = [];
  for (const c of captions) {
    const r = await api.putCaptions(token, id, c);
    warnings.push(...r.warnings);
  }
  return warnings;
}
