// @ts-check
// What a package summary means for a person: problems and notes in plain words.

/** @typedef {import('./types.js').Summary} Summary */

/**
 * Plain-words notes from a core summary (long GOPs, tracks left out, warnings) and from the conformance
 * report, when there is one: each finding with its severity, the HLS Authoring Spec rule and the file.
 * @param {Summary} summary
 * @param {{findings: import('./types.js').Finding[]} | null} [report]
 * @returns {string[]}
 */
export function findings(summary, report = null) {
  const out = [];
  for (const f of report?.findings ?? []) {
    out.push(`${f.severity} ${f.rule} (${f.title}): ${f.file} — ${f.message}`);
  }
  if (summary.longGop) {
    out.push(
      `Key frames are far apart: some segments are ${summary.longGop.longestSegmentS.toFixed(1)} s ` +
        `long where ${summary.longGop.targetDurationS} s was asked. It plays, but seeking and quality ` +
        `switches are coarser. (${summary.longGop.message})`,
    );
  }
  for (const t of summary.tracks) {
    if (!t.packaged) {
      const what = `${t.kind} track #${t.id}${t.codec ? ` (${t.codec})` : ''}`;
      out.push(`${what} is left out${t.note ? `: ${t.note}` : ' (only one video and one audio codec are packaged)'}.`);
    }
  }
  for (const w of summary.warnings) out.push(w);
  // A ladder's summary before encoding lists no video rendition when the source is not copied: its rungs
  // are the video.
  if (!summary.ladder && !summary.renditions.some((r) => r.kind === 'video'))
    out.push('There is no video: this is an audio-only stream.');
  return out;
}

/**
 * One-line descriptions of what was found, for display.
 * @param {Summary} summary
 * @returns {[string, string][]}
 */
export function describe(summary) {
  /** @type {[string, string][]} */
  const rows = [
    ['Container', summary.container],
    ['Duration', clock(summary.durationS)],
  ];
  for (const t of summary.tracks.filter((t) => t.packaged)) {
    if (t.kind === 'video') {
      rows.push([
        'Video',
        `${t.codec} · ${t.width}×${t.height}` +
          (t.frameRate ? ` · ${t.frameRate.toFixed(3).replace(/\.?0+$/, '')} fps` : '') +
          (t.maxGopS != null ? ` · key frame every ≤ ${t.maxGopS.toFixed(2)} s` : '') +
          (t.rotation ? ` · rotated ${t.rotation}°` : '') +
          ` · ${mbps(t.bitrate)}`,
      ]);
    } else if (t.kind === 'audio') {
      rows.push([
        `Audio${t.language && t.language !== 'und' ? ` (${t.language})` : ''}`,
        `${t.codec} · ${t.channels} ch · ${t.sampleRate} Hz · ${mbps(t.bitrate)}`,
      ]);
    }
  }
  rows.push([
    'Package',
    `${summary.renditions.length} renditions · ${summary.segments} segments of ~${summary.targetDurationS} s`,
  ]);
  return rows;
}

/** `m:ss.s` @param {number} s seconds */
export function clock(s) {
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

/** Mb/s or kb/s @param {number} bits per second */
export function mbps(bits) {
  return bits >= 1e6 ? `${(bits / 1e6).toFixed(2)} Mb/s` : `${Math.round(bits / 1e3)} kb/s`;
}
