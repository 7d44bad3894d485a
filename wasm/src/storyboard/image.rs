//! The pixel size of a sheet from its header, so the checker can tell whether a thumbnail's rectangle lies
//! inside its sheet. Written here because the crates the core uses (`mp4`, `m3u8-rs`) read no images and a
//! size is all that is needed: JPEG's SOFn segment (ITU T.81 § B.2.2) and WebP's `VP8 `, `VP8L` or `VP8X`
//! chunk (RFC 9649 § 2.5–2.7). Untrusted bytes: every read is bounds-checked; `None` when the header is
//! not one of these.

/// Width and height in pixels of a JPEG or WebP image, from its first bytes.
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes)
    } else if bytes.len() >= 16 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        webp(bytes)
    } else {
        None
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn le(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    Some(s.iter().rev().fold(0u32, |v, x| (v << 8) | u32::from(*x)))
}

/// Walk the marker segments up to the first SOFn (C0–CF except C4 DHT, C8 JPG, CC DAC).
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    while at + 4 <= b.len() {
        if b[at] != 0xFF {
            return None;
        }
        let marker = b[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let len = usize::try_from(be16(b, at + 2)?).ok()?;
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = be16(b, at + 5)?;
            let w = be16(b, at + 7)?;
            return (w > 0 && h > 0).then_some((w, h));
        }
        if marker == 0xDA || len < 2 {
            return None; // scan data before any frame header
        }
        at += 2 + len;
    }
    None
}

fn webp(b: &[u8]) -> Option<(u32, u32)> {
    let chunk = &b[12..16];
    let data = 20; // chunk header: fourcc + size
    match chunk {
        // Lossy: frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
        b"VP8 " => {
            if b.get(data + 3..data + 6)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            Some((le(b, data + 6, 2)? & 0x3FFF, le(b, data + 8, 2)? & 0x3FFF))
        }
        // Lossless: signature 0x2f, then 14 bits width − 1 and 14 bits height − 1.
        b"VP8L" => {
            if *b.get(data)? != 0x2f {
                return None;
            }
            let v = le(b, data + 1, 4)?;
            Some(((v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1))
        }
        // Extended: flags (4 bytes), then 24-bit canvas width − 1 and height − 1.
        b"VP8X" => Some((le(b, data + 4, 3)? + 1, le(b, data + 7, 3)? + 1)),
        _ => None,
    }
}
