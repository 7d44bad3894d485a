// @ts-check
// When a rung paused for the uplink comes back (the Go live Worker's policy): once the highest rung
// still uploaded has had enough parts in a row taken calmly (few waiting, each up quickly). Counted in parts
// the uplink carried, never on a clock (a throttled background tab's timers say nothing of the uplink);
// each drop after a return doubles the count asked for, so a link that only just keeps up is not
// flooded again and again.

/** Parts in a row, taken calmly, before the first return. */
export const RESTORE_CALM_PARTS = 12;
/** Calm: at most this many parts waiting … */
export const CALM_WAITING_PARTS = 1;
/** … and each part taken within this from when it was made (the uplink's own time, not the encoder's). */
export const CALM_UPLOAD_MS = 1000;

export class UplinkRestore {
  constructor() {
    /** Drops so far during this capture. */
    this.drops = 0;
    /**
     * The paused rung (its index), calm parts counted, parts needed, the sent-part count last seen, and
     * whether it is due back (at the next segment boundary).
     * @type {{i: number, calm: number, need: number, seen: number, due: boolean} | null}
     */
    this.pausedRung = null;
  }

  /**
   * Rung `i` was paused; `sent` is the parts the rung below it has had taken so far. Returns how many
   * calm parts it takes to come back.
   * @param {number} i @param {number} sent
   */
  paused(i, sent) {
    this.drops++;
    const need = RESTORE_CALM_PARTS * 2 ** (this.drops - 1);
    this.pausedRung = { i, calm: 0, need, seen: sent, due: false };
    return need;
  }

  /**
   * What the highest rung still uploaded shows now: parts taken so far, parts waiting, the last part's
   * time from made to taken.
   * A part taken while the uplink is behind starts the count again.
   * @param {{sentParts: number, waiting: number, uploadMs: number}} up
   */
  observe(up) {
    const p = this.pausedRung;
    if (!p || p.due) return;
    const sent = up.sentParts - p.seen;
    p.seen = up.sentParts;
    if (sent <= 0) return;
    const calm = up.waiting <= CALM_WAITING_PARTS && up.uploadMs < CALM_UPLOAD_MS;
    p.calm = calm ? p.calm + sent : 0;
    if (p.calm >= p.need) p.due = true;
  }

  /** The paused rung's index when it is due back, else null. */
  due() {
    return this.pausedRung?.due ? this.pausedRung.i : null;
  }

  /** It came back (or a new publish brought every rung back). */
  back() {
    this.pausedRung = null;
  }
}
