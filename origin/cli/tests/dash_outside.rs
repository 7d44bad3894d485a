//! The DASH MPD against outside tools: every committed fixture is segmented with `upcast segment` (2 s
//! target) and ffprobe and ffmpeg open its `manifest.mpd` (their DASH demuxer, not the HLS one):
//!
//! - `ffprobe -v error manifest.mpd` prints nothing and exits 0;
//! - `ffmpeg -v error -i manifest.mpd -map 0 -f null -` exits 0 with nothing on stderr (one known
//!   ffmpeg 5.1 line excepted, see [`FFMPEG_DASHDEC_RESTART`]);
//! - the video decoded through the MPD is the source's, picture for picture (framemd5), and every audio
//!   stream carries the source's packets.
//!
//! Needs ffmpeg and ffprobe on PATH (`tests/setup.sh`); without them the test fails rather than skips.
//! Packages are left under `target/tmp/dash_outside/<fixture>/` for inspection.

#[path = "../../testkit/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::{ffmpeg, ffprobe, framemd5, run, Hash};
use upcast_core::cmaf::read::{read_init, read_segment};

/// ffmpeg 5.1's mov demuxer shows a sample at tfdt + composition offset + `dts_shift`, where `dts_shift` is
/// the largest negative composition offset it has seen so far (B-frames written with version-1 `trun`
/// negative offsets, as CMAF asks). Its DASH demuxer starts a new mov demuxer for every segment (the
/// stream is not seekable, so the demuxer only learns offsets fragment by fragment), and the key frame
/// that opens each segment is in a fragment of its own: it is read before any negative offset, so it lands
/// one `dts_shift` early, on the timestamp of the previous segment's last picture, and the null muxer logs
/// this line. `-v error` on the HLS playlist of the same package prints nothing (one demuxer reads it all).
/// The pictures decoded through the MPD are the source's (framemd5 below); the line is tolerated only for
/// packages whose video has negative composition offsets.
const FFMPEG_DASHDEC_RESTART: &str = "non monotonically increasing dts to muxer";

/// True when the package's video has a sample with a negative composition offset.
fn has_negative_offsets(pkg: &Path) -> bool {
    let Ok(init) = std::fs::read(pkg.join("video/init.mp4")) else {
        return false;
    };
    let init = read_init(&init).expect("video/init.mp4 parses");
    common::files_with_suffix(&pkg.join("video"), ".m4s")
        .iter()
        .any(|p| {
            let seg = std::fs::read(p).expect("segment reads");
            let frags = read_segment(&seg, &init).expect("segment parses");
            frags
                .iter()
                .flat_map(|f| &f.samples)
                .any(|s| s.cts_offset < 0)
        })
}

/// (codec_type, frames) of every stream, as ffprobe counts them by decoding.
fn frame_counts(input: &Path) -> Vec<(String, u64)> {
    let r = run(ffprobe()
        .args([
            "-count_frames",
            "-show_entries",
            "stream=codec_type,nb_read_frames",
        ])
        .args(["-print_format", "json"])
        .arg(input));
    assert!(
        r.clean(),
        "ffprobe -count_frames {}: {}",
        input.display(),
        r.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("ffprobe JSON");
    json["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| (s["codec_type"].as_str().unwrap_or("").to_string(), s))
        // A chapter text track is a data stream ffprobe does not count.
        .filter(|(k, _)| k == "video" || k == "audio")
        .map(|(kind, s)| {
            let n = s["nb_read_frames"].as_str().and_then(|n| n.parse().ok());
            (kind, n.expect("nb_read_frames"))
        })
        .collect()
}

fn check_fixture(fixture: &str) {
    let source = common::fixture(fixture);
    let pkg = common::scratch_dir(&format!("dash_outside/{fixture}")).join("package");
    let r = run(Command::new(env!("CARGO_BIN_EXE_upcast"))
        .arg("segment")
        .arg(&source)
        .arg(&pkg)
        .args(["--target-duration", "2"]));
    assert!(r.status.success(), "upcast segment {fixture}: {}", r.stderr);
    let mpd = pkg.join(upcast_core::layout::MANIFEST);
    assert!(mpd.is_file(), "{fixture}: no manifest.mpd");

    let r = run(ffprobe().arg(&mpd));
    assert!(
        r.clean(),
        "{fixture}: ffprobe -v error manifest.mpd: {}",
        r.stderr
    );

    let r = run(ffmpeg()
        .arg("-i")
        .arg(&mpd)
        .args(["-map", "0", "-f", "null", "-"]));
    assert!(
        r.status.success(),
        "{fixture}: ffmpeg decode failed: {}",
        r.stderr
    );
    let tolerated = has_negative_offsets(&pkg);
    for line in r.stderr.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            tolerated && line.contains(FFMPEG_DASHDEC_RESTART),
            "{fixture}: ffmpeg -i manifest.mpd -f null - printed {line:?}"
        );
    }

    // What was decoded is the source: the same pictures, and every audio stream the same packets after
    // those the source presents wholly before its start (the AAC priming its edit list hides, which the
    // package drops), as the HLS check also compares. Packets, not decoded frames: the first kept AAC
    // frame decodes differently without the dropped one before it.
    let counts = frame_counts(&mpd);
    let source_counts = frame_counts(&source);
    let audio = |c: &[(String, u64)]| c.iter().filter(|(k, _)| k == "audio").count();
    assert_eq!(
        audio(&counts),
        audio(&source_counts),
        "{fixture}: audio streams"
    );
    for k in 0..audio(&counts) {
        let map = format!("0:a:{k}");
        let via_dash = framemd5(&mpd, &map, Hash::Packets).expect("framemd5 of the MPD");
        let original = framemd5(&source, &map, Hash::Packets).expect("framemd5 of the source");
        let original = &original[common::probe::audio_packets_before_start(&source, k)..];
        assert_eq!(
            via_dash, original,
            "{fixture}: audio {k} packets differ through the MPD"
        );
    }
    if counts.iter().any(|(k, _)| k == "video") {
        let via_dash = framemd5(&mpd, "0:v:0", Hash::DecodedFrames).expect("framemd5 of the MPD");
        let original =
            framemd5(&source, "0:v:0", Hash::DecodedFrames).expect("framemd5 of the source");
        assert_eq!(
            via_dash, original,
            "{fixture}: the pictures decoded through the MPD differ"
        );
    }
}

#[test]
fn every_fixture_mpd_is_read_and_decoded_by_ffmpeg() {
    common::require_ffmpeg();
    let dir = common::repo_root().join("tests/fixtures");
    let mut fixtures: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mp4") || n.ends_with(".mov") || n.ends_with(".m4a"))
        // The `-ss` trimmed source hides its pre-roll with an edit list that ffmpeg honours when it reads
        // the source; the package keeps those samples (they are needed to decode) and aligns A/V without
        // elst, so packet lists differ by design. Its timing is checked by tests/timing_fidelity.rs.
        .filter(|n| n != "h264_aac_trimmed.mp4")
        .collect();
    fixtures.sort();
    assert_eq!(fixtures.len(), 19, "{fixtures:?}");
    for f in &fixtures {
        check_fixture(f);
    }
}
