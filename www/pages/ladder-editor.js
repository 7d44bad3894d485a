// @ts-check
// The upload page's ladder: the proposed renditions, editable (which rungs, their bit rates, whether the
// source is copied as the top rung), and per-rung progress while they encode.
import { mbps } from '../lib/findings.js';

const el = (tag, props = {}, ...kids) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids);
  return e;
};

function audioNote(job) {
  const a = job.source.audio;
  if (!a) return 'No audio.';
  if (a.copy) return `Audio: ${a.codec} copied as it is (${a.channels} ch, ${a.sampleRate} Hz).`;
  const t = job.audioTarget;
  if (!t)
    return `Audio: ${job.audioProblem ?? `${a.codec} cannot be encoded in this browser (no AAC or Opus encoder)`}: the upload would fail.`;
  if (t.codec === 'opus') {
    return (
      `Audio: the source's ${a.codec} is encoded as Opus, because this browser has no AAC encoder. Safari plays ` +
      'Opus in HLS only from iOS 17 / macOS 14; older Apple devices will play the video without sound. Upload an ' +
      'AAC source (or use Safari, which encodes AAC) for every device.'
    );
  }
  return `Audio: the source's ${a.codec} is encoded as AAC (${t.numberOfChannels} ch, ${t.sampleRate} Hz).`;
}

/** The codec families the planner offers (wasm/src/ladder/codecs.rs), H.264 first: it plays everywhere. */
const FAMILIES = [
  { key: 'h264', name: 'H.264', test: /^avc[13]\./, note: 'plays everywhere' },
  { key: 'av1', name: 'AV1', test: /^av01\./, note: 'about 60 % of the bits for the same quality' },
  { key: 'vp9', name: 'VP9', test: /^vp09\./, note: 'about two thirds of the bits' },
];

/** The family of a codec string (`h264`, `av1`, `vp9`). */
export const familyOf = (codec) => FAMILIES.find((f) => f.test.test(codec))?.key ?? 'h264';

/** How the source's video reaches the encoders, said on the page: every rendition of a source that
 * cannot be copied (VP8) is encoded from these frames. */
function decodeNote(job) {
  const d = job.decodePath;
  if (!d) return '';
  return `Every rendition is encoded from frames decoded in this tab by WebCodecs (${d.api} “${d.codec}”, ${d.hardware ? 'hardware' : 'software'}).`;
}

/** Show the proposal in `root`; resolves to {rungs, copy} when the person starts. One rung set per codec
 * family: H.264's is on (the proposal's rungs ticked), and so is AV1's when the proposal has AV1 rungs (a
 * hardware AV1 encoder; `proposal.av1Note` says why it is on or off); AV1's and VP9's are otherwise offered
 * where this browser can encode them, and their rows appear when their set is switched on (ticked where
 * H.264's are). A ladder may mix sets: players choose by CODECS, and the multivariant playlist lists an
 * H.264 variant first. */
export function editLadder(root, job, signal) {
  const { source, candidates, proposal } = job;
  const chosen = new Set(proposal.rungs.map((r) => r.id));
  const proposedFamilies = new Set(proposal.rungs.map((r) => familyOf(r.codec)));
  const chosenSizes = new Set(
    proposal.rungs.filter((r) => familyOf(r.codec) === 'h264').map((r) => `${r.width}x${r.height}`),
  );
  const tbody = root.querySelector('tbody');
  tbody.replaceChildren();
  const v = source.video;
  const copyBox = el('input', { type: 'checkbox', checked: proposal.copy, disabled: !source.copyable, name: 'copy' });
  tbody.append(
    el(
      'tr',
      {},
      el('td', {}, copyBox),
      el('td', {}, 'Original'),
      el('td', {}, `${v.displayWidth}×${v.displayHeight}`),
      el('td', {}, mbps(v.bitrate)),
      el('td', {}, el('code', {}, v.codec)),
      el('td', {}, source.copyable ? 'copied, no re-encoding' : `not offered: ${source.copyReason}`),
    ),
  );
  const row = (c) => {
    const family = familyOf(c.codec);
    const ticked = proposedFamilies.has(family)
      ? chosen.has(c.id)
      : chosenSizes.size === 0 || chosenSizes.has(`${c.width}x${c.height}`);
    const box = el('input', { type: 'checkbox', checked: c.supported && ticked, disabled: !c.supported, name: c.id });
    const rate = el('input', {
      type: 'number',
      min: 50,
      max: 50000,
      step: 50,
      value: Math.round(c.bitrate / 1000),
      disabled: !c.supported,
      name: `${c.id}-kbps`,
    });
    rate.setAttribute('aria-label', `${c.id} bit rate in kb/s`);
    const enc = c.supported
      ? c.hardwareAcceleration === 'prefer-hardware'
        ? 'hardware'
        : 'software'
      : job.decodeProblem
        ? 'unavailable: the source cannot be decoded here'
        : 'this browser cannot encode it';
    const tr = el(
      'tr',
      {},
      el('td', {}, box),
      el('td', {}, c.id),
      el('td', {}, `${c.width}×${c.height}`),
      el('td', {}, rate, ' kb/s'),
      el('td', {}, el('code', {}, c.codec)),
      el('td', {}, enc),
    );
    tr.dataset.rung = c.id;
    tr.dataset.family = family;
    return { c, box, rate, tr, family };
  };
  const rows = candidates.map(row);
  // The rung sets: a switch per codec family; a family this browser cannot encode at all is shown off.
  const sets = root.querySelector('.codec-sets');
  sets.replaceChildren('Codecs: ');
  /** @type {Map<string, HTMLInputElement>} */
  const switches = new Map();
  const place = () => {
    const shown = rows.filter((r) => switches.get(r.family)?.checked);
    tbody.replaceChildren(tbody.rows[0], ...shown.map((r) => r.tr));
  };
  for (const f of FAMILIES) {
    const mine = rows.filter((r) => r.family === f.key);
    if (!mine.length) continue;
    const usable = mine.some((r) => r.c.supported);
    const sw = el('input', {
      type: 'checkbox',
      name: `set-${f.key}`,
      // H.264's rows are always listed, each saying why it is unavailable when it is (a source this browser
      // cannot decode); the other families' rows appear when their set is switched on.
      checked: f.key === 'h264' || proposedFamilies.has(f.key),
      disabled: !usable,
    });
    sw.onchange = place;
    switches.set(f.key, sw);
    const how = usable
      ? mine.some((r) => r.c.hardwareAcceleration === 'prefer-hardware')
        ? `${f.note}; hardware encoder`
        : f.note
      : job.decodeProblem
        ? 'the source cannot be decoded here'
        : 'this browser cannot encode it';
    sets.append(el('label', { title: how }, sw, ` ${f.name}`), el('span', { className: 'set-note' }, ` (${how}) `));
  }
  if (proposal.av1Note) sets.append(el('span', { className: 'av1-note' }, `${proposal.av1Note}.`));
  place();
  const notes = [];
  if (job.decodeProblem) {
    const cap = job.decodeProblem[0].toUpperCase() + job.decodeProblem.slice(1);
    notes.push(source.copyable ? `${cap}: only the original is uploaded, copied as it is.` : `${cap}.`);
  }
  if (!source.copyable) {
    notes.push(
      `The source cannot be the top rendition: ${source.copyReason}.` +
        (job.decodeProblem ? '' : ` ${decodeNote(job)}`),
    );
  }
  root.querySelector('.copy-reason').textContent = notes.join(' ');
  root.dataset.decodable = String(!job.decodeProblem);
  root.querySelector('.audio').textContent = audioNote(job);
  root.hidden = false;
  const start = root.querySelector('.start');
  // Nothing can be made: neither copied nor encoded (the note above says why).
  start.disabled = !source.copyable && !rows.some((r) => r.c.supported);
  start.textContent = rows.some((r) => r.c.supported) ? 'Encode and upload' : 'Upload';
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException('cancelled', 'AbortError'));
    signal?.addEventListener('abort', onAbort, { once: true });
    start.onclick = () => {
      const rungs = rows
        .filter((r) => switches.get(r.family)?.checked && r.box.checked && !r.box.disabled)
        .map((r) => ({ ...r.c, bitrate: Math.max(50, Number(r.rate.value) || r.c.bitrate / 1000) * 1000 }))
        .map(({ supported, reason, ...rung }) => rung);
      const copy = copyBox.checked && !copyBox.disabled;
      if (!rungs.length && !copy) {
        root.querySelector('.copy-reason').textContent = 'Pick at least one rendition.';
        return;
      }
      start.disabled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({ rungs, copy });
    };
  });
}

/** Per-rung meters: frames, frames per second, time left. */
export class RungMeters {
  constructor(root, rungs) {
    this.root = root;
    root.replaceChildren();
    this.rows = new Map();
    for (const r of rungs) {
      const bar = el('progress', { max: 1, value: 0 });
      const fig = el('span', { className: 'figures' });
      root.append(
        el(
          'div',
          { className: 'meter' },
          el(
            'span',
            { className: 'label', title: `${r.id}: ${r.width}×${r.height} ${r.codec}` },
            `${r.width}×${r.height}${familyOf(r.codec) === 'h264' ? '' : ` ${FAMILIES.find((f) => f.key === familyOf(r.codec))?.name}`}`,
          ),
          bar,
          fig,
        ),
      );
      this.rows.set(r.id, { bar, fig });
    }
    root.hidden = rungs.length === 0;
  }

  update(p) {
    for (const r of p.rungs) {
      const row = this.rows.get(r.id);
      if (!row) continue;
      row.bar.max = Math.max(1, r.total);
      row.bar.value = r.frames;
      const parts = [`${r.frames} of ${r.total} frames`];
      if (r.fps > 0) parts.push(`${r.fps.toFixed(0)} fps`);
      if (r.etaS != null && r.frames < r.total) parts.push(`${Math.ceil(r.etaS)} s left`);
      if (r.restarts) parts.push(`encoder replaced ${r.restarts}×`);
      row.fig.textContent = parts.join(' · ');
    }
  }

  finish() {
    for (const { bar } of this.rows.values()) bar.value = bar.max;
  }
}
