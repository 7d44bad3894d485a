use super::align;
use crate::demux::{Edit, Movie, Sample, Track, TrackHeader, TrackKind};

fn track(index: usize, kind: TrackKind, timescale: u32, samples: Vec<Sample>, edit: Edit) -> Track {
    Track {
        index,
        id: u32::try_from(index).unwrap() + 1,
        kind,
        handler: if kind == TrackKind::Video {
            "vide"
        } else {
            "soun"
        }
        .into(),
        timescale,
        language: "und".into(),
        enabled: true,
        entry: None,
        unusable: None,
        samples,
        edit,
        header: TrackHeader {
            flags: 3,
            matrix: [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000],
            width: 0,
            height: 0,
            volume: 0,
            layer: 0,
            alternate_group: 0,
        },
    }
}

fn edit(delay: u64, media_start: u64) -> Edit {
    Edit {
        delay,
        media_start,
        complex: false,
    }
}

/// Frames of `duration` from decode time `from`, each with its composition offset; key frames where `key`.
fn frames(from: u64, duration: u32, cts: &[i32], key: &[usize]) -> Vec<Sample> {
    (0..cts.len())
        .map(|i| Sample {
            offset: 1000 + i as u64 * 100,
            size: 100,
            dts: from + i as u64 * u64::from(duration),
            duration,
            cts_offset: cts[i],
            sync: key.contains(&i),
        })
        .collect()
}

/// AAC frames of 1024 samples at 48 kHz from decode time 0.
fn aac(n: usize, media_start: u64) -> Track {
    track(
        1,
        TrackKind::Audio,
        48_000,
        frames(0, 1024, &vec![0; n], &[]),
        edit(0, media_start),
    )
}

fn movie(tracks: Vec<Track>) -> Movie {
    let video = tracks.iter().position(|t| t.kind == TrackKind::Video);
    let audio = tracks.iter().position(|t| t.kind == TrackKind::Audio);
    Movie {
        file_len: 1 << 20,
        major_brand: "isom".into(),
        compatible_brands: Vec::new(),
        movie_timescale: 1000,
        tracks,
        video,
        audio,
        warnings: Vec::new(),
        chapters: Vec::new(),
        chapter_tracks: Vec::new(),
    }
}

/// Output presentation time (seconds) of the earliest packaged video frame and of the first audio frame.
fn starts(m: &Movie) -> (f64, f64) {
    let (v, a) = (&m.tracks[0], &m.tracks[1]);
    (
        v.edit.delay as f64 / f64::from(v.timescale),
        a.edit.delay as f64 / f64::from(a.timescale),
    )
}

/// 25 fps at 12800 ticks with B-frames as ffmpeg lays them out (I P B B P B B ...): the I frame presents
/// two frames after its decode time, the P frames four, the B frames one.
fn bframes_video(media_start: u64, n: usize) -> Track {
    let cts: Vec<i32> = (0..n)
        .map(|i| match i {
            0 => 1024,
            i if (i - 1) % 3 == 0 => 2048,
            _ => 512,
        })
        .collect();
    track(
        0,
        TrackKind::Video,
        12_800,
        frames(0, 512, &cts, &[0]),
        edit(0, media_start),
    )
}

#[test]
fn one_frame_of_aac_priming_is_dropped_and_both_tracks_start_at_zero() {
    let mut m = movie(vec![bframes_video(1024, 9), aac(20, 1024)]);
    align(&mut m).unwrap();
    assert_eq!(m.tracks[1].samples.len(), 19);
    assert_eq!(m.tracks[1].samples[0].dts, 1024);
    assert_eq!(starts(&m), (0.0, 0.0));
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn priming_that_is_not_whole_frames_keeps_the_straddling_frame_and_the_sync() {
    // Apple's 2112 samples: two frames go, the third starts 64 samples before the edit's start.
    let mut m = movie(vec![bframes_video(1024, 9), aac(20, 2112)]);
    align(&mut m).unwrap();
    assert_eq!(m.tracks[1].samples[0].dts, 2048);
    let (v, a) = starts(&m);
    // The source presents the audio's first kept frame 64 samples before the video: so does the package,
    // to half an audio sample, with the video moved by whole ticks of its own.
    assert!(
        ((v - a) - 64.0 / 48_000.0).abs() <= 0.5 / 48_000.0 + 1e-9,
        "{v} {a}"
    );
    assert!(
        a <= 1.0 / 12_800.0 + 0.5 / 48_000.0,
        "the audio starts within a video tick of 0: {a}"
    );
    assert_eq!(
        m.tracks[0].edit.delay, 18,
        "ceil(64 / 48000 s in 1/12800 s ticks)"
    );
}

#[test]
fn a_track_that_starts_later_in_a_fragmented_file_keeps_its_distance() {
    // No edit lists: the video's first frame presents at 1024 ticks (80 ms), the audio at 0.
    let mut m = movie(vec![bframes_video(0, 9), aac(20, 0)]);
    align(&mut m).unwrap();
    assert_eq!(m.tracks[1].samples.len(), 20);
    assert_eq!(starts(&m), (0.08, 0.0));
}

#[test]
fn an_empty_edit_delays_only_relative_to_the_other_tracks() {
    let mut a = aac(20, 1024);
    a.edit.delay = 4800; // 100 ms of silence before the audio
    let mut m = movie(vec![bframes_video(1024, 9), a]);
    align(&mut m).unwrap();
    assert_eq!(starts(&m), (0.0, 0.1));
    // A single track starts at 0 whatever its empty edit.
    let mut v = bframes_video(1024, 9);
    v.edit.delay = 1280;
    let mut m = movie(vec![v]);
    align(&mut m).unwrap();
    assert_eq!(m.tracks[0].edit.delay, 0);
}

#[test]
fn pre_roll_before_a_trimmed_start_is_shown_for_one_tick_each() {
    // The edit starts at media time 4096, 0.24 s into the only GOP (as `-ss 0.24` with copy makes it); the
    // audio's edit starts at the same instant after 1024 samples of priming.
    let v = bframes_video(4096, 30);
    let before: Vec<Sample> = v.samples.clone();
    let start = 4096;
    let mut shown: Vec<i128> = before
        .iter()
        .map(super::pts)
        .filter(|&p| p >= start)
        .collect();
    shown.sort_unstable();
    let mut m = movie(vec![v, aac(40, 1024 + 3 * 3840)]);
    align(&mut m).unwrap();
    let s = &m.tracks[0].samples;
    // Decode order, offsets and sizes are unchanged; decode times still increase and abut.
    for (a, b) in s.iter().zip(s.iter().skip(1)) {
        assert!(
            a.dts < b.dts && a.dts + u64::from(a.duration) == b.dts,
            "{a:?} {b:?}"
        );
    }
    assert_eq!(
        s.iter().map(|x| x.offset).collect::<Vec<_>>(),
        before.iter().map(|x| x.offset).collect::<Vec<_>>()
    );
    // The shown frames keep their presentation times; the six others take the six ticks before the start.
    let mut p: Vec<i128> = s.iter().map(super::pts).collect();
    p.sort_unstable();
    assert_eq!(p[..6], (start - 6..start).collect::<Vec<_>>()[..]);
    assert_eq!(p[6..], shown[..]);
    for x in s {
        assert!(
            super::pts(x) >= i128::from(x.dts),
            "presented before decoded: {x:?}"
        );
    }
    assert!(
        m.warnings[0].contains("the 6 frames before that point are kept for decoding"),
        "{:?}",
        m.warnings
    );
    // The source shows its first frame where its audio's edit starts (both at 0): so does the package, to
    // the tick; the squeezed frames come 6 ticks before it.
    let (vd, ad) = starts(&m);
    let first_shown = vd + 6.0 / 12_800.0;
    let audio_kept = m.tracks[1].samples[0].dts as i128 - i128::from(m.tracks[1].edit.media_start);
    assert!(
        ((first_shown - ad) - (-(audio_kept as f64) / 48_000.0)).abs() <= 0.5 / 48_000.0 + 1e-9,
        "video {first_shown} audio {ad}"
    );
}

#[test]
fn an_audio_edit_after_the_last_sample_is_refused() {
    let mut m = movie(vec![bframes_video(1024, 9), aac(3, 3 * 1024)]);
    let e = align(&mut m).unwrap_err().to_string();
    assert!(
        e.contains("track 2") && e.contains("after its last sample"),
        "{e}"
    );
}

#[test]
fn a_video_edit_after_the_last_frame_is_refused() {
    let mut m = movie(vec![bframes_video(100 * 512, 9), aac(3, 0)]);
    let e = align(&mut m).unwrap_err().to_string();
    assert!(
        e.contains("track 1") && e.contains("after its last frame"),
        "{e}"
    );
}
