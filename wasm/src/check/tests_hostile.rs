//! Hostile packages: damaged bytes and playlists never panic, and limits hold.
// Test fixtures: offsets, sizes and counts of packages of a few kB, far inside every type they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use super::tests_util::*;
use super::*;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn damaged_files_never_panic() {
    let base = good("h264_aac_bframes.mp4", 2.0);
    let names: Vec<String> = base.files.keys().cloned().collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..400 {
        let mut pkg = base.clone();
        let name = &names[rng.below(names.len())];
        let file = pkg.files.get_mut(name).unwrap();
        match rng.below(3) {
            0 => {
                let cut = rng.below(file.len());
                file.truncate(cut);
            }
            _ => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(file.len());
                    file[at] = rng.next() as u8;
                }
            }
        }
        let _ = check(&pkg); // must not panic
    }
}

#[test]
fn limits_bound_the_work() {
    let pkg = good("h264_aac_bframes.mp4", 2.0);
    let limits = CheckLimits {
        max_segments: 3,
        max_iframe_entries: 1,
        max_playlists: 2,
        ..CheckLimits::default()
    };
    let r = check_package_with(&pkg, "master.m3u8", &limits);
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("more than 2 media playlists")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("more than 3 media segments")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("more than 1 I-frame entries")));
    let tight = CheckLimits {
        max_segment_bytes: 100,
        ..CheckLimits::default()
    };
    let r = check_package_with(&pkg, "master.m3u8", &tight);
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("over the limit of 100")));
}

#[test]
fn playlist_tricks() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "master.m3u8",
        "video/playlist.m3u8",
        "../../etc/passwd",
    );
    edit(
        &mut pkg,
        "audio/playlist.m3u8",
        "seg_00001.m4s",
        "http://example.com/x.m4s",
    );
    edit(
        &mut pkg,
        "video/iframes.m3u8",
        "1435@28",
        "18446744073709551615@28",
    );
    let r = check(&pkg);
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("climbs above the package root")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("has a scheme")));
    assert!(!r.passed());

    let mut pkg = MemReader::default();
    pkg.files.insert("master.m3u8".into(), vec![0xff; 64]);
    assert!(!check(&pkg).passed());
    assert!(!check(&MemReader::default()).passed());
}

#[test]
fn uris_in_any_attribute_form_leaving_the_package_are_must_findings_with_their_line() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "master.m3u8",
        "#EXT-X-INDEPENDENT-SEGMENTS\n",
        "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-CONTENT-STEERING:SERVER-URI=http://127.0.0.2/steer.json\n",
    );
    edit(
        &mut pkg,
        "audio/playlist.m3u8",
        "#EXT-X-ENDLIST",
        "#EXT-X-SESSION-DATA:DATA-ID=\"x\",URI=../../x.json\n#EXT-X-ENDLIST",
    );
    edit(
        &mut pkg,
        "video/playlist.m3u8",
        "#EXT-X-MAP:",
        "#EXT-X-KEY:METHOD=AES-128,URI=https://k.example/k\n#EXT-X-MAP:",
    );
    let r = check(&pkg);
    let line_of = |file: &str, needle: &str| {
        let text = String::from_utf8(pkg.files[file].clone()).unwrap();
        1 + text.lines().position(|l| l.contains(needle)).unwrap()
    };
    for (file, needle, what) in [
        (
            "master.m3u8",
            "SERVER-URI",
            "EXT-X-CONTENT-STEERING SERVER-URI: URI \"http://127.0.0.2/steer.json\" has a scheme",
        ),
        (
            "audio/playlist.m3u8",
            "x.json",
            "EXT-X-SESSION-DATA URI: URI \"../../x.json\" climbs above the package root",
        ),
        (
            "video/playlist.m3u8",
            "EXT-X-KEY",
            "EXT-X-KEY URI: URI \"https://k.example/k\" has a scheme",
        ),
    ] {
        let want = Location::Line {
            line: line_of(file, needle),
        };
        assert!(
            r.of_rule("uris").any(|f| f.severity == Severity::Must
                && f.file == file
                && f.location == want
                && f.message.starts_with(what)),
            "{file}: {}",
            render_text(&r)
        );
    }
    assert_eq!(r.of_rule("uris").count(), 3, "{}", render_text(&r));
    assert!(!r.passed());
}

#[test]
fn a_line_whose_uris_cannot_be_told_is_a_must_finding() {
    let mut pkg = good("h264_aac_bframes.mp4", 2.0);
    edit(
        &mut pkg,
        "master.m3u8",
        "#EXT-X-INDEPENDENT-SEGMENTS\n",
        "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI=\"k.bin\n",
    );
    let r = check(&pkg);
    let f: Vec<_> = r.of_rule("uris").collect();
    assert_eq!(f.len(), 1, "{}", render_text(&r));
    assert_eq!(f[0].location, Location::Line { line: 4 });
    assert!(f[0].message.contains("closing quote"), "{}", f[0].message);
}

#[test]
fn media_playlist_as_master_is_checked_alone() {
    let pkg = good("h264_aac_bframes.mp4", 2.0);
    let r = check_package(&pkg, "video/playlist.m3u8");
    assert_eq!(r.findings.len(), 1, "{}", render_text(&r));
    assert!(r.findings[0]
        .message
        .contains("not a multivariant playlist"));
}
