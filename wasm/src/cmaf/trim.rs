//! Cutting the tail off a CMAF media segment: the samples decoded from a given time on are dropped and the
//! segment is written again with the fragment writer. A live recording uses it so that every track of the
//! recorded package ends within a frame of the others (an RTMP publisher stopped mid-stream leaves its
//! sound a few frames past its last picture).

use super::fragment::{fragment_header, OutSample};
use super::read::{read_segment, InitInfo};
use crate::error::{Error, Result};

/// A segment with its tail cut: the new bytes and the new duration (track ticks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trimmed {
    pub bytes: Vec<u8>,
    pub duration: u64,
}

/// Keep the samples of `bytes` (a media segment of `init`'s track, its first sample decoded at `start`)
/// decoded before `end` (ticks); always at least the first sample. `None` when nothing is past `end`.
/// Segments holding an index (`sidx`) are left alone: its references would no longer hold.
pub fn cut_before(bytes: &[u8], init: &InitInfo, end: u64) -> Result<Option<Trimmed>> {
    let frags = read_segment(bytes, init)?;
    let Some(first) = frags.first() else {
        return Ok(None);
    };
    let total_end = frags
        .last()
        .map_or(0, |f| f.base_decode_time.saturating_add(f.duration()));
    if total_end <= end {
        return Ok(None);
    }
    let prefix_len =
        usize::try_from(first.moof_offset).map_err(|_| Error::TooLarge("segment prefix".into()))?;
    let prefix = bytes
        .get(..prefix_len)
        .ok_or_else(|| Error::malformed("segment", 0, "moof offset past the end"))?;
    if crate::boxes::children(prefix, 0, "segment")
        .any(|c| c.is_ok_and(|(h, _)| &h.kind == b"sidx"))
    {
        return Ok(None);
    }
    let mut out = prefix.to_vec();
    let mut kept_end = first.base_decode_time;
    for (k, f) in frags.iter().enumerate() {
        let mut t = f.base_decode_time;
        let mut kept = Vec::new();
        for s in &f.samples {
            if t >= end && !(k == 0 && kept.is_empty()) {
                break;
            }
            kept.push(*s);
            t += u64::from(s.duration);
        }
        if kept.is_empty() {
            break;
        }
        let payload_len: u64 = kept.iter().map(|s| u64::from(s.size)).sum();
        let from =
            usize::try_from(f.data_offset).map_err(|_| Error::TooLarge("data offset".into()))?;
        let to = usize::try_from(f.data_offset + payload_len)
            .map_err(|_| Error::TooLarge("sample data".into()))?;
        let payload = bytes.get(from..to).ok_or_else(|| {
            Error::malformed("segment/mdat", f.moof_offset, "sample data past the end")
        })?;
        let samples: Vec<OutSample> = kept
            .iter()
            .map(|s| {
                Ok(OutSample {
                    size: s.size,
                    duration: s.duration,
                    cts_offset: i32::try_from(s.cts_offset).map_err(|_| {
                        Error::malformed(
                            "segment/moof/traf/trun",
                            f.moof_offset,
                            "composition offset out of range",
                        )
                    })?,
                    sync: s.is_sync(),
                })
            })
            .collect::<Result<_>>()?;
        out.extend(fragment_header(f.sequence, f.base_decode_time, &samples)?);
        out.extend_from_slice(payload);
        kept_end = t;
        if kept.len() < f.samples.len() {
            break;
        }
    }
    Ok(Some(Trimmed {
        bytes: out,
        duration: kept_end - first.base_decode_time,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmaf::read::read_init;

    /// An audio segment of `n` samples of 1024 ticks from `base`, in two fragments; sample `i` is `10 + i`
    /// bytes, each of them `10 + i`.
    fn segment(base: u64, n: u8) -> Vec<u8> {
        let s = |i: u8| OutSample {
            size: u32::from(10 + i),
            duration: 1024,
            cts_offset: 0,
            sync: true,
        };
        let half = n / 2;
        let (a, b): (Vec<_>, Vec<_>) = (0..n).map(s).partition(|x| x.size < u32::from(10 + half));
        let mut out = super::super::fragment::styp();
        for (seq, from, part) in [(1, base, &a), (2, base + 1024 * u64::from(half), &b)] {
            out.extend(fragment_header(seq, from, part).unwrap());
            for x in part {
                let byte = u8::try_from(x.size).unwrap();
                out.extend(std::iter::repeat_n(byte, usize::from(byte)));
            }
        }
        out
    }

    fn audio_init() -> InitInfo {
        // AAC-LC, 48 kHz, stereo.
        let c = crate::live::config::configure(crate::codec::CodecKind::Aac, Some(&[0x11, 0x90]))
            .unwrap();
        read_init(&c.info.init).unwrap()
    }

    #[test]
    fn drops_the_samples_from_the_end_on_and_keeps_the_rest_byte_for_byte() {
        let init = audio_init();
        let seg = segment(48_000, 10);
        // Ends at 48000 + 10 × 1024; cut at 48000 + 6.5 × 1024: samples 0..=6 are kept (7 starts past it).
        let end = 48_000 + 6 * 1024 + 512;
        let t = cut_before(&seg, &init, end)
            .unwrap()
            .expect("a tail to cut");
        assert_eq!(t.duration, 7 * 1024);
        let frags = read_segment(&t.bytes, &init).unwrap();
        let sizes: Vec<u32> = frags
            .iter()
            .flat_map(|f| f.samples.iter().map(|s| s.size))
            .collect();
        assert_eq!(sizes, [10, 11, 12, 13, 14, 15, 16]);
        assert_eq!(frags[1].base_decode_time, 48_000 + 5 * 1024);
        for f in &frags {
            let mut at = usize::try_from(f.data_offset).unwrap();
            for s in &f.samples {
                let len = usize::try_from(s.size).unwrap();
                assert!(t.bytes[at..at + len].iter().all(|&b| usize::from(b) == len));
                at += len;
            }
        }
    }

    #[test]
    fn nothing_past_the_end_is_left_alone_and_the_first_sample_always_stays() {
        let init = audio_init();
        let seg = segment(0, 4);
        assert_eq!(cut_before(&seg, &init, 4 * 1024).unwrap(), None);
        let t = cut_before(&seg, &init, 0).unwrap().unwrap();
        assert_eq!(t.duration, 1024);
        assert_eq!(read_segment(&t.bytes, &init).unwrap().len(), 1);
        assert!(
            cut_before(&seg[..seg.len() - 3], &init, 10).is_err(),
            "a truncated segment is an error"
        );
    }
}
