//! Is this sample a random access point, according to its own bytes rather than its sample flags? Enough of
//! each bitstream is read to tell: NAL unit headers for H.264 and HEVC, OBU headers and the first bits of the
//! frame header for AV1, the uncompressed header for VP9. Hostile bytes give `None` (cannot tell), never a
//! panic.

use crate::codec::{CodecKind, SampleEntry};

/// `Some(true)` when the sample starts a coded video sequence (H.264 IDR, HEVC IRAP, AV1 key frame with a
/// sequence header, VP9 key frame), `Some(false)` when it does not, `None` for audio or unreadable data.
pub fn is_key_frame(entry: &SampleEntry, sample: &[u8]) -> Option<bool> {
    let config = entry.config.as_deref().unwrap_or(&[]);
    match entry.codec {
        // AVCDecoderConfigurationRecord: lengthSizeMinusOne in the low 2 bits of byte 4 (ISO/IEC 14496-15
        // § 5.3.3.1).
        CodecKind::H264 => h264(sample, usize::from(config.get(4)? & 3) + 1),
        // HEVCDecoderConfigurationRecord: lengthSizeMinusOne in the low 2 bits of byte 21 (§ 8.3.3.1).
        CodecKind::Hevc => hevc(sample, usize::from(config.get(21)? & 3) + 1),
        CodecKind::Av1 => av1(sample),
        CodecKind::Vp9 => vp9(sample),
        _ => None,
    }
}

/// The NAL units of a length-prefixed sample (ISO/IEC 14496-15 § 4.3.2), first header byte(s) each.
fn nal_headers(sample: &[u8], len_size: usize) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = sample;
    while !rest.is_empty() {
        let len_bytes = rest.get(..len_size)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let nal = rest.get(len_size..len_size.checked_add(len)?)?;
        if nal.is_empty() {
            return None;
        }
        out.push(nal);
        rest = &rest[len_size + len..];
    }
    Some(out)
}

/// H.264: the access unit holds a coded slice of an IDR picture, nal_unit_type 5 (ITU-T H.264 Table 7-1).
fn h264(sample: &[u8], len_size: usize) -> Option<bool> {
    let nals = nal_headers(sample, len_size)?;
    // The first VCL NAL (types 1–5) decides.
    let first_vcl = nals
        .iter()
        .map(|n| n[0] & 0x1f)
        .find(|t| (1..=5).contains(t))?;
    Some(first_vcl == 5)
}

/// HEVC: the first VCL NAL (types 0–31) is an IRAP picture, types 16–21 (BLA, IDR, CRA; ITU-T H.265
/// Table 7-1).
fn hevc(sample: &[u8], len_size: usize) -> Option<bool> {
    let nals = nal_headers(sample, len_size)?;
    let first_vcl = nals.iter().map(|n| (n[0] >> 1) & 0x3f).find(|&t| t < 32)?;
    Some((16..=21).contains(&first_vcl))
}

/// Unsigned LEB128 (AV1 § 4.10.5), at most 8 bytes.
fn leb128(b: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0u64;
    for (i, &byte) in b.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// AV1 (AV1 Codec ISO Media File Format Binding § 2.4): a sync sample's first frame is a key frame and the
/// sample carries a sequence header OBU. OBU types (AV1 § 6.2.2): 1 sequence header, 3 frame header, 6 frame.
fn av1(sample: &[u8]) -> Option<bool> {
    let mut rest = sample;
    let mut reduced_still = None;
    while !rest.is_empty() {
        let h = *rest.first()?;
        let obu_type = (h >> 3) & 0x0f;
        let ext = usize::from(h & 0x04 != 0);
        let has_size = h & 0x02 != 0;
        let mut pos = 1 + ext;
        let size = if has_size {
            let (v, n) = leb128(rest.get(pos..)?)?;
            pos += n;
            v
        } else {
            rest.len().checked_sub(pos)?
        };
        let payload = rest.get(pos..pos.checked_add(size)?)?;
        match obu_type {
            // seq_profile (3), still_picture (1), reduced_still_picture_header (1) (AV1 § 5.5.1).
            1 => reduced_still = Some(payload.first()? & 0x08 != 0),
            3 | 6 => {
                match reduced_still {
                    None => return Some(false), // a frame before any sequence header
                    Some(true) => return Some(true),
                    Some(false) => {}
                }
                // show_existing_frame (1), frame_type (2): KEY_FRAME is 0 (AV1 § 5.9.2).
                let b = *payload.first()?;
                return Some(b & 0x80 == 0 && (b >> 5) & 0x03 == 0);
            }
            _ => {}
        }
        rest = &rest[pos + size..];
    }
    // No frame at all, or a frame before any sequence header: not a random access point.
    Some(false)
}

/// VP9 uncompressed header (VP9 Bitstream Specification § 6.2): frame_marker (2) = 2, profile_low_bit,
/// profile_high_bit, reserved_zero when profile is 3, show_existing_frame, frame_type (0 = KEY_FRAME).
fn vp9(sample: &[u8]) -> Option<bool> {
    let b = u16::from_be_bytes([*sample.first()?, *sample.get(1).unwrap_or(&0)]);
    let bit = |i: u32| (b >> (15 - i)) & 1;
    if (b >> 14) != 2 {
        return None;
    }
    let profile = bit(2) | (bit(3) << 1);
    let mut i = 4;
    if profile == 3 {
        i += 1;
    }
    if bit(i) == 1 {
        return Some(false); // show_existing_frame: no new frame is decoded
    }
    Some(bit(i + 1) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h264_nal_types() {
        // 4-byte lengths: SEI (6) then IDR slice (5).
        let idr = [0, 0, 0, 2, 0x06, 0x00, 0, 0, 0, 2, 0x65, 0x88];
        assert_eq!(h264(&idr, 4), Some(true));
        let p = [0, 0, 0, 2, 0x41, 0x9a];
        assert_eq!(h264(&p, 4), Some(false));
        assert_eq!(h264(&[0, 0, 0, 9, 0x65], 4), None);
        assert_eq!(h264(&[0, 0, 0, 0], 4), None);
    }

    #[test]
    fn hevc_nal_types() {
        // VPS (32) then IDR_W_RADL (19): header byte = type << 1.
        let irap = [0, 0, 0, 2, 32 << 1, 1, 0, 0, 0, 2, 19 << 1, 1];
        assert_eq!(hevc(&irap, 4), Some(true));
        assert_eq!(hevc(&[0, 0, 0, 2, 1 << 1, 1], 4), Some(false));
    }

    #[test]
    fn av1_obus() {
        // temporal delimiter, sequence header (profile 0, not reduced), frame OBU with KEY_FRAME.
        let key = [0x12, 0x00, 0x0a, 0x01, 0x00, 0x32, 0x01, 0x10];
        assert_eq!(av1(&key), Some(true));
        // frame OBU with frame_type INTER (1 << 5) and no sequence header.
        assert_eq!(av1(&[0x12, 0x00, 0x32, 0x01, 0x30]), Some(false));
        assert_eq!(av1(&[0x32, 0x05, 0x00]), None);
    }

    #[test]
    fn vp9_header() {
        // frame_marker 2, profile 0, show_existing 0, frame_type 0.
        assert_eq!(vp9(&[0x80, 0x00]), Some(true));
        assert_eq!(vp9(&[0x84, 0x00]), Some(false));
        assert_eq!(vp9(&[0x00]), None);
    }
}
