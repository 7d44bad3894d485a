// @ts-check
// Puts the sound on the video's clock. A publish's media time 0 is its first frame. The sound's own
// timestamps cannot be trusted to say where it belongs: in Chromium a transferred microphone track's
// first pieces carry one clock and the next ones another, 1.5 s back (seen here), and the camera's
// frames count from yet another origin. What can be trusted is that the sound is continuous: so the
// first piece is placed by when it reached the Worker (as the first frame was), and every later piece
// follows the one before it, restamped by the running count of samples. The encoder then sees one
// steady clock, and where the sound has got to is exact (the end of a publish relies on it).
//
// One arrival can still mislead: while the Worker is busy (the core loading, the encoders starting)
// the sound queues up and then arrives all at once, and its first piece would be placed late by the
// whole backlog. So the sound is held while its pieces arrive in a burst (much faster than they play);
// at the first piece that arrives at playing pace (with no backlog, the second piece, 10 ms later) the
// last piece is taken as fresh and the held ones are placed before it. Silence fills from media time 0
// to the sound's first piece, so audio and video start together (HLS Authoring 8.7).

/** The sound is held at most this long (ms of wall time), and at most this many pieces (10 ms each). */
const MAX_HOLD_MS = 300;
const MAX_HELD = 600;

export class AudioClock {
  constructor() {
    /** Media time (µs) of the next piece, once the first is placed. @type {number | null} */
    this.pos = null;
    /** @type {AudioData[]} */
    this.held = [];
    /** performance.now() (ms) of the first piece held and of the last, and the last one's length (µs). */
    this.firstHeldAt = 0;
    this.lastAt = 0;
    this.lastUs = 0;
  }

  /**
   * A piece of sound arrived at `nowMs` (performance.now()); the first frame arrived at `startedAt`.
   * Returns the pieces ready to encode, in order, each stamped with its media time (µs).
   * @param {AudioData} data @param {number} nowMs @param {number} startedAt
   * @returns {{ data: AudioData, tUs: number }[]}
   */
  audio(data, nowMs, startedAt) {
    if (this.pos !== null) return [this.next(data)];
    const held = this.held.length;
    // A piece that arrives well before the previous one has played is part of a backlog.
    const atPace = held > 0 && (nowMs - this.lastAt) * 1000 >= this.lastUs / 2;
    const settle = atPace || held >= MAX_HELD || (held > 0 && nowMs - this.firstHeldAt > MAX_HOLD_MS);
    if (!held) this.firstHeldAt = nowMs;
    this.lastAt = nowMs;
    this.lastUs = data.duration;
    this.held.push(data);
    return settle ? this.settle(startedAt) : [];
  }

  /** Place the held sound now (also when the publish stops). @param {number} startedAt */
  settle(startedAt) {
    if (this.pos !== null || !this.held.length) return [];
    const held = this.held;
    this.held = [];
    // The last piece arrived fresh; the ones held before it were played just before it.
    let start = (this.lastAt - startedAt) * 1000;
    for (const d of held.slice(0, -1)) start -= d.duration;
    // Sound from before the first frame is not part of this publish.
    while (start < 0 && held.length > 1) {
      const d = /** @type {AudioData} */ (held.shift());
      start += d.duration;
      d.close();
    }
    this.pos = 0;
    const out = [];
    const lead = silence(held[0], Math.max(0, start));
    if (lead) out.push(this.next(lead));
    for (const d of held) out.push(this.next(d));
    return out;
  }

  /** `data` restamped at the running position. @param {AudioData} data */
  next(data) {
    const tUs = /** @type {number} */ (this.pos);
    const out = restamp(data, tUs);
    this.pos = tUs + out.duration;
    return { data: out, tUs };
  }

  /** Close what is held (the Worker stops or a new publish starts). */
  drop() {
    for (const d of this.held) d.close();
    this.held = [];
  }
}

/** `data` at `timestamp`: the same samples (as planar f32) in a new AudioData; `data` is closed. */
function restamp(data, timestamp) {
  if (data.timestamp === timestamp) return data;
  const n = data.numberOfFrames;
  const channels = data.numberOfChannels;
  const samples = new Float32Array(n * channels);
  for (let c = 0; c < channels; c++)
    data.copyTo(samples.subarray(c * n, (c + 1) * n), { planeIndex: c, format: 'f32-planar' });
  const out = new AudioData({
    format: 'f32-planar',
    sampleRate: data.sampleRate,
    numberOfFrames: n,
    numberOfChannels: channels,
    timestamp,
    data: samples,
  });
  data.close();
  return out;
}

/** Silence of `us` µs at media time 0, shaped like `like` (none for no gap, or over 5 s). */
function silence(like, us) {
  return us > 5_000_000 ? null : silenceAt(like, 0, us);
}

/**
 * Silence of `us` µs at media time `atUs`, shaped like `like` (none for no gap, or over 6 s).
 * @param {{sampleRate: number, numberOfChannels: number}} like @param {number} atUs @param {number} us
 */
export function silenceAt(like, atUs, us) {
  const frames = Math.round((us * like.sampleRate) / 1e6);
  if (frames <= 0 || us > 6_000_000) return null;
  return new AudioData({
    format: 'f32-planar',
    sampleRate: like.sampleRate,
    numberOfFrames: frames,
    numberOfChannels: like.numberOfChannels,
    timestamp: atUs,
    data: new Float32Array(frames * like.numberOfChannels),
  });
}
