//! Issue 15 (live half) end to end: a real `upcast serve` with its RTMP listener on loopback, real ffmpeg
//! publishing x264 + AAC in real time, and ffmpeg's DASH demuxer reading `/live/{id}/manifest.mpd` while
//! the stream is live (it follows the dynamic MPD's SegmentTimeline and fetches the init segments and
//! `$Number$` segments the LL-HLS routes serve), and the core's reader parsing the same MPD.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/live_client.rs"]
mod live_client;

use std::process::Command;

use harness::*;
use live_client::{create_stream, publish, server, until};
use upcast_core::dash::Mpd;

/// Segments the first video Representation's timeline lists.
fn video_segments(m: &Mpd) -> usize {
    let set = m
        .periods
        .last()
        .and_then(|p| p.adaptation_sets.iter().find(|s| s.content_type == "video"));
    let t = set.and_then(|s| s.representations.first()?.segment_template.as_ref());
    let entries = t.and_then(|t| t.segment_timeline.as_ref());
    entries.map_or(0, |tl| {
        tl.entries
            .iter()
            .map(|s| usize::try_from(s.r.unwrap_or(0)).unwrap_or(0) + 1)
            .sum()
    })
}

#[test]
fn ffmpeg_reads_the_live_mpd_while_the_stream_is_live() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, false);
    assert_eq!(
        status(
            agent()
                .get(&s.url(&format!("/live/{id}/manifest.mpd")))
                .call()
        )
        .0,
        404,
        "no MPD before any media"
    );
    let mut ff = publish(s.rtmp.expect("the RTMP listener is on"), &key, 25);
    let url = s.url(&format!("/live/{id}/manifest.mpd"));
    let mpd = until(40, "three video segments in the MPD", || {
        let (code, body) = status(agent().get(&url).call());
        let m = (code == 200).then(|| Mpd::parse(&body).unwrap())?;
        (video_segments(&m) >= 3).then_some(m)
    });
    assert_eq!(mpd.mpd_type, "dynamic");
    let kinds: Vec<&str> = mpd.periods[0]
        .adaptation_sets
        .iter()
        .map(|s| s.content_type.as_str())
        .collect();
    assert_eq!(kinds, ["video", "audio"]);
    let utc = &mpd.dynamic.as_ref().unwrap().utc_timing[0].value;
    let (code, now) = status(agent().get(utc).call());
    assert_eq!(code, 200);
    assert!(now.ends_with('Z'), "{now}");

    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i", &url])
        .args(["-t", "3", "-progress", "pipe:1", "-f", "null", "-"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg reading the live MPD: {err}");
    // It decoded the three seconds asked for: 90 frames at 30 fps.
    let progress = String::from_utf8_lossy(&out.stdout);
    let frames: u64 = progress
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("frame=")?.trim().parse().ok())
        .unwrap_or(0);
    assert!(frames >= 89, "frames decoded: {frames}\n{progress}");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
        ])
        .arg(&url)
        .output()
        .unwrap();
    let codecs = String::from_utf8_lossy(&probe.stdout);
    assert!(
        probe.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    assert!(
        codecs.contains("h264") && codecs.contains("aac"),
        "{codecs}"
    );
    // Still live when ffmpeg was done.
    assert!(
        ff.try_wait().unwrap().is_none(),
        "the publisher was still running"
    );
    ff.kill().unwrap();
    ff.wait().unwrap();
}
