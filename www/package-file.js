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
const WINDOW = 8 << 20; // bytes read from the source at once (1 MiB reads cost 2x, 16 MiB ~0.9x of 8 MiB)
const WINDOWS = 3; // kept, most recently used last: at most 24 MiB
const SLICED_BLOB_MAX_RUNS = 8; // at most this many source runs: compose a Blob of slices, copy nothing

/** Reads of one source File in large windows, shared by the files of a package. */
export class SourceReader {
  constructor(file) {
    this.file = file;
    this.windows = []; // {start, end, bytes: Promise<Uint8Array>}
  }

  /** A view of the source's [offset, offset + len). */
  async view(offset, len) {
    const end = offset + len;
    let w = this.windows.find((x) => x.start <= offset && end <= x.end);
    if (w) {
      this.windows.splice(this.windows.indexOf(w), 1);
    } else {
      const wEnd = Math.min(this.file.size, offset + Math.max(len, WINDOW));
      const read = this.file.slice(offset, wEnd).arrayBuffer().then((b) => new Uint8Array(b));
      w = { start: offset, end: wEnd, bytes: read };
      // A failed read is not kept: the next attempt (an upload retry) reads again.
      read.catch(() => this.windows.splice(this.windows.indexOf(w) >>> 0, 1));
      if (this.windows.length >= WINDOWS) this.windows.shift();
    }
    this.windows.push(w);
    const bytes = await w.bytes;
    if (bytes.length !== w.end - w.start) {
      throw new Error(`the source file changed while it was read (got ${bytes.length} of ${w.end - w.start} bytes at ${w.start})`);
    }
    return bytes.subarray(offset - w.start, end - w.start);
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

  /** The file's bytes, freshly gathered (the caller owns them). */
  async bytes() {
    if (!this.layout) return this.head.slice();
    const out = new Uint8Array(this.size);
    const l = this.layout;
    let pos = 0;
    for (let i = 0; i < l.length; i += 3) {
      const [from, offset, len] = [l[i], l[i + 1], l[i + 2]];
      out.set(from === FROM_HEAD ? this.head.subarray(offset, offset + len) : await this.source.view(offset, len), pos);
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
