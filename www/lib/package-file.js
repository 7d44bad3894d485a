// @ts-check
// One file of a package, made from the recipe the wasm core returns (wasm/src/web/recipe.rs): the bytes
// the writer made (`head`) and, for media segments, the byte ranges of the source between them (`layout`,
// triples of from/offset/len). Nothing is read until the bytes are asked for; then the source is read in
// large windows shared by every file of the package, so a segment costs one or two reads of the File
// whatever the number of sample runs, and memory holds a few windows, not the file.
//
// Why not Blobs of `file.slice()` parts: Chromium pays an IPC per slice (~0.18 ms each, ~540 ms for the
// ~3,000 runs of an interleaved 60 s 1080p file) and reads such a Blob back ~10× slower than the File.
// Files with few runs still become zero-copy Blobs that way (`blob()`), where it is cheap.

/** @typedef {import('./types.js').Recipe} Recipe */

/**
 * A window of the source: [start, end) of the File, in `buf` once read.
 * @typedef {object} SourceWindow
 * @property {number} start
 * @property {number} end
 * @property {ArrayBuffer | null} buf
 * @property {Promise<void>} ready
 * @property {number} pins readers waiting on it: it is not retired
 * @property {boolean} settled its read ended (read or failed)
 */

const FROM_HEAD = 0;
const WINDOW = 4 << 20; // bytes per window; windows start at multiples of it
const WINDOWS = 3; // kept, most recently used last: 12 MiB, their buffers reused for the next windows
const SLICED_BLOB_MAX_RUNS = 8; // at most this many source runs: compose a Blob of slices, copy nothing

// Chromium collects a Blob stream whose pending read only that read's own promise chain refers to, and
// the read never settles: the 4.5 GB bench (package held in an async function's locals) hung in about
// half the runs (Debian Chromium 156). A stream is held here while a read is pending.
const pending = new Set();

/** Reads of one source File in aligned windows shared by the files of a package, from one byte stream read
 * front to back (a new one only when a read does not go on where the last ended) with BYOB reads into the
 * buffers of retired windows: a stream per window left ~60 MB to the garbage collector on 4.5 GB. */
export class SourceReader {
  /** @param {Blob} file */
  constructor(file) {
    this.file = file;
    /** @type {SourceWindow[]} most recently used last */
    this.windows = [];
    /** @type {{reader: ReadableStreamBYOBReader, pos: number} | null} the open byte stream and the file offset it reads next */
    this.stream = null;
    /** @type {Promise<unknown>} window reads, one at a time (they share the stream) */
    this.queue = Promise.resolve();
  }

  /** Copy the source's [offset, offset + len) into `out` at `pos`: at once when the windows holding it
   * are read (and return null), else return a promise of the copy.
   * @param {Uint8Array} out @param {number} pos @param {number} offset @param {number} len
   * @returns {Promise<null> | null} */
  copy(out, pos, offset, len) {
    while (len > 0) {
      const w = this.windows.find((x) => x.start <= offset && offset < x.end);
      if (!w?.buf) return this.copyWhenRead(out, pos, offset, len);
      if (w !== this.windows.at(-1)) this.windows.push(...this.windows.splice(this.windows.indexOf(w), 1));
      const n = Math.min(len, w.end - offset);
      out.set(new Uint8Array(w.buf, offset - w.start, n), pos);
      pos += n;
      offset += n;
      len -= n;
    }
    return null;
  }

  /** @param {Uint8Array} out @param {number} pos @param {number} offset @param {number} len
   * @returns {Promise<null>} */
  async copyWhenRead(out, pos, offset, len) {
    const w = this.window(Math.floor(offset / WINDOW));
    w.pins++; // a pinned window is not retired: it is still there when this resumes
    try {
      await w.ready;
    } finally {
      w.pins--;
    }
    if (!(w.end > offset)) throw new Error(`the source has no bytes at ${offset} (it is ${this.file.size} bytes)`);
    return this.copy(out, pos, offset, len);
  }

  /** The window with this index, most recently used now; read when it is not held.
   * @param {number} index @returns {SourceWindow} */
  window(index) {
    const start = index * WINDOW;
    const w = this.windows.find((x) => x.start === start);
    if (w) {
      this.windows.splice(this.windows.indexOf(w), 1);
      this.windows.push(w);
      return w;
    }
    // Retire least recently used windows nobody waits on; the first one's buffer is refilled.
    let reuse = null;
    for (let i = 0; this.windows.length >= WINDOWS && i < this.windows.length; ) {
      const old = this.windows[i];
      if (old.pins > 0 || !old.settled) {
        i++;
        continue;
      }
      this.windows.splice(i, 1);
      reuse ??= old.buf;
    }
    const end = Math.min(this.file.size, start + WINDOW);
    const read = this.queue.then(() => this.read(start, end, reuse));
    this.queue = read.catch(() => {});
    /** @type {SourceWindow} */
    const fresh = { start, end, buf: null, pins: 0, settled: false, ready: Promise.resolve() };
    fresh.ready = read.then(
      (b) => {
        fresh.buf = b;
        fresh.settled = true;
      },
      /** @returns {never} */
      (e) => {
        // A failed read is not kept: the next attempt (an upload retry) reads again.
        fresh.settled = true;
        this.windows.splice(this.windows.indexOf(fresh) >>> 0, 1);
        throw e;
      },
    );
    this.windows.push(fresh);
    return fresh;
  }

  /** The file's [start, end) in `buf` (or a new buffer): from the open stream when it is there, else from
   * a new one starting at `start`; `arrayBuffer()` of a slice where the browser has no byte streams.
   * @param {number} start @param {number} end @param {ArrayBuffer | null} buf @returns {Promise<ArrayBuffer>} */
  async read(start, end, buf) {
    const n = end - start;
    /** @param {number} got */
    const changed = (got) =>
      new Error(`the source file changed while it was read (got ${got} of ${n} bytes at ${start})`);
    if (this.stream?.pos !== start) {
      this.stream?.reader.cancel().catch(() => {});
      this.stream = null;
      try {
        this.stream = { reader: this.file.slice(start).stream().getReader({ mode: 'byob' }), pos: start };
      } catch {
        const b = await this.file.slice(start, end).arrayBuffer();
        if (b.byteLength !== n) throw changed(b.byteLength);
        return b;
      }
    }
    const s = this.stream;
    if (!s) throw new Error('no stream'); // set just above
    /** @type {ArrayBuffer} */
    let into = buf ?? new ArrayBuffer(WINDOW);
    let off = 0;
    pending.add(s);
    try {
      while (off < n) {
        /** @type {ReadableStreamReadResult<Uint8Array<ArrayBuffer>>} */
        const { done, value } = await s.reader.read(new Uint8Array(into, off, n - off));
        if (done) throw changed(off);
        into = value.buffer; // the read transferred the buffer: same memory, new object
        off += value.byteLength;
        s.pos += value.byteLength;
      }
    } catch (e) {
      if (this.stream === s) this.stream = null;
      s.reader.cancel().catch(() => {});
      throw e;
    } finally {
      pending.delete(s);
    }
    return into;
  }
}

/** SHA-256 of `bytes`, hex (WebCrypto). @param {Uint8Array<ArrayBuffer>} bytes @returns {Promise<string>} */
export async function sha256Hex(bytes) {
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** One file of a package: its path, size and MIME type, and its bytes when asked for. */
export class PackageFile {
  /**
   * @param {SourceReader | null} source the File the recipe's ranges point into (null when it has none)
   * @param {Recipe} recipe
   */
  constructor(source, { path, size, type, head, layout }) {
    this.path = path;
    this.size = size;
    this.type = type;
    this.source = source;
    this.head = head;
    /** @type {Uint8Array<ArrayBuffer> | null} null once an encoded file's bytes were released */
    this.head = head;
    this.layout = layout;
    /** @type {Promise<string> | null} */
    this.digest = null;
  }

  /** Runs of source bytes in this file. */
  get runs() {
    let n = 0;
    for (let i = 0; this.layout && i < this.layout.length; i += 3) n += this.layout[i] === FROM_HEAD ? 0 : 1;
    return n;
  }

  /** The file's bytes, gathered into `into` when it is large enough (a buffer the caller reuses from file
   * to file), else into a new buffer; either way the caller owns the result.
   * @param {Uint8Array<ArrayBuffer>} [into] @returns {Promise<Uint8Array<ArrayBuffer>>} */
  async bytes(into) {
    const out = into && into.length >= this.size ? into.subarray(0, this.size) : new Uint8Array(this.size);
    const head = this.head;
    if (!head) throw new Error(`${this.path}: its bytes were released after it was uploaded`);
    if (!this.layout) {
      out.set(head);
      return out;
    }
    const l = this.layout;
    let pos = 0;
    for (let i = 0; i < l.length; i += 3) {
      const offset = l[i + 1];
      const len = l[i + 2];
      if (l[i] === FROM_HEAD) out.set(head.subarray(offset, offset + len), pos);
      else {
        const wait = this.sourceReader().copy(out, pos, offset, len); // null when the window was read already
        if (wait) await wait;
      }
      pos += len;
    }
    if (pos !== this.size) throw new Error(`${this.path}: gathered ${pos} bytes, expected ${this.size}`);
    return out;
  }

  /** The file as a Blob: composed of source slices when it has few runs (no copy), else of its bytes. */
  async blob() {
    if (!this.layout || this.runs > SLICED_BLOB_MAX_RUNS || !this.head)
      return new Blob([await this.bytes()], { type: this.type });
    /** @type {BlobPart[]} */
    const parts = [];
    const l = this.layout;
    const file = this.sourceReader().file;
    for (let i = 0; i < l.length; i += 3) {
      const [from, offset, len] = [l[i], l[i + 1], l[i + 2]];
      parts.push(from === FROM_HEAD ? this.head.subarray(offset, offset + len) : file.slice(offset, offset + len));
    }
    return new Blob(parts, { type: this.type });
  }

  /** The source this file's ranges point into. */
  sourceReader() {
    if (!this.source) throw new Error(`${this.path}: a file with source ranges needs its source`);
    return this.source;
  }

  /** SHA-256 of the file, hex (WebCrypto); computed once. `bytes` may be passed when already gathered.
   * @param {Uint8Array<ArrayBuffer>} [bytes] @returns {Promise<string>} */
  async sha256(bytes) {
    this.digest ??= (async () => sha256Hex(bytes ?? (await this.bytes())))();
    return this.digest.catch((e) => {
      this.digest = null;
      throw e;
    });
  }
}

/** Playlists first, then init segments, then media segments in time order across renditions (the same
 * index of every rendition together, so they share the source windows they are read from), the rest last. */
/**
 * @template {{path: string}} F
 * @param {F[]} list
 * @returns {F[]}
 */
export function timeOrder(list) {
  /** @param {string} p */
  const rank = (p) => (p.endsWith('.m3u8') ? 0 : p.endsWith('.mp4') ? 1 : p.endsWith('.m4s') ? 2 : 3);
  /** @param {string} p */
  const index = (p) => Number(p.match(/(\d+)\.m4s$/)?.[1] ?? 0);
  return [...list].sort(
    (a, b) => rank(a.path) - rank(b.path) || index(a.path) - index(b.path) || a.path.localeCompare(b.path),
  );
}
