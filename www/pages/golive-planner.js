// @ts-check
// The Go live page's ladder planner: propose the rungs this device can encode in real time. Each candidate
// (720p/480p/360p/240p H.264 in the spirit of the HLS Authoring Spec's table, never above the capture, its
// aspect ratio) is asked of `VideoEncoder.isConfigSupported` with `latencyMode: 'realtime'`, hardware
// first, then software; then a ~1 s probe encodes one second of frames through every proposed rung at
// once and drops the top rung while the encoders together cannot keep up with the clock.

/** Candidate rungs, top first: height, bit rate, and the H.264 level that holds the size at 30 fps. */
const CANDIDATES = [
  { height: 720, bitrate: 2_500_000, codec: 'avc1.42E01F' },
  { height: 480, bitrate: 1_200_000, codec: 'avc1.42E01E' },
  { height: 360, bitrate: 700_000, codec: 'avc1.42E01E' },
  { height: 240, bitrate: 350_000, codec: 'avc1.42E015' },
];

/** @typedef {import('../workers/live/video.js').RungPlan} RungPlan */

const even = (x) => Math.max(2, Math.round(x / 2) * 2);

/** @param {RungPlan} r @param {HardwareAcceleration} hardwareAcceleration */
const config = (r, hardwareAcceleration) => ({
  codec: r.codec,
  width: r.width,
  height: r.height,
  bitrate: r.bitrate,
  framerate: r.framerate,
  latencyMode: /** @type {LatencyMode} */ ('realtime'),
  hardwareAcceleration,
  avc: { format: /** @type {AvcBitstreamFormat} */ ('avc') },
});

/** Hardware first, then software: the rung as this browser can encode it, or null. @param {RungPlan} r */
export async function supported(r) {
  for (const hw of /** @type {HardwareAcceleration[]} */ (['prefer-hardware', 'prefer-software'])) {
    try {
      if ((await VideoEncoder.isConfigSupported(config(r, hw))).supported) return { ...r, hardwareAcceleration: hw };
    } catch {
      /* a configuration this browser cannot parse */
    }
  }
  return null;
}

/**
 * The rungs for a capture of `width`×`height` at `framerate`, at most `max` of them, each checked.
 * @param {number} width @param {number} height @param {number} framerate @param {number} max
 * @returns {Promise<{rungs: RungPlan[], notes: string[]}>}
 */
export async function planLadder(width, height, framerate, max = 3) {
  const aspect = width / height;
  const notes = [];
  /** @type {RungPlan[]} */
  const rungs = [];
  for (const c of CANDIDATES) {
    if (rungs.length === max) break;
    if (c.height > height) continue;
    const r = {
      label: `${c.height}p`,
      codec: c.codec,
      width: even(c.height * aspect),
      height: c.height,
      bitrate: c.bitrate,
      framerate: Math.round(framerate) || 30,
    };
    const ok = await supported(r);
    if (ok) rungs.push(ok);
    else notes.push(`${r.label}: this browser cannot encode ${r.codec} at ${r.width}×${r.height} in real time`);
  }
  return { rungs, notes };
}

/**
 * Encode about a second of frames through every rung at once; the seconds it took per second of video.
 * @param {RungPlan[]} rungs @param {number} width @param {number} height
 */
export async function encodeSpeed(rungs, width, height) {
  const fps = rungs[0]?.framerate ?? 30;
  const canvas = new OffscreenCanvas(width, height);
  const g = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
  /** @type {VideoEncoder[]} */
  const encoders = [];
  let outputs = 0;
  let failure = null;
  for (const r of rungs) {
    const e = new VideoEncoder({
      output: () => outputs++,
      error: (err) => {
        failure = err;
      },
    });
    e.configure(config(r, r.hardwareAcceleration ?? 'no-preference'));
    encoders.push(e);
  }
  const t0 = performance.now();
  for (let i = 0; i < fps; i++) {
    // Moving noise and a gradient: content an encoder cannot skip as static.
    g.fillStyle = `hsl(${(i * 12) % 360} 70% 50%)`;
    g.fillRect(0, 0, width, height);
    for (let k = 0; k < 40; k++) {
      g.fillStyle = `rgb(${(k * 37 + i * 11) % 255} ${(k * 91) % 255} ${(i * 7) % 255})`;
      g.fillRect((k * 53 + i * 17) % width, (k * 29 + i * 13) % height, width / 8, height / 8);
    }
    const frame = new VideoFrame(canvas, { timestamp: (i * 1e6) / fps });
    for (const e of encoders) e.encode(frame, { keyFrame: i === 0 });
    frame.close();
  }
  await Promise.all(encoders.map((e) => e.flush().catch(() => {})));
  const secs = (performance.now() - t0) / 1000;
  for (const e of encoders) if (e.state !== 'closed') e.close();
  if (failure) throw new Error(`the encode-speed probe failed: ${failure.message}`);
  return { realtimeFactor: secs, frames: outputs };
}

/**
 * Plan, then probe: every supported candidate is listed; the top rungs are proposed off while one second of
 * video takes the proposed encoders more than 0.8 s (the user can turn them on again).
 * @param {number} width @param {number} height @param {number} framerate
 * @returns {Promise<{rungs: (RungPlan & {on: boolean})[], notes: string[]}>}
 */
export async function proposeLadder(width, height, framerate) {
  const { rungs, notes } = await planLadder(width, height, framerate, CANDIDATES.length);
  const on = rungs.map((_r, i) => i < 3);
  for (;;) {
    const picked = rungs.filter((_r, i) => on[i]);
    if (!picked.length) break;
    const { realtimeFactor } = await encodeSpeed(picked, width, height);
    if (realtimeFactor <= 0.8 || picked.length === 1) {
      notes.push(`encode-speed probe: ${picked.length} rung(s) encode 1 s of video in ${realtimeFactor.toFixed(2)} s`);
      break;
    }
    const top = on.indexOf(true);
    on[top] = false;
    notes.push(`${rungs[top].label} proposed off: the probe took ${realtimeFactor.toFixed(2)} s per second of video`);
  }
  return { rungs: rungs.map((r, i) => ({ ...r, on: on[i] })), notes };
}
