//! The part checks on real CMAF: the fixture package's H.264 and AAC renditions (origin/testkit).
use super::*;
use upcast_core::cmaf::read::read_segment;

fn fixture(path: &str) -> Vec<u8> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../testkit/fixtures/pkg/");
    std::fs::read(format!("{root}{path}")).unwrap()
}

fn rung(name: &str, dir: &str) -> Rung {
    let (info, init) = check_init(name, &fixture(&format!("{dir}/init.mp4"))).unwrap();
    Rung::new(info, init)
}

const SEGMENT: Claim = Claim {
    independent: true,
    segment: true,
    capture_ms: None,
};
const ANY: u64 = u64::MAX;

#[test]
fn parts_are_read_not_trusted_and_must_follow_each_other() {
    let mut r = rung("video_2", "video");
    assert_eq!(r.info.kind, TrackKind::Video);
    assert!(r.info.codec.starts_with("avc1."), "{}", r.info.codec);
    let (p1, samples, _) = check_part(&r, fixture("video/seg_00001.m4s"), SEGMENT, ANY).unwrap();
    assert!(p1.independent && p1.starts_segment && samples > 0);
    assert!(p1.duration > 0 && p1.key_chunk.is_some_and(|(o, l)| o == 0 && l > 0));
    assert_eq!(p1.timescale, r.init.timescale);
    r.end = Some(p1.start + p1.duration);
    let (p2, _, _) = check_part(&r, fixture("video/seg_00002.m4s"), SEGMENT, ANY).unwrap();
    assert_eq!(p2.start, p1.start + p1.duration);
    // Skipping a segment leaves a hole in decode time.
    let e = check_part(&r, fixture("video/seg_00003.m4s"), SEGMENT, ANY).unwrap_err();
    assert_eq!((e.status, e.code), (422, "timestamp-gap"), "{}", e.msg);
    // Too long for the part target.
    r.end = None;
    let e = check_part(&r, fixture("video/seg_00001.m4s"), SEGMENT, 10).unwrap_err();
    assert_eq!(e.code, "bad-part-duration");
    // A rendition's first part starts a segment.
    let claim = Claim {
        independent: true,
        segment: false,
        capture_ms: None,
    };
    let e = check_part(&r, fixture("video/seg_00001.m4s"), claim, ANY).unwrap_err();
    assert_eq!(e.code, "no-key-frame");
    let e = check_part(&r, b"garbage".to_vec(), SEGMENT, ANY).unwrap_err();
    assert_eq!(e.code, "not-cmaf");
}

#[test]
fn independent_needs_a_key_frame_in_the_bitstream() {
    let r = rung("video", "video");
    let mut bytes = fixture("video/seg_00001.m4s");
    // The sample flags still say sync; the NAL units no longer hold an IDR picture.
    let frags = read_segment(&bytes, &r.init).unwrap();
    let (start, size) = (
        usize::try_from(frags[0].data_offset).unwrap(),
        usize::try_from(frags[0].samples[0].size).unwrap(),
    );
    let mut at = start;
    let mut idrs = 0;
    while at + 4 < start + size {
        let len =
            usize::try_from(u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())).unwrap();
        if bytes[at + 4] & 0x1f == 5 {
            bytes[at + 4] = (bytes[at + 4] & 0xe0) | 1;
            idrs += 1;
        }
        at += 4 + len;
    }
    assert!(idrs > 0, "the fixture's first sample is an IDR picture");
    let e = check_part(&r, bytes, SEGMENT, ANY).unwrap_err();
    assert_eq!((e.status, e.code), (422, "not-independent"), "{}", e.msg);
}

#[test]
fn an_init_is_one_track_of_the_rendition_kind() {
    let a = rung("audio", "audio");
    assert_eq!(a.info.kind, TrackKind::Audio);
    assert!(a.info.sample_rate > 0 && a.info.channels > 0);
    let e = check_init("video", &fixture("audio/init.mp4")).unwrap_err();
    assert_eq!(e.code, "wrong-kind");
    let (p, _, _) = check_part(&a, fixture("audio/seg_00001.m4s"), SEGMENT, ANY).unwrap();
    assert!(p.independent && p.key_chunk.is_none());
}
