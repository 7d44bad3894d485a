//! Malformed and unsupported entries, built with the box builder in `tests/mod.rs`; each asserts the error
//! variant and the absolute offset.

use super::*;
#[test]
fn entry_header_disagrees_with_slice() {
    let mut e = visual(b"avc1", 8, 8, &[bx(b"avcC", &AVCC)]);
    e.truncate(e.len() - 1);
    let msg = malformed_at(parse_sample_entry(&e, AT), AT);
    assert!(
        msg.contains("declares 101 bytes but 100 were given"),
        "{msg}"
    );
    malformed_at(parse_sample_entry(&[0, 0, 0], AT), AT);
    // Fields cut short: the entry header is consistent but the VisualSampleEntry ends at byte 8 + 20.
    let short = bx(b"hvc1", &[0; 20]);
    malformed_at(parse_sample_entry(&short, AT), AT + 8);
}

#[test]
fn child_box_sizes() {
    let child_at = AT + 86; // 8-byte header + 78 bytes of VisualSampleEntry fields
    for size in [0u32, 2, 7] {
        let e = visual(b"avc1", 8, 8, &[raw(size, b"avcC", &AVCC)]);
        malformed_at(parse_sample_entry(&e, AT), child_at);
    }
    for size in [16u32, 0xffff_ffff] {
        let e = visual(b"avc1", 8, 8, &[raw(size, b"avcC", &AVCC)]);
        let msg = malformed_at(parse_sample_entry(&e, AT), child_at);
        assert!(
            msg.contains(&format!(
                "child box of {size} bytes is larger than its parent, which has 15 bytes left"
            )),
            "{msg}"
        );
    }
    // largesize smaller than the 16-byte header, and largesize u64::MAX.
    for large in [8u64, u64::MAX] {
        let b = [
            &1u32.to_be_bytes()[..],
            b"avcC",
            &large.to_be_bytes(),
            &AVCC,
        ]
        .concat();
        malformed_at(
            parse_sample_entry(&visual(b"avc1", 8, 8, &[b]), AT),
            child_at,
        );
    }
}

#[test]
fn missing_or_truncated_config() {
    let e = visual(b"avc1", 8, 8, &[bx(b"pasp", &[0, 0, 0, 1, 0, 0, 0, 1])]);
    assert_eq!(
        malformed_at(parse_sample_entry(&e, AT), AT),
        "avc1 has no avcC box"
    );
    let e = visual(b"avc1", 8, 8, &[bx(b"avcC", &AVCC[..5])]);
    let msg = malformed_at(parse_sample_entry(&e, AT), AT + 86 + 8);
    assert_eq!(msg, "avcC is 5 bytes; at least 7 needed");
    for (fourcc, cfg) in [(b"hvc1", b"hvcC"), (b"av01", b"av1C"), (b"vp09", b"vpcC")] {
        let e = visual(fourcc, 8, 8, &[bx(cfg, &[1, 2])]);
        malformed_at(parse_sample_entry(&e, AT), AT + 94);
        malformed_at(parse_sample_entry(&visual(fourcc, 8, 8, &[]), AT), AT);
    }
    let e = visual(
        b"avc1",
        8,
        8,
        &[bx(b"avcC", &AVCC), bx(b"pasp", &[0, 0, 0, 1])],
    );
    malformed_at(parse_sample_entry(&e, AT), AT + 86 + 15 + 8 + 4);
    // A hostile pasp that would stretch the width beyond 32 bits (it feeds RESOLUTION): refused at the pasp.
    let e = visual(
        b"avc1",
        1920,
        8,
        &[
            bx(b"avcC", &AVCC),
            bx(b"pasp", &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]),
        ],
    );
    malformed_at(parse_sample_entry(&e, AT), AT + 86 + 15);
    let e = sound(
        b"Opus",
        0,
        2,
        48000,
        &[bx(b"dOps", &[0, 2, 0, 0, 0, 0, 0xbb, 0x80, 0, 0, 1, 1])],
    );
    malformed_at(parse_sample_entry(&e, AT), AT + 36 + 8 + 11); // family 1: StreamCount, CoupledCount cut
    let e = sound(b"Opus", 0, 2, 48000, &[bx(b"dOps", &[0, 2, 0, 0])]);
    malformed_at(parse_sample_entry(&e, AT), AT + 44);
}

#[test]
fn esds_problems() {
    let kids = |payload: &[u8]| sound(b"mp4a", 0, 2, 44100, &[bx(b"esds", payload)]);
    let esds_body = AT + 36 + 8;
    // ES_Descriptor length past the end of the esds.
    malformed_at(
        parse_sample_entry(&kids(&[0, 0, 0, 0, 0x03, 0x40, 0, 1]), AT),
        esds_body + 4,
    );
    // Expandable size of four 0xFF bytes: no terminating byte.
    let b = [0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, 0xff, 0, 1, 0];
    malformed_at(parse_sample_entry(&kids(&b), AT), esds_body + 4);
    // OTI 0x40 without an AudioSpecificConfig.
    malformed_at(parse_sample_entry(&kids(&esds(0x40, &[])), AT), AT + 36);
    // Vorbis (0xDD) in esds: unsupported, pointing at the objectTypeIndication byte.
    let msg = unsupported_at(
        parse_sample_entry(&kids(&esds(0xdd, &[])), AT),
        esds_body + 11,
    );
    assert!(msg.contains("0xdd"), "{msg}");
    // No esds at all, and a QuickTime wave without one.
    let msg = malformed_at(
        parse_sample_entry(&sound(b"mp4a", 0, 2, 44100, &[]), AT),
        AT,
    );
    assert!(msg.starts_with("mp4a has no esds box"), "{msg}");
    let wave = bx(b"wave", &bx(b"frma", b"mp4a"));
    malformed_at(
        parse_sample_entry(&sound(b"mp4a", 1, 2, 44100, &[wave]), AT),
        AT + 52,
    );
    unsupported_at(
        parse_sample_entry(&sound(b"mp4a", 3, 2, 44100, &[]), AT),
        AT + 16,
    );
}

#[test]
fn encrypted_and_unknown() {
    let msg = unsupported_at(parse_sample_entry(&visual(b"encv", 8, 8, &[]), AT), AT);
    assert_eq!(msg, "encrypted (Common Encryption) content");
    unsupported_at(
        parse_sample_entry(&sound(b"enca", 0, 2, 48000, &[]), AT),
        AT,
    );
    let e = visual(b"avc1", 8, 8, &[bx(b"avcC", &AVCC), bx(b"sinf", &[])]);
    unsupported_at(parse_sample_entry(&e, AT), AT + 86 + 15);
    for (fourcc, name) in [
        (*b"mp4v", "'mp4v'"),
        (*b"ac-3", "'ac-3'"),
        ([0, 1, 2, 3], "'0x00010203'"),
    ] {
        let msg = unsupported_at(parse_sample_entry(&bx(&fourcc, &[0; 40]), AT), AT);
        assert!(msg.contains(name), "{msg}");
    }
}
