//! HEVCDecoderConfigurationRecord (`hvcC`, ISO/IEC 14496-15 §8.3.3.1) → "hvc1.1.6.L93.B0".

use crate::boxes::Cursor;
use crate::error::{Error, Result};

/// Fixed fields of the record up to and including numOfArrays (§8.3.3.1.2).
const HVCC_MIN_LEN: usize = 23;

/// The CODECS string of ISO/IEC 14496-15 Annex E.3:
/// `{fourcc}.{''|A|B|C}{general_profile_idc}.{compatibility flags bit-reversed, hex}.{L|H}{general_level_idc}`
/// followed by the six constraint-indicator bytes in hex, one per '.'-separated field, trailing zero bytes
/// dropped. Hex is uppercase, as in Apple's HLS authoring examples ("hvc1.2.4.L123.B0"). The NAL unit
/// arrays are walked too, so a record cut short fails here rather than in the browser.
pub(super) fn codec_string(fourcc: &str, mut c: Cursor<'_>) -> Result<String> {
    let len = c.remaining();
    if len < HVCC_MIN_LEN {
        return Err(c.malformed(format!(
            "hvcC is {len} bytes; at least {HVCC_MIN_LEN} needed"
        )));
    }
    let start = c.offset();
    let version = c.u8("configurationVersion")?;
    // Version 0 was written by some pre-standard muxers with the same layout.
    if version > 1 {
        return Err(Error::malformed(
            c.path(),
            start,
            format!("hvcC configurationVersion is {version}; only 1 is defined"),
        ));
    }
    let b = c.u8("general_profile_space")?;
    let space = match b >> 6 {
        0 => "",
        1 => "A",
        2 => "B",
        _ => "C",
    };
    let tier = if b & 0x20 != 0 { 'H' } else { 'L' };
    let profile_idc = b & 0x1f;
    let compat = c.u32("general_profile_compatibility_flags")?.reverse_bits();
    let constraints: [u8; 6] = c.array("general_constraint_indicator_flags")?;
    let level = c.u8("general_level_idc")?;
    // min_spatial_segmentation, parallelismType, chromaFormat, bit depths, avgFrameRate, flags byte.
    c.skip(9, "the fixed hvcC fields after general_level_idc")?;
    let arrays = c.u8("numOfArrays")?;
    for i in 0..arrays {
        c.u8(&format!("array {i} NAL_unit_type"))?;
        let nalus = c.u16(&format!("array {i} numNalus"))?;
        for j in 0..nalus {
            let n = c.u16(&format!("array {i} NAL unit {j} length"))?;
            c.skip(usize::from(n), &format!("array {i} NAL unit {j}"))?;
        }
    }

    let mut s = format!("{fourcc}.{space}{profile_idc}.{compat:X}.{tier}{level}");
    let kept = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last.saturating_add(1));
    for byte in constraints.iter().take(kept) {
        s.push_str(&format!(".{byte:X}"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(profile_byte: u8, compat: u32, constraints: [u8; 6], level: u8) -> Vec<u8> {
        let mut v = vec![1, profile_byte];
        v.extend_from_slice(&compat.to_be_bytes());
        v.extend_from_slice(&constraints);
        v.push(level);
        v.extend_from_slice(&[0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0]);
        v
    }

    fn run(bytes: &[u8]) -> Result<String> {
        codec_string("hvc1", Cursor::new(bytes, 500, "stsd.hvc1.hvcC"))
    }

    #[test]
    fn apple_main_example() {
        // Main, compatible with Main (1) and Main 10 (2), level 3.1, progressive + frame-only constraints.
        let r = record(0x01, 0x6000_0000, [0xb0, 0, 0, 0, 0, 0], 93);
        assert_eq!(run(&r).unwrap(), "hvc1.1.6.L93.B0");
    }

    #[test]
    fn profile_space_high_tier_and_inner_zero_constraints() {
        // The ISO/IEC 14496-15 E.3 example "hev1.A4.41.H120.B0.23" plus a zero byte kept before a non-zero one.
        let r = record(
            0x40 | 0x20 | 4,
            0x82_00_00_00,
            [0xb0, 0x23, 0, 0, 0, 0],
            120,
        );
        let s = codec_string("hev1", Cursor::new(&r, 0, "stsd.hev1.hvcC")).unwrap();
        assert_eq!(s, "hev1.A4.41.H120.B0.23");
        let r = record(0x02, 0x2000_0000, [0, 0, 0x10, 0, 0, 0], 150);
        assert_eq!(run(&r).unwrap(), "hvc1.2.4.L150.0.0.10");
        let r = record(0x01, 0, [0; 6], 60);
        assert_eq!(run(&r).unwrap(), "hvc1.1.0.L60");
    }

    #[test]
    fn too_short() {
        let e = run(&[1, 1, 0x60, 0, 0, 0]).unwrap_err();
        assert_eq!(
            e,
            Error::malformed("stsd.hvc1.hvcC", 500, "hvcC is 6 bytes; at least 23 needed")
        );
    }

    #[test]
    fn nal_array_past_end() {
        let mut r = record(0x01, 0x6000_0000, [0x90, 0, 0, 0, 0, 0], 30);
        *r.last_mut().unwrap() = 1; // numOfArrays = 1
        r.extend_from_slice(&[0x20, 0x00, 0x01, 0xff, 0xff, 0x40]); // a VPS declared 65535 bytes long
        let e = run(&r).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 528, .. }), "{e}");
    }
}
