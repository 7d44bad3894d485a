// Simulated low-latency viewers for the latency benchmark: each is a node fetch loop that does what an
// LL-HLS player does at the live edge: a blocking playlist reload for the next part (`_HLS_msn`/`_HLS_part`
// from the playlist's EXT-X-PRELOAD-HINT), then a GET of the part the reload announced. They all come from
// 127.0.0.1, so the origin's per-address limits must be raised for them.

/** The part a playlist hints at next: `{msn, part}` from the URI of its EXT-X-PRELOAD-HINT (`12.3.m4s`). */
export function nextPart(playlist) {
  const hint = playlist.match(/#EXT-X-PRELOAD-HINT:.*URI="[^"]*?(\d+)\.(\d+)\.m4s[^"]*"/);
  return hint ? { msn: Number(hint[1]), part: Number(hint[2]) } : null;
}

/**
 * The URI of the part a reload for `msn`.`part` announced, or null when the playlist lists neither it nor
 * the next segment's first part (a hint for part N of a segment that a key frame closed after N parts is
 * answered by the next segment's part 0).
 */
export function partUri(playlist, { msn, part }) {
  const find = (m, p) =>
    playlist.match(new RegExp(`#EXT-X-PART:.*URI="([^"]*?\\b${m}\\.${p}\\.m4s[^"]*)"`))?.[1] ?? null;
  return find(msn, part) ?? find(msn + 1, 0);
}

/**
 * Start `count` viewers of the media playlist `url`; they run until `stop()` resolves to their counts:
 * blocked reloads answered (and how long each was held, ms), parts fetched and bytes, and failures by kind (HTTP status or error message).
 * @param {string} url @param {number} count
 */
export function startViewers(url, count) {
  const stats = {
    reloads: 0,
    held: /** @type {number[]} */ ([]),
    parts: 0,
    bytes: 0,
    failures: /** @type {Record<string, number>} */ ({}),
  };
  let stopped = false;
  const fail = (what) => {
    stats.failures[what] = (stats.failures[what] ?? 0) + 1;
  };
  // One signal per request (a shared AbortSignal collects a listener per fetch in undici); a request that
  // takes longer than 20 s counts as failed.
  const get = async (u) => {
    const r = await fetch(u, { signal: AbortSignal.timeout(20_000), cache: 'no-store' });
    const body = await r.arrayBuffer();
    if (!r.ok) fail(`HTTP ${r.status} ${new URL(u).search ? 'reload' : 'GET'}`);
    return { ok: r.ok, body };
  };
  const text = (b) => new TextDecoder().decode(b);
  // After a failure: a moment before asking again, as a player's retry would (no tight loop).
  const pause = () => new Promise((res) => setTimeout(res, 250));

  async function viewer() {
    let playlist = '';
    while (!stopped) {
      try {
        const next = playlist && nextPart(playlist);
        if (!next) {
          // First request, or after a failure: the playlist as it is now.
          const r = await get(url);
          playlist = r.ok ? text(r.body) : '';
          if (!playlist) await pause();
          continue;
        }
        const u = new URL(url);
        u.searchParams.set('_HLS_msn', String(next.msn));
        u.searchParams.set('_HLS_part', String(next.part));
        const asked = performance.now();
        const r = await get(u.href);
        playlist = r.ok ? text(r.body) : '';
        if (!r.ok) {
          await pause();
          continue;
        }
        stats.reloads++;
        stats.held.push(performance.now() - asked);
        const uri = partUri(playlist, next);
        if (!uri) {
          fail('reload without the part asked for');
          continue;
        }
        const p = await get(new URL(uri, url).href);
        if (p.ok) {
          stats.parts++;
          stats.bytes += p.body.byteLength;
        }
      } catch (e) {
        if (stopped) break;
        fail(e.cause?.code ?? e.message);
        playlist = '';
        await pause();
      }
    }
  }

  const running = Array.from({ length: count }, viewer);
  return {
    stats,
    stop: async () => {
      stopped = true;
      await Promise.allSettled(running);
      return stats;
    },
  };
}
