// @ts-check
// The Go live page's capture: the camera and microphone (getUserMedia) or a screen, window or tab with its
// audio where the browser offers it (getDisplayMedia), and how its frames reach the Worker:
// - a MediaStreamTrackProcessor's ReadableStream, transferred to the Worker (Chromium): the frames never
//   touch the page's thread;
// - elsewhere (Firefox has no MediaStreamTrackProcessor), the <video> preview drawn into `new
//   VideoFrame(video)` at each new picture (`requestVideoFrameCallback`, else a timer) and transferred;
//   the sound through an AudioWorklet whose blocks become AudioData in the Worker. Those loops run on the
//   page, so a hidden tab slows them (the page says so).

/** Plain words for getUserMedia's and getDisplayMedia's refusals. @param {any} e @param {string} what */
export function refusal(e, what) {
  const name = e?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return `The browser refused the ${what} (permission denied). Allow it in the address bar and try again.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what} was found on this device.`;
  if (name === 'NotReadableError') return `The ${what} is in use by another program or could not be started.`;
  return `The ${what} could not be opened: ${e?.message ?? e}`;
}

/** @param {'camera' | 'screen'} kind @returns {Promise<MediaStream>} */
export async function openSource(kind) {
  const what = kind === 'camera' ? 'camera and microphone' : 'screen capture';
  try {
    if (kind === 'camera') {
      return await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
        audio: true,
      });
    }
    return await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 30 } }, audio: true });
  } catch (e) {
    throw new Error(refusal(e, what));
  }
}

/** The browser hands a track's frames over as a stream (MediaStreamTrackProcessor). */
export const hasProcessor = () => typeof (/** @type {any} */ (globalThis).MediaStreamTrackProcessor) === 'function';

/** @param {MediaStreamTrack} track @returns {ReadableStream} */
export function trackStream(track) {
  const P = /** @type {any} */ (globalThis).MediaStreamTrackProcessor;
  return new P({ track }).readable;
}

/**
 * Post the preview's pictures to `worker` as VideoFrames until `signal` aborts.
 * @param {HTMLVideoElement} video @param {Worker} worker @param {AbortSignal} signal
 */
export function pumpFrames(video, worker, signal) {
  const t0 = performance.now();
  const send = () => {
    if (signal.aborted) return;
    if (video.readyState >= 2 && video.videoWidth) {
      // The capture time on this page's clock, µs: the frames' pace is the camera's, not the timer's.
      const frame = new VideoFrame(video, { timestamp: Math.round((performance.now() - t0) * 1000) });
      worker.postMessage({ type: 'frame', frame }, [frame]);
    }
    schedule();
  };
  const v = /** @type {any} */ (video);
  const schedule = () =>
    typeof v.requestVideoFrameCallback === 'function' ? v.requestVideoFrameCallback(send) : setTimeout(send, 1000 / 30);
  schedule();
}

const TAP = `
class Tap extends AudioWorkletProcessor {
  process(inputs) {
    const ch = inputs[0];
    if (ch && ch.length) this.port.postMessage(ch.map((c) => c.slice()));
    return true;
  }
}
registerProcessor('upcast-tap', Tap);
`;

/**
 * Post the track's sound to `worker` as AudioData (planar f32) until `signal` aborts. Resolves to a note
 * for the page when the browser keeps the sound suspended, else null.
 * @param {MediaStream} stream @param {Worker} worker @param {AbortSignal} signal
 */
export async function pumpAudio(stream, worker, signal) {
  const ctx = new AudioContext();
  const url = URL.createObjectURL(new Blob([TAP], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  const src = ctx.createMediaStreamSource(stream);
  const tap = new AudioWorkletNode(ctx, 'upcast-tap');
  let frames = 0;
  tap.port.onmessage = ({ data }) => {
    if (signal.aborted) return;
    /** @type {Float32Array[]} */
    const chans = data;
    const n = chans[0].length;
    const planar = new Float32Array(n * chans.length);
    chans.forEach((c, i) => {
      planar.set(c, i * n);
    });
    const audio = new AudioData({
      format: 'f32-planar',
      sampleRate: ctx.sampleRate,
      numberOfFrames: n,
      numberOfChannels: chans.length,
      timestamp: Math.round((frames * 1e6) / ctx.sampleRate),
      data: planar,
    });
    frames += n;
    // AudioData is serializable (a clone shares the samples); the page's copy is closed at once.
    worker.postMessage({ type: 'audio', data: audio });
    audio.close();
  };
  src.connect(tap);
  signal.addEventListener('abort', () => ctx.close());
  // An AudioContext made without a user gesture at hand starts suspended (autoplay rules): resume it now,
  // and at the next click on the page if the browser still holds it.
  // resume() stays pending while the browser holds the context (or has no audio output device to run it
  // on, as headless Firefox without a sound server): wait for it a moment, not for ever.
  await Promise.race([ctx.resume().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
  if (ctx.state !== 'running') {
    document.addEventListener('click', () => ctx.resume(), { once: true });
    return 'No sound yet: the browser holds it (autoplay rules: click the page; or no audio device to run it on).';
  }
  return null;
}
