//! `upcast validate` end to end: a package made by ffmpeg's HLS muxer (fMP4 segments) is checked and its
//! report compared with a golden file; our own packages pass; exit codes; JSON; a loopback HTTP server.
//!
//! Regenerate the golden file with `UPDATE_GOLDEN=1 cargo test -p upcast --test validate`.

#[path = "../../testkit/common/mod.rs"]
mod common;

use common::{ffmpeg, fixture, repo_root, require_ffmpeg, run, scratch_dir};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use upcast_core::check::render_text;

fn upcast() -> Command {
    Command::new(env!("CARGO_BIN_EXE_upcast"))
}

/// ffmpeg 5.1's HLS muxer with fMP4 segments: video and an audio group, 2 s segments, from a fixture.
fn ffmpeg_package(dir: &Path) {
    require_ffmpeg();
    let r = run(ffmpeg()
        .current_dir(dir)
        .arg("-i")
        .arg(fixture("h264_aac_bframes.mp4"))
        .args(["-map", "0:v", "-map", "0:a", "-c", "copy", "-f", "hls"])
        .args(["-hls_time", "2", "-hls_playlist_type", "vod"])
        .args([
            "-hls_segment_type",
            "fmp4",
            "-hls_fmp4_init_filename",
            "init.mp4",
        ])
        .args(["-hls_segment_filename", "stream_%v/seg_%03d.m4s"])
        .args(["-master_pl_name", "master.m3u8"])
        .args([
            "-var_stream_map",
            "v:0,agroup:aud a:0,agroup:aud,language:en",
        ])
        .arg("stream_%v/playlist.m3u8"));
    assert!(r.clean(), "ffmpeg failed: {}", r.stderr);
}

#[test]
fn ffmpeg_package_report_matches_golden() {
    let dir = scratch_dir("validate_ffmpeg");
    ffmpeg_package(&dir);
    let report = upcast::validate::validate(dir.to_str().unwrap()).unwrap();
    // Paths in the report are relative to the package, so no temp path needs normalising; the header line
    // names only master.m3u8.
    let text = render_text(&report);
    let golden = repo_root().join("origin/cli/tests/golden/ffmpeg_h264_aac.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", golden.display()));
    assert_eq!(text, want, "report differs from {}", golden.display());
    assert!(!report.passed());

    let out = run(upcast().arg("validate").arg(&dir));
    assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
    assert_eq!(out.stdout, want);
}

#[test]
fn our_packages_pass_and_exit_zero() {
    for name in [
        "h264_aac_bframes.mp4",
        "two_audio_langs.mp4",
        "hevc_hev1.mp4",
    ] {
        let dir = scratch_dir(&format!("validate_ours_{name}"));
        let r = run(upcast().arg("segment").arg(fixture(name)).arg(&dir));
        assert!(r.status.success(), "{}", r.stderr);
        let out = run(upcast().arg("validate").arg(&dir));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", out.stdout);
        assert!(
            out.stdout
                .starts_with("master.m3u8: PASS (0 MUST, 0 SHOULD"),
            "{}",
            out.stdout
        );
        // A playlist file works as well as its folder, and --json is machine-readable.
        let out = run(upcast()
            .args(["validate", "--json"])
            .arg(dir.join("master.m3u8")));
        assert_eq!(out.status.code(), Some(0));
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(json["findings"].as_array().map(Vec::len), Some(0));
    }
}

#[test]
fn usage_and_io_errors_exit_two() {
    let out = run(upcast().args(["validate", "/nonexistent/package"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.contains("no such file or folder"),
        "{}",
        out.stderr
    );
    let out = run(upcast().args(["validate", "http://example.com/master.m3u8"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.contains("only loopback hosts"), "{}", out.stderr);
    let out = run(upcast().arg("validate"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_report_names_rule_file_and_location() {
    let dir = scratch_dir("validate_json");
    ffmpeg_package(&dir);
    let out = run(upcast().args(["validate", "--json"]).arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "9.1")
        .expect("ffmpeg's video variant has no CODECS");
    assert_eq!(f["severity"], "MUST");
    assert_eq!(f["file"], "master.m3u8");
    assert_eq!(f["location"]["kind"], "line");
}

/// A minimal HTTP/1.1 file server on loopback for one folder (GET only, Connection: close).
fn serve(dir: std::path::PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = line
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let resp = match std::fs::read(dir.join(path)) {
                Ok(body) if !path.contains("..") => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend(body);
                    r
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&resp);
        }
    });
    port
}

#[test]
fn validates_over_http_on_loopback() {
    let dir = scratch_dir("validate_http");
    let pkg = dir.join("pkg");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("h264_aac_bframes.mp4"))
        .arg(&pkg));
    assert!(r.status.success(), "{}", r.stderr);
    let port = serve(dir.clone());
    let out = run(upcast()
        .arg("validate")
        .arg(format!("http://127.0.0.1:{port}/pkg/master.m3u8")));
    assert_eq!(out.status.code(), Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("pkg/master.m3u8: PASS"),
        "{}",
        out.stdout
    );
    // A missing file is a finding, not a crash.
    std::fs::remove_file(pkg.join("audio/seg_00002.m4s")).unwrap();
    let out = run(upcast()
        .arg("validate")
        .arg(format!("http://localhost:{port}/pkg/master.m3u8")));
    assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
    assert!(
        out.stdout.contains("[files] pkg/audio/seg_00002.m4s"),
        "{}",
        out.stdout
    );
}

/// Issue 11, finding 4: a URI leaving the package in an unquoted attribute fails `upcast validate` (exit 1),
/// with a MUST finding naming the file, line, tag and attribute.
#[test]
fn unquoted_external_uri_attributes_fail_naming_the_line() {
    let dir = scratch_dir("validate_unquoted_uris");
    let pkg = repo_root().join("origin/testkit/fixtures/pkg");
    for rel in ["master.m3u8", "video", "audio"] {
        let r = run(Command::new("cp").arg("-r").arg(pkg.join(rel)).arg(&dir));
        assert!(r.status.success(), "{}", r.stderr);
    }
    let out = run(upcast().arg("validate").arg(&dir));
    assert_eq!(out.status.code(), Some(0), "{}", out.stdout);

    let edit = |file: &str, after: &str, line: &str| {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(after), "{file} has no {after:?}");
        std::fs::write(&path, text.replacen(after, &format!("{after}{line}\n"), 1)).unwrap();
    };
    edit(
        "master.m3u8",
        "#EXT-X-VERSION:7\n",
        "#EXT-X-CONTENT-STEERING:SERVER-URI=http://127.0.0.2/steer.json",
    );
    edit(
        "video/playlist.m3u8",
        "#EXT-X-TARGETDURATION:2\n",
        "#EXT-X-KEY:METHOD=AES-128,URI=https://keys.example/k",
    );
    let out = run(upcast().arg("validate").arg(&dir));
    assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
    for want in [
        "[uris] master.m3u8:3 — ",
        ": EXT-X-CONTENT-STEERING SERVER-URI: URI \"http://127.0.0.2/steer.json\" has a scheme",
        "[uris] video/playlist.m3u8:5 — ",
        ": EXT-X-KEY URI: URI \"https://keys.example/k\" has a scheme",
    ] {
        assert!(out.stdout.contains(want), "{want:?} not in\n{}", out.stdout);
    }
}

/// Issue 15: the MPD of a package `upcast segment` made is checked with it; a hand-broken one fails
/// `upcast validate` (exit 1) naming the DASH rule, whether the folder, master.m3u8 or manifest.mpd is named.
#[test]
fn a_broken_mpd_fails_validate() {
    let dir = scratch_dir("validate_dash");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("h264_aac_bframes.mp4"))
        .arg(&dir)
        .args(["--target-duration", "2"]));
    assert!(r.status.success(), "{}", r.stderr);
    let mpd = dir.join("manifest.mpd");
    let out = run(upcast().arg("validate").arg(&mpd));
    assert_eq!(out.status.code(), Some(0), "{}", out.stdout);
    assert!(
        out.stdout.starts_with("master.m3u8: PASS"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&mpd).unwrap();
    assert!(text.contains("codecs=\"avc1."), "{text}");
    std::fs::write(&mpd, text.replacen("codecs=\"avc1.", "codecs=\"avc3.", 1)).unwrap();
    for target in [dir.clone(), dir.join("master.m3u8"), mpd.clone()] {
        let out = run(upcast().arg("validate").arg(&target));
        assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
        assert!(
            out.stdout.contains("[DASH codecs] manifest.mpd:5 — "),
            "{}",
            out.stdout
        );
    }
}
