// Memory of Chromium's renderer processes (the tab and its Workers), read from /proc while a page runs.
// "private" is RssAnon: memory the renderer itself allocated (JS heap, wasm memory, ArrayBuffers), without
// the shared libraries and file mappings that RSS also counts.
import { readdirSync, readFileSync } from 'node:fs';

function status(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, private: kb('RssAnon') * 1024 };
  } catch {
    return null;
  }
}

/** Renderer processes of the Chromium whose profile directory is `profile` (Chromium rewrites a child's
 * command line as one string, so it is searched as text). */
function renderers(profile) {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('--type=renderer') && cmd.includes(`--user-data-dir=${profile}`)) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** The largest renderer now: {rss, private} in bytes. */
export function largestRenderer(profile) {
  let top = { rss: 0, private: 0 };
  for (const pid of renderers(profile)) {
    const s = status(pid);
    if (s && s.private > top.private) top = { rss: s.rss, private: s.private };
  }
  return top;
}

/** Sample the largest renderer every `ms` until `stop()`, which returns the peak. */
export function sampleRenderers(profile, ms = 50) {
  let peak = largestRenderer(profile);
  const tick = () => {
    const now = largestRenderer(profile);
    if (now.private > peak.private) peak = now;
  };
  const timer = setInterval(tick, ms);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}
