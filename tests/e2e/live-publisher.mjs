// What the live end-to-end test and the latency benchmark share: ffmpeg publishing a test picture and tone
// in real time (the encoder settings a streamer's "zero latency" preset uses), and waiting for a URL to
// answer.

/**
 * ffmpeg's arguments to publish `seconds` of 320x180 testsrc2 at 30 fps + a 440 Hz tone, in real time
 * (`-re`), x264 `-tune zerolatency` with a key frame every second, AAC, to `output` (RTMP by default, or
 * the trailing `format` arguments, e.g. ffmpeg's HLS muxer).
 * @param {string} output @param {number} seconds @param {string[]} [format]
 */
export function publisher(output, seconds, format = ['-f', 'flv']) {
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x180:rate=30:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    '30',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    ...format,
    output,
  ];
}

/**
 * Poll `url` until it answers 200 with a body that `accept` takes (at most `timeoutMs`); resolves to the
 * body. `why()` adds context to the timeout error (what the publisher printed).
 * @param {string | URL} url @param {number} timeoutMs @param {() => string} [why]
 * @param {(body: string) => boolean} [accept]
 */
export async function untilOk(url, timeoutMs, why = () => '', accept = () => true) {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      const body = await r.text();
      if (r.ok && accept(body)) return body;
      last = `HTTP ${r.status}: ${body.slice(0, 200)}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last}) ${why()}`);
}
