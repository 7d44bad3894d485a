// @ts-check
// The poster shown in the video list: one frame near the start of the dropped file (1 s in, or a tenth of a
// shorter video), drawn by the browser's own player into a canvas, at most 640 px wide, as a JPEG. A file
// the browser cannot show (HEVC in Chromium, audio only) simply has no poster.

const once = (el, ok, timeoutMs) =>
  new Promise((/** @type {(v?: unknown) => void} */ resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ok} within ${timeoutMs} ms`)), timeoutMs);
    el.addEventListener(
      ok,
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
    el.addEventListener(
      'error',
      () => {
        clearTimeout(t);
        reject(el.error ?? new Error('media error'));
      },
      { once: true },
    );
  });

/** JPEG bytes of a frame of `file`, or null. */
export async function makePoster(file, { width = 640, quality = 0.82, timeoutMs = 8000 } = {}) {
  const url = URL.createObjectURL(file);
  const video = Object.assign(document.createElement('video'), { muted: true, preload: 'auto', playsInline: true });
  try {
    const meta = once(video, 'loadeddata', timeoutMs);
    video.src = url;
    await meta;
    if (!video.videoWidth) return null; // audio only
    const seeked = once(video, 'seeked', timeoutMs);
    video.currentTime = Math.min(1, (video.duration || 0) / 10);
    await seeked;
    const scale = Math.min(1, width / video.videoWidth);
    const canvas = Object.assign(document.createElement('canvas'), {
      width: Math.round(video.videoWidth * scale),
      height: Math.round(video.videoHeight * scale),
    });
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', quality));
    return blob ? new Uint8Array(await blob.arrayBuffer()) : null;
  } catch {
    return null;
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}
