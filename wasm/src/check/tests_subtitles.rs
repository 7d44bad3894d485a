//! The subtitle checks on a package made with captions, then broken one way at a time.

use super::tests_util::*;
use super::*;
use crate::captions::{CaptionInput, Chapter, TextLimits};

/// The h264_aac_bframes fixture at 2 s segments with English and Portuguese captions and two chapters;
/// the English directory is returned too.
fn captioned() -> (MemReader, String) {
    let src = fixture("h264_aac_bframes.mp4");
    let mut opts = crate::SegmentOptions::default();
    opts.plan.target_duration_s = 2.0;
    let mut pkg = crate::segment(&src, &opts).unwrap();
    let en = "WEBVTT\n\n00:00.500 --> 00:02.500\nacross the first boundary\n\n00:03.000 --> 00:03.500\nthree\n";
    let pt =
        "1\n00:00:01,000 --> 00:00:01,500\num\n\n2\n00:00:30,000 --> 00:00:31,000\nafter the end\n";
    let input = |lang: &str, name: &str, text: &str, default| CaptionInput {
        lang: lang.into(),
        name: name.into(),
        default,
        forced: false,
        bytes: text.as_bytes().to_vec(),
    };
    let chapters = [
        Chapter {
            start_ms: 0,
            title: "Start".into(),
        },
        Chapter {
            start_ms: 1000,
            title: "Later".into(),
        },
    ];
    let warnings = pkg
        .add_text(
            &[
                input("en", "English", en, true),
                input("pt-BR", "Português", pt, false),
            ],
            Some(&chapters),
            &TextLimits::default(),
        )
        .unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("captions \"pt-BR\"") && w.contains("1 cue(s) after it dropped")),
        "{warnings:?}"
    );
    assert_eq!(pkg.summary.captions.len(), 2);
    assert_eq!(pkg.summary.chapters.as_deref(), Some("chapters.vtt"));
    let en_dir = pkg.summary.captions[0].dir.clone();
    let mut r = MemReader::default();
    for (path, body) in pkg.files() {
        r.files.insert(path, body.to_vec(&src).unwrap());
    }
    (r, en_dir)
}

#[test]
fn captioned_package_passes() {
    let (pkg, en) = captioned();
    let r = check(&pkg);
    assert!(r.findings.is_empty(), "{}", render_text(&r));
    let seg2 = String::from_utf8(pkg.files[&format!("{en}/seg_00002.vtt")].clone()).unwrap();
    assert!(seg2.contains("across the first boundary"), "{seg2}");
    assert!(pkg.files.contains_key("chapters.vtt"));
    assert!(pkg.files.contains_key(&format!("{en}/all.vtt")));
}

#[test]
fn broken_subtitles_are_reported() {
    let (good, en) = captioned();
    let seg = |k| format!("{en}/seg_{k:05}.vtt");
    type Break<'a> = Box<dyn Fn(&mut MemReader) + 'a>;
    let cases: Vec<(Break, &str)> = vec![
        (
            Box::new(|p| {
                // A 9 before the value: another start than the video's, whatever it is.
                edit(
                    p,
                    &seg(1),
                    "X-TIMESTAMP-MAP=MPEGTS:",
                    "X-TIMESTAMP-MAP=MPEGTS:9",
                )
            }),
            "the video starts at",
        ),
        (
            Box::new(|p| {
                let text = String::from_utf8(p.files[&seg(1)].clone()).unwrap();
                let map = text
                    .lines()
                    .find(|l| l.starts_with("X-TIMESTAMP-MAP="))
                    .unwrap()
                    .to_string();
                edit(p, &seg(1), &format!("{map}\n"), "")
            }),
            "no X-TIMESTAMP-MAP",
        ),
        (
            Box::new(|p| {
                edit(
                    p,
                    &seg(2),
                    "00:00:00.500 --> 00:00:02.500\nacross the first boundary\n",
                    "",
                )
            }),
            "not repeated here",
        ),
        (
            Box::new(|p| {
                edit(p, &seg(1), "00:00:02.500\nacross", "00:00:02.500\n\n00:00:09.000 --> 00:00:09.500\nlate\n\nx\n00:00:00.500 --> 00:00:02.500\nacross")
            }),
            "outside the segment's span",
        ),
        (
            Box::new(|p| {
                edit(
                    p,
                    &format!("{en}/playlist.m3u8"),
                    "#EXTINF:2.",
                    "#EXTINF:3.",
                )
            }),
            "the video's segment lasts",
        ),
        (
            Box::new(|p| {
                p.files.remove(&format!("{en}/all.vtt"));
            }),
            "text Representation",
        ),
        (
            Box::new(|p| {
                edit(
                    p,
                    "master.m3u8",
                    "SUBTITLES=\"subs\"",
                    "SUBTITLES=\"other\"",
                )
            }),
            "which no EXT-X-MEDIA has",
        ),
    ];
    for (break_it, want) in cases {
        let mut p = good.clone();
        break_it(&mut p);
        let r = check(&p);
        assert!(!r.passed(), "{want}: passed");
        assert!(
            r.findings.iter().any(|f| f.message.contains(want)),
            "{want}:\n{}",
            render_text(&r)
        );
    }
}
