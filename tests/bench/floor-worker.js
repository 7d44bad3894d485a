// The floor of a ladder for the benchmark, in a dedicated Worker as the product's ladder runs: decode the
// source once and feed every rung's VideoEncoder, key frames at the same boundaries, encoded chunks
// dropped — no muxing, no copies, no playlists. The sample table comes from the core (demux only); reading,
// decoding and encoding are written here, independently of www/ladder-video.js, as the plainest loop that
// keeps the codecs busy.
import init, { Ladder } from '/www/pkg/upcast_full.js';

const QUEUE = 8;

function waitFor(ready, codecs) {
  return new Promise((resolve) => {
    const check = () => {
      if (!ready()) return;
      for (const c of codecs) c.removeEventListener('dequeue', check);
      resolve();
    };
    for (const c of codecs) c.addEventListener('dequeue', check);
    check();
  });
}

async function floor({ file, rungs, targetDuration }) {
  await init();
  const t0 = performance.now();
  const ladder = new Ladder(file, { plan: { targetDurationS: targetDuration } });
  const src = ladder.source().video;
  const s = ladder.videoSamples();
  const cuts = Array.from(ladder.boundariesUs(), Math.round);
  ladder.free();
  let failed = null;
  const bytes = rungs.map(() => 0);
  const encoders = rungs.map((r, i) => {
    const e = new VideoEncoder({ output: (c) => (bytes[i] += c.byteLength), error: (x) => (failed = x) });
    e.configure({
      codec: r.codec,
      width: r.width,
      height: r.height,
      bitrate: r.bitrate,
      framerate: r.framerate,
      bitrateMode: 'variable',
      latencyMode: 'quality',
      avc: { format: 'avc' },
    });
    return e;
  });
  let next = 0;
  const decoder = new VideoDecoder({
    output: (f) => {
      let key = false;
      while (next < cuts.length && cuts[next] <= f.timestamp + 1) {
        key = true;
        next++;
      }
      for (const e of encoders) e.encode(f, { keyFrame: key });
      f.close();
    },
    error: (x) => (failed = x),
  });
  decoder.configure({
    codec: src.codec,
    codedWidth: src.codedWidth,
    codedHeight: src.codedHeight,
    description: src.description,
  });
  const codecs = [decoder, ...encoders];
  const ready = () => decoder.decodeQueueSize <= QUEUE && encoders.every((e) => e.encodeQueueSize <= QUEUE);
  let win = { start: 0, end: 0, bytes: null };
  for (let i = 0; i < s.size.length && !failed; i++) {
    const [off, len] = [s.offset[i], s.size[i]];
    if (off < win.start || off + len > win.end) {
      const end = Math.min(file.size, off + Math.max(len, 8 << 20));
      win = { start: off, end, bytes: new Uint8Array(await file.slice(off, end).arrayBuffer()) };
    }
    if (!ready()) await waitFor(ready, codecs);
    decoder.decode(
      new EncodedVideoChunk({
        type: s.key[i] ? 'key' : 'delta',
        timestamp: Math.round(s.timestampUs[i]),
        data: win.bytes.subarray(off - win.start, off - win.start + len),
      }),
    );
  }
  await decoder.flush();
  await Promise.all(encoders.map((e) => e.flush()));
  for (const c of codecs) c.close();
  if (failed) throw failed;
  return { ms: performance.now() - t0, frames: s.size.length, bytes };
}

self.onmessage = async ({ data }) => {
  try {
    postMessage({ ok: await floor(data) });
  } catch (e) {
    postMessage({ error: String(e?.message ?? e) });
  }
};
