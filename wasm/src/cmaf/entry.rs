//! The sample entry an init segment carries: the source's, byte for byte, except QuickTime sound
//! descriptions (version 1 and 2, with the esds inside a `wave` box), which ISO BMFF readers such as
//! browsers' MSE parsers do not understand. Those are rewritten as a plain AudioSampleEntry (ISO/IEC
//! 14496-12 § 12.2.3) holding the original esds.

use crate::boxes::children;
use crate::boxes::writer::BoxWriter;
use crate::codec::{CodecKind, SampleEntry};
use crate::error::{Error, Result};

/// Bytes before the child boxes of a QuickTime sound description: 8 header + 28 base, plus 16 (v1) or 36
/// (v2) (QuickTime File Format, "Sound Sample Description (Version 1/2)").
fn qt_children_at(version: u16) -> Option<usize> {
    match version {
        1 => Some(8 + 28 + 16),
        2 => Some(8 + 28 + 36),
        _ => None,
    }
}

pub fn cmaf_entry(e: &SampleEntry) -> Result<Vec<u8>> {
    let b = &e.bytes;
    let version = b
        .get(16..18)
        .map_or(0, |v| u16::from_be_bytes([v[0], v[1]]));
    let (true, Some(at), Some(audio)) = (
        matches!(e.codec, CodecKind::Aac | CodecKind::Mp3) && &e.fourcc == b"mp4a",
        qt_children_at(version),
        e.audio.as_ref(),
    ) else {
        return Ok(b.clone());
    };
    let esds = find_esds(b.get(at..).unwrap_or_default(), at as u64)?.ok_or_else(|| {
        Error::malformed(
            "stsd/mp4a",
            0,
            "QuickTime sound description without an esds",
        )
    })?;
    let mut w = BoxWriter::new();
    w.boxed(b"mp4a", |w| {
        w.zeros(6);
        w.u16(1); // data_reference_index
        w.zeros(8); // version 0, revision, vendor
        w.u16(audio.channels);
        w.u16(16); // samplesize
        w.zeros(4); // pre_defined, reserved
                    // 16.16 fixed point; rates above 65535 Hz do not fit and are left to the esds.
        let rate = audio.sample_rate;
        w.u32(if rate <= 0xffff { rate << 16 } else { 0 });
        w.bytes(esds);
        Ok(())
    })?;
    Ok(w.into_bytes())
}

/// The esds box (header included) among `bytes`' child boxes or inside a `wave` child.
fn find_esds(bytes: &[u8], base: u64) -> Result<Option<&[u8]>> {
    let mut pos = 0usize;
    for child in children(bytes, base, "stsd/mp4a") {
        let (h, body) = match child {
            Ok(c) => c,
            // QuickTime writers may leave a 4-byte terminator after the last child.
            Err(_) if bytes.len() - pos < 8 => break,
            Err(e) => return Err(e),
        };
        let size = crate::boxes::index(h.size);
        match &h.kind {
            b"esds" => return Ok(bytes.get(pos..pos + size)),
            b"wave" => {
                if let Some(found) = find_esds(body, h.payload_start())? {
                    return Ok(Some(found));
                }
            }
            _ => {}
        }
        pos += size;
    }
    Ok(None)
}
