//! Elementary stream descriptor box (`esds`, ISO/IEC 14496-14 §5.6) → objectTypeIndication and the
//! DecoderSpecificInfo bytes. Descriptor syntax is ISO/IEC 14496-1 §7.2.6 (ES_Descriptor 0x03,
//! DecoderConfigDescriptor 0x04, DecoderSpecificInfo 0x05) with the expandable size of §8.3.3.

use crate::boxes::Cursor;
use crate::error::{Error, Result};

const ES_DESCRIPTOR: u8 = 0x03;
const DECODER_CONFIG_DESCRIPTOR: u8 = 0x04;
const DECODER_SPECIFIC_INFO: u8 = 0x05;

/// What the segmenter needs from an esds.
#[derive(Debug)]
pub(super) struct Esds<'a> {
    pub object_type: u8,
    /// Absolute offset of the objectTypeIndication byte (for "unsupported OTI" errors).
    pub object_type_offset: u64,
    /// DecoderSpecificInfo body (the AudioSpecificConfig for AAC) and its absolute offset.
    pub specific_info: Option<(&'a [u8], u64)>,
}

/// Parse an esds payload (FullBox version and flags first). Every descriptor length is bounded by the
/// bytes of its parent descriptor.
pub(super) fn parse<'a>(mut c: Cursor<'a>) -> Result<Esds<'a>> {
    c.skip(4, "esds version and flags")?;
    let mut es = expect(&mut c, ES_DESCRIPTOR, "ES_Descriptor")?;
    es.skip(2, "ES_ID")?;
    let flags = es.u8("ES_Descriptor flags")?;
    if flags & 0x80 != 0 {
        es.skip(2, "dependsOn_ES_ID")?;
    }
    if flags & 0x40 != 0 {
        let n = es.u8("URLlength")?;
        es.skip(usize::from(n), "URLstring")?;
    }
    if flags & 0x20 != 0 {
        es.skip(2, "OCR_ES_Id")?;
    }
    let mut dcd = find(
        &mut es,
        DECODER_CONFIG_DESCRIPTOR,
        "DecoderConfigDescriptor",
    )?;
    let object_type_offset = dcd.offset();
    let object_type = dcd.u8("objectTypeIndication")?;
    // streamType/upStream, bufferSizeDB (24 bits), maxBitrate, avgBitrate.
    dcd.skip(
        12,
        "the DecoderConfigDescriptor fields after objectTypeIndication",
    )?;
    let mut specific_info = None;
    while dcd.remaining() > 0 {
        let (tag, body) = descriptor(&mut dcd)?;
        if tag == DECODER_SPECIFIC_INFO {
            specific_info = Some((body.rest(), body.offset()));
            break;
        }
    }
    Ok(Esds {
        object_type,
        object_type_offset,
        specific_info,
    })
}

/// Read one descriptor header and return its tag and a cursor over exactly its body.
fn descriptor<'a>(c: &mut Cursor<'a>) -> Result<(u8, Cursor<'a>)> {
    let start = c.offset();
    let tag = c.u8("descriptor tag")?;
    // sizeOfInstance: 7 bits per byte, high bit set while more bytes follow, at most 4 bytes (§8.3.3).
    let mut len: u32 = 0;
    let mut more = true;
    for _ in 0..4 {
        let b = c.u8("descriptor size")?;
        len = (len << 7) | u32::from(b & 0x7f); // at most 28 bits: cannot overflow
        more = b & 0x80 != 0;
        if !more {
            break;
        }
    }
    if more {
        return Err(Error::malformed(
            c.path(),
            start,
            format!("descriptor tag 0x{tag:02x} has a size field longer than 4 bytes"),
        ));
    }
    let rem = c.remaining();
    let len = match usize::try_from(len) {
        Ok(l) if l <= rem => l,
        _ => {
            return Err(Error::malformed(
                c.path(),
                start,
                format!("descriptor tag 0x{tag:02x} declares {len} bytes but only {rem} remain"),
            ))
        }
    };
    let body_offset = c.offset();
    let body = c.bytes(len, "descriptor body")?;
    Ok((tag, Cursor::new(body, body_offset, c.path())))
}

/// The next descriptor, which must have the given tag.
fn expect<'a>(c: &mut Cursor<'a>, want: u8, name: &str) -> Result<Cursor<'a>> {
    let start = c.offset();
    let (tag, body) = descriptor(c)?;
    if tag != want {
        return Err(Error::malformed(
            c.path(),
            start,
            format!("descriptor tag 0x{tag:02x} where the {name} (0x{want:02x}) belongs"),
        ));
    }
    Ok(body)
}

/// The first descriptor with the given tag among the remaining ones.
fn find<'a>(c: &mut Cursor<'a>, want: u8, name: &str) -> Result<Cursor<'a>> {
    while c.remaining() > 0 {
        let (tag, body) = descriptor(c)?;
        if tag == want {
            return Ok(body);
        }
    }
    Err(c.malformed(format!("no {name} (tag 0x{want:02x}) in the ES_Descriptor")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Result<Esds<'_>> {
        parse(Cursor::new(bytes, 100, "stsd.mp4a.esds"))
    }

    #[test]
    fn short_sizes_and_url_flag() {
        // ES_Descriptor with URL_Flag and a 2-byte URL, one-byte sizes, DSI = 12 10.
        let b = [
            0, 0, 0, 0, 0x03, 25, 0, 1, 0x40, 2, b'a', b'b', 0x04, 17, 0x40, 0x15, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0x05, 2, 0x12, 0x10,
        ];
        let e = run(&b).unwrap();
        assert_eq!(e.object_type, 0x40);
        assert_eq!(e.object_type_offset, 114);
        assert_eq!(e.specific_info, Some((&[0x12, 0x10][..], 129)));
    }

    #[test]
    fn length_past_end() {
        // The ES_Descriptor declares 0x30 bytes; 3 follow.
        let e = run(&[0, 0, 0, 0, 0x03, 0x30, 0, 1, 0]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 104, .. }), "{e}");
    }

    #[test]
    fn size_field_of_ff_bytes() {
        let e = run(&[0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, 0xff, 0, 1, 0]).unwrap_err();
        assert!(
            matches!(&e, Error::Malformed { offset: 104, msg, .. } if msg.contains("longer than 4"))
        );
        // 0xFF 0xFF 0xFF 0x7F: the largest encodable size (2^28 - 1), far past the end.
        let e = run(&[0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, 0x7f, 0, 1, 0]).unwrap_err();
        assert!(
            matches!(&e, Error::Malformed { offset: 104, msg, .. } if msg.contains("268435455"))
        );
    }

    #[test]
    fn wrong_first_descriptor_and_missing_config() {
        let e = run(&[0, 0, 0, 0, 0x04, 0]).unwrap_err();
        assert!(matches!(e, Error::Malformed { offset: 104, .. }), "{e}");
        let e = run(&[0, 0, 0, 0, 0x03, 5, 0, 1, 0, 0x06, 0]).unwrap_err();
        assert!(
            matches!(&e, Error::Malformed { msg, .. } if msg.contains("DecoderConfigDescriptor"))
        );
    }
}
