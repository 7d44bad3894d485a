use super::*;
use crate::boxes::writer::BoxWriter;

fn header(bytes: &[u8], parent_end: u64, level: Level) -> Result<BoxHeader> {
    read_header(bytes, 100, 100 + parent_end, level, "test")
}

#[test]
fn compact_and_large_sizes() {
    let h = header(&[0, 0, 0, 16, b'f', b'r', b'e', b'e'], 16, Level::Child).unwrap();
    assert_eq!((h.start, h.header_len, h.size, h.end()), (100, 8, 16, 116));
    let mut large = vec![0, 0, 0, 1, b'm', b'd', b'a', b't'];
    large.extend_from_slice(&40u64.to_be_bytes());
    let h = header(&large, 40, Level::Top).unwrap();
    assert_eq!((h.header_len, h.size, h.payload_len()), (16, 40, 24));
}

#[test]
fn size_zero_means_to_the_end_only_for_a_top_level_mdat() {
    let h = header(&[0, 0, 0, 0, b'm', b'd', b'a', b't'], 5000, Level::Top).unwrap();
    assert_eq!(h.size, 5000);
    assert!(header(&[0, 0, 0, 0, b'm', b'd', b'a', b't'], 5000, Level::Child).is_err());
    assert!(header(&[0, 0, 0, 0, b'm', b'o', b'o', b'v'], 5000, Level::Top).is_err());
}

#[test]
fn uuid_boxes_have_a_24_byte_header() {
    let mut b = vec![0, 0, 0, 24, b'u', b'u', b'i', b'd'];
    b.extend_from_slice(&[7; 16]);
    assert_eq!(header(&b, 24, Level::Child).unwrap().header_len, 24);
    b[3] = 20;
    assert!(header(&b, 24, Level::Child).is_err());
}

#[test]
fn errors_name_the_parent_and_offset() {
    let e = header(&[0, 0, 0, 64, b's', b't', b't', b's'], 32, Level::Child).unwrap_err();
    assert_eq!(
        e.to_string(),
        "test/stts at byte 100: child box of 64 bytes is larger than its parent, which has 32 bytes left"
    );
    let e = header(&[0, 0, 0, 64], 32, Level::Child).unwrap_err();
    assert!(e.to_string().contains("too few for a box header"), "{e}");
}

#[test]
fn children_stop_at_the_first_bad_box() {
    let mut w = BoxWriter::new();
    w.boxed(b"free", |w| {
        w.u32(1);
        Ok(())
    })
    .unwrap();
    let mut bytes = w.into_bytes();
    bytes.extend_from_slice(&[0, 0, 0, 3, b'b', b'a', b'd', b'!']);
    let kids: Vec<_> = children(&bytes, 0, "p").collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0].as_ref().unwrap().1, &[0, 0, 0, 1]);
    assert!(kids[1].is_err());
}

#[test]
fn box_writer_patches_sizes_of_nested_boxes() {
    let mut w = BoxWriter::new();
    w.boxed(b"moov", |w| {
        w.full(b"mvhd", 1, 0x00ab_cdef, |w| {
            w.u64(5);
            Ok(())
        })?;
        w.boxed(b"trak", |_| Ok(()))
    })
    .unwrap();
    let b = w.into_bytes();
    assert_eq!(b.len(), 8 + 20 + 8);
    assert_eq!(&b[0..4], &36u32.to_be_bytes());
    assert_eq!(&b[8..12], &20u32.to_be_bytes());
    assert_eq!(&b[16..20], &[1, 0xab, 0xcd, 0xef]);
    assert_eq!(&b[28..32], &8u32.to_be_bytes());
}

#[test]
fn fourcc_strings_are_printable() {
    assert_eq!(fourcc_str(*b"avc1"), "avc1");
    assert_eq!(fourcc_str([0, 1, 2, 3]), "0x00010203");
}
