//! Block lacing (Matroska § 10.3): several frames in one block, their sizes coded Xiph-style, as EBML
//! integers, or fixed. Every size is checked against the bytes the block holds.

use crate::error::{Error, Result};

/// The frames' sizes and how many bytes the block header plus the lace header take.
pub struct Laced {
    pub header_len: u64,
    pub frames: Vec<u64>,
}

/// `head` holds the block's first bytes (at least its whole lace header for an honest block), `at` is where
/// the lace header starts in it, `size` the block's data size and `flags` its flags byte.
pub fn frame_sizes(
    head: &[u8],
    at: usize,
    size: u64,
    flags: u8,
    path: &str,
    offset: u64,
) -> Result<Laced> {
    let bad = |msg: String| Error::malformed(path, offset, msg);
    let lacing = (flags >> 1) & 3;
    if lacing == 0 {
        let h = at as u64;
        let frame = size
            .checked_sub(h)
            .ok_or_else(|| bad("block shorter than its header".into()))?;
        return Ok(Laced {
            header_len: h,
            frames: vec![frame],
        });
    }
    let mut pos = at;
    let count = usize::from(
        *head
            .get(pos)
            .ok_or_else(|| bad("lace header cut short".into()))?,
    ) + 1;
    pos += 1;
    let mut sizes: Vec<u64> = Vec::with_capacity(count);
    match lacing {
        1 => {
            // Xiph: each size but the last as a run of 255s and a final byte below 255.
            for _ in 0..count - 1 {
                let mut s = 0u64;
                loop {
                    let b = *head
                        .get(pos)
                        .ok_or_else(|| bad("Xiph lace sizes cut short".into()))?;
                    pos += 1;
                    s += u64::from(b);
                    if b != 255 {
                        break;
                    }
                }
                sizes.push(s);
            }
        }
        3 => {
            // EBML: the first size as an unsigned vint, the others as signed differences.
            let mut prev = 0i128;
            for k in 0..count - 1 {
                let (len, v) = vint(head.get(pos..).unwrap_or_default())
                    .ok_or_else(|| bad("EBML lace sizes cut short".into()))?;
                pos += len;
                let s = if k == 0 {
                    i128::from(v)
                } else {
                    let bias = (1i128 << (7 * len - 1)) - 1;
                    prev + i128::from(v) - bias
                };
                let s = u64::try_from(s)
                    .map_err(|_| bad(format!("laced frame {k} has a negative size")))?;
                prev = i128::from(s);
                sizes.push(s);
            }
        }
        _ => {}
    }
    let header_len = pos as u64;
    let room = size
        .checked_sub(header_len)
        .ok_or_else(|| bad("lace header runs past the block".into()))?;
    if lacing == 2 {
        // Fixed-size lacing: the frames share the room equally.
        if room % count as u64 != 0 {
            return Err(bad(format!(
                "{room} bytes cannot hold {count} frames of equal size"
            )));
        }
        sizes = vec![room / count as u64; count];
    } else {
        let listed: u64 = sizes.iter().sum();
        let last = room.checked_sub(listed).ok_or_else(|| {
            bad(format!(
                "laced frames of {listed} bytes overflow the block's {room} bytes"
            ))
        })?;
        sizes.push(last);
    }
    Ok(Laced {
        header_len,
        frames: sizes,
    })
}

/// An EBML variable-length integer: its length and value.
pub(super) fn vint(b: &[u8]) -> Option<(usize, u64)> {
    let first = *b.first()?;
    let len = usize::try_from(first.leading_zeros()).ok()? + 1;
    if len > 8 {
        return None;
    }
    let mut v = u64::from(first) & (0xff >> len);
    for &x in b.get(1..len)? {
        v = (v << 8) | u64::from(x);
    }
    Some((len, v))
}
