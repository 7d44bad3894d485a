//! VisualSampleEntry (ISO/IEC 14496-12 §12.1.3) and dispatch to the codec configuration parsers.

use super::{
    av1, avc, entry_children, hevc, required, vp9, CodecKind, EntryBody, Parsed, VideoInfo,
};
use crate::boxes::{Child, Cursor};
use crate::error::{Error, Result};

/// Bytes of VisualSampleEntry fields after the box header, before the child boxes (§12.1.3.2).
const VISUAL_FIELDS_LEN: usize = 78;

pub(super) fn parse(body: &EntryBody<'_>) -> Result<Parsed> {
    let mut c = Cursor::new(body.payload, body.payload_offset, body.path);
    // 6 reserved, data_reference_index, pre_defined, reserved, 3 × pre_defined u32 (§12.1.3.2).
    c.skip(24, "the reserved fields before width")?;
    let width = c.u16("width")?;
    let height = c.u16("height")?;
    // horizresolution, vertresolution, reserved, frame_count, compressorname[32], depth, pre_defined.
    c.skip(
        VISUAL_FIELDS_LEN - 28,
        "the VisualSampleEntry fields after height",
    )?;
    let kids = entry_children(body, VISUAL_FIELDS_LEN)?;

    let (codec, config_type): (CodecKind, &[u8; 4]) = match &body.fourcc {
        b"avc1" | b"avc3" => (CodecKind::H264, b"avcC"),
        b"hvc1" | b"hev1" => (CodecKind::Hevc, b"hvcC"),
        b"av01" => (CodecKind::Av1, b"av1C"),
        b"vp08" => (CodecKind::Vp8, b"vpcC"),
        _ => (CodecKind::Vp9, b"vpcC"),
    };
    let config_box = required(&kids, body, config_type)?;
    let config_path = format!("{}.{}", body.path, super::fourcc_str(*config_type));
    let cfg = Cursor::new(config_box.payload, config_box.payload_offset, &config_path);
    let prefix = super::fourcc_str(body.fourcc);
    let (codec_string, config) = match codec {
        CodecKind::H264 => (avc::codec_string(&prefix, cfg)?, config_box.payload),
        CodecKind::Hevc => (hevc::codec_string(&prefix, cfg)?, config_box.payload),
        CodecKind::Av1 => (av1::codec_string(cfg)?, config_box.payload),
        // The vpcC is checked as VP9's is; WebCodecs names VP8 "vp8", with no description.
        CodecKind::Vp8 => {
            vp9::codec_string(cfg)?;
            ("vp8".to_string(), config_box.payload)
        }
        // WebCodecs takes no `description` for VP9; the vpcC payload (FullBox header first) is kept anyway.
        _ => (vp9::codec_string(cfg)?, config_box.payload),
    };

    Ok(Parsed {
        codec,
        codec_string,
        config: Some(config.to_vec()),
        video: Some(VideoInfo {
            width,
            height,
            pasp: pasp(&kids, body.path, width)?,
        }),
        audio: None,
    })
}

/// PixelAspectRatioBox (§12.1.4): hSpacing, vSpacing. A zero in either means "unknown", reported as `None`.
/// A ratio that would stretch `width` beyond 32 bits (the display width feeds RESOLUTION) is Malformed.
fn pasp(kids: &[Child<'_>], parent: &str, width: u16) -> Result<Option<(u32, u32)>> {
    let Some(b) = crate::boxes::find(kids, b"pasp") else {
        return Ok(None);
    };
    let path = format!("{parent}.pasp");
    let mut c = Cursor::new(b.payload, b.payload_offset, &path);
    let h = c.u32("hSpacing")?;
    let v = c.u32("vSpacing")?;
    if h == 0 || v == 0 {
        return Ok(None);
    }
    let display = u64::from(width)
        .saturating_mul(u64::from(h))
        .checked_div(u64::from(v))
        .unwrap_or(0);
    if u32::try_from(display).is_err() {
        return Err(Error::malformed(
            path,
            b.offset,
            format!(
                "hSpacing {h} / vSpacing {v} stretches the {width}-pixel width to {display} pixels"
            ),
        ));
    }
    Ok(Some((h, v)))
}
