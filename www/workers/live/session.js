// @ts-check
// One publish of the Go live Worker: for every rendition the core's muxer (`class LiveRung`) and its
// uploads. A publish starts its media time at 0 on its first frame (the origin continues each rendition's
// time across publishes and marks the discontinuity); a new publish after an outage is a new Session over
// the same encoders. The Session renews its ticket at half its life (a second at least): here in the
// Worker, not on the page, since a page in the background has its timers throttled and a frozen page runs
// none, while the Worker goes on encoding and uploading (tests/e2e/golive-faults.test.mjs freezes it).

import { RenditionUplink } from './uplink.js';

/**
 * One rendition: its muxer (made at its encoder's first chunk, from the chunk's description), the cut
 * times it has not passed yet, and its uploads.
 */
class Rendition {
  /** @param {string} name @param {string} codec the core's codec name */
  constructor(name, codec) {
    this.name = name;
    this.codec = codec;
    /** @type {import('../core.js').LiveRung | null} */
    this.mux = null;
    /** @type {RenditionUplink | null} */
    this.up = null;
    /** @type {number[]} */
    this.cuts = [];
    this.lastUs = -1;
    /** Paused for the uplink: chunks are not muxed; the number its next part will have. */
    this.paused = false;
    /** The origin has not yet been told of the pause (the part in flight finishes first). */
    this.pausing = false;
    this.nextN = 0;
  }
}

export class Session {
  /**
   * @param {any} core the full build (`LiveRung`)
   * @param {{base: string, streamId: string, ticket: string, windowMs: number, partTargetMs: number,
   *   expiresInSecs?: number, captureMs?: number}} info
   * @param {(e: import('./uplink.js').UplinkLost) => void} onLost
   * @param {(message: string) => void} [onNotice] a renewal that failed, in words for the page
   */
  constructor(core, info, onLost, onNotice = () => {}) {
    this.core = core;
    this.info = info;
    this.onLost = onLost;
    this.onNotice = onNotice;
    /** @type {Map<string, Rendition>} */
    this.renditions = new Map();
    this.lost = false;
    this.renewTimer = 0;
    if (info.expiresInSecs) this.renewIn(info.expiresInSecs);
  }

  /** The next renewal, at half of `secs` (the ticket's life left). @param {number} secs */
  renewIn(secs) {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => this.renew(), Math.max(1, secs / 2) * 1000);
  }

  async renew() {
    if (this.lost) return;
    const { base, streamId, ticket } = this.info;
    let code = '';
    try {
      const r = await fetch(`${base}/api/live/${streamId}/renew`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ticket}` },
      });
      const body = await r.json().catch(() => null);
      if (r.ok && typeof body?.expires_in_secs === 'number') return this.renewIn(body.expires_in_secs);
      code = body?.code ?? `HTTP ${r.status}`;
    } catch (e) {
      code = `network: ${/** @type {Error} */ (e).message}`;
    }
    // Not tried again: the ticket still holds until it expires, and then the page publishes again.
    if (!this.lost) this.onNotice(`Renewing the publish ticket failed (${code}); publishing again if it expires.`);
  }

  /** No more renewals (the publish is lost, ended, or replaced by a new one). */
  close() {
    clearTimeout(this.renewTimer);
  }

  /** @param {string} name @param {string} codec */
  add(name, codec) {
    this.renditions.set(name, new Rendition(name, codec));
  }

  /** Every rendition starts a segment at its first key frame (audio: frame) at or after `tUs`. */
  cut(tUs) {
    for (const r of this.renditions.values()) r.cuts.push(tUs);
  }

  /**
   * One encoded chunk of `name` at `tUs` on this publish's clock; its parts go up.
   * @param {string} name @param {Uint8Array} bytes @param {number} tUs @param {boolean} key
   * @param {Uint8Array | null} description
   */
  push(name, bytes, tUs, key, description) {
    const r = this.renditions.get(name);
    if (!r || r.paused || this.lost || tUs < 0 || tUs <= r.lastUs) return;
    if (!r.mux) {
      // The first chunk of a rendition must start its first segment: a video rung waits for its key frame.
      if (r.codec !== 'aac' && r.codec !== 'opus' && !key) return;
      const partUs = this.info.partTargetMs * 1000;
      r.mux = new this.core.LiveRung(`${name} rendition`, r.codec, description, 'follower', partUs, 0);
      r.up = new RenditionUplink(this.info, name, r.mux.init(), (e) => this.lose(e), r.nextN);
      // A rendition that starts after the first cut starts at its own first frame.
      if (!r.cuts.length || r.cuts[0] > tUs) r.cuts.unshift(tUs);
    }
    while (r.cuts.length && r.cuts[0] <= tUs) r.mux.cutAt(/** @type {number} */ (r.cuts.shift()));
    r.lastUs = tUs;
    const { parts } = r.mux.push(bytes, tUs, key);
    for (const p of parts) r.up?.add(p);
  }

  /** @param {import('./uplink.js').UplinkLost} e */
  lose(e) {
    if (this.lost) return;
    this.lost = true;
    this.close();
    for (const r of this.renditions.values()) r.up?.stop();
    this.onLost(e);
  }

  /**
   * Pause `name` (the top rung dropped for the uplink): its queued parts are discarded, its muxer goes,
   * and the origin carries its playlist on with GAP segments until [`Session.resume`].
   * @param {string} name
   */
  async pause(name) {
    const r = this.renditions.get(name);
    if (!r || r.paused) return;
    r.paused = true;
    r.pausing = true;
    const up = r.up;
    r.mux?.free();
    r.mux = null;
    r.up = null;
    r.cuts = [];
    if (up) r.nextN = await up.pause();
    r.pausing = false;
  }

  /**
   * `name` comes back: its next chunk that is a key frame at a segment boundary makes a new muxer (on
   * the same media clock as the others) and its parts continue the numbering the origin expects. False
   * (nothing done) while the origin is still being told of the pause.
   * @param {string} name
   */
  resume(name) {
    const r = this.renditions.get(name);
    if (!r?.paused || r.pausing) return false;
    r.paused = false;
    r.cuts = [];
    return true;
  }

  /** The uploads of `name` (null before its first chunk). @param {string} name */
  uplink(name) {
    return this.renditions.get(name)?.up ?? null;
  }

  /** The last parts of every rendition, and every upload finished. */
  async finish() {
    this.close();
    for (const r of this.renditions.values()) {
      if (!r.mux) continue;
      try {
        for (const p of r.mux.finish()) r.up?.add(p);
      } catch {
        /* a rendition with nothing held */
      }
    }
    await Promise.all([...this.renditions.values()].map((r) => r.up?.drain()));
    for (const r of this.renditions.values()) r.mux?.free();
  }
}
