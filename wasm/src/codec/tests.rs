//! Entry-level tests: real encoder output (wasm/tests/fixtures/stsd, see its README for the commands and the
//! ffprobe cross-check) and malformed entries built with a one-line box builder.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/stsd/", $name)).as_slice()
    };
}

const FIXTURES: &[(&[u8], &str)] = &[
    (fixture!("libx264_high_160x90.avc1"), "avc1.64000b"),
    (
        fixture!("libx264_baseline_320x240_sar4x3.avc1"),
        "avc1.42c00d",
    ),
    (fixture!("libx265_main_160x90.hvc1"), "hvc1.1.6.L30.90"),
    (fixture!("libx265_main10_320x240.hev1"), "hev1.2.4.L60.90"),
    (fixture!("libaom_8bit_160x90.av01"), "av01.0.00M.08"),
    (fixture!("libaom_10bit_320x240.av01"), "av01.0.00M.10"),
    (fixture!("libvpx_vp9_p0_160x90.vp09"), "vp09.00.10.08"),
    (
        fixture!("libvpx_vp9_p2_10bit_320x240.vp09"),
        "vp09.02.20.10",
    ),
    (fixture!("aac_lc_44100_stereo.mp4a"), "mp4a.40.2"),
    (
        fixture!("aac_lc_44100_stereo_quicktime_v1_wave.mp4a"),
        "mp4a.40.2",
    ),
    (fixture!("aac_lc_48000_5.1.mp4a"), "mp4a.40.2"),
    (fixture!("libmp3lame_44100_mono.mp4a"), "mp4a.40.34"),
    (fixture!("libopus_mono.Opus"), "opus"),
    (fixture!("libopus_5.1_family1.Opus"), "opus"),
];

/// A box: 32-bit size derived from the payload, then the type.
fn bx(fourcc: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = u32::try_from(payload.len() + 8).unwrap();
    [&size.to_be_bytes()[..], fourcc, payload].concat()
}

/// A box with an explicit (possibly wrong) size field.
fn raw(size: u32, fourcc: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    [&size.to_be_bytes()[..], fourcc, payload].concat()
}

/// VisualSampleEntry with the given size and child boxes (§12.1.3.2 field layout).
fn visual(fourcc: &[u8; 4], w: u16, h: u16, kids: &[Vec<u8>]) -> Vec<u8> {
    let mut f = vec![0u8; 78];
    f[7] = 1; // data_reference_index
    f[24..26].copy_from_slice(&w.to_be_bytes());
    f[26..28].copy_from_slice(&h.to_be_bytes());
    bx(fourcc, &[f, kids.concat()].concat())
}

/// AudioSampleEntry / QuickTime sound description: `version` 0, 1 or 2 with zeroed extra fields.
fn sound(fourcc: &[u8; 4], version: u16, channels: u16, rate: u32, kids: &[Vec<u8>]) -> Vec<u8> {
    let extra = [0, 16, 36, 0][usize::from(version.min(3))];
    let mut f = vec![0u8; 28 + extra];
    f[7] = 1;
    f[8..10].copy_from_slice(&version.to_be_bytes());
    f[16..18].copy_from_slice(&channels.to_be_bytes());
    f[18] = 16;
    f[24..28].copy_from_slice(&(rate << 16).to_be_bytes());
    bx(fourcc, &[f, kids.concat()].concat())
}

const AVCC: [u8; 7] = [1, 0x64, 0, 0x1f, 0xff, 0xe0, 0];
/// esds payload: version/flags, ES_Descriptor(DecoderConfigDescriptor(OTI, DecoderSpecificInfo)).
fn esds(oti: u8, dsi: &[u8]) -> Vec<u8> {
    let mut dcd = vec![oti, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    if !dsi.is_empty() {
        dcd.extend_from_slice(&[0x05, u8::try_from(dsi.len()).unwrap()]);
        dcd.extend_from_slice(dsi);
    }
    let mut es = vec![0, 1, 0, 0x04, u8::try_from(dcd.len()).unwrap()];
    es.extend_from_slice(&dcd);
    [
        &[0, 0, 0, 0, 0x03, u8::try_from(es.len()).unwrap()][..],
        &es,
    ]
    .concat()
}

const AT: u64 = 10_000;

fn malformed_at(r: Result<SampleEntry>, offset: u64) -> String {
    match r {
        Err(Error::Malformed { offset: o, msg, .. }) if o == offset => msg,
        other => panic!("expected Malformed at {offset}, got {other:?}"),
    }
}

fn unsupported_at(r: Result<SampleEntry>, offset: u64) -> String {
    match r {
        Err(Error::Unsupported { offset: o, msg, .. }) if o == offset => msg,
        other => panic!("expected Unsupported at {offset}, got {other:?}"),
    }
}

#[test]
fn real_encoder_codec_strings() {
    for (bytes, want) in FIXTURES {
        let e = parse_sample_entry(bytes, 0).unwrap();
        assert_eq!(&e.codec_string, want);
        assert_eq!(e.bytes, *bytes);
        assert_eq!(&e.fourcc[..], &bytes[4..8]);
        assert_eq!(e.codec.is_video(), e.video.is_some());
        assert_eq!(e.codec.is_audio(), e.audio.is_some());
    }
}

#[test]
fn real_encoder_details() {
    let e = parse_sample_entry(fixture!("libx264_high_160x90.avc1"), 0).unwrap();
    let want = VideoInfo {
        width: 160,
        height: 90,
        pasp: Some((1, 1)),
    };
    assert_eq!((e.codec, e.video), (CodecKind::H264, Some(want)));
    let cfg = e.config.unwrap();
    assert_eq!((cfg.len(), &cfg[..4]), (46, &[1, 0x64, 0, 0x0b][..])); // avcC payload, no header
    let e = parse_sample_entry(fixture!("libx264_baseline_320x240_sar4x3.avc1"), 0).unwrap();
    assert_eq!(e.video.unwrap().pasp, Some((4, 3)));
    let e = parse_sample_entry(fixture!("libx265_main10_320x240.hev1"), 0).unwrap();
    assert_eq!((e.codec, e.config.unwrap()[1]), (CodecKind::Hevc, 0x02));

    let aac = |b| parse_sample_entry(b, 0).unwrap();
    let e = aac(fixture!("aac_lc_44100_stereo.mp4a"));
    assert_eq!(
        e.config.as_deref(),
        Some(&[0x12, 0x10, 0x56, 0xe5, 0x00][..])
    );
    assert_eq!(
        e.audio,
        Some(AudioInfo {
            channels: 2,
            sample_rate: 44100
        })
    );
    let mov = aac(fixture!("aac_lc_44100_stereo_quicktime_v1_wave.mp4a"));
    assert_eq!((mov.config, mov.audio), (e.config, e.audio));
    // The entry says 2 channels; the AudioSpecificConfig says 5.1.
    let e = aac(fixture!("aac_lc_48000_5.1.mp4a"));
    assert_eq!(
        e.audio,
        Some(AudioInfo {
            channels: 6,
            sample_rate: 48000
        })
    );
    let e = aac(fixture!("libmp3lame_44100_mono.mp4a"));
    assert_eq!((e.codec, e.config), (CodecKind::Mp3, None));
    // MP3 has no config in esds, so the entry's fields are all there is. ffmpeg writes channelcount 2 into
    // ISO mp4a entries whatever the stream (ffprobe reads 1 from the frame headers): a known limitation.
    assert_eq!(
        e.audio,
        Some(AudioInfo {
            channels: 2,
            sample_rate: 44100
        })
    );
    let e = aac(fixture!("libopus_5.1_family1.Opus"));
    assert_eq!(
        (e.codec, e.config.map(|c| c.len())),
        (CodecKind::Opus, Some(19))
    );
    assert_eq!(
        e.audio,
        Some(AudioInfo {
            channels: 6,
            sample_rate: 48000
        })
    );
}

#[test]
fn built_entries() {
    let e = parse_sample_entry(&visual(b"avc3", 1920, 1080, &[bx(b"avcC", &AVCC)]), 0).unwrap();
    assert_eq!(e.codec_string, "avc3.64001f");
    assert_eq!(
        e.video,
        Some(VideoInfo {
            width: 1920,
            height: 1080,
            pasp: None
        })
    );
    // A largesize (size 1) child box is read like any other.
    let large = [
        &1u32.to_be_bytes()[..],
        b"avcC",
        &23u64.to_be_bytes(),
        &AVCC,
    ]
    .concat();
    let e = parse_sample_entry(&visual(b"avc1", 64, 64, &[large]), 0).unwrap();
    assert_eq!(e.codec_string, "avc1.64001f");
    // MPEG-2 AAC LC object type, and a QuickTime v2 description carrying the true rate and count.
    let e = parse_sample_entry(
        &sound(b"mp4a", 0, 2, 44100, &[bx(b"esds", &esds(0x67, &[]))]),
        0,
    );
    assert_eq!(
        (e.as_ref().unwrap().codec, e.unwrap().codec_string.as_str()),
        (CodecKind::Aac, "mp4a.67")
    );
    let mut v2 = sound(b"mp4a", 2, 3, 1, &[bx(b"esds", &esds(0x6b, &[]))]);
    v2[8 + 32..8 + 40].copy_from_slice(&96000f64.to_bits().to_be_bytes());
    v2[8 + 40..8 + 44].copy_from_slice(&6u32.to_be_bytes());
    let a = parse_sample_entry(&v2, 0).unwrap().audio;
    assert_eq!(
        a,
        Some(AudioInfo {
            channels: 6,
            sample_rate: 96000
        })
    );
    // A QuickTime 32-bit zero terminator after the last child is tolerated.
    let mut t = visual(b"avc1", 8, 8, &[bx(b"avcC", &AVCC), vec![0; 4]]);
    assert!(parse_sample_entry(&t, 0).is_ok());
    let n = t.len();
    t[n - 1] = 1;
    malformed_at(parse_sample_entry(&t, AT), AT + n as u64 - 4);
}

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
            msg.contains(&format!("declares {size} bytes but only 15 remain")),
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

/// Every truncation and every single-byte corruption of every fixture returns (Ok or Err) without panicking.
#[test]
fn truncated_and_corrupted_fixtures_never_panic() {
    for (bytes, _) in FIXTURES {
        for len in 0..bytes.len() {
            let mut b = bytes[..len].to_vec();
            if len >= 4 {
                b[..4].copy_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
            }
            let _ = parse_sample_entry(&b, u64::MAX - 3);
        }
        for i in 8..bytes.len() {
            for x in [0x80u8, 0xff] {
                let mut b = bytes.to_vec();
                b[i] ^= x;
                let _ = parse_sample_entry(&b, 0);
            }
        }
    }
}
