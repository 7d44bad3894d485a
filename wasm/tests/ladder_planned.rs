//! The playlists a ladder writes at its start (watch while encoding), against the ones it writes at the
//! end from the segments: the same variants and media playlists, every segment duration of a video rung
//! equal, BANDWIDTH from the configured bit rates until the end replaces it with the measured one.
#![cfg(not(target_arch = "wasm32"))]
// Fixture offsets and sizes of files of a few MB, far inside every type they are cast to.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

mod common;
use common::{push_source_sample, with_target, FASTSTART, MOOV_AT_END, VIDEO_ONLY};

const VP9_OPUS: &[u8] = include_bytes!("../../tests/fixtures/vp9_opus.mp4");
use m3u8_rs::{MasterPlaylist, MediaPlaylist, MediaPlaylistType};
use std::collections::BTreeMap;
use upcast_core::ladder::{AudioEncoding, Candidate, LadderJob, PlannedAudio};

fn rung(id: &str, bitrate: u64) -> Candidate {
    Candidate {
        id: id.into(),
        width: 160,
        height: 90,
        bitrate,
        framerate: 25.0,
        codec: "avc1.4d400c".into(),
    }
}

type Files = BTreeMap<String, Vec<u8>>;

/// A ladder of `rungs` over `fixture` (the copy rung when `copy`; the source's AAC re-encoded when
/// `encode_audio`): the planned playlists (asked before any chunk) and every file at the end. The rungs
/// are fed the source's own H.264 samples, as if an encoder had made them.
fn run(fixture: &[u8], rungs: &[Candidate], copy: bool, encode_audio: bool) -> (Files, Files) {
    let src = fixture.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let ids: Vec<usize> = rungs
        .iter()
        .map(|r| job.add_rung(r.clone()).unwrap())
        .collect();
    let copied: Vec<(String, Vec<u8>)> = job
        .copy_files(copy)
        .unwrap()
        .into_iter()
        .map(|(p, body)| (p, body.to_vec(&src).unwrap()))
        .collect();
    let a = job.source().audio.clone().unwrap();
    let planned_audio = encode_audio.then(|| PlannedAudio {
        codec: a.codec.clone(),
        channels: a.channels,
        bitrate: 128_000,
    });
    let planned: Files = job
        .planned_playlists(planned_audio.as_ref())
        .unwrap()
        .into_iter()
        .collect();
    let mut files: Files = copied.into_iter().collect();
    let samples = job.video_samples().size.len();
    for &r in &ids {
        for i in 0..samples {
            files.extend(push_source_sample(&mut job, &src, r, i));
        }
    }
    if encode_audio {
        job.set_audio_encoding(&AudioEncoding {
            codec: a.codec.clone(),
            sample_rate: a.sample_rate,
            channels: a.channels,
            description: a.description.clone(),
        })
        .unwrap();
        let s = job.audio_samples();
        for i in 0..s.size.len() {
            let at = s.offset[i] as usize;
            let bytes = src[at..at + s.size[i] as usize].to_vec();
            files.extend(
                job.push_audio(bytes, s.timestamp_us[i].round(), s.duration_us[i].round())
                    .unwrap(),
            );
        }
    }
    files.extend(job.finish().unwrap());
    (planned, files)
}

fn master(files: &Files) -> MasterPlaylist {
    m3u8_rs::parse_master_playlist_res(&files["master.m3u8"]).unwrap()
}

fn media(files: &Files, path: &str) -> MediaPlaylist {
    m3u8_rs::parse_media_playlist_res(&files[path]).unwrap_or_else(|_| panic!("{path}"))
}

fn durations(p: &MediaPlaylist) -> Vec<f32> {
    p.segments.iter().map(|s| s.duration).collect()
}

#[test]
fn planned_video_playlists_have_the_final_segment_durations() {
    for (fixture, copy) in [(FASTSTART, true), (MOOV_AT_END, true), (MOOV_AT_END, false)] {
        let (planned, done) = run(fixture, &[rung("low", 20_000)], copy, false);
        let mut videos = vec!["low/playlist.m3u8"];
        if copy {
            videos.push("video/playlist.m3u8");
        }
        for path in videos.iter().copied().chain(["audio/playlist.m3u8"]) {
            let (p, d) = (media(&planned, path), media(&done, path));
            assert_eq!(durations(&p), durations(&d), "{path}");
            assert!(
                p.segments.len() >= 2,
                "{path}: {} segments",
                p.segments.len()
            );
            assert_eq!(p.playlist_type, Some(MediaPlaylistType::Event), "{path}");
            assert!(!p.end_list, "{path}: a planned playlist grows");
            assert_eq!(d.playlist_type, Some(MediaPlaylistType::Vod), "{path}");
            assert!(d.end_list, "{path}");
            assert_eq!(p.target_duration, d.target_duration, "{path}");
            assert_eq!(p.segments[0].map, d.segments[0].map, "{path}: EXT-X-MAP");
            let uris =
                |m: &MediaPlaylist| m.segments.iter().map(|s| s.uri.clone()).collect::<Vec<_>>();
            assert_eq!(uris(&p), uris(&d), "{path}");
        }
        // Every file the planned playlists name is one the job made; the MPD and the I-frame
        // playlists come at the end only.
        assert!(!planned.contains_key("manifest.mpd"));
        assert!(!planned.keys().any(|k| k.ends_with("iframes.m3u8")));
        let (pm, dm) = (master(&planned), master(&done));
        let uris = |m: &MasterPlaylist| {
            let mut u: Vec<String> = m
                .variants
                .iter()
                .filter(|v| !v.is_i_frame)
                .map(|v| v.uri.clone())
                .collect();
            u.sort();
            u
        };
        assert_eq!(uris(&pm), uris(&dm));
        assert_eq!(pm.alternatives, dm.alternatives, "the audio group");
    }
}

#[test]
fn planned_bandwidth_is_the_configured_rate_and_the_final_one_is_measured() {
    // Two rungs asked for very different rates; they are fed the same samples, so what they measure
    // is the same and neither matches its request.
    let (planned, done) = run(
        FASTSTART,
        &[rung("low", 20_000), rung("high", 900_000)],
        true,
        false,
    );
    let pm = master(&planned);
    let dm = master(&done);
    let find = |m: &MasterPlaylist, uri: &str| {
        m.variants
            .iter()
            .find(|v| v.uri == uri && !v.is_i_frame)
            .unwrap_or_else(|| panic!("{uri}"))
            .clone()
    };
    // The copy rung's variant is planned from its own segments: the same as at the end.
    let (pc, dc) = (
        find(&pm, "video/playlist.m3u8"),
        find(&dm, "video/playlist.m3u8"),
    );
    assert_eq!(
        (pc.bandwidth, pc.average_bandwidth),
        (dc.bandwidth, dc.average_bandwidth)
    );
    // The copied audio's figures, measured from its planned segments (the package summary's).
    let src = FASTSTART.to_vec();
    let job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let summary = job.summary();
    let audio = summary
        .package
        .renditions
        .iter()
        .find(|r| r.id == "audio")
        .unwrap()
        .clone();
    for (id, asked) in [("low", 20_000u64), ("high", 900_000)] {
        let uri = format!("{id}/playlist.m3u8");
        let (p, d) = (find(&pm, &uri), find(&dm, &uri));
        assert_eq!(
            p.average_bandwidth,
            Some(asked + audio.average_bitrate),
            "{id}"
        );
        assert_eq!(p.bandwidth, asked + audio.peak_bitrate, "{id}");
        assert_eq!(p.codecs.as_deref(), Some("avc1.4d400c,mp4a.40.2"), "{id}");
        let res = p.resolution.unwrap();
        assert_eq!((res.width, res.height), (160, 90), "{id}");
        assert_eq!(p.frame_rate, Some(25.0), "{id}");
        assert_eq!(p.audio.as_deref(), Some("audio"), "{id}");
        // At the end: measured, the same for both rungs (the same bytes), so at least one differs from
        // what was asked.
        assert_ne!(
            d.bandwidth, p.bandwidth,
            "{id}: the final BANDWIDTH is measured"
        );
        assert_eq!(
            d.average_bandwidth,
            find(&dm, "low/playlist.m3u8").average_bandwidth,
            "{id}"
        );
    }
    // No I-frame variants until the I-frames exist.
    assert!(pm.variants.iter().all(|v| !v.is_i_frame));
    assert!(dm.variants.iter().any(|v| v.is_i_frame));
}

#[test]
fn encoded_audio_is_planned_from_its_encoder_configuration() {
    let (planned, done) = run(FASTSTART, &[rung("low", 20_000)], false, true);
    let pm = master(&planned);
    let v = &pm.variants[0];
    assert_eq!(v.average_bandwidth, Some(20_000 + 128_000));
    assert_eq!(v.bandwidth, 20_000 + 128_000);
    assert_eq!(pm.alternatives.len(), 1);
    assert_eq!(
        pm.alternatives[0].uri.as_deref(),
        Some("audio/playlist.m3u8")
    );
    assert_eq!(pm.alternatives, master(&done).alternatives);
    // The encoder's frames decide where audio segments are cut: within one AAC frame of the video's.
    let (p, d) = (
        durations(&media(&planned, "audio/playlist.m3u8")),
        durations(&media(&done, "audio/playlist.m3u8")),
    );
    assert_eq!(p.len(), d.len());
    let frame_s = 1024.0 / 44_100.0;
    for (k, (a, b)) in p.iter().zip(&d).enumerate() {
        assert!(
            (a - b).abs() <= frame_s,
            "segment {k}: planned {a} s, written {b} s"
        );
    }
}

#[test]
fn planned_audio_must_match_what_the_source_needs() {
    let opus = PlannedAudio {
        codec: "opus".into(),
        channels: 2,
        bitrate: 128_000,
    };
    let src = FASTSTART.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    // Nothing to play yet: no rung and no copy.
    job.copy_files(false).unwrap();
    assert!(job.planned_playlists(None).is_err());
    job.add_rung(rung("low", 20_000)).unwrap();
    assert!(job.planned_playlists(None).is_ok(), "the AAC is copied");
    // The source's Opus cannot be copied: without the encoder's configuration the audio is unknown.
    let src = VP9_OPUS.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    job.add_rung(rung("low", 20_000)).unwrap();
    let e = job.planned_playlists(None).unwrap_err();
    assert!(e.to_string().contains("re-encoded"), "{e}");
    let files = job.planned_playlists(Some(&opus)).unwrap();
    let m = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(m.contains("CODECS=\"avc1.4d400c,opus\""), "{m}");
    // No audio to encode.
    let src = VIDEO_ONLY.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    job.add_rung(rung("low", 20_000)).unwrap();
    let e = job.planned_playlists(Some(&opus)).unwrap_err();
    assert!(e.to_string().contains("no audio"), "{e}");
    let m = String::from_utf8(job.planned_playlists(None).unwrap()[0].1.clone()).unwrap();
    assert!(
        !m.contains("TYPE=AUDIO") && m.contains("CODECS=\"avc1.4d400c\""),
        "{m}"
    );
}
