//! A/V sync of a package equals the source's, without edit lists in the output: AAC encoder delay (an audio
//! edit list), a `-ss` stream copy (a video edit list inside the first GOP), a fragmented MP4 without edit
//! lists whose video starts after its audio, WebM's Opus CodecDelay and Matroska H.264 with B-frames.
//!
//! For each fixture, `upcast segment`, then `upcast validate` must pass, and ffmpeg's view of the source
//! and of the package must agree: the source's decoded video frames are the package's last ones (a
//! trimmed source's package also shows the frames its edit list hides, which its first key frame needs),
//! the source's audio packets are the package's last ones, and the time from the first source audio packet
//! to the first source video frame is the same in both, to one audio sample (one TimestampScale tick
//! for WebM, whose timestamps ffmpeg reads in milliseconds).

#[path = "../../testkit/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::{ffprobe, framemd5, run, Hash};

/// What [`times`] lists.
#[derive(Clone, Copy, PartialEq)]
enum Of {
    /// The decoded video frames: what a source's edit list shows.
    Frames,
    VideoPackets,
    AudioPackets,
}

/// Presentation times (seconds), in presentation order.
fn times(path: &Path, of: Of) -> Vec<f64> {
    let mut cmd = ffprobe();
    if path.extension().is_some_and(|e| e == "m3u8") {
        cmd.args(["-allowed_extensions", "ALL"]);
    }
    let args: &[&str] = match of {
        Of::Frames => &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=best_effort_timestamp_time",
        ],
        Of::VideoPackets => &["-select_streams", "v:0", "-show_entries", "packet=pts_time"],
        Of::AudioPackets => &["-select_streams", "a:0", "-show_entries", "packet=pts_time"],
    };
    let r = run(cmd.args(args).args(["-of", "csv=p=0"]).arg(path));
    assert!(
        r.status.success(),
        "ffprobe {}: {}",
        path.display(),
        r.stderr
    );
    let mut t: Vec<f64> = r
        .stdout
        .lines()
        .filter_map(|l| l.split(',').next()?.trim().parse().ok())
        .collect();
    if of != Of::AudioPackets {
        t.sort_by(f64::total_cmp);
    }
    t
}

/// `source` must be the tail of `package`; returns where it starts in it.
fn tail_of(what: &str, source: &[String], package: &[String]) -> usize {
    assert!(
        package.len() >= source.len() && package.ends_with(source),
        "{what}: the source's {} are not the last of the package's {}",
        source.len(),
        package.len()
    );
    package.len() - source.len()
}

fn check(fixture: &str, tolerance_s: f64) {
    common::require_ffmpeg();
    let source = common::fixture(fixture);
    let out = common::scratch_dir(&format!("timing_fidelity/{fixture}")).join("package");
    let upcast = || Command::new(env!("CARGO_BIN_EXE_upcast"));
    let r = run(upcast()
        .arg("segment")
        .arg(&source)
        .arg(&out)
        .args(["--target-duration", "2"]));
    assert!(r.status.success(), "segment {fixture}: {}", r.stderr);
    let master = out.join("master.m3u8");
    let r = run(upcast().arg("validate").arg(&master));
    assert!(
        r.status.success(),
        "validate {fixture}: {}{}",
        r.stdout,
        r.stderr
    );

    let hashes = |p: &Path, map: &str, h| framemd5(p, map, h).unwrap_or_else(|e| panic!("{e}"));
    tail_of(
        "video frames",
        &hashes(&source, "0:v:0", Hash::DecodedFrames),
        &hashes(&master, "0:v:0", Hash::DecodedFrames),
    );
    let j = tail_of(
        "audio packets",
        &hashes(&source, "0:a:0", Hash::Packets),
        &hashes(&master, "0:a:0", Hash::Packets),
    );
    // The source's first shown frame, and how long after its first decodable frame (its key frame, which
    // the package shows first) it comes. ffmpeg reads the package's negative composition offsets (trun
    // version 1) with a shift on every frame but the first, so the package's frame times are not used
    // beyond its first frame's.
    let (shown, decodable) = (
        times(&source, Of::Frames)[0],
        times(&source, Of::VideoPackets)[0],
    );
    let source_gap = shown - times(&source, Of::AudioPackets)[0];
    let first = times(&master, Of::VideoPackets)[0];
    let package_gap = first + (shown - decodable) - times(&master, Of::AudioPackets)[j];
    assert!(
        (source_gap - package_gap).abs() <= tolerance_s,
        "{fixture}: the source presents its first video frame {source_gap:.6} s after its first audio \
         packet, the package {package_gap:.6} s"
    );
}

/// One audio sample at 48 kHz, and the microsecond ffprobe prints times to.
const SAMPLE: f64 = 1.0 / 48000.0 + 1e-6;

#[test]
fn aac_priming_is_kept_in_sync() {
    check("h264_aac_bframes.mp4", SAMPLE);
}

#[test]
fn a_trimmed_start_keeps_the_sources_sync() {
    check("h264_aac_trimmed.mp4", SAMPLE);
}

#[test]
fn a_fragmented_file_keeps_its_track_starts() {
    check("h264_aac_fragmented.mp4", SAMPLE);
}

#[test]
fn opus_codec_delay_in_webm_is_priming() {
    check("vp9_opus.webm", 0.001 + 1e-6);
}

#[test]
fn matroska_b_frames_keep_their_presentation_times() {
    check("h264_aac.mkv", 0.001 + 1e-6);
}
