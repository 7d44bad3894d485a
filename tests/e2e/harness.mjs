// What the end-to-end tests share: a real `upcast serve` on loopback, Debian's Chromium driven by
// playwright-core (never a downloaded browser), fixtures, and dropping a file on a page.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const out = join(root, 'tests/out');
mkdirSync(out, { recursive: true });
export const ADMIN = 'upa_e2e_admin_token';
/** Chromium's flags for its fake camera and microphone, granted without asking. */
export const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/**
 * Start `upcast serve` on 127.0.0.1 with a fresh data directory (or `data`); resolves to {url, rtmp, data,
 * pid, stop, exited, log}. With `rtmp`, the RTMP listener is on too (an OS-chosen port) and `rtmp` is its
 * `rtmp://…` address. `env` adds to the environment (a bucket's credentials). `stop()` kills it (SIGKILL, a
 * crash); `exited` resolves once it has ended; `log()` is what it wrote to stderr so far.
 * @param {{rtmp?: boolean, args?: string[], env?: Record<string, string>, data?: string}} [options]
 */
export function startOrigin({
  rtmp = false,
  args = [],
  env = {},
  data = mkdtempSync(join(tmpdir(), 'upcast-e2e-')),
} = {}) {
  const bin = process.env.UPCAST_BIN ?? join(root, 'target/debug/upcast');
  const child = spawn(
    bin,
    // Never RTMP on the fixed default port 1935: origins run side by side (a live test gets an OS-chosen port).
    [
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--data',
      data,
      '--www',
      join(root, 'www'),
      '--workers',
      '2',
      '--rtmp-listen',
      rtmp ? '127.0.0.1:0' : 'off',
      ...args,
    ],
    {
      env: { ...process.env, UPCAST_ADMIN_TOKEN: ADMIN, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  return new Promise((resolve, reject) => {
    let seen = '';
    child.on('exit', (code) => reject(new Error(`upcast serve exited (${code}): ${seen}`)));
    child.stderr.on('data', (d) => {
      seen += d;
      // A whole line only: stderr is unbuffered, so the address can arrive in pieces ("http://127" then
      // ".0.0.1:…"), and a partial match once sent a test to http://127/ (read by Chromium as 0.0.0.127).
      const m = seen.match(/serving on (http:\/\/[\d.:]+)\r?\n/);
      const r = seen.match(/rtmp on (rtmp:\/\/[\d.:]+)\r?\n/);
      if (m && (r || !rtmp))
        resolve({
          url: m[1],
          rtmp: r?.[1],
          data,
          pid: child.pid,
          stop: () => child.kill('SIGKILL'),
          exited,
          log: () => seen,
        });
    });
  });
}

/** Debian's Chromium, headless, with the flags this machine needs (and `extraArgs`) and a fresh profile. */
export async function launch(extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'upcast-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 860 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
  ctx.profileDir = profile; // finds this browser's processes (tests/bench/renderer-memory.mjs)
  return ctx;
}

/**
 * A test file's origin and browser: started before its first test and stopped after its last. `s.origin`
 * ({@link startOrigin}'s answer) and `s.ctx` (a {@link launch}ed browser) are set once `before` has run;
 * `setup(s)` runs in that same hook, after them (Node 20 runs a file's top-level `before` hooks without
 * waiting for one another, so a second hook of the file's own could not rely on them).
 * @param {{origin?: Parameters<typeof startOrigin>[0], browser?: string[], setup?: (s: any) => Promise<void>}} [options]
 */
export function session({ origin = {}, browser = [], setup = async () => {} } = {}) {
  /** @type {{origin: any, ctx: any}} */
  const s = { origin: undefined, ctx: undefined };
  before(async () => {
    s.origin = await startOrigin(origin);
    s.ctx = await launch(browser);
    await setup(s);
  });
  after(async () => {
    await s.ctx?.close();
    s.origin?.stop();
  });
  return s;
}

export const fixture = (name) => readFileSync(join(root, 'tests/fixtures', name));

/** `tests/out/name`, made once by ffmpeg from `args` (a lavfi source and its encoding); its bytes. */
function made(name, args) {
  const path = join(out, name);
  if (!existsSync(path)) execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, path]);
  return readFileSync(path);
}

const h264 = (gop, rate) => [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-profile:v',
  'high',
  '-pix_fmt',
  'yuv420p',
  '-g',
  String(gop),
  '-keyint_min',
  String(gop),
  '-sc_threshold',
  '0',
  '-b:v',
  rate,
];

/** A 16 s 640x360 H.264 + AAC file with a key frame every second. */
export const longFixture = () =>
  made('e2e_16s.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '16',
    ...h264(30, '800k'),
    '-c:a',
    'aac',
    '-b:a',
    '64k',
  ]);

/** A 24 s 640x360 H.264 + Opus file with a key frame every second: Opus is not copied into the ladder, so
 * its audio is encoded again (tests/e2e/ladder-resume.test.mjs, tests/bench/resume.mjs). */
export const resumeFixture = () =>
  made('e2e_24s_opus.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '24',
    ...h264(30, '800k'),
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
  ]);

/** A 30 s 960x540 H.264 + AAC file with a key frame every 2 s: long enough that its ladder takes a while
 * to encode (tests/e2e/ladder-watch.test.mjs watches it meanwhile). */
export const ladderWatchFixture = () =>
  made('e2e_30s_540p.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=960x540:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=550:sample_rate=48000',
    '-t',
    '30',
    ...h264(60, '1500k'),
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ]);

/** A 4 s 640x360 H.264 + AAC fragmented MP4 as ffmpeg writes one (`frag_keyframe+empty_moov`: an empty
 * moov, one moof per key frame, a key frame every second). */
export const fragmentedFixture = () =>
  made('e2e_fragmented.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '4',
    ...h264(30, '800k'),
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-movflags',
    'frag_keyframe+empty_moov',
  ]);

/** A 10 s 1920x1080 H.264 (High, B-frames) + AAC file with a key frame every 2 s. */
export const hdFixture = () =>
  made('e2e_10s_1080p.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1920x1080:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=330:sample_rate=48000',
    '-t',
    '10',
    ...h264(60, '5M'),
    '-c:a',
    'aac',
    '-b:a',
    '128k',
  ]);

/** Drop `bytes` as a File named `name` on `selector`, as a person dragging it from the desktop would. */
export async function dropFile(page, selector, name, bytes) {
  const dt = await page.evaluateHandle(
    ({ name, b64 }) => {
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bin], name, { type: 'video/mp4', lastModified: 1_700_000_000_000 }));
      return dt;
    },
    { name, b64: bytes.toString('base64') },
  );
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

export async function api(origin, path) {
  const r = await fetch(origin.url + path, { headers: { Authorization: `Bearer ${ADMIN}` } });
  return r.json();
}

// Real-world shapes of source for the ladder, 3–4 s each and small, made once with ffmpeg into tests/out/.
// testsrc2 has no symmetry, so a picture turned the wrong way round is told from one upright.
const tone = (rate = 48000) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`];
const x264 = (g) => [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-pix_fmt',
  'yuv420p',
  '-g',
  String(g),
  '-keyint_min',
  String(g),
  '-sc_threshold',
  '0',
];
export const SOURCES = {
  // VP9 + Opus in MP4 (what a WebM-minded tool writes into an .mp4).
  vp9_opus: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=30`,
    ...tone(),
    '-t',
    '4',
    '-c:v',
    'libvpx-vp9',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    '800k',
    '-g',
    '30',
    '-keyint_min',
    '30',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
  ],
  // H.264 + MP3 at 44.1 kHz.
  h264_mp3: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=30`,
    ...tone(44100),
    '-t',
    '4',
    ...x264(30),
    '-b:v',
    '2M',
    '-c:a',
    'libmp3lame',
    '-b:a',
    '128k',
  ],
  // A phone held upright: 1280x720 coded, displayed turned 90° clockwise (tkhd matrix 0,1,-1,0) as 720x1280.
  rotated: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=30`,
    ...tone(),
    '-t',
    '4',
    ...x264(30),
    '-b:v',
    '2M',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ],
  // Key frames 10 s apart: with a 2 s target the source cannot be the top rung.
  long_gop: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=30`,
    ...tone(),
    '-t',
    '6',
    ...x264(300),
    '-b:v',
    '1M',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ],
  fps60: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=60`,
    ...tone(),
    '-t',
    '3',
    ...x264(60),
    '-b:v',
    '1500k',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ],
  fps2997: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=30000/1001`,
    ...tone(),
    '-t',
    '4',
    ...x264(30),
    '-b:v',
    '1M',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ],
  // Non-square pixels: 480x360 stored, 4:3 pixel aspect ratio, displayed 640x360.
  anamorphic: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=480x360:rate=30,setsar=4/3`,
    ...tone(),
    '-t',
    '4',
    ...x264(30),
    '-b:v',
    '1M',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ],
  // HEVC (hvc1), which Chromium here cannot decode.
  hevc: [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=30`,
    ...tone(),
    '-t',
    '4',
    '-c:v',
    'libx265',
    '-preset',
    'ultrafast',
    '-x265-params',
    'keyint=30:min-keyint=30:scenecut=0:log-level=error',
    '-tag:v',
    'hvc1',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    '800k',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
  ],
};

// A second pass, stream copy: ffmpeg 5.1 writes the rotation of `-metadata:s:v rotate=N` only when it copies
// (encoding drops it), and reads N counterclockwise, so 270 is the 90° clockwise turn phones write.
const REMUX = { rotated: ['-metadata:s:v', 'rotate=270'] };

/** The source `name` of SOURCES as an MP4 in tests/out/ (made once); returns its path. */
export function sourceFixture(name) {
  const path = join(out, `ladder_${name}.mp4`);
  if (!existsSync(path)) {
    const ff = (...args) => execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
    const first = REMUX[name] ? `${path}.tmp.mp4` : path;
    ff(...SOURCES[name], '-movflags', '+faststart', first);
    if (REMUX[name]) {
      ff('-i', first, '-c', 'copy', ...REMUX[name], '-movflags', '+faststart', path);
      rmSync(first);
    }
  }
  return path;
}
