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

/**
 * The caption files and chapters the person gave, read: `undefined` when there are none.
 * @param {HTMLElement} root
 * @returns {Promise<{captions: CaptionInput[], chapters: string} | undefined>}
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
  const chapters = /** @type {HTMLTextAreaElement} */ (root.querySelector('.chapters')).value;
  if (!captions.length && !chapters.trim()) return undefined;
  return { captions, chapters };
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
