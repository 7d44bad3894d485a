//! AV1CodecConfigurationRecord (`av1C`, AV1 Codec ISO Media File Format Binding §2.3) → "av01.0.04M.08".

use crate::boxes::Cursor;
use crate::error::{Error, Result};

/// The CODECS string of the AV1-ISOBMFF binding's "Codecs Parameter String" section in its short form
/// `av01.{seq_profile}.{seq_level_idx_0:02}{M|H}.{bitDepth:02}`. The optional fields (monochrome, chroma
/// subsampling, colour) are never appended: the colour values live in the sequence header OBU or `colr`,
/// not in av1C, and the short form is what browsers and hls.js expect.
pub(super) fn codec_string(mut c: Cursor<'_>) -> Result<String> {
    let len = c.remaining();
    if len < 4 {
        return Err(c.malformed(format!("av1C is {len} bytes; at least 4 needed")));
    }
    let start = c.offset();
    let marker_version = c.u8("marker and version")?;
    if marker_version != 0x81 {
        return Err(Error::malformed(
            c.path(),
            start,
            format!(
                "av1C starts with 0x{marker_version:02x}; marker 1 and version 1 (0x81) expected"
            ),
        ));
    }
    let b1 = c.u8("seq_profile")?;
    let b2 = c.u8("seq_tier_0")?;
    let profile = b1 >> 5;
    let level = b1 & 0x1f;
    let tier = if b2 & 0x80 != 0 { 'H' } else { 'M' };
    let high_bitdepth = b2 & 0x40 != 0;
    let twelve_bit = b2 & 0x20 != 0;
    // AV1 spec §5.5.2 color_config(): twelve_bit only counts in the Professional profile (2).
    let bit_depth = match (profile, high_bitdepth, twelve_bit) {
        (2, true, true) => 12,
        (_, true, _) => 10,
        _ => 8,
    };
    Ok(format!("av01.{profile}.{level:02}{tier}.{bit_depth:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Result<String> {
        codec_string(Cursor::new(bytes, 40, "stsd.av01.av1C"))
    }

    #[test]
    fn profiles_levels_tiers_depths() {
        assert_eq!(run(&[0x81, 0x04, 0x0c, 0]).unwrap(), "av01.0.04M.08");
        assert_eq!(run(&[0x81, 0x08, 0xcc, 0]).unwrap(), "av01.0.08H.10");
        assert_eq!(run(&[0x81, 0x2d, 0x00, 0]).unwrap(), "av01.1.13M.08");
        assert_eq!(run(&[0x81, 0x53, 0x60, 0]).unwrap(), "av01.2.19M.12");
        assert_eq!(run(&[0x81, 0x53, 0x40, 0]).unwrap(), "av01.2.19M.10");
    }

    #[test]
    fn bad_marker_and_short() {
        let e = run(&[0x01, 0x04, 0x0c, 0]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 40, .. }), "{e}");
        let e = run(&[0x81, 0x04]).unwrap_err();
        assert_eq!(
            e,
            Error::malformed("stsd.av01.av1C", 40, "av1C is 2 bytes; at least 4 needed")
        );
    }
}
