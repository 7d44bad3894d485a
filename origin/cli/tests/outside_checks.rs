//! Outside checks: segment every committed fixture with `upcast segment` and hold the package up against
//! ffprobe and ffmpeg (see `common::hls_package` for what is checked). Needs ffmpeg and ffprobe on PATH
//! (`tests/setup.sh`); without them the tests fail rather than skip.
//!
//! Packages are left under `target/tmp/outside_checks/<fixture>/` for inspection.

#[path = "../../testkit/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::hls_package::check_package;

/// Segment `fixture` at a 2 s target; the run must succeed.
fn segment(fixture: &str) -> (std::path::PathBuf, std::path::PathBuf, common::Run) {
    common::require_ffmpeg();
    let source = common::fixture(fixture);
    let outdir = common::scratch_dir(&format!("outside_checks/{fixture}")).join("package");
    let r = common::run(
        Command::new(env!("CARGO_BIN_EXE_upcast"))
            .arg("segment")
            .arg(&source)
            .arg(&outdir)
            .args(["--target-duration", "2"]),
    );
    (source, outdir, r)
}

fn segments_cleanly(fixture: &str) {
    let (source, outdir, r) = segment(fixture);
    assert!(
        r.status.success(),
        "upcast segment {fixture} failed ({}):\n{}",
        r.status,
        r.stderr
    );
    let report = check_package(&source, &outdir);
    assert!(
        report.passed(),
        "{fixture}: the package in {} fails outside checks:\n{report}",
        outdir.display()
    );
}

/// Inputs `upcast segment` must refuse with a message and without writing a package: VP8 and Vorbis have
/// no CMAF packaging (the browser's ladder re-encodes such video).
const REFUSED: &[&str] = &["vp8_vorbis.webm"];

#[test]
fn refused_inputs_fail_with_a_message() {
    for fixture in REFUSED {
        let (_, outdir, r) = segment(fixture);
        assert!(!r.status.success(), "{fixture}: expected a refusal");
        assert!(!r.stderr.trim().is_empty(), "{fixture}: refused silently");
        assert!(
            !outdir.join("master.m3u8").exists(),
            "{fixture}: refused but wrote master.m3u8"
        );
    }
}

/// Inputs whose video has no CMAF packaging but whose audio has one: `upcast segment` packages the sound
/// alone and says why the video is left out (the browser's ladder encodes such video: wasm/tests/ladder.rs
/// and tests/e2e/inputs.test.mjs).
const VIDEO_LEFT_OUT: &[&str] = &["vp8_opus.webm"];

#[test]
fn vp8_video_is_left_out_and_the_sound_packaged() {
    for fixture in VIDEO_LEFT_OUT {
        let (_, outdir, r) = segment(fixture);
        assert!(r.status.success(), "{fixture}: {}", r.stderr);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert!(
            said.contains("VP8 video has no CMAF packaging") && said.contains("ladder"),
            "{fixture}: {said}"
        );
        let master = std::fs::read_to_string(outdir.join("master.m3u8")).expect("master.m3u8");
        assert!(master.contains("opus"), "{master}");
        assert!(
            !master.contains("vp8") && !master.contains("vp08"),
            "{master}"
        );
    }
}

/// Fixtures checked by tests/timing_fidelity.rs instead (frames, packets, A/V sync and `upcast validate`):
/// a trimmed source's package also shows the frames its edit list hides, so it is not frame-exact against
/// ffmpeg's trimmed view; the fragmented file's video starts 80 ms after its audio, which the package keeps
/// and the HLS duration (one playlist's EXTINF sum) does not count.
const TIMING_ONLY: &[&str] = &["h264_aac_trimmed.mp4", "h264_aac_fragmented.mp4"];

macro_rules! packaged {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                segments_cleanly($file);
            }
        )*
        /// Fixtures with a test above.
        const PACKAGED: &[&str] = &[$($file),*];
    };
}

packaged! {
    h264_aac_bframes => "h264_aac_bframes.mp4",
    h264_aac_faststart => "h264_aac_faststart.mp4",
    h264_aac_mov => "h264_aac.mov",
    hevc_hvc1_aac => "hevc_hvc1_aac.mp4",
    hevc_hev1 => "hevc_hev1.mp4",
    av1_opus => "av1_opus.mp4",
    vp9_opus => "vp9_opus.mp4",
    h264_mp3 => "h264_mp3.mp4",
    audio_only => "audio_only.m4a",
    video_only => "video_only.mp4",
    long_gop => "long_gop.mp4",
    rotated_90 => "rotated_90.mp4",
    anamorphic_par => "anamorphic_par.mp4",
    ntsc_2997 => "ntsc_2997.mp4",
    two_audio_langs => "two_audio_langs.mp4",
    co64 => "co64.mp4",
    h264_aac_cmaf => "h264_aac_cmaf.mp4",
    vp9_opus_webm => "vp9_opus.webm",
    vp9_opus_live_webm => "vp9_opus_live.webm",
    av1_opus_webm => "av1_opus.webm",
    h264_aac_mkv => "h264_aac.mkv",
    chapters => "chapters.mp4",
}

/// A fixture added to tests/fixtures/ without a line here would silently go unchecked.
#[test]
fn every_fixture_is_listed() {
    let dir = common::repo_root().join("tests/fixtures");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| {
            let ext = Path::new(n).extension().and_then(|e| e.to_str());
            matches!(ext, Some("mp4" | "mov" | "m4a" | "webm" | "mkv"))
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = PACKAGED
        .iter()
        .chain(REFUSED)
        .chain(VIDEO_LEFT_OUT)
        .chain(TIMING_ONLY)
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "tests/fixtures and the lists in this file disagree"
    );
}
