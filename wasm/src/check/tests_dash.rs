//! Hand-broken MPDs, one per DASH rule: the good package of a fixture, then its `manifest.mpd` (or one
//! segment) changed in memory. Each rule fires on its broken package; `tests.rs` shows every fixture's
//! package is quiet.

use super::tests_util::*;
use super::*;

const MPD: &str = crate::layout::MANIFEST;

fn mpd_text(pkg: &MemReader) -> String {
    String::from_utf8(pkg.files[MPD].clone()).unwrap()
}

/// `rule` fires, as a MUST, on the MPD, with a message containing `needle`.
fn fires(pkg: &MemReader, rule: &str, needle: &str) {
    let r = check(pkg);
    assert!(
        r.of_rule(rule)
            .any(|f| f.severity == Severity::Must && f.message.contains(needle)),
        "{rule} / {needle:?} did not fire:\n{}",
        render_text(&r)
    );
    assert!(!r.passed());
}

#[test]
fn unreadable_or_foreign_mpds() {
    for (from, to, needle) in [
        (
            "<Period",
            "<BaseURL>https://cdn.example/</BaseURL><Period",
            "BaseURL",
        ),
        ("<MPD ", "<MPDX ", "<MPDX> is not accepted"),
        ("<MPD ", "<!DOCTYPE MPD>\n<MPD ", "DOCTYPE"),
        ("</MPD>", "", "is not closed"),
        (
            "<Period",
            "<Representation id=\"x\"/><Period",
            "is not where",
        ),
        (" r=\"", " r=\"-", "negative"),
        (
            "media=\"video/",
            "media=\"https://cdn.example/video/",
            "scheme",
        ),
        (
            "media=\"video/seg_$Number%05d$",
            "media=\"video/seg_$Nmber$",
            "unknown identifier",
        ),
        (
            "<AdaptationSet",
            "<AdaptationSet xlink:href=\"https://x.example/a\"",
            "xlink",
        ),
        ("type=\"static\"", "type=\"dynamic\"", "static"),
    ] {
        let mut pkg = good("h264_aac_bframes.mp4", 2.0);
        edit(&mut pkg, MPD, from, to);
        fires(&pkg, "DASH mpd", needle);
    }
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    pkg.files.insert(MPD.into(), b"\xff\xfe<MPD/>".to_vec());
    fires(&pkg, "DASH mpd", "UTF-8");
}

#[test]
fn missing_segment() {
    // Files the playlists do not name (a missing one the playlists name is the HLS `files` finding).
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(&mut pkg, MPD, "media=\"video/seg_", "media=\"video/x_");
    fires(&pkg, "DASH files", "Representation video");
    let r = check(&pkg);
    assert!(r
        .of_rule("DASH files")
        .any(|f| f.file == "video/x_00003.m4s"));
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        MPD,
        "initialization=\"video/",
        "initialization=\"v/",
    );
    fires(&pkg, "files", "cannot read the init segment");
}

#[test]
fn timeline_off_by_one_tick() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    let text = mpd_text(&pkg);
    // The first entry of the video timeline, one tick longer.
    let at = text.find(" d=\"").unwrap() + 4;
    let end = at + text[at..].find('"').unwrap();
    let d: u64 = text[at..end].parse().unwrap();
    edit(
        &mut pkg,
        MPD,
        &format!(" d=\"{d}\""),
        &format!(" d=\"{}\"", d + 1),
    );
    fires(&pkg, "DASH timeline", &format!("d={}", d + 1));
    // And a timescale that is not the track's.
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(&mut pkg, MPD, "timescale=\"", "timescale=\"9");
    fires(&pkg, "DASH timeline", "timescale");
}

#[test]
fn codecs_bandwidth_and_attributes() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(&mut pkg, MPD, "codecs=\"avc1.", "codecs=\"avc3.");
    fires(&pkg, "DASH codecs", "avc3.");

    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(&mut pkg, MPD, "bandwidth=\"", "bandwidth=\"9");
    fires(&pkg, "DASH bandwidth", "measured peak");
    // 5 % over the peak is within the rule.
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    let text = mpd_text(&pkg);
    let at = text.find("bandwidth=\"").unwrap() + 11;
    let end = at + text[at..].find('"').unwrap();
    let bw: u64 = text[at..end].parse().unwrap();
    edit(
        &mut pkg,
        MPD,
        &format!("bandwidth=\"{bw}\""),
        &format!("bandwidth=\"{}\"", bw * 105 / 100),
    );
    assert_eq!(check(&pkg).of_rule("DASH bandwidth").count(), 0);

    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(&mut pkg, MPD, " width=\"", " width=\"1");
    fires(&pkg, "DASH attributes", "width x height");
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        MPD,
        "audioSamplingRate=\"",
        "audioSamplingRate=\"1",
    );
    fires(&pkg, "DASH attributes", "audioSamplingRate");
}

#[test]
fn segment_without_sap() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    set_first_sample_non_sync(pkg.files.get_mut("video/seg_00002.m4s").unwrap());
    fires(
        &pkg,
        "DASH SAP",
        "video/seg_00002.m4s does not start with a sync sample",
    );
    let mut pkg = good("hevc_hvc1_aac.mp4", 2.0);
    break_key_frame(&mut pkg, "video/seg_00002.m4s");
    fires(&pkg, "DASH SAP", "video/seg_00002.m4s");
}

/// A second video Representation over the same files, cut every two segments: not aligned with the first.
#[test]
fn video_representations_not_aligned() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    let text = mpd_text(&pkg);
    let start = text.find("<Representation id=\"video\"").unwrap();
    let end = start + text[start..].find("</Representation>").unwrap() + "</Representation>".len();
    let rep = &text[start..end];
    let tl = rep.find("<SegmentTimeline>").unwrap();
    let tl_end = rep.find("</SegmentTimeline>").unwrap();
    let twice = format!(
        "{}<SegmentTimeline><S t=\"0\" d=\"51200\" r=\"1\"/>{}",
        &rep[..tl],
        &rep[tl_end..]
    )
    .replace("id=\"video\"", "id=\"video2\"");
    assert!(rep.contains("d=\"25600\" r=\"3\""), "{rep}");
    edit(&mut pkg, MPD, rep, &format!("{rep}{twice}"));
    fires(&pkg, "DASH alignment", "video2 (2 segments)");
}

#[test]
fn hls_and_dash_differ() {
    // The audio AdaptationSet left out: the audio playlist has no Representation.
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    let text = mpd_text(&pkg);
    let start = text.find("<AdaptationSet id=\"1\"").unwrap();
    let end = start + text[start..].find("</AdaptationSet>").unwrap() + "</AdaptationSet>".len();
    edit(&mut pkg, MPD, &text[start..end], "");
    fires(
        &pkg,
        "DASH = HLS",
        "no Representation describes audio/playlist.m3u8",
    );
    // A segment more in the MPD than in the playlist (the file exists, under another name).
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    let last = pkg.files["video/seg_00004.m4s"].clone();
    pkg.files.insert("video/seg_00005.m4s".into(), last);
    edit(&mut pkg, MPD, "d=\"25600\" r=\"3\"", "d=\"25600\" r=\"4\"");
    fires(&pkg, "DASH = HLS", "names 5 segments");
}

#[test]
fn no_mpd_is_an_hls_only_package() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    pkg.files.remove(MPD);
    let r = check(&pkg);
    assert!(r.findings.is_empty(), "{}", render_text(&r));
}

/// Hostile MPDs: cut anywhere, numbers at their limits, a repeat count that would name billions of
/// segments. The check reports and never panics, and the work stays bounded.
#[test]
fn hostile_mpds_never_panic() {
    let good_pkg = good("h264_aac_bframes.mp4", 2.0);
    let text = mpd_text(&good_pkg);
    for cut in (0..text.len()).step_by(37) {
        let mut pkg = good_pkg.clone();
        pkg.files
            .insert(MPD.into(), text.as_bytes()[..cut].to_vec());
        assert!(!check(&pkg).passed(), "cut at {cut}");
    }
    for (from, to, needle) in [
        (
            " r=\"3\"",
            " r=\"9223372036854775807\"",
            "more segments than are checked",
        ),
        (" r=\"3\"", " r=\"18446744073709551616\"", "not a number"),
        (
            "t=\"0\"",
            "t=\"18446744073709551615\"",
            "t=18446744073709551615",
        ),
        ("timescale=\"12800\"", "timescale=\"0\"", "timescale 0"),
        ("%05d", "%020d", "DASH"),
        (
            "startNumber=\"1\"",
            "startNumber=\"18446744073709551615\"",
            "Representation video",
        ),
    ] {
        let mut pkg = good_pkg.clone();
        edit(&mut pkg, MPD, from, to);
        let r = check(&pkg);
        assert!(!r.passed(), "{to}");
        assert!(
            r.findings
                .iter()
                .any(|f| f.message.contains(needle) || f.rule.contains(needle)),
            "{to}: {}",
            render_text(&r)
        );
    }
}

/// The chapters fixture's package with a storyboard (one 1280 × 90 JPEG sheet of 8 tiles) announced in
/// its MPD as the browser does it.
fn with_storyboard() -> MemReader {
    use crate::layout::Picture;
    let mut pkg = good("chapters.mp4", 2.0);
    let plan = crate::storyboard::plan(8000, 160, 90).unwrap();
    // A JPEG header: SOI, SOF0 (precision 8, height 90, width 1280, one component), EOI.
    let sheet = vec![
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x5A, 0x05, 0x00, 0x01, 0x01, 0x11, 0x00,
        0xFF, 0xD9,
    ];
    let mpd =
        crate::storyboard::dash::attach(&mpd_text(&pkg), &plan, Picture::Jpeg, sheet.len() as u64)
            .unwrap();
    pkg.files.insert(MPD.into(), mpd.into_bytes());
    pkg.files.insert(
        crate::layout::STORYBOARD_VTT.into(),
        crate::storyboard::vtt::write(&plan, Picture::Jpeg).into_bytes(),
    );
    pkg.files.insert("storyboard/sheet_001.jpg".into(), sheet);
    pkg
}

#[test]
fn storyboard_image_set_passes_and_each_break_fires() {
    let pkg = with_storyboard();
    let r = check(&pkg);
    assert!(r.passed(), "{}", render_text(&r));
    assert_eq!(
        r.of_rule("DASH thumbnails").count(),
        0,
        "{}",
        render_text(&r)
    );
    for (from, to, needle) in [
        (
            "value=\"8x1\"",
            "value=\"3x1\"",
            "not a whole number of 3x1 tiles",
        ),
        (
            "value=\"8x1\"",
            "value=\"4x1\"",
            "tiles are 160x90 pixels; the MPD's are 320x90",
        ),
        (
            "duration=\"8000\"",
            "duration=\"16000\"",
            "a sheet lasts 16000 ms in the MPD",
        ),
        (
            "http://dashif.org/thumbnail_tile",
            "urn:other",
            "no EssentialProperty",
        ),
        (
            "width=\"1280\"",
            "width=\"2560\"",
            "the MPD declares 2560x90",
        ),
        (
            "sheet_$Number%03d$.jpg",
            "sheet_$Number%03d$.webp",
            "not a image/jpeg file",
        ),
        (
            "bandwidth=\"17\"",
            "bandwidth=\"170\"",
            "bandwidth 170 is not within 10 %",
        ),
    ] {
        let mut bad = pkg.clone();
        edit(&mut bad, MPD, from, to);
        fires(&bad, "DASH thumbnails", needle);
    }
    let mut missing = pkg.clone();
    missing.files.remove("storyboard/sheet_001.jpg");
    fires(
        &missing,
        "DASH thumbnails",
        "sheet 1 of Representation storyboard",
    );
}
