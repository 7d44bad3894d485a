// @ts-check
// The origin's upload API (origin/server): create a video (admin token) → PUT each file with its SHA-256
// (upload ticket) → ask what the origin has → publish. Errors come back as {code, msg}.

export class ApiError extends Error {
  constructor(status, code, msg) {
    super(msg || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
  /** Worth trying again: the network, a timeout, the server's own trouble. */
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

async function call(method, path, token, body, raw) {
  let r;
  try {
    r = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
  } catch (e) {
    throw new ApiError(0, 'network', `network: ${e.message}`);
  }
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  if (!r.ok) throw new ApiError(r.status, json?.code, json?.msg ?? `HTTP ${r.status} ${r.statusText}`);
  return json;
}

export const createVideo = (admin, title) => call('POST', '/api/videos', admin, { title, visibility: 'public' });
export const listVideos = (admin) => call('GET', '/api/videos', admin);
export const getVideo = (token, id) => call('GET', `/api/videos/${id}`, token);
export const storedFiles = (token, id) => call('GET', `/api/videos/${id}/files`, token);
export const newTicket = (admin, id) => call('POST', `/api/videos/${id}/tickets`, admin);
export const publish = (token, id) => call('POST', `/api/videos/${id}/publish`, token);
/**
 * Add or replace a published video's captions in one language (an SRT or WebVTT file): `{video, warnings}`.
 * @param {string} token @param {string} id @param {{lang: string, name: string, default: boolean, forced: boolean, bytes: Uint8Array<ArrayBuffer>}} c
 */
export const putCaptions = (token, id, c) =>
  call(
    'PUT',
    `/api/videos/${id}/captions/${encodeURIComponent(c.lang)}?` +
      new URLSearchParams({ name: c.name, default: String(c.default), forced: String(c.forced) }),
    token,
    undefined,
    c.bytes,
  );
export const deleteCaptions = (token, id, lang) =>
  call('DELETE', `/api/videos/${id}/captions/${encodeURIComponent(lang)}`, token);
/** A private video's signed playback link: {url, expires_at}. */
export const videoPlayback = (admin, id) => call('GET', `/api/videos/${id}/playback`, admin);

/**
 * PUT one file: `{path, sha256, body}` (body: bytes or a Blob). XMLHttpRequest, not fetch, for upload progress. `onBytes(sent)` reports bytes on the wire.
 * Resolves to the origin's answer; rejects with an ApiError (status 0 for the network).
 * @param {string} token @param {string} id @param {{path: string, sha256: string, body: XMLHttpRequestBodyInit}} file
 * @param {{onBytes?: (sent: number) => void, signal?: AbortSignal}} [options]
 */
export function putFile(token, id, file, { onBytes, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/videos/${id}/files/${file.path}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('X-Upcast-Sha256', file.sha256);
    xhr.upload.onprogress = (e) => onBytes?.(e.loaded);
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort);
    const done = () => signal?.removeEventListener('abort', abort);
    xhr.onload = () => {
      done();
      let json = null;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        /* empty */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else reject(new ApiError(xhr.status, json?.code, json?.msg ?? `HTTP ${xhr.status} ${xhr.statusText}`));
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, 'network', 'the connection to the origin failed'));
    };
    xhr.onabort = () => {
      done();
      reject(signal?.reason ?? new DOMException('cancelled', 'AbortError'));
    };
    xhr.send(file.body);
  });
}

// Direct uploads (API.md § "Direct uploads"): when the origin's store is a bucket, it presigns a PUT that
// pins the object's key, length and SHA-256; the bytes go straight to the bucket, then `complete` has the
// origin read them back, check them and record the file. A store on the origin's own disk answers 409
// `direct-uploads-off`.
/** @param {string} token @param {string} id @param {{path: string, sha256: string, size: number}} file
 * @returns {Promise<{stored: object | null, url: string | null, headers: [string, string][], expires_in: number | null}>} */
export const presignUpload = (token, id, file) => call('POST', `/api/videos/${id}/direct-uploads`, token, file);
/** @param {string} token @param {string} id @param {{path: string, sha256: string, size: number}} file */
export const completeUpload = (token, id, file) =>
  call('POST', `/api/videos/${id}/direct-uploads/complete`, token, file);

/**
 * PUT `body` to a presigned bucket URL with the headers the signature pins (the browser sets
 * Content-Length itself, to the body's length, which the signature also pins). The bucket answers in S3's
 * XML: a refusal becomes an ApiError with the S3 code (`SlowDown`, `BadDigest`, …); status 0 for the network.
 * @param {string} url @param {[string, string][]} headers @param {XMLHttpRequestBodyInit} body
 * @param {{onBytes?: (sent: number) => void, signal?: AbortSignal}} [options]
 */
export function putToBucket(url, headers, body, { onBytes, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    // Content-Length is the browser's to set (a forbidden header name for scripts).
    for (const [k, v] of headers) if (k.toLowerCase() !== 'content-length') xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onBytes?.(e.loaded);
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort);
    const done = () => signal?.removeEventListener('abort', abort);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) return resolve(null);
      const text = xhr.responseText ?? '';
      const code = text.match(/<Code>([^<]*)<\/Code>/)?.[1];
      const msg = text.match(/<Message>([^<]*)<\/Message>/)?.[1];
      reject(
        new ApiError(
          xhr.status,
          code,
          `the bucket answered ${xhr.status}${code ? ` ${code}` : ''}${msg ? `: ${msg}` : ''}`,
        ),
      );
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, 'network', 'the connection to the bucket failed'));
    };
    xhr.onabort = () => {
      done();
      reject(signal?.reason ?? new DOMException('cancelled', 'AbortError'));
    };
    xhr.send(body);
  });
}

// Live streams (origin/server API.md, "Streams"): the key is in the answer to create and rotate only.
export const createStream = (admin, body) => call('POST', '/api/streams', admin, body);
export const listStreams = (admin) => call('GET', '/api/streams', admin);
export const getStream = (admin, id) => call('GET', `/api/streams/${id}`, admin);
export const rotateStreamKey = (admin, id) => call('POST', `/api/streams/${id}/key`, admin);
export const revokeStreamKey = (admin, id) => call('DELETE', `/api/streams/${id}/key`, admin);
export const deleteStream = (admin, id) => call('DELETE', `/api/streams/${id}`, admin);
export const streamPlayback = (admin, id) => call('GET', `/api/streams/${id}/playback`, admin);

// Publishing from the browser (API.md § "Ingest over HTTP"): the stream key buys a ticket; the ticket, not
// the admin token, authenticates the parts, its renewal (by the live Worker, workers/live/session.js) and
// the end.
export const publishLive = async (streamKey) => {
  const r = await fetch('/api/live/publish', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ stream_key: streamKey }),
  }).catch((e) => {
    throw new ApiError(0, 'network', `network: ${e.message}`);
  });
  const json = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, json?.code, json?.msg ?? `HTTP ${r.status}`);
  return json;
};
/** The origin's status of the ticket's own stream: `{status: {state, since, viewers, …}}`. */
export const liveStatus = (ticket, id) => call('GET', `/api/live/${id}/status`, ticket);
/** The end of a publish; `keepalive` so it still goes out while the tab closes. */
export const endLive = (ticket, id) =>
  fetch(`/api/live/${id}/end`, { method: 'POST', headers: { Authorization: `Bearer ${ticket}` }, keepalive: true });
