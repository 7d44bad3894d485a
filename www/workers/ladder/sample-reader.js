// @ts-check
// Sample bytes for the decoders, read from the source File in large windows with the next window read
// ahead, so the decoder never waits on a read of its own. A returned view is valid until the next call.

const WINDOW = 8 << 20;

export class SampleReader {
  constructor(file, windowBytes = WINDOW) {
    this.file = file;
    this.windowBytes = windowBytes;
    this.cur = null; // {start, end, bytes}
    this.ahead = null; // {start, end, ready: Promise<Uint8Array>}
  }

  load(start, len) {
    const end = Math.min(this.file.size, start + Math.max(len, this.windowBytes));
    const ready = this.file
      .slice(start, end)
      .arrayBuffer()
      .then((b) => {
        if (b.byteLength !== end - start) {
          throw new Error(
            `the source file changed while it was read (got ${b.byteLength} of ${end - start} bytes at ${start})`,
          );
        }
        return new Uint8Array(b);
      });
    return { start, end, ready };
  }

  /** The source's [offset, offset + size). */
  async read(offset, size) {
    const end = offset + size;
    if (end > this.file.size)
      throw new Error(`a sample at byte ${offset} (${size} bytes) lies past the end of the file`);
    const c = this.cur;
    if (c && c.start <= offset && end <= c.end) return c.bytes.subarray(offset - c.start, end - c.start);
    const a = this.ahead;
    const w = a && a.start <= offset && end <= a.end ? a : this.load(offset, size);
    this.cur = { start: w.start, end: w.end, bytes: await w.ready };
    this.ahead = w.end < this.file.size ? this.load(w.end, this.windowBytes) : null;
    // A failed read ahead surfaces only if it is used.
    this.ahead?.ready.catch(() => {});
    return this.cur.bytes.subarray(offset - w.start, end - w.start);
  }
}
