// @ts-check
// An H.264 encoder's description (AVCDecoderConfigurationRecord, ISO/IEC 14496-15 § 5.3.3.1) made right
// before it reaches the init segment, where a browser's encoder gets it wrong.
//
// Firefox (ESR 153 here) repeats the NAL header byte at the front of every SPS and PPS of the record (the
// length counts the extra byte) and leaves the reserved bits before lengthSizeMinusOne and
// numOfSequenceParameterSets at 0: https://bugzilla.mozilla.org/show_bug.cgi?id=2031056. Players that
// take the parameter sets from the record (ffmpeg: "SPS decoding failure, sps_id 1 out of range"; Windows'
// decoder) fail on it; browsers get by on the in-band copies. Detected, not sniffed: a record is rebuilt
// only when each of its sets, less its first byte, is a parameter set the key frame carries in-band.

/** NAL units of a length-prefixed access unit (`size`-byte lengths). */
function nals(au, size) {
  const out = [];
  for (let at = 0; at + size <= au.length; ) {
    let n = 0;
    for (let k = 0; k < size; k++) n = n * 256 + au[at + k];
    if (n === 0 || at + size + n > au.length) break;
    out.push(au.subarray(at + size, at + size + n));
    at += size + n;
  }
  return out;
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The record's parameter sets, or null when it does not parse. */
function parse(d) {
  if (d.length < 7 || d[0] !== 1) return null;
  let p = 6; // configurationVersion, profile, compatibility, level, lengthSizeMinusOne, numOfSPS
  const sets = (count) => {
    const list = [];
    for (let i = 0; i < count; i++) {
      if (p + 2 > d.length) return null;
      const n = (d[p] << 8) | d[p + 1];
      if (p + 2 + n > d.length) return null;
      list.push(d.subarray(p + 2, p + 2 + n));
      p += 2 + n;
    }
    return list;
  };
  const sps = sets(d[5] & 0x1f);
  if (!sps || p >= d.length) return null;
  const pps = sets(d[p++]);
  if (!pps) return null;
  return { sps, pps, rest: d.subarray(p), lengthSize: (d[4] & 0x3) + 1 };
}

/** `description` (bytes of an avcC payload) as it should be, given the first key frame `key` it came with. */
export function avcDescription(description, key) {
  const r = parse(description);
  if (!r) return description;
  const doubled = [...r.sps, ...r.pps].every((s) => s.length >= 2 && s[0] === s[1]);
  if (!doubled) return description;
  const inBand = nals(key, r.lengthSize);
  const fixed = { sps: r.sps.map((s) => s.subarray(1)), pps: r.pps.map((s) => s.subarray(1)) };
  if (![...fixed.sps, ...fixed.pps].every((s) => inBand.some((n) => same(n, s)))) return description;
  const out = [1, description[1], description[2], description[3], 0xfc | (r.lengthSize - 1), 0xe0 | fixed.sps.length];
  const put = (s) => out.push(s.length >> 8, s.length & 0xff, ...s);
  fixed.sps.forEach(put);
  out.push(fixed.pps.length);
  fixed.pps.forEach(put);
  out.push(...r.rest);
  return Uint8Array.from(out);
}
