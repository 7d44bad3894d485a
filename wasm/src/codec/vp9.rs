//! VPCodecConfigurationBox (`vpcC`, VP Codec ISO Media File Format Binding §2.2) → "vp09.00.10.08".

use crate::boxes::Cursor;
use crate::error::{Error, Result};

/// The CODECS string of the binding's "Codecs Parameter String" section.
///
/// Choice: the short form `vp09.{profile:02}.{level:02}.{bitDepth:02}` unless the chroma subsampling is not
/// the default 4:2:0 colocated (1) or the video is full range; then the full form
/// `vp09.PP.LL.DD.CC.cp.tc.mc.FF` with every optional field taken from the box, because a 4:4:4 or
/// full-range stream needs a decoder that says so and a browser can only tell from the full string. The
/// colour fields alone never force the long form: players ignore them when choosing a variant.
///
/// Version 1 is the published FullBox. Version 0 (an early draft some muxers wrote: profile, level,
/// bitDepth/colorSpace nibbles, ...) is accepted for the short form only.
pub(super) fn codec_string(mut c: Cursor<'_>) -> Result<String> {
    let len = c.remaining();
    if len < 8 {
        return Err(c.malformed(format!("vpcC is {len} bytes; at least 8 needed")));
    }
    let start = c.offset();
    let version = c.u8("version")?;
    c.skip(3, "flags")?;
    if version > 1 {
        return Err(Error::unsupported(
            c.path(),
            start,
            format!("vpcC version {version}; only versions 0 and 1 are known"),
        ));
    }
    let profile_at = c.offset();
    let profile = c.u8("profile")?;
    let level = c.u8("level")?;
    let depth_at = c.offset();
    let b = c.u8("bitDepth")?;
    let bit_depth = b >> 4;
    if profile > 3 {
        return Err(Error::malformed(
            c.path(),
            profile_at,
            format!("VP9 profile {profile}; profiles 0 to 3 exist"),
        ));
    }
    if !matches!(bit_depth, 8 | 10 | 12) {
        return Err(Error::malformed(
            c.path(),
            depth_at,
            format!("VP9 bitDepth {bit_depth}; must be 8, 10 or 12"),
        ));
    }
    let short = format!("vp09.{profile:02}.{level:02}.{bit_depth:02}");
    if version == 0 {
        return Ok(short);
    }
    let chroma = (b >> 1) & 0x07;
    let full_range = b & 1;
    let primaries = c.u8("colourPrimaries")?;
    let transfer = c.u8("transferCharacteristics")?;
    let matrix = c.u8("matrixCoefficients")?;
    let init_len = c.u16("codecIntializationDataSize")?;
    c.skip(usize::from(init_len), "codecIntializationData")?;
    if chroma == 1 && full_range == 0 {
        return Ok(short);
    }
    Ok(format!(
        "{short}.{chroma:02}.{primaries:02}.{transfer:02}.{matrix:02}.{full_range:02}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Result<String> {
        codec_string(Cursor::new(bytes, 7, "stsd.vp09.vpcC"))
    }

    #[test]
    fn short_and_long_forms() {
        let v = [1, 0, 0, 0, 0, 31, 0x82, 1, 1, 1, 0, 0];
        assert_eq!(run(&v).unwrap(), "vp09.00.31.08");
        // Profile 1, 4:4:4 (chroma 3), full range: the long form.
        let v = [1, 0, 0, 0, 1, 41, 0x87, 1, 13, 1, 0, 0];
        assert_eq!(run(&v).unwrap(), "vp09.01.41.08.03.01.13.01.01");
        // Draft version 0: profile 2, level 50, 10-bit.
        assert_eq!(
            run(&[0, 0, 0, 0, 2, 50, 0xa0, 0x12, 0, 0]).unwrap(),
            "vp09.02.50.10"
        );
    }

    #[test]
    fn bad_values() {
        let e = run(&[1, 0, 0, 0, 0, 31, 0x92, 1, 1, 1, 0, 0]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 13, .. }), "{e}");
        let e = run(&[1, 0, 0, 0, 0, 31, 0x82, 1, 1, 1, 0, 9]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 19, .. }), "{e}");
        let e = run(&[2, 0, 0, 0, 0, 31, 0x82, 1, 1, 1, 0, 0]).unwrap_err();
        assert!(matches!(e, Error::Unsupported { offset: 7, .. }), "{e}");
    }
}
