// @ts-check
// The Go live page's tables: the ladder the planner proposes (rungs on or off, bit rates editable) and the
// status of each rung while live (frames/s, bit rate sent, encoder queue, parts waiting, upload lag,
// dropped frames and why).

/** @typedef {import('../workers/live/video.js').RungPlan & {on: boolean}} PlannedRung */

const cell = (text) => Object.assign(document.createElement('td'), { textContent: text });

/**
 * The ladder table; edits change `rungs` in place.
 * @param {HTMLTableSectionElement} tbody @param {PlannedRung[]} rungs
 */
export function renderLadder(tbody, rungs) {
  tbody.replaceChildren();
  for (const r of rungs) {
    const tr = document.createElement('tr');
    tr.dataset.rung = r.label;
    const on = Object.assign(document.createElement('input'), {
      type: 'checkbox',
      checked: r.on,
      name: `on-${r.label}`,
    });
    on.addEventListener('change', () => {
      r.on = on.checked;
    });
    const rate = Object.assign(document.createElement('input'), {
      type: 'number',
      min: '0.1',
      max: '20',
      step: '0.1',
      value: (r.bitrate / 1e6).toFixed(2),
      name: `mbps-${r.label}`,
    });
    rate.addEventListener('change', () => {
      const v = Number(rate.value);
      if (v > 0) r.bitrate = Math.round(v * 1e6);
    });
    const tdOn = document.createElement('td');
    tdOn.append(on);
    const tdRate = document.createElement('td');
    tdRate.append(rate);
    const hw = r.hardwareAcceleration === 'prefer-hardware' ? 'hardware' : 'software';
    tr.append(tdOn, cell(r.label), cell(`${r.width}×${r.height}`), tdRate, cell(`${r.codec} (${hw})`));
    tbody.append(tr);
  }
}

/**
 * One row per rung of the Worker's `stats` message.
 * @param {HTMLTableSectionElement} tbody @param {any[]} rungs
 */
export function renderStats(tbody, rungs) {
  tbody.replaceChildren();
  for (const r of rungs) {
    const tr = document.createElement('tr');
    tr.dataset.rung = r.label;
    tr.classList.toggle('dropped', !r.active);
    const dropped = r.dropped ? `${r.dropped}${r.dropReason ? ` (${r.dropReason})` : ''}` : '0';
    tr.append(
      cell(
        r.active
          ? r.label
          : r.paused
            ? `${r.label} (paused: uplink)`
            : `${r.label} (off: ${r.dropReason ?? 'stopped'})`,
      ),
      cell(r.fps.toFixed(1)),
      cell((r.bitrate / 1e6).toFixed(2)),
      cell(String(r.queue)),
      cell(String(r.waiting)),
      cell(`${((r.uploadMs ?? 0) / 1000).toFixed(2)} s`),
      cell(`${(r.lagMs / 1000).toFixed(2)} s`),
      cell(dropped),
    );
    tbody.append(tr);
  }
}

/** The origin's view of the stream (GET /api/streams/{id}), in a line. @param {any} s */
export function originLine(s) {
  const st = s?.status ?? {};
  const since = st.since ? `live for ${Math.max(0, Math.round((Date.now() - st.since) / 1000))} s` : '';
  return [
    `origin: ${st.state ?? '?'}${st.reason ? ` (${st.reason})` : ''}`,
    since,
    st.viewers != null ? `${st.viewers} viewer(s)` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}
