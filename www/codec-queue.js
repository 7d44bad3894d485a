// Waiting on WebCodecs queues: a codec says when its queue shrinks with a 'dequeue' event (WebCodecs
// § 4.1/6.1 `ondequeue`); where a browser has none, a short timer checks again.

/** Resolve once `ready()` holds, re-checking when any of `codecs` dequeues (or every 10 ms). */
export function until(ready, codecs, signal) {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
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
