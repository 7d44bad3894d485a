use super::*;
use m3u8_rs::Playlist;

fn part(msn: u64, k: u64, d: f64) -> LivePart {
    LivePart {
        uri: format!("{msn}.{k}.m4s"),
        duration: d,
        independent: k == 0,
        gap: false,
    }
}

/// `n` two-second segments of four 0.5 s parts from MSN 10, a segment-open part, two reports.
fn window(n: u64) -> LivePlaylist {
    LivePlaylist {
        target_duration: 2,
        part_target: 0.5,
        media_sequence: 10,
        discontinuity_sequence: 1,
        map_uri: "init.mp4".into(),
        segments: (10..10 + n)
            .map(|msn| LiveSegment {
                uri: format!("{msn}.m4s"),
                duration: 2.0,
                pdt_ms: Some(1_700_000_000_000 + i64::try_from(msn).unwrap_or(0) * 2000),
                discontinuity: msn == 12,
                map_uri: None,
                parts: (0..4).map(|k| part(msn, k, 0.5)).collect(),
                gap: false,
            })
            .collect(),
        open_parts: vec![part(10 + n, 0, 0.5)],
        open_tags: OpenTags::default(),
        preload_hint: Some(format!("{}.1.m4s", 10 + n)),
        rendition_reports: vec![RenditionReport {
            uri: "../audio/index.m3u8".into(),
            last_msn: 10 + n,
            last_part: 0,
        }],
        ended: false,
    }
}

fn parse(text: &str) -> m3u8_rs::MediaPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(Playlist::MediaPlaylist(p)) => p,
        other => panic!("not a media playlist: {other:?}\n{text}"),
    }
}

fn lines_with<'a>(text: &'a str, tag: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(tag)).collect()
}

#[test]
fn header_tags_and_server_control() {
    let text = window(4).write(false);
    let p = parse(&text);
    assert_eq!(p.version, Some(9));
    assert_eq!(p.target_duration, 2);
    assert_eq!(p.media_sequence, 10);
    assert_eq!(p.discontinuity_sequence, 1);
    assert!(!p.end_list);
    assert_eq!(
        lines_with(&text, "#EXT-X-SERVER-CONTROL"),
        ["#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12,PART-HOLD-BACK=1.5,HOLD-BACK=6"]
    );
    assert_eq!(
        lines_with(&text, "#EXT-X-PART-INF"),
        ["#EXT-X-PART-INF:PART-TARGET=0.5"]
    );
    // Both before the first segment.
    let first_seg = text.find("#EXTINF").unwrap();
    assert!(text.find("#EXT-X-PART-INF").unwrap() < first_seg);
    assert!(text.find("#EXT-X-SERVER-CONTROL").unwrap() < first_seg);
}

#[test]
fn segments_pdt_map_discontinuity_and_recent_parts() {
    let text = window(4).write(false);
    let p = parse(&text);
    let uris: Vec<_> = p.segments.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(uris, ["10.m4s", "11.m4s", "12.m4s", "13.m4s"]);
    assert_eq!(
        p.segments[0].map.as_ref().map(|m| m.uri.as_str()),
        Some("init.mp4")
    );
    assert!(p.segments[1..].iter().all(|s| s.map.is_none()));
    assert!(p.segments.iter().all(|s| s.program_date_time.is_some()));
    assert_eq!(
        p.segments[0]
            .program_date_time
            .map(|t| t.timestamp_millis()),
        Some(1_700_000_020_000)
    );
    let disc: Vec<_> = p.segments.iter().map(|s| s.discontinuity).collect();
    assert_eq!(disc, [false, false, true, false]);
    assert!(p.segments.iter().all(|s| (s.duration - 2.0).abs() < 1e-6));
    // Parts only within three target durations (6 s) of the edge: segments 12 and 13 end 2.5 s and 0.5 s
    // before it, 11 ends 4.5 s before it, 10 ends 6.5 s before it.
    let parts: Vec<usize> = p
        .segments
        .iter()
        .map(|s| s.unknown_tags.iter().filter(|t| t.tag == "X-PART").count())
        .collect();
    assert_eq!(parts, [0, 4, 4, 4]);
    assert_eq!(
        lines_with(&text, "#EXT-X-PART:").first().copied(),
        Some("#EXT-X-PART:DURATION=0.5,URI=\"11.0.m4s\",INDEPENDENT=YES")
    );
    assert!(text.contains("#EXT-X-PART:DURATION=0.5,URI=\"11.1.m4s\"\n"));
}

#[test]
fn open_parts_preload_hint_and_reports_follow_the_last_segment() {
    let text = window(4).write(false);
    let tail: Vec<_> = text
        .lines()
        .skip_while(|l| *l != "13.m4s")
        .skip(1)
        .collect();
    assert_eq!(
        tail,
        [
            "#EXT-X-PART:DURATION=0.5,URI=\"14.0.m4s\",INDEPENDENT=YES",
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"14.1.m4s\"",
            "#EXT-X-RENDITION-REPORT:URI=\"../audio/index.m3u8\",LAST-MSN=14,LAST-PART=0",
        ]
    );
}

#[test]
fn ended_window_has_endlist_and_no_hint() {
    let mut w = window(2);
    w.ended = true;
    let text = w.write(false);
    assert!(parse(&text).end_list);
    assert!(text.ends_with("#EXT-X-ENDLIST\n"));
    assert!(lines_with(&text, "#EXT-X-PRELOAD-HINT").is_empty());
}

#[test]
fn delta_update_skips_segments_older_than_can_skip_until() {
    let w = window(10);
    // 0.5 s open + 2 s segments: 15..19 start within 12 s of the end (14 starts 12.5 s before it).
    assert_eq!(w.skippable(), 5);
    let text = w.write(true);
    let p = parse(&text);
    assert_eq!(
        lines_with(&text, "#EXT-X-SKIP"),
        ["#EXT-X-SKIP:SKIPPED-SEGMENTS=5"]
    );
    assert_eq!(
        p.media_sequence, 10,
        "the MSN of the first, skipped, segment"
    );
    assert_eq!(p.segments.first().map(|s| s.uri.as_str()), Some("15.m4s"));
    assert_eq!(p.segments.len(), 5);
    assert!(text.find("#EXT-X-SKIP").unwrap() < text.find("#EXTINF").unwrap());
    // The map is still given, on the first segment written.
    assert!(p.segments[0].map.is_some());
    // A short window has nothing to skip: no tag.
    assert!(lines_with(&window(3).write(true), "#EXT-X-SKIP").is_empty());
}

#[test]
fn hold_backs_follow_the_rules() {
    let w = window(1);
    assert!(w.part_hold_back() >= 3.0 * w.part_target);
    // A part target just over a millisecond (the longest part so far) is written rounded up, and the
    // hold-back is three times what is written: a reader multiplying the two never finds it short.
    let mut w = window(1);
    w.part_target = 0.5006;
    let text = w.write(false);
    assert_eq!(
        lines_with(&text, "#EXT-X-PART-INF"),
        ["#EXT-X-PART-INF:PART-TARGET=0.501"]
    );
    assert!(text.contains("PART-HOLD-BACK=1.503,"), "{text}");
    w.part_target = 0.5;
    assert!(w.write(false).contains("PART-HOLD-BACK=1.5,"));
    assert!(w.can_skip_until() >= 6.0 * 2.0);
    assert_eq!(secs(1.0 / 3.0), "0.333");
    assert_eq!(secs(6.0), "6");
}

#[test]
fn map_change_after_reconnect_is_written() {
    let mut w = window(4);
    w.segments[2].map_uri = Some("init-1.mp4".into());
    let p = parse(&w.write(false));
    let maps: Vec<_> = p
        .segments
        .iter()
        .map(|s| s.map.as_ref().map(|m| m.uri.clone()))
        .collect();
    assert_eq!(
        maps,
        [
            Some("init.mp4".into()),
            None,
            Some("init-1.mp4".into()),
            None
        ]
    );
}

#[test]
fn the_open_segment_says_its_discontinuity_map_and_time_before_its_parts() {
    let mut w = window(3);
    w.open_tags = OpenTags {
        discontinuity: true,
        map_uri: Some("init-1.mp4".into()),
        pdt_ms: Some(1_700_000_009_000),
    };
    let text = w.write(false);
    let tail: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "12.m4s")
        .skip(1)
        .collect();
    assert_eq!(
        &tail[..4],
        [
            "#EXT-X-DISCONTINUITY",
            "#EXT-X-MAP:URI=\"init-1.mp4\"",
            "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:29.000Z",
            "#EXT-X-PART:DURATION=0.5,URI=\"13.0.m4s\",INDEPENDENT=YES",
        ],
        "{text}"
    );
}

#[test]
fn a_playlist_of_open_parts_alone_names_its_init_segment() {
    let mut w = window(0);
    w.open_tags.pdt_ms = Some(1_700_000_000_000);
    let text = w.write(false);
    let map = text.find("#EXT-X-MAP:URI=\"init.mp4\"").expect(&text);
    let part = text.find("#EXT-X-PART:").expect(&text);
    assert!(map < part, "{text}");
}

#[test]
fn a_paused_rendition_writes_gap_segments_and_parts() {
    let mut p = window(3);
    // Segment 11 has no media (the publisher paused this rung), nor the open segment's first part.
    p.segments[1].gap = true;
    for q in &mut p.segments[1].parts {
        q.gap = true;
    }
    p.open_parts[0].gap = true;
    let text = p.write(false);
    let gap_at = text.find("#EXT-X-GAP\n").expect("EXT-X-GAP written");
    let uri_11 = text.find("\n11.m4s\n").expect("segment 11 listed");
    let uri_10 = text.find("\n10.m4s\n").expect("segment 10 listed");
    assert!(
        uri_10 < gap_at && gap_at < uri_11,
        "the tag precedes its URI:\n{text}"
    );
    assert_eq!(text.matches("#EXT-X-GAP\n").count(), 1, "{text}");
    assert!(text.contains("#EXT-X-PART:DURATION=0.5,URI=\"11.0.m4s\",INDEPENDENT=YES,GAP=YES\n"));
    assert!(text.contains("#EXT-X-PART:DURATION=0.5,URI=\"13.0.m4s\",INDEPENDENT=YES,GAP=YES\n"));
    assert!(text.contains("#EXT-X-PART:DURATION=0.5,URI=\"12.0.m4s\",INDEPENDENT=YES\n"));
    // m3u8-rs reads it, the gap segment in its place with its duration.
    let Ok((_, Playlist::MediaPlaylist(m))) = m3u8_rs::parse_playlist(text.as_bytes()) else {
        panic!("m3u8-rs could not read:\n{text}");
    };
    assert_eq!(m.segments.len(), 3);
    assert_eq!(m.segments[1].uri, "11.m4s");
    assert!(m.segments[1].unknown_tags.iter().any(|t| t.tag == "X-GAP"));
    assert!(!m.segments[2].unknown_tags.iter().any(|t| t.tag == "X-GAP"));
}
