// @ts-check
// The Go live Worker's uploads (origin/server/API.md § "Ingest over HTTP"): each rendition's init segment,
// then its parts, one bounded PUT each, in order (the origin takes part n only after n-1: `part-gap`), so
// one request in flight per rendition and the renditions side by side (4 at most with three rungs and
// audio, under the origin's 8 per ticket). A failed PUT is tried again with back-off while the part is
// younger than the retry window; past it the publish is lost (the page publishes again: the origin makes a
// discontinuity). The origin's `lag_ms` answer is kept per rendition (shown), and each part's time from made to taken:
// with the parts waiting, the signal to drop the top rung.

/** How long a PUT may take before it is aborted and tried again. */
const PUT_TIMEOUT_MS = 8000;
/** Back-off between tries of one part (ms); the last value repeats. */
const BACKOFF_MS = [250, 500, 1000, 2000];

export class UplinkLost extends Error {
  /** @param {string} message @param {string} code */
  constructor(message, code) {
    super(message);
    this.name = 'UplinkLost';
    this.code = code;
  }
}

/**
 * One rendition's queue: its init, then its parts in order.
 */
export class RenditionUplink {
  /**
   * @param {{base: string, streamId: string, ticket: string, windowMs: number, captureMs?: number}} session
   * @param {string} name the rendition (`video`, `video_2`, `audio`)
   * @param {Uint8Array} init
   * @param {(e: UplinkLost) => void} onLost
   * @param {number} [firstN] the number of its first part (a rendition paused and back continues its count)
   */
  constructor(session, name, init, onLost, firstN = 0) {
    this.session = session;
    this.name = name;
    this.onLost = onLost;
    /** @type {{path: string, bytes: Uint8Array, claim: string | null, madeAt: number}[]} */
    this.queue = [{ path: `${name}/init.mp4`, bytes: init, claim: null, madeAt: performance.now() }];
    this.next = firstN;
    /** Parts the origin has taken, counted from `firstN`: the next part's number after a pause. */
    this.taken = firstN;
    this.busy = false;
    /** @type {(() => void)[]} woken when the PUT in flight has settled and the pump stops */
    this.idle = [];
    this.stopped = false;
    this.lagMs = 0;
    /**
     * How long the last part took from made to taken by the origin (ms): its wait in this queue and its
     * PUT. The uplink's own figure: `lagMs` also counts the encoder's delay (about 1.5 s in Firefox), which
     * no dropped rung would win back.
     */
    this.uploadMs = 0;
    this.sentBytes = 0;
    this.sentParts = 0;
    this.retries = 0;
    /** The last try of the part in front failed (no answer, or an error worth trying again). */
    this.failing = false;
    /** @type {(() => void) | null} wakes `drain` */
    this.drained = null;
  }

  /** Parts made and not yet taken by the origin. */
  get waiting() {
    return this.queue.length;
  }

  /** @param {{bytes: Uint8Array, independent: boolean, startsSegment: boolean}} part */
  add(part) {
    if (this.stopped) return;
    // `capture=`: the wall clock at this publish's media time 0, the origin's PROGRAM-DATE-TIME anchor.
    const capture = this.session.captureMs ? `; capture=${Math.round(this.session.captureMs)}` : '';
    const claim = `independent=${part.independent ? 1 : 0}; segment=${part.startsSegment ? 1 : 0}${capture}`;
    this.queue.push({ path: `${this.name}/parts/${this.next++}`, bytes: part.bytes, claim, madeAt: performance.now() });
    this.pump();
  }

  /** Stop uploading (a dropped rung, an ended publish): what is queued is discarded. */
  stop() {
    this.stopped = true;
    this.queue.length = 0;
  }

  /**
   * Pause the rendition at the origin (a rung dropped for the uplink): what is queued is discarded, the
   * PUT in flight finishes (taken or not), then `POST …/pause` tells the origin to carry its playlist on
   * with GAP segments. Resolves to the number the rendition's next part must have.
   * @returns {Promise<number>}
   */
  async pause() {
    this.stop();
    if (this.busy) await new Promise((r) => this.idle.push(() => r(undefined)));
    const { base, streamId } = this.session;
    for (let attempt = 0; attempt < BACKOFF_MS.length; attempt++) {
      try {
        const r = await fetch(`${base}/api/live/${streamId}/${this.name}/pause`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${this.session.ticket}` },
          signal: AbortSignal.timeout(PUT_TIMEOUT_MS),
        });
        // 409 `nothing-to-pause`: no part of it was taken yet; it comes back as a first part anyway.
        if (r.ok || r.status === 409) return this.taken;
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) break;
      } catch {
        /* the network: try again */
      }
      await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
    }
    // Not paused at the origin: coming back later would be refused (`timestamp-gap`) and end in a
    // publish again, as any lost upload does.
    return this.taken;
  }

  /** Resolves once every queued part is on the origin (or the rendition stopped). */
  async drain() {
    while (this.queue.length && !this.stopped) {
      await new Promise((r) => {
        this.drained = () => r(undefined);
      });
    }
  }

  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && !this.stopped) {
        const item = this.queue[0];
        await this.send(item);
        this.queue.shift();
      }
    } catch (e) {
      this.stop();
      this.onLost(e instanceof UplinkLost ? e : new UplinkLost(String(e), 'network'));
    } finally {
      this.busy = false;
      for (const wake of this.idle.splice(0)) wake();
      this.drained?.();
    }
  }

  /** @param {{path: string, bytes: Uint8Array, claim: string | null, madeAt: number}} item */
  async send(item) {
    const { base, streamId, windowMs } = this.session;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return;
      /** @type {Record<string, string>} */
      const headers = { Authorization: `Bearer ${this.session.ticket}` };
      if (item.claim) headers['X-Upcast-Part'] = item.claim;
      let status = 0;
      let body = null;
      try {
        const r = await fetch(`${base}/api/live/${streamId}/${item.path}`, {
          method: 'PUT',
          headers,
          body: /** @type {Uint8Array<ArrayBuffer>} */ (item.bytes),
          signal: AbortSignal.timeout(PUT_TIMEOUT_MS),
        });
        status = r.status;
        body = await r.json().catch(() => null);
      } catch {
        status = 0; // the network, or the timeout
      }
      this.failing = !(status === 200 || status === 201);
      if (status === 200 || status === 201) {
        if (typeof body?.lag_ms === 'number') this.lagMs = body.lag_ms;
        this.sentBytes += item.bytes.length;
        if (item.claim) {
          this.uploadMs = performance.now() - item.madeAt;
          this.sentParts++;
          this.taken++;
        }
        return;
      }
      const code = body?.code ?? `http-${status}`;
      if (status === 401 || status === 403 || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
        // The ticket is no longer good (expired, ended) or the origin refused the bytes: trying the same
        // request again cannot help.
        throw new UplinkLost(`${item.path}: ${status} ${code}: ${body?.msg ?? ''}`.trim(), code);
      }
      if (performance.now() - item.madeAt > windowMs) {
        throw new UplinkLost(`${item.path}: no answer within ${windowMs / 1000} s (${code})`, 'outage');
      }
      this.retries++;
      await new Promise((r) => setTimeout(r, BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]));
    }
  }
}
