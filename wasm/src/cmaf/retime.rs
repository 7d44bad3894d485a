//! Moving CMAF fragments in time: add a number of ticks to every `tfdt` (ISO/IEC 14496-12 § 8.8.12) of a
//! run of moof + mdat chunks, in place. A live stream whose publisher reconnects continues each track
//! exactly where it stopped this way: the encoder's clock restarts, the stream's must not (a recording is
//! one timeline, continuous to the tick, HLS Authoring Spec 7.3).

use crate::boxes::{children, fourcc_str};
use crate::error::{Error, Result};

fn malformed(offset: u64, msg: impl Into<String>) -> Error {
    Error::Malformed {
        path: "part/moof/traf/tfdt".into(),
        offset,
        msg: msg.into(),
    }
}

/// Add `delta` ticks to the base media decode time of every track fragment in `bytes` (whole chunks).
/// Returns how many `tfdt` boxes were moved; a time that would go below 0 or past a version 0 box's 32
/// bits is an error and leaves `bytes` unchanged.
pub fn shift_tfdt(bytes: &mut [u8], delta: i64) -> Result<usize> {
    let at = tfdt_positions(bytes)?;
    let mut new = Vec::with_capacity(at.len());
    for &(pos, v1) in &at {
        let old = read_at(bytes, pos, v1);
        let t = i128::from(old) + i128::from(delta);
        let fits = if v1 {
            u64::try_from(t).is_ok()
        } else {
            u32::try_from(t).is_ok()
        };
        if !fits {
            return Err(malformed(
                pos as u64,
                format!("moving decode time {old} by {delta} ticks leaves the box's range"),
            ));
        }
        new.push(u64::try_from(t).expect("checked above"));
    }
    for (&(pos, v1), t) in at.iter().zip(new) {
        if v1 {
            bytes[pos..pos + 8].copy_from_slice(&t.to_be_bytes());
        } else {
            let t = u32::try_from(t).expect("checked above");
            bytes[pos..pos + 4].copy_from_slice(&t.to_be_bytes());
        }
    }
    Ok(at.len())
}

fn read_at(bytes: &[u8], pos: usize, v1: bool) -> u64 {
    if v1 {
        u64::from_be_bytes(bytes[pos..pos + 8].try_into().expect("8 bytes checked"))
    } else {
        u64::from(u32::from_be_bytes(
            bytes[pos..pos + 4].try_into().expect("4 bytes checked"),
        ))
    }
}

/// Where each tfdt's time lies in `bytes`, and whether it is 64-bit (version 1).
fn tfdt_positions(bytes: &[u8]) -> Result<Vec<(usize, bool)>> {
    let mut at: Vec<(usize, bool)> = Vec::new();
    for top in children(bytes, 0, "part") {
        let (h, payload) = top?;
        if fourcc_str(h.kind) != "moof" {
            continue;
        }
        for traf in children(payload, h.payload_start(), "part/moof") {
            let (th, tpayload) = traf?;
            if fourcc_str(th.kind) != "traf" {
                continue;
            }
            for b in children(tpayload, th.payload_start(), "part/moof/traf") {
                let (bh, body) = b?;
                if fourcc_str(bh.kind) != "tfdt" {
                    continue;
                }
                let v1 = body.first() == Some(&1);
                let need = if v1 { 12 } else { 8 };
                if body.len() < need {
                    return Err(malformed(bh.start, "tfdt is shorter than its version says"));
                }
                let pos = usize::try_from(bh.payload_start() + 4)
                    .map_err(|_| malformed(bh.start, "offset past memory"))?;
                at.push((pos, v1));
            }
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmaf::fragment::{fragment_header, OutSample};

    fn times(b: &[u8]) -> Vec<u64> {
        tfdt_positions(b)
            .unwrap()
            .into_iter()
            .map(|(p, v1)| read_at(b, p, v1))
            .collect()
    }

    fn chunk(dts: u64) -> Vec<u8> {
        let s = OutSample {
            size: 3,
            duration: 3000,
            cts_offset: 0,
            sync: true,
        };
        let mut b = fragment_header(1, dts, &[s]).unwrap();
        b.extend_from_slice(&[1, 2, 3]);
        b
    }

    #[test]
    fn every_tfdt_moves_and_nothing_else() {
        let mut b = chunk(90_000);
        b.extend(chunk(93_000));
        let before = b.clone();
        assert_eq!(shift_tfdt(&mut b, 4_500).unwrap(), 2);
        assert_eq!(times(&b), vec![94_500, 97_500]);
        assert_eq!(b.len(), before.len());
        assert_eq!(shift_tfdt(&mut b, -4_500).unwrap(), 2);
        assert_eq!(b, before);
    }

    #[test]
    fn a_time_below_zero_is_refused_and_changes_nothing() {
        let mut b = chunk(10);
        let before = b.clone();
        assert!(shift_tfdt(&mut b, -11).is_err());
        assert_eq!(b, before);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for n in 0..40 {
            let mut b: Vec<u8> = chunk(5).into_iter().take(n).collect();
            let _ = shift_tfdt(&mut b, 1);
        }
    }
}
