// Memory of Chromium's renderer processes (the tab and its Workers), read from /proc while a page runs.
// "private" is RssAnon: memory the renderer itself allocated (JS heap, wasm memory, ArrayBuffers), without
// the shared libraries and file mappings that RSS also counts.
import { readFileSync, readdirSync } from 'node:fs';

function status(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, private: kb('RssAnon') * 1024, ppid: Number(text.match(/^PPid:\s+(\d+)/m)?.[1]) };
  } catch {
    return null;
  }
}

/** Renderer processes of the Chromium whose profile directory is `profile`. */
function renderers(profile) {
  const procs = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      procs.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'));
    } catch {
      /* gone */
    }
  }
  const root = [...procs].find(([, args]) => args.some((a) => a.includes(profile)) && !args.some((a) => a.startsWith('--type=')))?.[0];
  const descends = (pid) => {
    for (let p = pid, n = 0; p > 1 && n < 10; n++) {
      if (p === root) return true;
      p = status(p)?.ppid ?? 0;
    }
    return false;
  };
  return [...procs].filter(([pid, args]) => args.includes('--type=renderer') && descends(pid)).map(([pid]) => pid);
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
