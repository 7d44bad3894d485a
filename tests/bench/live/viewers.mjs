// Simulated low-latency viewers for the latency benchmark: each is a node fetch loop that does what an
// LL-HLS player does at the live edge: a blocking playlist reload for the next part (`_HLS_msn`/`_HLS_part`
// from the playlist's EXT-X-PRELOAD-HINT), then a GET of the part the reload announced. They all come from
// 127.0.0.1, so the origin's per-address limits must be raised for them.

/**
 * Every part a media playlist lists, by `${msn}.${index in its segment}`, and where its live edge is: the
 * MSN of the open segment and how many parts it has. The origin names parts by a rendition-wide number
 * (`part{n}.m4s`), so a player works out the MSN and the part index from the playlist, as hls.js does.
 * @param {string} playlist
 */
function partsOf(playlist) {
  const byPlace = new Map();
  let msn = Number(playlist.match(/#EXT-X-MEDIA-SEQUENCE:(\d+)/)?.[1] ?? 0);
  msn += Number(playlist.match(/#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)/)?.[1] ?? 0);
  let index = 0;
  for (const line of playlist.split('\n')) {
    const uri = line.startsWith('#EXT-X-PART:') ? line.match(/URI="([^"]+)"/)?.[1] : null;
    if (uri) byPlace.set(`${msn}.${index++}`, uri);
    else if (line && !line.startsWith('#')) {
      msn++;
      index = 0;
    }
  }
  return { byPlace, edge: { msn, part: index } };
}

/** The part a player asks for next (`_HLS_msn`/`_HLS_part`): the one after the last part listed. */
export function nextPart(playlist) {
  return playlist.includes('#EXT-X-PART:') ? partsOf(playlist).edge : null;
}

/**
 * The URI of the part a reload for `msn`.`part` announced, or null when the playlist lists neither it nor
 * the next segment's first part (a reload for part N of a segment that a key frame closed after N parts is
 * answered by the next segment's part 0).
 */
export function partUri(playlist, { msn, part }) {
  const { byPlace } = partsOf(playlist);
  return byPlace.get(`${msn}.${part}`) ?? byPlace.get(`${msn + 1}.0`) ?? null;
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
