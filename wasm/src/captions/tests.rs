//! The parsers on hand-made edge cases.

use super::*;

fn read(text: &str) -> Result<Track, TextError> {
    parse(text.as_bytes(), &TextLimits::default())
}

#[test]
fn webvtt_with_bom_crlf_hours_styles_and_settings() {
    let text = "\u{feff}WEBVTT - a title\r\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\r\n\r\n\
                STYLE\r\n::cue { color: yellow }\r\n\r\nREGION\r\nid:r1 width:40%\r\n\r\n\
                NOTE a comment\r\nover two lines\r\n\r\n\
                intro\r\n00:01.000 --> 00:02.500 line:0 align:start\r\n<b>Hello</b> &amp; welcome\r\n\r\n\
                123:00:00.000 --> 123:00:01.000\r\nlate\r\n";
    let t = read(text).unwrap();
    assert_eq!(
        t.blocks,
        ["STYLE\n::cue { color: yellow }", "REGION\nid:r1 width:40%"]
    );
    assert_eq!(t.cues.len(), 2);
    let c = &t.cues[0];
    assert_eq!(
        (c.id.as_deref(), c.start_ms, c.end_ms),
        (Some("intro"), 1000, 2500)
    );
    assert_eq!(c.settings, "line:0 align:start");
    assert_eq!(c.text, "<b>Hello</b> &amp; welcome");
    assert_eq!(t.cues[1].start_ms, 123 * 3_600_000);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    let out = t.to_vtt();
    assert!(
        out.starts_with("WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\nREGION\n"),
        "{out}"
    );
    assert!(out.contains("intro\n00:00:01.000 --> 00:00:02.500 line:0 align:start\n<b>Hello</b>"));
    assert!(
        out.contains("123:00:00.000 --> 123:00:01.000\nlate\n"),
        "{out}"
    );
    // The normalised file reads back to the same cues.
    let strip = |cues: &[Cue]| -> Vec<(Option<String>, u64, u64, String, String)> {
        cues.iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.start_ms,
                    c.end_ms,
                    c.settings.clone(),
                    c.text.clone(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&read(&out).unwrap().cues), strip(&t.cues));
}

#[test]
fn webvtt_errors_name_the_line_and_what_was_expected() {
    let cases = [
        ("WEBVTTX\n", 1, "WEBVTT"),
        ("hello\n", 1, "SRT"),
        ("WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", 3, "not a cue"),
        (
            "WEBVTT\n\nid\n00:01.000 --> 00:02.00\nx\n",
            4,
            "00:01:02.345",
        ),
        ("WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", 3, "59"),
        (
            "WEBVTT\n\n1:00:01.000 --> 1:00:02.000\nx\n",
            3,
            "expected a timestamp",
        ),
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n00:03.000 --> 00:04.000\n",
            5,
            "-->",
        ),
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\nSTYLE\n::cue {}\n",
            6,
            "before the first cue",
        ),
    ];
    for (text, line, want) in cases {
        let e = read(text).unwrap_err();
        assert_eq!(e.line(), Some(line), "{text:?}: {e}");
        assert!(e.to_string().contains(want), "{text:?}: {e}");
        assert_eq!(e.code(), "bad-captions");
    }
    let e = parse(b"WEBVTT\n\n\xff\n", &TextLimits::default()).unwrap_err();
    assert_eq!(e.line(), Some(3), "{e}");
}

#[test]
fn limits_refuse_large_files_and_too_many_cues() {
    let limits = TextLimits {
        max_bytes: 100,
        max_cues: 2,
    };
    let big = format!("WEBVTT\n\n{}", "x".repeat(100));
    assert_eq!(
        parse(big.as_bytes(), &limits).unwrap_err().code(),
        "captions-over-limit"
    );
    let many = "WEBVTT\n\n00:01.000 --> 00:02.000\na\n\n00:02.000 --> 00:03.000\nb\n\n00:03.000 --> 00:04.000\nc\n";
    let limits = TextLimits {
        max_bytes: 1000,
        max_cues: 2,
    };
    let e = parse(many.as_bytes(), &limits).unwrap_err();
    assert!(e.to_string().contains("more than 2 cues (line 9)"), "{e}");
}

#[test]
fn out_of_order_and_overlapping_cues_are_kept_sorted_and_reported() {
    let t = read(
        "WEBVTT\n\n00:05.000 --> 00:06.000\nsecond\n\n00:01.000 --> 00:03.000\nfirst\n\n\
         00:02.000 --> 00:04.000\noverlaps\n\n00:07.000 --> 00:07.000\nempty span\n",
    )
    .unwrap();
    let texts: Vec<&str> = t.cues.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["first", "overlaps", "second"]);
    let w = t.warnings.join("\n");
    assert!(
        w.contains("line 6: the cue starts at 00:00:01.000, before the cue at line 3"),
        "{w}"
    );
    assert!(
        w.contains("line 9: the cue (00:00:02.000 --> 00:00:04.000) overlaps the cue at line 6"),
        "{w}"
    );
    assert!(
        w.contains("line 12: 1 cue(s) end at or before their start"),
        "{w}"
    );
}

#[test]
fn srt_to_webvtt() {
    let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,000\r\n<font color=\"red\">Red</font> & <i>it</i>\r\n\r\n\
               2\r\n100:00:02,500 --> 100:00:03.000 X1:10 X2:20 Y1:5 Y2:6\r\n{\\an8}Top < line\r\nsecond line\r\n";
    let t = read(srt).unwrap();
    assert_eq!(t.cues.len(), 2);
    assert_eq!(t.cues[0].text, "Red &amp; <i>it</i>");
    assert_eq!(t.cues[1].start_ms, 100 * 3_600_000 + 2500);
    assert_eq!(t.cues[1].settings, "line:0");
    assert_eq!(t.cues[1].text, "Top &lt; line\nsecond line");
    let vtt = t.to_vtt();
    assert!(
        vtt.contains("100:00:02.500 --> 100:00:03.000 line:0\nTop &lt; line\nsecond line"),
        "{vtt}"
    );
    assert_eq!(read(&vtt).unwrap().cues.len(), 2);
}

#[test]
fn srt_errors() {
    let e = read("1\n00:00:01,000 -> 00:00:02,000\nx\n").unwrap_err();
    assert_eq!(e.line(), Some(2), "{e}");
    let e = read("1\n00:00:01,000 --> 00:00:02,000\nx\n\nfoo\n").unwrap_err();
    assert!(
        e.to_string().starts_with("line 5: expected a cue number"),
        "{e}"
    );
    let e = read("1\n").unwrap_err();
    assert!(e.to_string().contains("timing line"), "{e}");
    assert_eq!(read("").unwrap().cues.len(), 0);
}

#[test]
fn language_tags() {
    assert_eq!(language_tag("pt-BR").unwrap(), "pt-BR");
    assert_eq!(language_tag("pt-br").unwrap(), "pt-BR");
    assert_eq!(language_tag("ZH-hant-tw").unwrap(), "zh-Hant-TW");
    assert_eq!(language_tag("en-x-ab").unwrap(), "en-x-ab");
    assert_eq!(language_tag("es-419").unwrap(), "es-419");
    assert_eq!(language_tag("en").unwrap(), "en");
    for bad in ["", "e", "en_us", "-en", "en-", "../x", "1en", "en--us"] {
        assert!(language_tag(bad).is_err(), "{bad}");
    }
}

#[test]
fn chapters_from_typed_lines() {
    let list =
        parse_chapter_list("0:00 Intro\n\n1:30 - Part <two>\n1:02:03.5 End & credits\n").unwrap();
    assert_eq!(
        list.iter().map(|c| c.start_ms).collect::<Vec<_>>(),
        [0, 90_000, 3_723_500]
    );
    assert_eq!(list[1].title, "Part <two>");
    let vtt = chapters_vtt(&list, 4_000_000).unwrap();
    assert_eq!(
        vtt,
        "WEBVTT\n\nchapter-1\n00:00:00.000 --> 00:01:30.000\nIntro\n\n\
         chapter-2\n00:01:30.000 --> 01:02:03.500\nPart &lt;two&gt;\n\n\
         chapter-3\n01:02:03.500 --> 01:06:40.000\nEnd &amp; credits\n"
    );
    // A chapters WebVTT reads back to the same list (titles unescaped by nobody: kept as text).
    let again = parse_chapter_list(&vtt).unwrap();
    assert_eq!(again.len(), 3);
    assert_eq!(again[2].start_ms, 3_723_500);
    let e = parse_chapter_list("0:00 Intro\n1:75 Bad\n").unwrap_err();
    assert!(e.starts_with("line 2: expected a time"), "{e}");
    assert!(chapters_vtt(&list, 3_000_000)
        .unwrap_err()
        .contains("not before the video's end"));
    assert!(chapters_vtt(&[], 1000).is_err());
    let untitled = [Chapter {
        start_ms: 0,
        title: String::new(),
    }];
    assert!(chapters_vtt(&untitled, 1000).is_err());
}
