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

/** Show the proposal in `root`; resolves to {rungs, copy} when the person starts. */
export function editLadder(root, job, signal) {
  const { source, candidates, proposal } = job;
  const chosen = new Set(proposal.rungs.map((r) => r.id));
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
      el('td', {}, source.copyable ? 'copied, no re-encoding' : 'cannot be copied'),
    ),
  );
  const rows = candidates.map((c) => {
    const box = el('input', { type: 'checkbox', checked: chosen.has(c.id), disabled: !c.supported, name: c.id });
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
    tbody.append(
      el(
        'tr',
        {},
        el('td', {}, box),
        el('td', {}, c.id),
        el('td', {}, `${c.width}×${c.height}`),
        el('td', {}, rate, ' kb/s'),
        el('td', {}, el('code', {}, c.codec)),
        el('td', {}, enc),
      ),
    );
    return { c, box, rate };
  });
  const notes = [];
  if (job.decodeProblem) {
    const cap = job.decodeProblem[0].toUpperCase() + job.decodeProblem.slice(1);
    notes.push(source.copyable ? `${cap}: only the original is uploaded, copied as it is.` : `${cap}.`);
  }
  if (!source.copyable) {
    notes.push(
      `The source cannot be the top rendition: ${source.copyReason}.` +
        (job.decodeProblem ? '' : ' Every rendition is encoded.'),
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
        .filter((r) => r.box.checked && !r.box.disabled)
        .map((r) => ({ ...r.c, bitrate: Math.max(50, Number(r.rate.value) || r.c.bitrate / 1000) * 1000 }))
        .map(({ supported, ...rung }) => rung);
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
          el('span', { className: 'label', title: `${r.id}: ${r.width}×${r.height}` }, `${r.width}×${r.height}`),
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
      row.fig.textContent = parts.join(' · ');
    }
  }

  finish() {
    for (const { bar } of this.rows.values()) bar.value = bar.max;
  }
}
