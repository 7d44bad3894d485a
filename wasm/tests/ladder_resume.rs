//! A resumed ladder writes what a full run writes: a full run of a fixture (its own H.264 samples as an
//! encoder's output, its AAC samples as encoded audio) keeps the record of every segment; a second job is
//! given the records of the segments before the middle one, starts its chunks where `resume` says, and
//! every file it makes (segments, init segments, playlists, MPD) must be byte for byte the full run's.
#![cfg(not(target_arch = "wasm32"))]
// Test fixtures: offsets, sizes and counts of files of a few KB, far inside every type they are cast to.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

mod common;
use common::{push_source_sample, with_target, FASTSTART};
use std::collections::BTreeMap;
use upcast_core::ladder::resume::SegmentRecord;
use upcast_core::ladder::{AudioEncoding, Candidate, LadderJob};

fn rung(id: &str) -> Candidate {
    Candidate {
        id: id.into(),
        width: 160,
        height: 90,
        bitrate: 20_000,
        framerate: 25.0,
        codec: "avc1.4d400c".into(),
    }
}

type Files = BTreeMap<String, Vec<u8>>;

/// Run a ladder of two rungs and encoded audio over FASTSTART. With `resume`, the job first resumes from
/// those records and its chunks start where it says (video from its key sample, audio from its feed
/// instant); returns the files, the records of every segment, and the segment resumed at.
fn run(resume: Option<&[SegmentRecord]>) -> (Files, Vec<SegmentRecord>, usize) {
    let src = FASTSTART.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let a = job.source().audio.clone().unwrap();
    let mut files = Files::new();
    let mut records = Vec::new();
    let mut keep = |job: &LadderJob, list: Vec<(String, Vec<u8>)>| {
        for (p, b) in list {
            records.extend(job.segment_record(&p));
            assert!(files.insert(p.clone(), b).is_none(), "{p} written twice");
        }
    };
    let ids = ["v90", "v90b"];
    let added: Vec<usize> = ids
        .iter()
        .map(|id| job.add_rung(rung(id)).unwrap())
        .collect();
    let point = resume.map(|r| job.resume(r, Some("mp4a.40.2")).unwrap());
    let v = job.video_samples();
    let from = point.as_ref().map_or(0, |p| p.video_sample);
    for (n, &r) in added.iter().enumerate() {
        // As the worker's fan-out does: a rung gets the frames from its own start on.
        let start = point
            .as_ref()
            .map_or(f64::NEG_INFINITY, |p| p.rungs_at_us[n]);
        for i in from..v.size.len() {
            if v.timestamp_us[i].round() < start.round() {
                continue;
            }
            let out = push_source_sample(&mut job, &src, r, i);
            keep(&job, out);
        }
    }
    job.set_audio_encoding(&AudioEncoding {
        codec: a.codec.clone(),
        sample_rate: a.sample_rate,
        channels: a.channels,
        description: a.description.clone(),
    })
    .unwrap();
    let s = job.audio_samples();
    job.set_audio_first_input(s.timestamp_us[0].round())
        .unwrap();
    let feed = point
        .as_ref()
        .and_then(|p| p.audio.as_ref())
        .map_or(f64::NEG_INFINITY, |a| a.feed_from_us);
    for i in 0..s.size.len() {
        if s.timestamp_us[i].round() < feed - 1.0 {
            continue;
        }
        let at = s.offset[i] as usize;
        let bytes = src[at..at + s.size[i] as usize].to_vec();
        let out = job
            .push_audio(bytes, s.timestamp_us[i].round(), s.duration_us[i].round())
            .unwrap();
        keep(&job, out);
    }
    let done = job.finish().unwrap();
    keep(&job, done);
    (files, records, point.map_or(0, |p| p.segment))
}

/// The segment index (from 0) of a segment file's path, None for other files.
fn index_of(path: &str) -> Option<usize> {
    path.rsplit_once("/seg_")
        .and_then(|(_, n)| n.strip_suffix(".m4s"))
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| n - 1)
}

#[test]
fn a_resumed_ladder_writes_the_full_runs_files_from_the_first_missing_segment() {
    let (full, records, _) = run(None);
    let segments = records.iter().filter(|r| r.rendition == "v90").count();
    assert!(
        segments >= 3,
        "{segments} segments: too few to resume in the middle"
    );
    let k = segments / 2;
    // The origin has segments 0..k of v90 and the audio, 0..=k of v90b, and v90's segment k + 1 after a
    // gap (a later segment after a gap is made again).
    let stored: Vec<SegmentRecord> = records
        .iter()
        .filter(|r| {
            r.index < k
                || (r.rendition == "v90b" && r.index == k)
                || (r.rendition == "v90" && r.index == k + 1)
        })
        .cloned()
        .collect();
    let (resumed, _, at) = run(Some(&stored));
    assert_eq!(at, k, "resumed at the first missing segment");
    for (path, bytes) in &resumed {
        let same = full.get(path).is_some_and(|b| b == bytes);
        assert!(same, "{path} differs from the full run's");
    }
    // What the origin has before each rendition's first missing segment is not made again; everything
    // from there on is (playlists and init segments too).
    for path in full.keys() {
        let first_missing = if path.starts_with("v90b/") { k + 1 } else { k };
        match index_of(path) {
            Some(n) if n < first_missing => {
                assert!(!resumed.contains_key(path), "{path} made again")
            }
            _ => assert!(resumed.contains_key(path), "{path} not made"),
        }
    }
}

#[test]
fn a_rendition_lacking_a_segment_or_made_otherwise_pulls_the_resume_back() {
    let (_, records, _) = run(None);
    // v90b lacks segment 1: every rendition starts at 1.
    let stored: Vec<SegmentRecord> = records
        .iter()
        .filter(|r| r.index < 2 && !(r.rendition == "v90b" && r.index == 1))
        .cloned()
        .collect();
    assert_eq!(run(Some(&stored)).2, 1);
    // A record of another encoding of v90 is not adopted: from the start.
    let other: Vec<SegmentRecord> = records
        .iter()
        .filter(|r| r.index < 2)
        .map(|r| SegmentRecord {
            fingerprint: if r.rendition == "v90" {
                "vp09 x".into()
            } else {
                r.fingerprint.clone()
            },
            ..r.clone()
        })
        .collect();
    assert_eq!(run(Some(&other)).2, 0);
    // Audio records without the first run's input grid cannot resume the audio: from the start.
    let no_grid: Vec<SegmentRecord> = records
        .iter()
        .filter(|r| r.index < 2)
        .map(|r| SegmentRecord {
            first_input_us: None,
            ..r.clone()
        })
        .collect();
    assert_eq!(run(Some(&no_grid)).2, 0);
}

#[test]
fn rung_init_is_the_init_the_rung_writes_and_tells_another_encoder_configuration() {
    let (full, _, _) = run(None);
    let src = FASTSTART.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let r = job.add_rung(rung("v90")).unwrap();
    let avcc = job.source().video.description.clone().unwrap();
    let v = job.video_samples();
    let key = &src[v.offset[0] as usize..][..v.size[0] as usize];
    let same = job.rung_init(r, Some(&avcc), key).unwrap();
    assert_eq!(
        &same, &full["v90/init.mp4"],
        "the init the rung's first chunk writes"
    );
    // Another profile (avcC byte 1, AVCProfileIndication: ISO 14496-15 § 5.3.3.1.2) is another init.
    let mut other = avcc.clone();
    other[1] = if other[1] == 66 { 77 } else { 66 };
    assert_ne!(job.rung_init(r, Some(&other), key).unwrap(), same);
    assert!(job.rung_init(5, Some(&avcc), key).is_err(), "no rung 5");
    assert!(
        job.rung_init(r, None, key).is_err(),
        "H.264 without an avcC"
    );
}

#[test]
fn a_rung_left_out_of_the_resume_is_made_again_whole_while_the_other_keeps_its_segments() {
    let (full, records, _) = run(None);
    let k = records.iter().filter(|r| r.rendition == "v90").count() / 2;
    // The page found v90's encoder changed: its records are not given; v90b and the audio resume.
    let stored: Vec<SegmentRecord> = records
        .iter()
        .filter(|r| r.index < k && r.rendition != "v90")
        .cloned()
        .collect();
    let (resumed, _, at) = run(Some(&stored));
    assert_eq!(at, 0, "the decoder starts at the first segment, for v90");
    for (path, bytes) in &resumed {
        assert!(
            full.get(path).is_some_and(|b| b == bytes),
            "{path} differs from the full run's"
        );
    }
    for path in full.keys() {
        let kept = !path.starts_with("v90/") && index_of(path).is_some_and(|n| n < k);
        assert_eq!(
            resumed.contains_key(path),
            !kept,
            "{path}: {}",
            if kept { "made again" } else { "not made" }
        );
    }
}
