// @ts-check
// Server-sent events with an Authorization header. EventSource cannot send one, so the stream is read
// with fetch (a streaming *response* works over HTTP/1.1; only streaming request bodies do not) and split
// into events by the text/event-stream rules: blank line ends an event, `data:` lines join with "\n",
// `:` lines are comments (the origin's heartbeats).

/**
 * Call `onEvent({event, data})` for each event of `path` until `signal` aborts; reconnects after a drop,
 * waiting longer each time (1 s, 2 s, … 30 s).
 * @param {string} path @param {string} token
 * @param {(e: {event: string, data: string}) => void} onEvent
 * @param {AbortSignal} signal
 */
export async function followEvents(path, token, onEvent, signal) {
  let wait = 1000;
  while (!signal.aborted) {
    try {
      const r = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, signal });
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      wait = 1000;
      await readEvents(r.body, onEvent);
    } catch (e) {
      if (signal.aborted) return;
      console.warn(`events ${path}: ${e.message}; reconnecting in ${wait / 1000} s`);
    }
    await new Promise((res) => setTimeout(res, wait));
    wait = Math.min(wait * 2, 30000);
  }
}

/** @param {ReadableStream<Uint8Array>} body @param {(e: {event: string, data: string}) => void} onEvent */
async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const text = new TextDecoder();
  let buf = '';
  let event = 'message';
  /** @type {string[]} */
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += text.decode(value, { stream: true });
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) onEvent({ event, data: data.join('\n') });
        event = 'message';
        data = [];
      } else if (!line.startsWith(':')) {
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') event = v;
        else if (field === 'data') data.push(v);
      }
      nl = buf.indexOf('\n');
    }
  }
}
