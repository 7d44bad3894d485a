//! A/V sync of a package equals the source's, without edit lists in the output: AAC encoder delay (an audio
//! edit list), a `-ss` stream copy (a video edit list inside the first GOP), a fragmented MP4 without edit
//! lists whose video starts after its audio, MP3's encoder delay, WebM's Opus CodecDelay and Matroska H.264
//! with B-frames. Not `h264_aac_cmaf.mp4`: ffmpeg reads a track with negative composition offsets (trun
//! version 1) and no edit list with every presentation time moved by the largest negative offset, so its
//! view of that source is not the source's timing (the file is checked frame-exact by outside_checks.rs).
//!
//! For each fixture, `upcast segment`, then `upcast validate` must pass. The source is read by ffprobe and
//! ffmpeg (which apply its edit lists); the package's times are read from its own boxes (tfdt, trun), not
//! through a demuxer. Then:
//! - frames: the source's decoded frames are the package's last ones; the package's others (the pre-roll a
//!   trimmed source decodes but does not show) are presented within one tick each before them;
//! - packets: the package's audio packets are the source's last ones; the source's others (priming) end
//!   before its presentation starts, so no sound is lost;
//! - sync: the time from a frame to an audio packet, both in the two, is the same to one audio sample (one
//!   TimestampScale tick for WebM, whose timestamps ffprobe reads in milliseconds).

#[path = "../../testkit/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::{ffprobe, framemd5, run, Hash};
use upcast_core::cmaf::read::{read_init, read_segment};
use upcast_core::layout;

/// What [`source_times`] lists.
#[derive(Clone, Copy, PartialEq)]
enum Of {
    /// The decoded video frames: what a source's edit list shows.
    Frames,
    AudioPackets,
}

/// Presentation times (seconds) in the source as ffprobe reads it: frames in presentation order, audio
/// packets in file order.
fn source_times(path: &Path, of: Of) -> Vec<f64> {
    let args: &[&str] = match of {
        Of::Frames => &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=best_effort_timestamp_time",
        ],
        Of::AudioPackets => &["-select_streams", "a:0", "-show_entries", "packet=pts_time"],
    };
    let r = run(ffprobe().args(args).args(["-of", "csv=p=0"]).arg(path));
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
    if of == Of::Frames {
        t.sort_by(f64::total_cmp);
    }
    t
}

/// One rendition of the package as its boxes say: each sample's presentation time (seconds), in decode
/// order, and the timescale.
struct Rendition {
    pts_s: Vec<f64>,
    timescale: u32,
}

fn rendition(dir: &Path) -> Rendition {
    let init = read_init(&std::fs::read(dir.join(layout::INIT)).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut pts_s = Vec::new();
    for k in 0.. {
        let Ok(bytes) = std::fs::read(dir.join(layout::segment_name(k))) else {
            break;
        };
        let fragments = read_segment(&bytes, &init).unwrap_or_else(|e| panic!("{e}"));
        for f in fragments {
            let mut dts = i128::from(f.base_decode_time);
            for s in &f.samples {
                let pts = dts + i128::from(s.cts_offset);
                pts_s.push(pts as f64 / f64::from(init.timescale));
                dts += i128::from(s.duration);
            }
        }
    }
    assert!(!pts_s.is_empty(), "{}: no media segments", dir.display());
    Rendition {
        pts_s,
        timescale: init.timescale,
    }
}

/// Where the two lists start to agree to their ends: `(i, j)` with `a[i..] == b[j..]` and `i` or `j` 0.
fn common_tail(what: &str, a: &[String], b: &[String]) -> (usize, usize) {
    let (i, j) = if a.len() >= b.len() {
        (a.len() - b.len(), 0)
    } else {
        (0, b.len() - a.len())
    };
    assert!(
        a[i..] == b[j..],
        "{what}: the shorter list (source {}, package {}) is not the end of the longer",
        a.len(),
        b.len()
    );
    (i, j)
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
    let master = out.join(layout::MASTER);
    let r = run(upcast().arg("validate").arg(&master));
    assert!(
        r.status.success(),
        "validate {fixture}: {}{}",
        r.stdout,
        r.stderr
    );

    let hashes = |p: &Path, map: &str, h| framemd5(p, map, h).unwrap_or_else(|e| panic!("{e}"));
    let (src_frames, pkg_frames) = (
        hashes(&source, "0:v:0", Hash::DecodedFrames),
        hashes(&master, "0:v:0", Hash::DecodedFrames),
    );
    let (sv, pv) = common_tail("video frames", &src_frames, &pkg_frames);
    assert_eq!(sv, 0, "{fixture}: the package lacks {sv} shown frames");
    let (src_packets, pkg_packets) = (
        hashes(&source, "0:a:0", Hash::Packets),
        hashes(&master, "0:a:0", Hash::Packets),
    );
    let (sa, pa) = common_tail("audio packets", &src_packets, &pkg_packets);
    assert_eq!(
        pa, 0,
        "{fixture}: the package has {pa} audio packets the source lacks"
    );

    let video = rendition(&out.join(layout::VIDEO_DIR));
    let audio = rendition(&out.join(layout::AUDIO_DIR));
    let mut frames = video.pts_s.clone();
    frames.sort_by(f64::total_cmp);
    assert_eq!(
        frames.len(),
        pkg_frames.len(),
        "{fixture}: frames in the boxes"
    );
    assert_eq!(
        audio.pts_s.len(),
        pkg_packets.len(),
        "{fixture}: audio in the boxes"
    );
    // The pre-roll (frames decoded but not shown by the source) lasts one tick each.
    let tick = 1.0 / f64::from(video.timescale);
    assert!(
        frames[pv] - frames[0] <= pv as f64 * tick + 1e-9,
        "{fixture}: the {pv} frames before the first shown one span {} s",
        frames[pv] - frames[0]
    );
    let src_audio = source_times(&source, Of::AudioPackets);
    assert_eq!(
        src_audio.len(),
        src_packets.len(),
        "{fixture}: audio packets"
    );
    // Only what the source presents wholly before its start is dropped: the packet that straddles it stays.
    assert_eq!(
        sa,
        common::probe::audio_packets_before_start(&source, 0),
        "{fixture}: audio packets dropped"
    );
    let source_gap = source_times(&source, Of::Frames)[0] - src_audio[sa];
    let package_gap = frames[pv] - audio.pts_s[0];
    assert!(
        (source_gap - package_gap).abs() <= tolerance_s,
        "{fixture}: the source presents its first shown frame {source_gap:.6} s after the package's first \
         audio packet, the package {package_gap:.6} s"
    );
    // The package starts at 0: its earliest sample is presented at 0, or within a video tick of it when
    // the audio comes first (the video moves by whole ticks, the audio follows it to its own tick).
    let earliest = frames[0].min(audio.pts_s[0]);
    assert!(
        (0.0..=tick + 1e-9).contains(&earliest),
        "{fixture}: the package starts at {earliest} s"
    );
}

/// One audio sample at 48 kHz, and the microsecond ffprobe prints times to.
const SAMPLE: f64 = 1.0 / 48000.0 + 1e-6;

/// One millisecond (WebM's TimestampScale), and the microsecond ffprobe prints times to.
const MILLISECOND: f64 = 0.001 + 1e-6;

#[test]
fn aac_priming_is_dropped_in_sync() {
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
fn mp3_encoder_delay_keeps_its_sync() {
    check("h264_mp3.mp4", SAMPLE);
}

#[test]
fn opus_codec_delay_in_webm_is_priming() {
    check("vp9_opus.webm", MILLISECOND);
}

#[test]
fn matroska_b_frames_keep_their_presentation_times() {
    check("h264_aac.mkv", MILLISECOND);
}
