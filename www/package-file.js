// One file of a package, made from the recipe the wasm core returns (wasm/src/web/recipe.rs): the bytes
// the writer made (`head`) and, for media segments, the byte ranges of the source between them (`layout`,
// triples of from/offset/len). Nothing is read until the bytes are asked for; then the source is read in
// large windows shared by every file of the package, so a segment costs one or two reads of the File
// whatever the number of sample runs, and memory holds a few windows, not the file.
//
// Why not Blobs of `file.slice()` parts: Chromium pays an IPC per slice (~0.18 ms each, ~540 ms for the
// ~3,000 runs of an interleaved 60 s 1080p file) and reads such a Blob back ~10× slower than the File.
// Files with few runs still become zero-copy Blobs that way (`blob()`), where it is cheap.

const FROM_HEAD = 0;
const WINDOW = 4 << 20; // bytes read from the source at once (1 MiB reads cost 2x, 16 MiB ~0.9x of 8 MiB)
const WINDOWS = 3; // kept, most recently used last: 24 MiB, their buffers reused for the next windows
const SLICED_BLOB_MAX_RUNS = 8; // at most this many source runs: compose a Blob of slices, copy nothing

/** Fill `buf` (or a new buffer) with the file's [start, end): a BYOB read of the slice's byte stream, so a
 * reused buffer costs no allocation; `arrayBuffer()` where the browser has no byte stream. */
async function fill(file, start, end, buf) {
  const n = end - start;
  const part = file.slice(start, end);
  let reader;
  try {
    reader = part.stream().getReader({ mode: 'byob' });
  } catch {
    const b = await part.arrayBuffer();
    if (b.byteLength !== n) throw new Error(`the source file changed while it was read (got ${b.byteLength} of ${n} bytes at ${start})`);
    return b;
  }
  buf ??= new ArrayBuffer(Math.max(n, WINDOW));
  let off = 0;
  while (off < n) {
    const { done, value } = await reader.read(new Uint8Array(buf, off, n - off));
    if (done) break;
    buf = value.buffer; // the read transferred the buffer: same memory, new object
    off += value.byteLength;
  }
  reader.releaseLock();
  if (off !== n) throw new Error(`the source file changed while it was read (got ${off} of ${n} bytes at ${start})`);
  return buf;
}

/** Reads of one source File in large windows, shared by the files of a package. The windows' buffers are
 * reused rather than left to the garbage collector: a 4.5 GB input goes through the same 24 MiB. */
export class SourceReader {
  constructor(file) {
    this.file = file;
    this.windows = []; // {start, end, buf, ready, pins, settled}, most recently used last
  }

  /** Copy the source's [offset, offset + len) into `out` at `pos`. */
  async copy(out, pos, offset, len) {
    const end = offset + len;
    let w = this.windows.find((x) => x.start <= offset && end <= x.end);
    if (w) {
      this.windows.splice(this.windows.indexOf(w), 1);
      this.windows.push(w);
    } else {
      w = this.load(offset, Math.min(this.file.size, offset + Math.max(len, WINDOW)));
    }
    // A pinned window is never refilled, so its buffer stays whole until the copy below.
    w.pins++;
    try {
      await w.ready;
      out.set(new Uint8Array(w.buf, offset - w.start, len), pos);
    } finally {
      w.pins--;
    }
  }

  load(start, end) {
    // Retire least recently used windows nobody waits on; the first one's buffer is refilled.
    let reuse = null;
    for (let i = 0; this.windows.length >= WINDOWS && i < this.windows.length; ) {
      const old = this.windows[i];
      if (old.pins > 0 || !old.settled) {
        i++;
        continue;
      }
      this.windows.splice(i, 1);
      if (!reuse && old.buf && old.buf.byteLength >= end - start) reuse = old.buf;
    }
    const w = { start, end, buf: null, pins: 0, settled: false };
    w.ready = fill(this.file, start, end, reuse).then(
      (b) => {
        w.buf = b;
        w.settled = true;
      },
      (e) => {
        // A failed read is not kept: the next attempt (an upload retry) reads again.
        w.settled = true;
        this.windows.splice(this.windows.indexOf(w) >>> 0, 1);
        throw e;
      },
    );
    this.windows.push(w);
    return w;
  }
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class PackageFile {
  /** @param {SourceReader} source @param {{path, size, type, head: Uint8Array, layout: Float64Array|null}} recipe */
  constructor(source, { path, size, type, head, layout }) {
    this.path = path;
    this.size = size;
    this.type = type;
    this.source = source;
    this.head = head;
    this.layout = layout;
    this.digest = null;
  }

  /** Runs of source bytes in this file. */
  get runs() {
    let n = 0;
    for (let i = 0; this.layout && i < this.layout.length; i += 3) n += this.layout[i] === FROM_HEAD ? 0 : 1;
    return n;
  }

  /** The file's bytes, gathered into `into` when it is large enough (a buffer the caller reuses from file
   * to file), else into a new buffer; either way the caller owns the result. */
  async bytes(into) {
    const out = into?.length >= this.size ? into.subarray(0, this.size) : new Uint8Array(this.size);
    if (!this.layout) {
      out.set(this.head);
      return out;
    }
    const l = this.layout;
    let pos = 0;
    for (let i = 0; i < l.length; i += 3) {
      const [from, offset, len] = [l[i], l[i + 1], l[i + 2]];
      if (from === FROM_HEAD) out.set(this.head.subarray(offset, offset + len), pos);
      else await this.source.copy(out, pos, offset, len);
      pos += len;
    }
    if (pos !== this.size) throw new Error(`${this.path}: gathered ${pos} bytes, expected ${this.size}`);
    return out;
  }

  /** The file as a Blob: composed of source slices when it has few runs (no copy), else of its bytes. */
  async blob() {
    if (!this.layout || this.runs > SLICED_BLOB_MAX_RUNS) return new Blob([await this.bytes()], { type: this.type });
    const parts = [];
    const l = this.layout;
    for (let i = 0; i < l.length; i += 3) {
      const [from, offset, len] = [l[i], l[i + 1], l[i + 2]];
      parts.push(from === FROM_HEAD ? this.head.subarray(offset, offset + len) : this.source.file.slice(offset, offset + len));
    }
    return new Blob(parts, { type: this.type });
  }

  /** SHA-256 of the file, hex (WebCrypto); computed once. `bytes` may be passed when already gathered. */
  async sha256(bytes) {
    this.digest ??= (async () => hex(await crypto.subtle.digest('SHA-256', bytes ?? (await this.bytes()))))();
    return this.digest.catch((e) => {
      this.digest = null;
      throw e;
    });
  }
}

/** Playlists first, then init segments, then media segments in time order across renditions (the same
 * index of every rendition together, so they share the source windows they are read from), the rest last. */
export function timeOrder(list) {
  const rank = (p) => (p.endsWith('.m3u8') ? 0 : p.endsWith('.mp4') ? 1 : p.endsWith('.m4s') ? 2 : 3);
  const index = (p) => Number(p.match(/(\d+)\.m4s$/)?.[1] ?? 0);
  return [...list].sort(
    (a, b) => rank(a.path) - rank(b.path) || index(a.path) - index(b.path) || a.path.localeCompare(b.path),
  );
}
