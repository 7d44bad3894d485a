//! The rules across reloads and delta updates, and the INDEPENDENT part's key frame on real CMAF bytes.

use super::tests::{edit, live, only};
use super::*;
use crate::check::tests_util::good;
use crate::check::{Location, Report, Severity};
use crate::cmaf::fragment::{fragment_header, OutSample};
use crate::cmaf::read::{read_init, read_segment};

fn pl(text: &str) -> LivePlaylist {
    parse("v.m3u8", text).unwrap()
}

fn pair(a: &str, b: &str) -> Report {
    let mut r = Report::default();
    check_reload(&pl(a), &pl(b), &mut r);
    r
}

#[test]
fn a_growing_window_passes() {
    // A part more, then the open segment completes, then the window slides.
    for (a, b) in [
        (live(10, 3, 2), live(10, 3, 3)),
        (live(10, 3, 3), live(10, 3, 4)),
        (live(10, 3, 4), live(10, 4, 0)),
        (live(10, 4, 0), live(11, 3, 1)),
        (live(10, 3, 2), live(12, 2, 1)),
    ] {
        let r = pair(&a, &b);
        assert!(r.findings.is_empty(), "{a}\n---\n{b}\n{:#?}", r.findings);
    }
}

#[test]
fn media_sequence_going_back() {
    let r = pair(&live(11, 3, 2), &live(10, 4, 2));
    assert_eq!(
        only(&r, "live-media-sequence"),
        (Severity::Must, Location::File)
    );
}

#[test]
fn a_segment_that_changes_its_uri_or_duration() {
    let b = edit(&live(10, 3, 3), "s11.m4s", "other.m4s");
    let line = b.lines().position(|l| l == "other.m4s").unwrap() + 1;
    let r = pair(&live(10, 3, 2), &b);
    assert_eq!(
        only(&r, "live-segment-changed"),
        (Severity::Must, Location::Line { line })
    );
    let b = edit(
        &live(10, 3, 3),
        "#EXTINF:2.000,\ns10",
        "#EXTINF:2.500,\ns10",
    );
    assert_eq!(
        only(&pair(&live(10, 3, 2), &b), "live-segment-changed").0,
        Severity::Must
    );
}

#[test]
fn a_reload_that_withdraws_a_segment() {
    // The earlier reload had segments 10..=12 complete; the later one ends at 11 (and its open parts
    // belong to 12 again).
    let r = pair(&live(10, 3, 1), &live(10, 2, 1));
    assert!(
        r.of_rule("live-segment-withdrawn").count() == 1,
        "{:#?}",
        r.findings
    );
    assert!(r.findings.iter().all(|f| f.severity == Severity::Must));
}

#[test]
fn discontinuity_sequence_follows_the_dropped_discontinuities() {
    let a = edit(
        &live(10, 3, 2),
        "#EXTINF:2.000,\ns10",
        "#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\ns10",
    );
    // s10 (with its discontinuity) leaves: the sequence must go to 1.
    let good = edit(
        &live(11, 2, 3),
        "#EXT-X-MAP",
        "#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-MAP",
    );
    assert!(
        pair(&a, &good).findings.is_empty(),
        "{:#?}",
        pair(&a, &good)
    );
    let r = pair(&a, &live(11, 2, 3));
    assert_eq!(
        only(&r, "live-discontinuity-sequence"),
        (Severity::Must, Location::File)
    );
}

#[test]
fn parts_of_the_open_segment_are_not_withdrawn() {
    let b = edit(&live(10, 3, 3), "p13.1.m4s", "p13.1b.m4s");
    let line = b.lines().position(|l| l.contains("p13.1b.m4s")).unwrap() + 1;
    assert_eq!(
        only(&pair(&live(10, 3, 2), &b), "live-part-withdrawn"),
        (Severity::Must, Location::Line { line })
    );
    let r = pair(&live(10, 3, 3), &live(10, 3, 2));
    assert!(
        r.of_rule("live-part-withdrawn").count() == 1,
        "{:#?}",
        r.findings
    );
}

#[test]
fn the_hint_becomes_the_next_part() {
    let b = edit(&live(10, 3, 3), "p13.2.m4s", "p13.2x.m4s");
    let line = b.lines().position(|l| l.contains("p13.2x.m4s")).unwrap() + 1;
    assert_eq!(
        only(&pair(&live(10, 3, 2), &b), "live-preload-hint"),
        (Severity::Should, Location::Line { line })
    );
}

#[test]
fn a_hint_across_a_new_publish_is_no_finding() {
    // The hint named p13.2; the publisher then went away, segment 13 was closed with two parts, and the
    // next publish opens segment 14 after a discontinuity. Without the discontinuity it is a finding.
    let closed = |disc: &str| {
        edit(
            &edit(
                &live(10, 3, 2),
                "URI=\"p13.1.m4s\"\n",
                &format!(
                    "URI=\"p13.1.m4s\"\n#EXTINF:1.000,\ns13.m4s\n{disc}\
                     #EXT-X-PART:DURATION=0.500,URI=\"p14.0.m4s\",INDEPENDENT=YES\n"
                ),
            ),
            "p13.2.m4s",
            "p14.1.m4s",
        )
    };
    let r = pair(&live(10, 3, 2), &closed("#EXT-X-DISCONTINUITY\n"));
    assert_eq!(
        r.of_rule("live-preload-hint").count(),
        0,
        "{:#?}",
        r.findings
    );
    let r = pair(&live(10, 3, 2), &closed(""));
    assert_eq!(only(&r, "live-preload-hint").0, Severity::Should);
}

/// `live(10, 10, 2)` as a delta update skipping `n` segments.
fn delta(full: &str, n: u64) -> String {
    let start = full.find("#EXTINF:2.000,\ns10").unwrap();
    let end = full
        .find(&format!("#EXT-X-PART:DURATION=0.500,URI=\"p{}.0", 10 + n))
        .unwrap();
    format!(
        "{}#EXT-X-SKIP:SKIPPED-SEGMENTS={n}\n{}",
        &full[..start],
        &full[end..]
    )
}

#[test]
fn a_delta_update_matches_the_full_playlist() {
    let full = live(10, 10, 2);
    let mut r = Report::default();
    check_delta(&pl(&full), &pl(&delta(&full, 4)), &mut r);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    // A delta that names segment 16 differently.
    let bad = edit(&delta(&full, 4), "s16.m4s", "s16x.m4s");
    let mut r = Report::default();
    check_delta(&pl(&full), &pl(&bad), &mut r);
    assert_eq!(only(&r, "live-delta").0, Severity::Must);
    // A delta whose discontinuity sequence is not the full playlist's.
    let bad = edit(
        &delta(&full, 4),
        "#EXT-X-MAP",
        "#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-MAP",
    );
    let mut r = Report::default();
    check_delta(&pl(&full), &pl(&bad), &mut r);
    assert_eq!(only(&r, "live-delta"), (Severity::Must, Location::File));
}

/// A video init segment and its first media segment (starts with an IDR, several samples).
fn video() -> (Vec<u8>, Vec<u8>) {
    let pkg = good("video_only.mp4", 1.0);
    let seg = pkg
        .files
        .keys()
        .find(|k| k.ends_with("seg_00001.m4s"))
        .unwrap();
    let dir = seg.rsplit_once('/').unwrap().0;
    (
        pkg.files[&format!("{dir}/init.mp4")].clone(),
        pkg.files[seg].clone(),
    )
}

/// The segment's samples after the first (mid-GOP) as one chunk, their sync flag forced to `sync`.
pub fn mid_gop(init: &[u8], seg: &[u8], sync: bool) -> Vec<u8> {
    let info = read_init(init).unwrap();
    let frags = read_segment(seg, &info).unwrap();
    let mut outs = Vec::new();
    let mut payload = Vec::new();
    for f in &frags {
        let mut at = usize::try_from(f.data_offset).unwrap();
        for s in &f.samples {
            let size = usize::try_from(s.size).unwrap();
            outs.push(OutSample {
                size: s.size,
                duration: s.duration,
                cts_offset: i32::try_from(s.cts_offset).unwrap(),
                sync,
            });
            payload.extend_from_slice(&seg[at..at + size]);
            at += size;
        }
    }
    let first = outs.remove(0);
    let skip = usize::try_from(first.size).unwrap();
    assert!(outs.len() > 2, "the segment has too few samples");
    let base = frags[0].base_decode_time + u64::from(first.duration);
    let mut out = fragment_header(2, base, &outs).unwrap();
    out.extend_from_slice(&payload[skip..]);
    out
}

fn part_report(init: &[u8], part: &[u8]) -> Report {
    let mut r = Report::default();
    check_independent_part(init, part, "p.m4s", &mut r);
    r
}

#[test]
fn an_independent_part_starts_with_a_key_frame() {
    let (init, seg) = video();
    assert!(part_report(&init, &seg).findings.is_empty());
    let r = part_report(&init, &mid_gop(&init, &seg, false));
    let (sev, loc) = only(&r, "live-independent-key-frame");
    assert_eq!(sev, Severity::Must);
    assert!(matches!(loc, Location::Byte { .. }), "{:?}", r.findings);
    assert!(
        r.findings[0].message.contains("non-sync"),
        "{:?}",
        r.findings[0]
    );
    // Flagged sync but not an IDR in its bitstream.
    let r = part_report(&init, &mid_gop(&init, &seg, true));
    assert_eq!(only(&r, "live-independent-key-frame").0, Severity::Must);
    assert!(
        r.findings[0].message.contains("bitstream"),
        "{:?}",
        r.findings[0]
    );
    // Garbage is a finding, not a panic.
    let r = part_report(&init, b"\0\0\0\x08junk");
    assert_eq!(
        only(&r, "live-independent-key-frame"),
        (Severity::Must, Location::File)
    );
}
