// Just enough ISO BMFF reading for the tests to check what the origin serves from the bytes themselves,
// independently of the core: boxes, mdhd timescale, tfdt, the first sample's flags and size, and the NAL
// unit types of an H.264 access unit.

/** The boxes in buf[start, end): [{type, start, end, body}] (body: where the payload starts). */
export function boxes(buf, start = 0, end = buf.length) {
  const out = [];
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < 8 || at + size > end) throw new Error(`box '${type}' at ${at}: size ${size} runs past ${end}`);
    out.push({ type, start: at, end: at + size, body });
    at += size;
  }
  return out;
}

const child = (buf, parent, type) => boxes(buf, parent.body, parent.end).find((b) => b.type === type);

export function path(buf, types, from = { body: 0, end: buf.length }) {
  let b = from;
  for (const t of types) {
    b = child(buf, b, t);
    if (!b) return null;
  }
  return b;
}

/** The media timescale of an init segment's (only) track. */
export function timescale(init) {
  const mdhd = path(init, ['moov', 'trak', 'mdia', 'mdhd']);
  const v = init[mdhd.body];
  return v === 1 ? init.readUInt32BE(mdhd.body + 4 + 16) : init.readUInt32BE(mdhd.body + 4 + 8);
}

/** Per fragment of a media segment: decode time, first sample's sync flag, and its bytes. */
export function fragments(seg) {
  const top = boxes(seg);
  const out = [];
  for (let i = 0; i < top.length; i++) {
    if (top[i].type !== 'moof') continue;
    const moof = top[i];
    const traf = path(seg, ['traf'], moof);
    const tfhd = path(seg, ['tfhd'], traf);
    const tfdt = path(seg, ['tfdt'], traf);
    const trun = path(seg, ['trun'], traf);
    const tfFlags = seg.readUInt32BE(tfhd.body) & 0xffffff;
    let p = tfhd.body + 8; // version/flags, track_ID
    if (tfFlags & 0x1) p += 8;
    if (tfFlags & 0x2) p += 4;
    if (tfFlags & 0x8) p += 4;
    const defaultSize = tfFlags & 0x10 ? seg.readUInt32BE(p) : null;
    if (tfFlags & 0x10) p += 4;
    const defaultFlags = tfFlags & 0x20 ? seg.readUInt32BE(p) : 0;
    const decodeTime =
      seg[tfdt.body] === 1 ? Number(seg.readBigUInt64BE(tfdt.body + 4)) : seg.readUInt32BE(tfdt.body + 4);
    const trFlags = seg.readUInt32BE(trun.body) & 0xffffff;
    let q = trun.body + 8; // version/flags, sample_count
    const dataOffset = trFlags & 0x1 ? seg.readInt32BE(q) : 0;
    if (trFlags & 0x1) q += 4;
    const firstFlags = trFlags & 0x4 ? seg.readUInt32BE(q) : null;
    if (trFlags & 0x4) q += 4;
    if (trFlags & 0x100) q += 4;
    const size = trFlags & 0x200 ? seg.readUInt32BE(q) : defaultSize;
    let flags = defaultFlags;
    if (firstFlags !== null) flags = firstFlags;
    else if (trFlags & 0x400) flags = seg.readUInt32BE(q + (trFlags & 0x200 ? 4 : 0));
    const start = moof.start + dataOffset;
    out.push({ decodeTime, sync: ((flags >>> 16) & 0x1) === 0, first: seg.subarray(start, start + size) });
  }
  return out;
}

/** NAL unit types of a length-prefixed (avcC, 4-byte lengths) H.264 access unit. */
export function nalTypes(au) {
  const out = [];
  for (let at = 0; at + 4 <= au.length; ) {
    const n = au.readUInt32BE(at);
    if (n === 0 || at + 4 + n > au.length)
      throw new Error(`NAL length ${n} at ${at} runs past the sample (${au.length})`);
    out.push(au[at + 4] & 0x1f);
    at += 4 + n;
  }
  return out;
}
