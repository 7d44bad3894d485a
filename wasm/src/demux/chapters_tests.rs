//! The chapter readers on hand-made boxes and on `tests/fixtures/chapters.mp4` (made by ffmpeg from an
//! ffmetadata file with three [CHAPTER]s: it writes both a chapter text track and a chpl box).

use super::*;
use crate::limits::Limits;

const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/chapters.mp4");

fn chapter(start_ms: u64, title: &str) -> Chapter {
    Chapter {
        start_ms,
        title: title.into(),
    }
}

/// A chpl payload: version 1 (with the reserved field), then the entries.
fn chpl(entries: &[(u64, &[u8])]) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 0, 0, 0, 0, 0, u8::try_from(entries.len()).unwrap()];
    for (start, title) in entries {
        b.extend_from_slice(&start.to_be_bytes());
        b.push(u8::try_from(title.len()).unwrap());
        b.extend_from_slice(title);
    }
    b
}

/// A chapter text sample: the 16-bit length, the title, then an `encd` atom as ffmpeg writes it.
fn sample(title: &[u8]) -> Vec<u8> {
    let mut b = u16::try_from(title.len()).unwrap().to_be_bytes().to_vec();
    b.extend_from_slice(title);
    b.extend_from_slice(&[0, 0, 0, 12, b'e', b'n', b'c', b'd', 0, 0, 1, 0]);
    b
}

#[test]
fn chpl_entries_in_100ns_units() {
    let body = chpl(&[(0, b"Intro"), (30_000_000, "Caf\u{e9}".as_bytes())]);
    let got = read_chpl(&body, 500, "moov/udta/chpl").unwrap();
    assert_eq!(got, vec![chapter(0, "Intro"), chapter(3000, "Café")]);
}

#[test]
fn chpl_version_0_has_no_reserved_field() {
    let mut body = vec![0, 0, 0, 0, 1];
    body.extend_from_slice(&20_000_000u64.to_be_bytes());
    body.extend_from_slice(&[2, b'O', b'K']);
    assert_eq!(
        read_chpl(&body, 0, "moov/udta/chpl").unwrap(),
        vec![chapter(2000, "OK")]
    );
}

#[test]
fn chpl_count_too_large_names_box_and_offset() {
    let mut body = chpl(&[(0, b"A")]);
    body[8] = 200; // the count, at payload byte 8
    let e = read_chpl(&body, 1000, "moov/udta/chpl").unwrap_err();
    assert_eq!(
        e.to_string(),
        "moov/udta/chpl at byte 1008: declares 200 chapters; only 1 fit in the box"
    );
}

#[test]
fn chpl_truncated_title_is_an_error() {
    let mut body = chpl(&[(0, b"Opening")]);
    body.truncate(body.len() - 3);
    let e = read_chpl(&body, 0, "moov/udta/chpl").unwrap_err();
    assert!(e.to_string().starts_with("moov/udta/chpl at byte"), "{e}");
    assert!(e.to_string().contains("chapter title"), "{e}");
}

#[test]
fn chpl_bad_utf8_is_an_error_naming_the_entry() {
    let body = chpl(&[(0, b"ok"), (10_000_000, &[b'a', 0xC3, 0x28])]);
    let e = read_chpl(&body, 100, "moov/udta/chpl").unwrap_err();
    // Second entry: 9 header bytes, first entry 8 + 1 + 2 = 11 bytes.
    assert_eq!(
        e.to_string(),
        "moov/udta/chpl at byte 120: the title is not UTF-8 (byte 1)"
    );
}

#[test]
fn chpl_future_version_is_unsupported() {
    let e = read_chpl(&[2, 0, 0, 0, 0], 0, "moov/udta/chpl").unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}

#[test]
fn chpl_empty_body_is_an_error_not_a_panic() {
    assert!(read_chpl(&[], 0, "moov/udta/chpl").is_err());
    assert!(read_chpl(&[1, 0, 0, 0], 0, "moov/udta/chpl").is_err());
}

#[test]
fn sample_titles_utf8_and_utf16() {
    assert_eq!(
        sample_title(&sample(b"Opening"), 0, "t").unwrap(),
        "Opening"
    );
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain("Été".encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    assert_eq!(sample_title(&sample(&utf16be), 0, "t").unwrap(), "Été");
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("Hi".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(sample_title(&sample(&utf16le), 0, "t").unwrap(), "Hi");
    // An empty title (length 0) is read as empty; tidy() names it.
    assert_eq!(sample_title(&[0, 0], 0, "t").unwrap(), "");
}

#[test]
fn sample_title_errors() {
    let e = sample_title(&[0, 50, b'a', b'b'], 4000, "moov/trak[2]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "moov/trak[2] at byte 4000: a chapter sample's title is 50 bytes long; the sample holds 2 after the length"
    );
    assert!(sample_title(&[7], 0, "t").is_err());
    assert!(sample_title(&[], 0, "t").is_err());
    let e = sample_title(&sample(&[0xFF, 0xFF, 0xFF]), 10, "t").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t at byte 12: the title is not UTF-8 (byte 0)"
    );
    let e = sample_title(&sample(&[0xFE, 0xFF, 0]), 0, "t").unwrap_err();
    assert!(e.to_string().contains("odd number of bytes"), "{e}");
    let lone_surrogate = [0xFE, 0xFF, 0xD8, 0x00];
    let e = sample_title(&sample(&lone_surrogate), 0, "t").unwrap_err();
    assert!(e.to_string().contains("not valid UTF-16"), "{e}");
}

#[test]
fn chap_ids() {
    let body = [0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 5];
    assert_eq!(chap_track_ids(&body, 0, "c").unwrap(), vec![3, 5]);
    let e = chap_track_ids(&[0, 0, 3], 77, "moov/trak[0]/tref/chap").unwrap_err();
    assert_eq!(
        e.to_string(),
        "moov/trak[0]/tref/chap at byte 77: is 3 bytes long; it holds 4-byte track IDs only"
    );
    let e = chap_track_ids(&[0; 33 * 4], 0, "c").unwrap_err();
    assert!(matches!(e, Error::Limit { .. }), "{e}");
}

#[test]
fn tidy_sorts_dedups_names_and_cuts() {
    let long = "x".repeat(MAX_TITLE + 10);
    let (list, warnings) = tidy(vec![
        chapter(5000, "Two\nlines"),
        chapter(0, "  "),
        chapter(5000, "Same instant"),
        chapter(9000, &long),
    ]);
    assert_eq!(list[0], chapter(0, "Chapter 1"));
    assert_eq!(list[1], chapter(5000, "Two lines"));
    assert_eq!(list[2].title.chars().count(), MAX_TITLE);
    assert_eq!(list.len(), 3);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
}

#[test]
fn fixture_chapter_track_is_read_and_not_left_out() {
    let movie = crate::demux::demux(&FIXTURE.to_vec(), &Limits::default()).unwrap();
    assert_eq!(
        movie.chapters,
        vec![
            chapter(0, "Opening"),
            chapter(3000, "Café tour"),
            chapter(6000, "Q&A and credits")
        ]
    );
    let text = movie.tracks.iter().find(|t| t.handler == "text").unwrap();
    assert_eq!(movie.chapter_tracks, vec![text.id]);
    assert!(
        !movie.warnings.iter().any(|w| w.contains("left out")),
        "{:?}",
        movie.warnings
    );
    assert!(movie.video.is_some() && movie.audio.is_some());
}

/// Offset of the first `kind` box in `bytes` (a byte search: the fixture's boxes are known).
fn find(bytes: &[u8], kind: &[u8; 4]) -> usize {
    bytes.windows(4).position(|w| w == kind).unwrap() - 4
}

#[test]
fn fixture_chpl_read_when_no_chapter_track_is_referenced() {
    let mut bytes = FIXTURE.to_vec();
    // Point every tref/chap at track 0 (no track): the chpl box is read instead.
    let mut from = 0;
    while let Some(p) = bytes[from..].windows(4).position(|w| w == b"chap") {
        let at = from + p + 4;
        bytes[at..at + 4].copy_from_slice(&[0; 4]);
        from = at;
    }
    let movie = crate::demux::demux(&bytes, &Limits::default()).unwrap();
    assert_eq!(movie.chapters.len(), 3);
    assert_eq!(movie.chapters[2], chapter(6000, "Q&A and credits"));
    assert!(movie.chapter_tracks.is_empty());
    // The text track is no longer a chapter track: it is left out as an unsupported one.
    assert!(movie.warnings.iter().any(|w| w.contains("left out")));
}

#[test]
fn fixture_broken_chpl_is_a_warning_not_a_refusal() {
    let mut bytes = FIXTURE.to_vec();
    let mut from = 0;
    while let Some(p) = bytes[from..].windows(4).position(|w| w == b"chap") {
        let at = from + p + 4;
        bytes[at..at + 4].copy_from_slice(&[0; 4]);
        from = at;
    }
    let chpl = find(&bytes, b"chpl");
    bytes[chpl + 16] = 250; // the count: far more than the box holds
    let movie = crate::demux::demux(&bytes, &Limits::default()).unwrap();
    assert!(movie.chapters.is_empty());
    let w = movie
        .warnings
        .iter()
        .find(|w| w.contains("chapters"))
        .expect("a warning about the chapters");
    assert!(
        w.contains("moov/udta/chpl at byte") && w.contains("declares 250 chapters"),
        "{w}"
    );
    assert!(movie.video.is_some());
}

#[test]
fn fixture_bad_utf8_in_chapter_sample_is_a_warning() {
    let mut bytes = FIXTURE.to_vec();
    // The first chapter sample ("Opening") is the first thing ffmpeg wrote in mdat for the text track:
    // find it by its bytes and break its UTF-8.
    let at = bytes
        .windows(9)
        .position(|w| w == b"\0\x07Opening")
        .unwrap();
    bytes[at + 2] = 0xFF;
    let movie = crate::demux::demux(&bytes, &Limits::default()).unwrap();
    assert!(movie.chapters.is_empty());
    assert!(
        movie
            .warnings
            .iter()
            .any(|w| w.contains("chapter track") && w.contains("not UTF-8")),
        "{:?}",
        movie.warnings
    );
}
