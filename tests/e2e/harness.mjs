// What the end-to-end tests share: a real `upcast serve` on loopback, Debian's Chromium driven by
// playwright-core (never a downloaded browser), fixtures, and dropping a file on a page.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const out = join(root, 'tests/out');
mkdirSync(out, { recursive: true });
export const ADMIN = 'upa_e2e_admin_token';

/** Start `upcast serve` on 127.0.0.1 with a fresh data directory; resolves to {url, data, stop}. */
export function startOrigin() {
  const bin = process.env.UPCAST_BIN ?? join(root, 'target/debug/upcast');
  const data = mkdtempSync(join(tmpdir(), 'upcast-e2e-'));
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data, '--www', join(root, 'www'), '--workers', '2'], {
    env: { ...process.env, UPCAST_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.on('exit', (code) => reject(new Error(`upcast serve exited (${code}): ${seen}`)));
    child.stderr.on('data', (d) => {
      seen += d;
      const m = seen.match(/serving on (http:\/\/[\d.:]+)/);
      if (m) resolve({ url: m[1], data, stop: () => child.kill('SIGKILL') });
    });
  });
}

/** Debian's Chromium, headless, with the flags this machine needs and a fresh profile. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'upcast-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 860 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
    ],
  });
  ctx.profileDir = profile; // finds this browser's processes (tests/bench/renderer-memory.mjs)
  return ctx;
}

export const fixture = (name) => readFileSync(join(root, 'tests/fixtures', name));

/** A 16 s 640x360 H.264 + AAC file with a key frame every second, made once with ffmpeg. */
export function longFixture() {
  const path = join(out, 'e2e_16s.mp4');
  if (!existsSync(path)) {
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '16', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', '30',
      '-keyint_min', '30', '-sc_threshold', '0', '-b:v', '800k', '-c:a', 'aac', '-b:a', '64k', path]);
  }
  return readFileSync(path);
}

/** A 10 s 1920x1080 H.264 (High, B-frames) + AAC file with a key frame every 2 s, made once with ffmpeg. */
export function hdFixture() {
  const path = join(out, 'e2e_10s_1080p.mp4');
  if (!existsSync(path)) {
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
      '-t', '10', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', '60',
      '-keyint_min', '60', '-sc_threshold', '0', '-b:v', '5M', '-c:a', 'aac', '-b:a', '128k', path]);
  }
  return readFileSync(path);
}

/** Drop `bytes` as a File named `name` on `selector`, as a person dragging it from the desktop would. */
export async function dropFile(page, selector, name, bytes) {
  const dt = await page.evaluateHandle(({ name, b64 }) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bin], name, { type: 'video/mp4', lastModified: 1_700_000_000_000 }));
    return dt;
  }, { name, b64: bytes.toString('base64') });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

export async function api(origin, path) {
  const r = await fetch(origin.url + path, { headers: { Authorization: `Bearer ${ADMIN}` } });
  return r.json();
}
