// @ts-check
// Progress in words: "12.3 MB of 61.4 MB · 8.2 MB/s · 6 s left".

export function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function duration(s) {
  if (!Number.isFinite(s)) return '…';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}

/** A progress bar with a rate over the last few seconds and an ETA. */
export class Meter {
  constructor(root, label) {
    this.root = root;
    root.hidden = false;
    root.querySelector('.label').textContent = label;
    this.bar = root.querySelector('progress');
    this.text = root.querySelector('.figures');
    this.samples = [];
  }

  /** @param {string} text */
  label(text) {
    this.root.querySelector('.label').textContent = text;
  }

  update(done, total) {
    const now = performance.now();
    this.samples.push([now, done]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 3000) this.samples.shift();
    const [t0, d0] = this.samples[0];
    const rate = now > t0 ? ((done - d0) * 1000) / (now - t0) : 0;
    this.bar.max = Math.max(total, 1);
    this.bar.value = done;
    const parts = [`${bytes(done)} of ${bytes(total)}`];
    if (rate > 0) parts.push(`${bytes(rate)}/s`);
    if (done < total && rate > 0) parts.push(`${duration((total - done) / rate)} left`);
    this.text.textContent = parts.join(' · ');
  }

  finish(note) {
    this.bar.value = this.bar.max;
    if (note) this.text.textContent = note;
  }
}
