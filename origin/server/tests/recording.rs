//! A live stream's recording becomes an ordinary video: tracks and closed segments go in as they close,
//! the playlists come from the core's VOD writers, and the package is published through the publish
//! checks. Fed here with the segments `upcast segment` makes of a real ffmpeg movie, so the recorded
//! package can be compared with the one the VOD path writes for the same media.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/sources/mod.rs"]
mod sources;

use std::sync::Arc;

use harness::*;
use upcast_core::cmaf::Rendition;
use upcast_core::live::TrackInfo;
use upcast_core::source::FileSource;
use upcast_origin::api_types::Visibility;
use upcast_origin::db::Quota;
use upcast_origin::recording::{KeyFrame, RecCtx, RecSegment, Recording};

fn ctx(state: &upcast_origin::AppState) -> RecCtx {
    RecCtx {
        db: state.db.clone(),
        store: state.store.clone(),
        quota: Arc::new(Quota {
            max_video_bytes: 1 << 30,
            max_total_bytes: 1 << 32,
            max_files_per_video: 10_000,
        }),
    }
}

/// A package made by the VOD path from a 4 s ffmpeg movie with audio, a key frame every second.
fn vod_package(dir: &std::path::Path) -> (upcast_core::Package, FileSource) {
    let mp4 = dir.join("src.mp4");
    sources::Movie {
        seconds: 4,
        size: "320x240",
        fps: 25,
        gop: 25,
        video_bitrate: "500k",
        audio: true,
    }
    .make(&mp4);
    let src = FileSource::open(&mp4).unwrap();
    let mut opts = upcast_core::SegmentOptions::default();
    opts.plan.target_duration_s = 1.0;
    (upcast_core::segment(&src, &opts).unwrap(), src)
}

fn info(r: &Rendition) -> TrackInfo {
    let (width, height) = r.display.unwrap_or((0, 0));
    TrackInfo {
        kind: r.kind,
        codec: r.entry.codec_string.clone(),
        width,
        height,
        sample_rate: r.entry.audio.as_ref().map_or(0, |a| a.sample_rate),
        channels: r.entry.audio.as_ref().map_or(0, |a| a.channels),
        init: r.init.clone(),
    }
}

/// Record every rendition of `package`, segment by segment in time order across tracks.
fn record(rec: &mut Recording, package: &upcast_core::Package, src: &FileSource) {
    let tracks: Vec<usize> = package
        .renditions
        .iter()
        .map(|r| rec.add_track(&r.id, &info(r)).unwrap())
        .collect();
    let most = package
        .renditions
        .iter()
        .map(|r| r.segments.len())
        .max()
        .unwrap();
    for k in 0..most {
        for (r, &t) in package.renditions.iter().zip(&tracks) {
            let (Some(seg), Some(data)) = (r.segments.get(k), r.data.get(k)) else {
                continue;
            };
            let mut bytes = Vec::new();
            data.write_to(src, &mut bytes).unwrap();
            let key_frames = seg
                .iframes
                .iter()
                .scan(seg.start, |t, f| {
                    let time = *t;
                    *t += f.duration;
                    Some(KeyFrame {
                        offset: f.offset,
                        len: f.len,
                        time,
                    })
                })
                .collect();
            let s = RecSegment {
                bytes: &bytes,
                start: seg.start,
                duration: seg.duration,
                key_frames,
            };
            rec.add_segment(t, &s).unwrap();
        }
    }
}

/// The live stream the recordings here are of.
const STREAM: &str = "livestream000001";

#[actix_web::test]
async fn a_recording_is_published_with_the_playlists_the_vod_path_writes() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(config(&dir.path().join("data")));
    let (package, src) = vod_package(dir.path());
    let mut rec =
        Recording::start(ctx(&state), STREAM, "Live: a test", Visibility::Public).unwrap();
    record(&mut rec, &package, &src);
    let id = rec.finish().unwrap();

    let v = state
        .db
        .run_now(|c| upcast_origin::db::video(c, &id))
        .unwrap()
        .unwrap();
    assert!(v.is_ready(), "the recording is published");
    assert_eq!(
        v.stream_id.as_deref(),
        Some(STREAM),
        "the video names its stream"
    );
    let files = state
        .db
        .run_now(|c| upcast_origin::db::files(c, &id))
        .unwrap();
    for (path, text) in &package.playlists {
        let row = files
            .iter()
            .find(|f| &f.path == path)
            .unwrap_or_else(|| panic!("{path} missing"));
        let key = upcast_origin::store::ObjectKey {
            video_id: id.clone(),
            sha256: row.sha256.clone(),
        };
        let stored = state.store.read(&key).unwrap();
        assert_eq!(
            String::from_utf8(stored).unwrap(),
            *text,
            "{path} as the VOD path writes it"
        );
    }
    let segments = package
        .renditions
        .iter()
        .map(|r| r.segments.len() + 1)
        .sum::<usize>();
    assert_eq!(files.len(), package.playlists.len() + segments);
    check_invariants(&dir.path().join("data"));
}

#[actix_web::test]
async fn an_abandoned_recording_leaves_no_row_and_no_object() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = state(config(&data));
    let (package, src) = vod_package(dir.path());
    let before = stored_files(&data);
    let mut rec =
        Recording::start(ctx(&state), STREAM, "Live: dropped", Visibility::Private).unwrap();
    record(&mut rec, &package, &src);
    let id = rec.video_id.clone();
    drop(rec);
    assert!(state
        .db
        .run_now(|c| upcast_origin::db::video(c, &id))
        .unwrap()
        .is_none());
    assert_eq!(stored_files(&data), before);
}

#[actix_web::test]
async fn a_segment_that_is_not_cmaf_is_refused_and_the_recording_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(config(&dir.path().join("data")));
    let (package, src) = vod_package(dir.path());
    let mut rec =
        Recording::start(ctx(&state), STREAM, "Live: garbage", Visibility::Public).unwrap();
    let v = &package.renditions[0];
    let t = rec.add_track(&v.id, &info(v)).unwrap();
    let bad = RecSegment {
        bytes: b"<html>not a segment</html>",
        start: 0,
        duration: 1,
        key_frames: vec![],
    };
    assert!(rec.add_segment(t, &bad).is_err());
    record(&mut rec, &package, &src);
    let id = rec.finish().unwrap();
    assert!(state
        .db
        .run_now(|c| upcast_origin::db::video(c, &id))
        .unwrap()
        .unwrap()
        .is_ready());
}

/// A publisher stopped with its sound ahead of its pictures (ffmpeg killed mid-stream): the video's last
/// segment ends half a second before the audio's. The writer cuts the audio's tail at the video's end, so
/// the recording covers one time range and publishes (without the cut, rule 8.7 refuses it).
#[actix_web::test]
async fn the_sound_past_the_last_picture_is_cut_so_the_recording_publishes() {
    use upcast_core::cmaf::read::read_init;
    use upcast_core::cmaf::trim::cut_before;
    use upcast_origin::recording::writer::RecordingWriter;

    let dir = tempfile::tempdir().unwrap();
    let state = state(config(&dir.path().join("data")));
    let (package, src) = vod_package(dir.path());
    let (tx, rx) = std::sync::mpsc::channel();
    let mut w = RecordingWriter::spawn(
        ctx(&state),
        STREAM,
        "Live: cut",
        Visibility::Public,
        move |o| {
            tx.send(o).unwrap();
        },
    )
    .unwrap();
    for r in &package.renditions {
        w.track(&r.id, &info(r)).unwrap();
    }
    let video = package
        .renditions
        .iter()
        .position(|r| r.kind == upcast_core::demux::TrackKind::Video)
        .unwrap();
    let last = package.renditions[video].segments.len() - 1;
    let mut audio_last_len = 0;
    for k in 0..=last {
        for (i, r) in package.renditions.iter().enumerate() {
            let (seg, data) = (&r.segments[k], &r.data[k]);
            let mut bytes = Vec::new();
            data.write_to(&src, &mut bytes).unwrap();
            let mut duration = seg.duration;
            if i == video && k == last {
                // The pictures stop half way through their last segment.
                let init = read_init(&r.init).unwrap();
                let cut = cut_before(&bytes, &init, seg.start + seg.duration / 2)
                    .unwrap()
                    .unwrap();
                bytes = cut.bytes;
                duration = cut.duration;
            } else if i != video && k == last {
                audio_last_len = bytes.len();
            }
            w.segment(&r.id, bytes.into(), seg.start, duration, Vec::new())
                .unwrap();
        }
    }
    w.finish();
    let id = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap()
        .expect("the recording publishes");
    let files = state
        .db
        .run_now(|c| upcast_origin::db::files(c, &id))
        .unwrap();
    let audio = package
        .renditions
        .iter()
        .find(|r| r.kind == upcast_core::demux::TrackKind::Audio)
        .unwrap();
    let path = upcast_core::layout::in_dir(&audio.id, &upcast_core::layout::segment_name(last));
    let row = files.iter().find(|f| f.path == path).unwrap();
    assert!(
        row.size < audio_last_len as u64 * 3 / 4,
        "the audio's last segment lost its tail: {} of {audio_last_len} bytes",
        row.size
    );
    check_invariants(&dir.path().join("data"));
}

/// A track left out (its publisher paused it) takes what was stored of it along: its rows and objects
/// go at once, the published package is the other tracks, and the video's bytes (what the quotas
/// count) are the published files'.
#[actix_web::test]
async fn a_track_left_out_leaves_no_row_and_no_object() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = state(config(&data));
    let (package, src) = vod_package(dir.path());
    let mut rec =
        Recording::start(ctx(&state), STREAM, "Live: paused", Visibility::Public).unwrap();
    record(&mut rec, &package, &src);
    let audio = package
        .renditions
        .iter()
        .position(|r| r.kind == upcast_core::demux::TrackKind::Audio)
        .unwrap();
    let dir_of_audio = format!("{}/", package.renditions[audio].id);
    let id = rec.video_id.clone();
    let rows = |state: &upcast_origin::AppState| {
        state
            .db
            .run_now(|c| upcast_origin::db::files(c, &id))
            .unwrap()
    };
    let before = rows(&state);
    let audio_rows: Vec<_> = before
        .iter()
        .filter(|f| f.path.starts_with(&dir_of_audio))
        .collect();
    assert!(
        audio_rows.len() > 1,
        "the audio was stored first: {before:?}"
    );
    rec.leave_out(audio).unwrap();
    rec.leave_out(audio).unwrap();
    let after = rows(&state);
    assert_eq!(after.len(), before.len() - audio_rows.len(), "{after:?}");
    assert!(after.iter().all(|f| !f.path.starts_with(&dir_of_audio)));
    for f in &audio_rows {
        let key = upcast_origin::store::ObjectKey {
            video_id: id.clone(),
            sha256: f.sha256.clone(),
        };
        assert!(state.store.read(&key).is_err(), "{} deleted", f.path);
    }
    let id = rec.finish().unwrap();
    let v = state
        .db
        .run_now(|c| upcast_origin::db::video(c, &id))
        .unwrap()
        .unwrap();
    let files = rows(&state);
    assert!(files.iter().all(|f| !f.path.starts_with(&dir_of_audio)));
    let bytes = u64::try_from(v.bytes).unwrap();
    assert_eq!(bytes, files.iter().map(|f| f.size).sum::<u64>());
    let on_disk: u64 = stored_files(&data)
        .iter()
        .filter(|p| p.starts_with(data.join("objects").join(&id)))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(on_disk, bytes, "what is stored is what is published");
    check_invariants(&data);
}
