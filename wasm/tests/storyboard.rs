//! The storyboard's tiling, its WebVTT thumbnail track writer and checker, and the sheet size reader, on
//! hand-made edge cases.

use upcast_core::layout::Picture;
use upcast_core::storyboard::vtt::{self, Sheet};
use upcast_core::storyboard::{image, plan};

/// Every sheet present, 1600 × 900 px.
fn sheets_1600x900(_: &str) -> Sheet {
    Sheet::Sized(1600, 900)
}

#[test]
fn a_minute_is_one_tile_a_second_on_one_sheet() {
    let p = plan(60_000, 1920, 1080).unwrap();
    assert_eq!((p.interval_ms, p.count, p.sheets), (1000, 60, 1));
    assert_eq!((p.tile_width, p.tile_height, p.columns), (160, 90, 10));
    assert_eq!(p.sheet_size(0), (1600, 540));
    let last = p.tile(59).unwrap();
    assert_eq!(
        (last.sheet, last.x, last.y, last.start_ms, last.end_ms),
        (0, 1440, 450, 59_000, 60_000)
    );
    assert!(p.tile(60).is_none());
}

#[test]
fn long_videos_get_longer_intervals_and_more_sheets() {
    let p = plan(3_600_000, 1280, 720).unwrap();
    assert_eq!(
        (p.interval_ms, p.count, p.tiles_per_sheet, p.sheets),
        (20_000, 180, 100, 2)
    );
    assert_eq!(p.sheet_size(1), (1600, 720)); // 80 tiles: 8 rows
    assert_eq!(p.tile(100).unwrap().sheet, 1);
    // A part-second end and a short video: the last cue ends at the duration, the sheet is one row.
    let p = plan(4_500, 640, 360).unwrap();
    assert_eq!((p.count, p.columns, p.sheet_size(0)), (5, 5, (800, 90)));
    assert_eq!(p.tile(4).unwrap().end_ms, 4_500);
    // Portrait: the tile keeps the aspect ratio, even height.
    assert_eq!(plan(10_000, 1080, 1920).unwrap().tile_height, 284);
    // A day: the interval caps the count near the limit instead of growing without bound.
    assert!(plan(86_400_000, 640, 360).unwrap().count <= 200);
    assert!(plan(0, 640, 360).is_none());
    assert!(plan(1000, 0, 360).is_none());
}

#[test]
fn written_track_reads_back_and_passes() {
    let p = plan(61_500, 1920, 1080).unwrap();
    let text = vtt::write(&p, Picture::Webp);
    assert!(text
        .starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsheet_001.webp#xywh=0,0,160,90\n"));
    assert!(text.ends_with("00:01:01.000 --> 00:01:01.500\nsheet_001.webp#xywh=160,540,160,90\n"));
    let cues = vtt::parse(&text).unwrap();
    assert_eq!(cues.len(), 62);
    for (c, t) in cues.iter().zip(p.tiles()) {
        assert_eq!((c.start_ms, c.end_ms), (t.start_ms, t.end_ms));
        assert_eq!(c.xywh, [t.x, t.y, 160, 90]);
    }
    assert_eq!(vtt::check(&text, Some(61_500), &sheets_1600x900), vec![]);
    let jpg = vtt::write(&p, Picture::Jpeg);
    assert!(jpg.contains("sheet_001.jpg#xywh=0,0,160,90"));
}

#[test]
fn timestamps_past_99_hours_bom_crlf_and_ids() {
    assert_eq!(vtt::timestamp(360_000_000 + 1), "100:00:00.001");
    assert_eq!(vtt::parse_time("100:00:00.001"), Some(360_000_001));
    assert_eq!(vtt::parse_time("01:02.003"), Some(62_003));
    for bad in [
        "1:02.003",
        "00:60.000",
        "00:00.1",
        "00:00:00,000",
        "-1:00.000",
        "",
        "9999999999999:00:00.000",
    ] {
        assert_eq!(vtt::parse_time(bad), None, "{bad}");
    }
    let text = "\u{feff}WEBVTT - thumbnails\r\n\r\nNOTE made by hand\r\n\r\ncue-1\r\n00:00.000 --> 00:02.000 align:start\r\nsheet_001.jpg#xywh=0,0,160,90\r\n";
    let cues = vtt::parse(text).unwrap();
    assert_eq!(
        (cues[0].line, cues[0].end_ms, cues[0].sheet.as_str()),
        (6, 2000, "sheet_001.jpg")
    );
}

#[test]
fn malformed_tracks_name_the_line() {
    let e = vtt::parse("WEBVT\n").unwrap_err();
    assert_eq!(e.line, 1);
    let e =
        vtt::parse("WEBVTT\n\n00:00.000 -> 00:01.000\nsheet_001.jpg#xywh=0,0,1,1\n").unwrap_err();
    assert_eq!(e.line, 4); // the arrow is missing: read as an id line, then the payload is no timing line
    assert!(e.message.contains("start --> end"), "{}", e.message);
    let e = vtt::parse("WEBVTT\n\n00:00.000 --> 00:01.000\nsheet_001.jpg\n").unwrap_err();
    assert_eq!(e.line, 4);
    assert!(e.message.contains("#xywh"), "{}", e.message);
    let e =
        vtt::parse("WEBVTT\n\n00:00.000 --> 00:01.000\nsheet_001.jpg#xywh=0,0,0,90\n").unwrap_err();
    assert_eq!(e.line, 4);
    let e =
        vtt::parse("WEBVTT\n\n00:02.000 --> 00:01.000\nsheet_001.jpg#xywh=0,0,1,1\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.contains("before it starts"), "{}", e.message);
    let only_header = vtt::check("WEBVTT\n", Some(1000), &sheets_1600x900);
    assert_eq!(only_header[0].message, "the thumbnail track has no cues");
}

fn cue(a: &str, b: &str, payload: &str) -> String {
    format!("\n{a} --> {b}\n{payload}\n")
}

#[test]
fn order_gaps_coverage_sheets_and_rectangles() {
    let t = |cues: &[String]| format!("WEBVTT\n{}", cues.concat());
    let s = "sheet_001.webp#xywh=0,0,160,90";
    // Out of order (line 6), then a gap (line 9).
    let text = t(&[
        cue("00:00.000", "00:02.000", s),
        cue("00:01.000", "00:03.000", s),
        cue("00:04.000", "00:05.000", s),
    ]);
    let p = vtt::check(&text, Some(5000), &sheets_1600x900);
    assert_eq!(
        p.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![6, 9],
        "{p:?}"
    );
    assert!(p[0].message.contains("must increase"));
    assert!(p[1].message.contains("gap"));
    // Starts late, ends early.
    let text = t(&[cue("00:03.000", "00:04.000", s)]);
    let p = vtt::check(&text, Some(60_000), &sheets_1600x900);
    assert!(
        p[0].message
            .contains("first thumbnail starts at 00:00:03.000"),
        "{p:?}"
    );
    assert!(p[1].message.contains("video lasts 00:01:00.000"), "{p:?}");
    // A rectangle outside its sheet, a missing sheet (named once), a path that leaves the directory.
    let text = t(&[
        cue(
            "00:00.000",
            "00:01.000",
            "sheet_001.webp#xywh=1500,0,160,90",
        ),
        cue("00:01.000", "00:02.000", "sheet_002.webp#xywh=0,0,160,90"),
        cue("00:02.000", "00:03.000", "sheet_002.webp#xywh=0,0,160,90"),
        cue("00:03.000", "00:04.000", "../poster.jpg#xywh=0,0,160,90"),
    ]);
    let lookup = |n: &str| {
        if n == "sheet_001.webp" {
            Sheet::Sized(1600, 900)
        } else {
            Sheet::Missing
        }
    };
    let p = vtt::check(&text, Some(4000), &lookup);
    assert_eq!(
        p.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![4, 7, 13],
        "{p:?}"
    );
    assert!(p[0]
        .message
        .contains("reaches outside sheet_001.webp (1600 x 900 px)"));
    assert!(p[1]
        .message
        .contains("sheet_002.webp is not in the package"));
    // Size unknown: present is enough.
    let text = t(&[cue(
        "00:00.000",
        "00:01.000",
        "sheet_001.jpg#xywh=9000,0,160,90",
    )]);
    assert_eq!(vtt::check(&text, Some(1000), &|_| Sheet::Present), vec![]);
}

#[test]
fn sheet_sizes_from_headers() {
    // JPEG: SOI, an APP0 segment, SOF0 (8-bit, 540 high, 1600 wide).
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
    jpeg.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x1C, 0x06, 0x40, 0x03]);
    assert_eq!(image::size(&jpeg), Some((1600, 540)));
    // WebP VP8X: canvas 1600 × 900 (stored minus one, 24-bit little-endian).
    let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    webp.extend([0x3F, 0x06, 0x00, 0x83, 0x03, 0x00]);
    assert_eq!(image::size(&webp), Some((1600, 900)));
    // WebP VP8 (lossy): frame tag, start code, 14-bit sizes.
    let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
    vp8.extend([0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x06, 0x1C, 0x02]);
    assert_eq!(image::size(&vp8), Some((1600, 540)));
    // Truncated, scan before frame header, or not an image: no size, no panic.
    for bad in [
        &jpeg[..12],
        &[0xFF, 0xD8, 0xFF, 0xDA, 0, 2][..],
        b"GIF89a",
        &webp[..22],
        &[][..],
    ] {
        assert_eq!(image::size(bad), None);
    }
}
