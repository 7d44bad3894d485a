// @ts-check
// Waiting on WebCodecs queues: a codec says when its queue shrinks with a 'dequeue' event (WebCodecs
// § 4.1/6.1 `ondequeue`); where a browser has none, a short timer checks again.

/** Resolve once `ready()` holds, re-checking when any of `codecs` dequeues (or every 10 ms). */
export function until(ready, codecs, signal) {
  if (ready()) return Promise.resolve();
  return new Promise((/** @type {(v?: unknown) => void} */ resolve, reject) => {
    let timer = 0;
    const done = (err) => {
      clearInterval(timer);
      for (const c of codecs) c.removeEventListener?.('dequeue', check);
      signal?.removeEventListener('abort', onAbort);
      err ? reject(err) : resolve();
    };
    const check = () => {
      if (ready()) done();
    };
    const onAbort = () => done(signal.reason ?? new DOMException('cancelled', 'AbortError'));
    for (const c of codecs) c.addEventListener?.('dequeue', check);
    signal?.addEventListener('abort', onAbort);
    timer = setInterval(check, 10);
  });
}

/** A codec that is not closed yet (closing twice throws). */
export function closeQuietly(codec) {
  try {
    if (codec && codec.state !== 'closed') codec.close();
  } catch {
    /* already closed by an error */
  }
}

/** The first failure of a codec job: `fail(e)` keeps it and aborts `signal`, so every wait of the job
 * stops; an abort of the caller's `outer` signal fails it too. `dispose()` unhooks from `outer`. */
export function faultLatch(outer) {
  const inner = new AbortController();
  const latch = {
    error: null,
    signal: inner.signal,
    fail(e) {
      if (latch.error) return;
      latch.error = e instanceof Error ? e : new Error(String(e));
      inner.abort(latch.error);
    },
    dispose: () => outer?.removeEventListener('abort', onAbort),
  };
  const onAbort = () => latch.fail(outer.reason ?? new DOMException('cancelled', 'AbortError'));
  outer?.addEventListener('abort', onAbort);
  if (outer?.aborted) onAbort();
  return latch;
}

/** A promise that rejects when `signal` aborts (raced against a codec's flush). */
export const stopped = (signal) =>
  new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason));
  });

/**
 * Feed a track's `samples` (columns of Ladder.videoSamples()/audioSamples(): offset, size, timestampUs,
 * durationUs, key) to `decoder` as `Chunk`s (EncodedVideoChunk or EncodedAudioChunk), reading them through
 * `reader`, never while `roomy()` is false (re-checked as `codecs` dequeue) and after `pause()` when given;
 * then flush the decoder. `isKey(i)` says which samples are key chunks (the track's sync flags unless
 * given). Stops at the latch's first error.
 */
export async function feed({
  reader,
  samples,
  decoder,
  Chunk,
  roomy,
  codecs,
  latch,
  pause,
  isKey = (i) => samples.key[i],
}) {
  for (let i = 0; i < samples.size.length && !latch.error; i++) {
    if (!roomy()) await until(roomy, codecs, latch.signal);
    if (pause) await pause(latch.signal);
    const data = await reader.read(samples.offset[i], samples.size[i]);
    if (latch.error) return;
    decoder.decode(
      new Chunk({
        type: isKey(i) ? 'key' : 'delta',
        timestamp: Math.round(samples.timestampUs[i]),
        duration: Math.round(samples.durationUs[i]),
        data,
      }),
    );
  }
  if (!latch.error) await Promise.race([decoder.flush(), stopped(latch.signal)]);
}
