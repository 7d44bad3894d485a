//! AVCDecoderConfigurationRecord (`avcC`, ISO/IEC 14496-15 §5.3.3.1) → "avc1.PPCCLL".

use crate::boxes::Cursor;
use crate::error::{Error, Result};

/// configurationVersion, profile, compatibility, level, lengthSizeMinusOne, numOfSequenceParameterSets,
/// numOfPictureParameterSets: the record with both parameter set lists empty.
const AVCC_MIN_LEN: usize = 7;

/// RFC 6381 §3.3: `{fourcc}.{AVCProfileIndication}{profile_compatibility}{AVCLevelIndication}`, two lowercase
/// hex digits each. The parameter set lists are walked too, so a record cut short is caught here rather
/// than in the browser's decoder.
pub(super) fn codec_string(fourcc: &str, mut c: Cursor<'_>) -> Result<String> {
    let len = c.remaining();
    if len < AVCC_MIN_LEN {
        return Err(c.malformed(format!(
            "avcC is {len} bytes; at least {AVCC_MIN_LEN} needed"
        )));
    }
    let start = c.offset();
    let version = c.u8("configurationVersion")?;
    if version != 1 {
        return Err(Error::malformed(
            c.path(),
            start,
            format!("avcC configurationVersion is {version}; only 1 is defined"),
        ));
    }
    let profile = c.u8("AVCProfileIndication")?;
    let compat = c.u8("profile_compatibility")?;
    let level = c.u8("AVCLevelIndication")?;
    if c.u8("lengthSizeMinusOne")? & 0x03 == 2 {
        return Err(
            c.malformed("avcC lengthSizeMinusOne is 2; NAL unit lengths must be 1, 2 or 4 bytes")
        );
    }
    let num_sps = c.u8("numOfSequenceParameterSets")? & 0x1f;
    parameter_sets(&mut c, usize::from(num_sps), "sequence parameter set")?;
    let num_pps = c.u8("numOfPictureParameterSets")?;
    parameter_sets(&mut c, usize::from(num_pps), "picture parameter set")?;
    // High profiles may append chroma_format etc. (§5.3.3.1.2); not needed for the CODECS string.
    Ok(format!("{fourcc}.{profile:02x}{compat:02x}{level:02x}"))
}

/// `count` entries of u16 length + NAL unit, each bounded by the bytes left.
fn parameter_sets(c: &mut Cursor<'_>, count: usize, what: &str) -> Result<()> {
    for i in 0..count {
        let n = c.u16(&format!("{what} {i} length"))?;
        c.skip(usize::from(n), &format!("{what} {i}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Result<String> {
        codec_string("avc1", Cursor::new(bytes, 1000, "stsd.avc1.avcC"))
    }

    #[test]
    fn minimal_record_without_parameter_sets() {
        assert_eq!(
            run(&[1, 0x4d, 0x40, 0x1f, 0xff, 0xe0, 0]).unwrap(),
            "avc1.4d401f"
        );
    }

    #[test]
    fn too_short() {
        let e = run(&[1, 0x64, 0, 0x1f, 0xff]).unwrap_err();
        assert_eq!(
            e,
            Error::malformed("stsd.avc1.avcC", 1000, "avcC is 5 bytes; at least 7 needed")
        );
    }

    #[test]
    fn sps_length_past_end() {
        // One SPS declared 0x20 bytes long with 2 present: error at the SPS body (local offset 8).
        let e = run(&[1, 0x64, 0, 0x1f, 0xff, 0xe1, 0x00, 0x20, 0x67, 0x64]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 1008, .. }), "{e}");
    }

    #[test]
    fn missing_pps_count() {
        // One 1-byte SPS, then the record ends where numOfPictureParameterSets belongs (local offset 9).
        let e = run(&[1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 1, 0x67]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 1009, .. }), "{e}");
    }
}
