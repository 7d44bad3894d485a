//! Hand-broken packages, one per rule: a good package made by `crate::segment` from a fixture, then one
//! playlist line or a few segment bytes changed in memory. Each rule must fire on its broken package and stay
//! quiet on the good one. Mutation helpers live in `tests_util`.

use super::tests_util::*;
use super::*;

#[test]
fn good_package_has_no_findings() {
    let r = check(&good("h264_aac_bframes.mp4", 2.0));
    assert!(r.findings.is_empty(), "{}", render_text(&r));
    assert!(r.passed());
    // 14 files and the MPD, and the 4 video segments again for the I-frame byte ranges (the MPD's
    // segments are the playlists': not read again).
    assert_eq!(r.files_read, 19);
}

#[test]
fn every_fixture_package_has_no_findings() {
    for name in FIXTURES {
        for target in [2.0, 6.0] {
            let r = check(&good(name, target));
            // Not only no MUST: nothing at all, SHOULDs included (every first sample's bitstream could be
            // read and is a key frame, audio and video start together).
            assert!(
                r.findings.is_empty(),
                "{name} at {target} s:\n{}",
                render_text(&r)
            );
        }
    }
}

#[test]
fn rule_7_4_first_sample_not_idr_in_bitstream() {
    for (name, seg) in [
        ("h264_aac_bframes.mp4", "video/seg_00002.m4s"),
        ("hevc_hvc1_aac.mp4", "video/seg_00002.m4s"),
        ("av1_opus.mp4", "video/seg_00002.m4s"),
        ("vp9_opus.mp4", "video/seg_00002.m4s"),
    ] {
        let mut pkg = good(name, 2.0);
        break_key_frame(&mut pkg, seg);
        let r = check(&pkg);
        let hits: Vec<_> = r.of_rule("7.4").collect();
        assert!(
            hits.iter().any(|f| f.file == seg
                && f.message.contains("not a random access point")
                && f.severity == Severity::Must),
            "{name}: {}",
            render_text(&r)
        );
        // ... and the sync flag now disagrees with the bitstream.
        assert!(
            hits.iter().any(|f| f.title.contains("consistent")),
            "{name}"
        );
    }
}

#[test]
fn rule_7_4_first_sample_flagged_non_sync() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    set_first_sample_non_sync(pkg.files.get_mut("video/seg_00003.m4s").unwrap());
    let r = check(&pkg);
    assert!(r
        .of_rule("7.4")
        .any(|f| f.file == "video/seg_00003.m4s" && f.message.contains("non-sync")));
    assert!(r.of_rule("7.4").any(|f| f.title.contains("consistent")));
}

#[test]
fn rule_7_3_tfdt_gap() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    add_to_tfdt(pkg.files.get_mut("video/seg_00003.m4s").unwrap(), 1000);
    let r = check(&pkg);
    let f = r
        .of_rule("7.3")
        .find(|f| f.message.contains("+1000 ticks"))
        .expect("7.3 fires");
    assert_eq!(f.file, "video/seg_00003.m4s");
    assert_eq!(f.location, Location::Byte { byte: 28 });
}

#[test]
fn rule_8_20_no_map() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "audio/playlist.m3u8",
        "#EXT-X-MAP:URI=\"init.mp4\"\n",
        "",
    );
    let r = check(&pkg);
    let f = r.of_rule("8.20").next().expect("8.20 fires");
    assert_eq!(
        (f.file.as_str(), f.location),
        ("audio/playlist.m3u8", Location::Line { line: 7 })
    );
}

#[test]
fn rule_8_1_extinf_disagrees() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "video/playlist.m3u8",
        "#EXTINF:2.000000,\nseg_00002",
        "#EXTINF:1.900000,\nseg_00002",
    );
    let r = check(&pkg);
    let f = r.of_rule("8.1").next().expect("8.1 fires");
    assert_eq!(f.location, Location::Line { line: 10 });
    // The MPD still says 2 s: HLS and DASH now disagree, and nothing else fires.
    assert!(r
        .of_rule("DASH = HLS")
        .any(|f| f.message.contains("durations differ")));
    assert_eq!(r.findings.len(), 2, "{}", render_text(&r));
}

#[test]
fn rule_7_7_and_target_duration() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "audio/playlist.m3u8",
        "TARGETDURATION:2",
        "TARGETDURATION:1",
    );
    let r = check(&pkg);
    assert_eq!(r.of_rule("7.7").count(), 4, "{}", render_text(&r));
    assert_eq!(r.of_rule("RFC8216 4.3.3.1").count(), 4);
}

#[test]
fn rule_8_6_vod_and_endlist() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(&mut pkg, "video/playlist.m3u8", "#EXT-X-ENDLIST\n", "");
    edit(
        &mut pkg,
        "audio/playlist.m3u8",
        "PLAYLIST-TYPE:VOD",
        "PLAYLIST-TYPE:EVENT",
    );
    let r = check(&pkg);
    let files: Vec<_> = r.of_rule("8.6").map(|f| f.file.as_str()).collect();
    assert_eq!(files, ["video/playlist.m3u8", "audio/playlist.m3u8"]);
}

#[test]
fn rule_8_7_and_8_22_renditions_disagree() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "audio/playlist.m3u8",
        "#EXTINF:1.984000,\nseg_00004.m4s\n",
        "",
    );
    let r = check(&pkg);
    assert!(r.of_rule("8.7").any(|f| f.file == "audio/playlist.m3u8"));
    assert!(r
        .of_rule("8.22")
        .any(|f| f.message.contains("has 3 segments")));
}

#[test]
fn rule_8_22_cut_moved_and_av_start() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    for k in 1..=4 {
        let seg = format!("audio/seg_{k:05}.m4s");
        add_to_tfdt(pkg.files.get_mut(&seg).unwrap(), 9600); // 0.2 s at 48 kHz
    }
    let r = check(&pkg);
    assert!(
        r.of_rule("8.22")
            .any(|f| f.message.contains("segment 2 starts at 2.205")),
        "{}",
        render_text(&r)
    );
    assert!(r
        .of_rule("A/V start")
        .any(|f| f.severity == Severity::Should));
    assert!(r.of_rule("8.7").count() == 1);
}

#[test]
fn multivariant_rules() {
    let cases: [(&str, &str, &str); 10] = [
        (
            "9.1",
            "CODECS=\"avc1.64000b,mp4a.40.2\"",
            "CODECS=\"avc1.640028,mp4a.40.2\"",
        ),
        ("9.1", ",CODECS=\"avc1.64000b,mp4a.40.2\"", ""),
        ("9.2", "RESOLUTION=160x90,FRAME", "RESOLUTION=320x180,FRAME"),
        ("9.14", "AVERAGE-BANDWIDTH=60151,", ""),
        ("9.15", "FRAME-RATE=25", "FRAME-RATE=30"),
        ("1.26", "BANDWIDTH=60932", "BANDWIDTH=50000"),
        ("1.27", "AVERAGE-BANDWIDTH=60151", "AVERAGE-BANDWIDTH=70000"),
        ("9.11", "#EXT-X-INDEPENDENT-SEGMENTS\n", ""),
        ("8.9", ",AUDIO=\"audio\"", ""),
        ("8.10", "LANGUAGE=\"und\",", ""),
    ];
    for (rule, from, to) in cases {
        let mut pkg = good("h264_aac_bframes.mp4", 2.0);
        edit(&mut pkg, "master.m3u8", from, to);
        let r = check(&pkg);
        let f = r
            .of_rule(rule)
            .next()
            .unwrap_or_else(|| panic!("{rule} does not fire:\n{}", render_text(&r)));
        assert_eq!(f.file, "master.m3u8");
        if rule != "9.11" {
            assert!(
                matches!(f.location, Location::Line { .. }),
                "{rule}: {:?}",
                f.location
            );
        }
    }
}

#[test]
fn rule_6_1_iframes() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    let master = String::from_utf8(pkg.files["master.m3u8"].clone()).unwrap();
    let line = master
        .lines()
        .find(|l| l.starts_with("#EXT-X-I-FRAME"))
        .unwrap()
        .to_string();
    edit(&mut pkg, "master.m3u8", &format!("{line}\n"), "");
    assert!(check(&pkg)
        .of_rule("6.1")
        .any(|f| f.message.contains("no EXT-X-I-FRAME-STREAM-INF")));

    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "video/iframes.m3u8",
        "BYTERANGE:1063@28",
        "BYTERANGE:1000@28",
    );
    let r = check(&pkg);
    let f = r.of_rule("6.1").next().expect("6.1 fires on a cut range");
    assert_eq!(
        (f.file.as_str(), f.location),
        ("video/iframes.m3u8", Location::Line { line: 13 })
    );

    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    break_key_frame(&mut pkg, "video/seg_00002.m4s");
    assert!(check(&pkg)
        .of_rule("6.1")
        .any(|f| f.message.contains("not a key frame")));
}

#[test]
fn missing_and_garbage_files() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    pkg.files.remove("audio/seg_00002.m4s");
    pkg.files
        .insert("video/init.mp4".into(), b"not an mp4".to_vec());
    let r = check(&pkg);
    let files: Vec<_> = r.of_rule("files").map(|f| f.file.as_str()).collect();
    assert_eq!(
        files,
        ["video/init.mp4", "audio/seg_00002.m4s"],
        "{}",
        render_text(&r)
    );
    assert!(!r.passed());
}
