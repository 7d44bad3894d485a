//! Entry-level tests: real encoder output (wasm/tests/fixtures/stsd, see its README for the commands and the
//! ffprobe cross-check) and malformed entries built with a one-line box builder.

use super::*;

mod malformed;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/stsd/", $name)).as_slice()
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
