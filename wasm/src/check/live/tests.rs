//! The single-snapshot rules: a good LL-HLS playlist passes, and each rule catches its own fault at its line.

use super::*;
use crate::check::{Location, Report, Severity};
use std::fmt::Write;

/// An LL-HLS playlist as an origin writes it: 2 s segments of four 0.5 s parts, MSNs from `msn0`,
/// `complete` complete segments (the oldest without parts, as if they aged out) and `open` parts of the
/// open segment, a preload hint for the next part and a rendition report.
pub fn live(msn0: u64, complete: u64, open: u64) -> String {
    let mut t = String::from(
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n\
         #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12,HOLD-BACK=6,PART-HOLD-BACK=1.5\n\
         #EXT-X-PART-INF:PART-TARGET=0.5\n",
    );
    let _ = writeln!(
        t,
        "#EXT-X-MEDIA-SEQUENCE:{msn0}\n#EXT-X-MAP:URI=\"init.mp4\""
    );
    for msn in msn0..msn0 + complete {
        if msn > msn0 {
            parts(&mut t, msn, 4);
        }
        let _ = writeln!(t, "#EXTINF:2.000,\ns{msn}.m4s");
    }
    let open_msn = msn0 + complete;
    parts(&mut t, open_msn, open);
    let (hint_msn, hint_part) = if open == 4 {
        (open_msn + 1, 0)
    } else {
        (open_msn, open)
    };
    let _ = writeln!(
        t,
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p{hint_msn}.{hint_part}.m4s\"\n\
         #EXT-X-RENDITION-REPORT:URI=\"../audio/a.m3u8\",LAST-MSN={open_msn},LAST-PART=0"
    );
    t
}

fn parts(t: &mut String, msn: u64, n: u64) {
    for i in 0..n {
        let ind = if i == 0 { ",INDEPENDENT=YES" } else { "" };
        let _ = writeln!(t, "#EXT-X-PART:DURATION=0.500,URI=\"p{msn}.{i}.m4s\"{ind}");
    }
}

pub fn known(uri: &str) -> bool {
    uri == "../audio/a.m3u8"
}

pub fn run(text: &str, asked_skip: bool) -> Report {
    let mut report = Report::default();
    let ctx = Context {
        asked_skip,
        renditions: &known,
    };
    check_snapshot("v.m3u8", text, &ctx, &mut report);
    report
}

pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "no {from:?} in\n{text}");
    text.replacen(from, to, 1)
}

/// The one finding of `rule`, its severity and line; fails when the report has other findings.
pub fn only(report: &Report, rule: &str) -> (Severity, Location) {
    let all: Vec<_> = report.findings.iter().collect();
    assert!(
        all.len() == 1 && all[0].rule == rule,
        "want exactly one {rule}, got {all:#?}"
    );
    (all[0].severity, all[0].location)
}

fn line_of(text: &str, needle: &str) -> Location {
    let line = text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    Location::Line { line }
}

#[test]
fn a_good_live_playlist_passes() {
    let text = live(10, 3, 2);
    let r = run(&text, false);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let pl = parse("v.m3u8", &text).unwrap();
    assert_eq!(pl.open_msn(), 13);
    assert_eq!(pl.segments[2].parts.len(), 4);
    assert_eq!(pl.open_parts.len(), 2);
    assert_eq!(next_reload(&pl), (13, Some(2)));
    assert_eq!(pl.map.as_deref(), Some("init.mp4"));
    assert_eq!(pl.reports[0].last_msn, Some(13));
}

#[test]
fn parts_need_part_inf() {
    let text = edit(&live(10, 3, 2), "#EXT-X-PART-INF:PART-TARGET=0.5\n", "");
    let r = run(&text, false);
    assert_eq!(
        only(&r, "live-part-inf"),
        (Severity::Must, line_of(&text, "p11.0.m4s"))
    );
}

#[test]
fn a_part_over_part_target_is_caught_past_the_tolerance_only() {
    let text = edit(
        &live(10, 3, 2),
        "DURATION=0.500,URI=\"p13.1",
        "DURATION=0.5009,URI=\"p13.1",
    );
    assert!(run(&text, false).findings.is_empty());
    let text = edit(
        &live(10, 3, 2),
        "DURATION=0.500,URI=\"p13.1",
        "DURATION=0.520,URI=\"p13.1",
    );
    assert_eq!(
        only(&run(&text, false), "live-part-duration"),
        (Severity::Must, line_of(&text, "p13.1.m4s"))
    );
}

#[test]
fn part_hold_back_under_three_is_a_should_under_two_a_must() {
    let base = live(10, 3, 2);
    let sc = line_of(&base, "SERVER-CONTROL");
    let text = edit(&base, "PART-HOLD-BACK=1.5", "PART-HOLD-BACK=1.25");
    assert_eq!(
        only(&run(&text, false), "live-part-hold-back"),
        (Severity::Should, sc)
    );
    let text = edit(&base, "PART-HOLD-BACK=1.5", "PART-HOLD-BACK=0.9");
    assert_eq!(
        only(&run(&text, false), "live-part-hold-back"),
        (Severity::Must, sc)
    );
    let text = edit(&base, ",PART-HOLD-BACK=1.5", "");
    assert_eq!(
        only(&run(&text, false), "live-part-hold-back"),
        (Severity::Must, line_of(&text, "PART-INF"))
    );
}

#[test]
fn hold_back_under_three_target_durations() {
    let text = edit(&live(10, 3, 2), "HOLD-BACK=6,", "HOLD-BACK=5,");
    assert_eq!(
        only(&run(&text, false), "live-hold-back"),
        (Severity::Must, line_of(&text, "SERVER-CONTROL"))
    );
}

#[test]
fn can_skip_until_under_six_target_durations() {
    let text = edit(&live(10, 3, 2), "CAN-SKIP-UNTIL=12", "CAN-SKIP-UNTIL=8");
    assert_eq!(
        only(&run(&text, false), "live-can-skip-until"),
        (Severity::Must, line_of(&text, "SERVER-CONTROL"))
    );
}

#[test]
fn parts_without_blocking_reload() {
    let text = edit(&live(10, 3, 2), "CAN-BLOCK-RELOAD=YES,", "");
    assert_eq!(
        only(&run(&text, false), "live-can-block-reload"),
        (Severity::Must, line_of(&text, "SERVER-CONTROL"))
    );
}

#[test]
fn parts_that_do_not_add_up_to_extinf() {
    let text = edit(
        &live(10, 3, 2),
        "#EXTINF:2.000,\ns12",
        "#EXTINF:1.900,\ns12",
    );
    assert_eq!(
        only(&run(&text, false), "live-parts-sum"),
        (Severity::Must, line_of(&text, "s12.m4s"))
    );
}

#[test]
fn a_hint_for_a_listed_part_or_a_second_hint() {
    let base = live(10, 3, 2);
    let text = edit(&base, "TYPE=PART,URI=\"p13.2", "TYPE=PART,URI=\"p13.1");
    assert_eq!(
        only(&run(&text, false), "live-preload-hint"),
        (Severity::Must, line_of(&text, "PRELOAD-HINT"))
    );
    let text = edit(
        &base,
        "#EXT-X-RENDITION",
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p13.3.m4s\"\n#EXT-X-RENDITION",
    );
    assert_eq!(
        only(&run(&text, false), "live-preload-hint"),
        (Severity::Must, line_of(&text, "p13.3.m4s"))
    );
}

#[test]
fn a_rendition_report_for_an_unknown_playlist() {
    let text = edit(&live(10, 3, 2), "../audio/a.m3u8", "../audio/b.m3u8");
    assert_eq!(
        only(&run(&text, false), "live-rendition-report"),
        (Severity::Must, line_of(&text, "RENDITION-REPORT"))
    );
}

#[test]
fn skip_only_when_asked_and_outside_the_skip_boundary() {
    // 10 complete segments: 20 s listed, CAN-SKIP-UNTIL 12: skipping the first 4 leaves 12 s + 1 s listed.
    let full = live(10, 10, 2);
    let cut: String = {
        let start = full.find("#EXTINF:2.000,\ns10").unwrap();
        let end = full.find("#EXT-X-PART:DURATION=0.500,URI=\"p14.0").unwrap();
        format!(
            "{}#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n{}",
            &full[..start],
            &full[end..]
        )
    };
    assert!(
        run(&cut, true).findings.is_empty(),
        "{:#?}",
        run(&cut, true)
    );
    let pl = parse("v.m3u8", &cut).unwrap();
    assert_eq!(pl.segments[0].msn, 14);
    assert_eq!(pl.open_msn(), 20);
    assert_eq!(
        only(&run(&cut, false), "live-skip"),
        (Severity::Must, line_of(&cut, "EXT-X-SKIP"))
    );
    let inside: String = {
        let start = cut.find("#EXT-X-PART:DURATION=0.500,URI=\"p14.0").unwrap();
        let end = cut.find("#EXT-X-PART:DURATION=0.500,URI=\"p17.0").unwrap();
        format!("{}{}", &cut[..start], &cut[end..])
    };
    assert_eq!(
        only(&run(&inside, true), "live-skip"),
        (Severity::Must, line_of(&inside, "EXT-X-SKIP"))
    );
}

#[test]
fn unreadable_playlists_and_attribute_lists() {
    let r = run("not a playlist", false);
    assert_eq!(only(&r, "live-playlist"), (Severity::Must, Location::File));
    let text = edit(
        &live(10, 3, 2),
        "DURATION=0.500,URI=\"p13.1.m4s\"",
        "DURATION=x,URI=\"p13.1.m4s\"",
    );
    assert_eq!(
        only(&run(&text, false), "live-playlist"),
        (Severity::Must, line_of(&text, "p13.1.m4s"))
    );
    let text = edit(&live(10, 3, 2), "URI=\"p13.1.m4s\"", "URI=\"p13.1.m4s");
    assert_eq!(only(&run(&text, false), "live-playlist").0, Severity::Must);
}
