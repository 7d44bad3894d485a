//! AV1 and VP9 rungs, a ladder that mixes codecs, and a rung whose encoder is replaced mid-segment,
//! natively: real AV1 / VP9 / H.264 samples from the fixtures pushed as encoder output. AV1 and VP9 chunks
//! come without a description (as Chromium's encoders give them), so av1C and vpcC are built from the
//! first key frame; the CODECS strings must equal what ffmpeg's own muxer wrote for the same streams.
#![cfg(all(not(target_arch = "wasm32"), feature = "check"))]
// Test fixtures: offsets, sizes and counts of files of a few kB, far inside every type they are cast to.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

mod common;
use common::{push_source_sample, with_target, VIDEO_ONLY};
use std::collections::BTreeMap;
use upcast_core::check::{check_package, MemReader, Severity};
use upcast_core::cmaf::read::read_init;
use upcast_core::demux::demux;
use upcast_core::ladder::{Candidate, LadderJob};
use upcast_core::Limits;

const AV1_OPUS: &[u8] = include_bytes!("../../tests/fixtures/av1_opus.mp4");
const VP9_OPUS: &[u8] = include_bytes!("../../tests/fixtures/vp9_opus.mp4");

fn rung(id: &str, codec: &str) -> Candidate {
    Candidate {
        id: id.into(),
        width: 160,
        height: 90,
        bitrate: 20_000,
        framerate: 25.0,
        codec: codec.into(),
    }
}

/// The video samples of `fixture` in decode order: (bytes, key) and its sample entry's CODECS string.
fn video_of(fixture: &[u8]) -> (Vec<(Vec<u8>, bool)>, String) {
    let movie = demux(&fixture.to_vec(), &Limits::default()).unwrap();
    let t = &movie.tracks[movie.video.unwrap()];
    let samples = t
        .samples
        .iter()
        .map(|s| {
            let at = s.offset as usize;
            (fixture[at..at + s.size as usize].to_vec(), s.sync)
        })
        .collect();
    (samples, t.entry.as_ref().unwrap().codec_string.clone())
}

type Files = BTreeMap<String, Vec<u8>>;

fn put(files: &mut Files, list: Vec<(String, Vec<u8>)>) {
    for (p, b) in list {
        assert!(files.insert(p.clone(), b).is_none(), "{p} written twice");
    }
}

/// The job's H.264 source samples pushed as rung `r`'s chunks (with the source's avcC), from decode index
/// `from` to `to`.
fn push_own(job: &mut LadderJob, files: &mut Files, r: usize, from: usize, to: usize) {
    for i in from..to {
        put(files, push_source_sample(job, VIDEO_ONLY, r, i));
    }
}

fn finish(mut job: LadderJob, mut files: Files, copy: bool) -> Files {
    let whole = VIDEO_ONLY.to_vec();
    let copied: Vec<(String, Vec<u8>)> = job
        .copy_files(copy)
        .unwrap()
        .into_iter()
        .map(|(p, body)| (p, body.to_vec(&whole).unwrap()))
        .collect();
    put(&mut files, copied);
    put(&mut files, job.finish().unwrap());
    files
}

fn assert_conforms(files: &Files) {
    let report = check_package(
        &MemReader {
            files: files.clone(),
        },
        "master.m3u8",
    );
    let musts: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Must)
        .collect();
    assert!(musts.is_empty(), "MUST findings: {musts:#?}");
}

#[test]
fn a_ladder_mixing_av1_and_h264_lists_h264_first_and_one_dash_set_per_codec() {
    let mut job = LadderJob::new(&VIDEO_ONLY.to_vec(), &with_target(2.0)).unwrap();
    let mut files = Files::new();
    let h = job.add_rung(rung("v90", "avc1.4d400c")).unwrap();
    let n = job.video_samples().size.len();
    push_own(&mut job, &mut files, h, 0, n);
    // AV1 chunks (no reordering) at the source's presentation times, in order, without a description.
    let (av1, av1_codec) = video_of(AV1_OPUS);
    assert_eq!(av1.len(), n, "the fixtures have the same frames");
    let mut times: Vec<f64> = job.video_samples().timestamp_us.clone();
    times.sort_by(f64::total_cmp);
    let a = job.add_rung(rung("av1_90", "av01.0.00M.08")).unwrap();
    for ((bytes, key), ts) in av1.into_iter().zip(times) {
        put(
            &mut files,
            job.push_video(a, bytes, ts.round(), key, None).unwrap(),
        );
    }
    let files = finish(job, files, false);
    // av1C from the sequence header OBU: ffmpeg's own CODECS string, and the OBU as configOBUs.
    let init = read_init(&files["av1_90/init.mp4"]).unwrap();
    assert_eq!(init.entry.codec_string, av1_codec);
    let av1c = init.entry.config.clone().unwrap();
    assert!(av1c.len() > 6 && av1c[4] == 0x0a, "configOBUs: {av1c:02x?}");
    let master = String::from_utf8(files["master.m3u8"].clone()).unwrap();
    let codecs: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .map(|l| {
            l.split("CODECS=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(codecs.len(), 2, "{master}");
    assert!(codecs[0].starts_with("avc1."), "H.264 first: {master}");
    assert_eq!(codecs[1], av1_codec);
    let mpd = String::from_utf8(files["manifest.mpd"].clone()).unwrap();
    let sets: Vec<&str> = mpd.split("<AdaptationSet").skip(1).collect();
    assert_eq!(sets.len(), 2, "{mpd}");
    assert!(sets[0].contains("codecs=\"avc1.") && !sets[0].contains("av01"));
    assert!(sets[1].contains(&format!("codecs=\"{av1_codec}\"")));
    assert_conforms(&files);
}

#[test]
fn a_vp9_rung_without_description_gets_its_vpcc_from_the_key_frame() {
    let src = VP9_OPUS.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let (_, source_codec) = video_of(VP9_OPUS);
    let r = job.add_rung(rung("vp9_90", "vp09.00.10.08")).unwrap();
    let v = job.video_samples();
    let mut files = Files::new();
    for i in 0..v.size.len() {
        let at = v.offset[i] as usize;
        let bytes = src[at..at + v.size[i] as usize].to_vec();
        let out = job
            .push_video(r, bytes, v.timestamp_us[i], v.key[i] == 1, None)
            .unwrap();
        put(&mut files, out);
    }
    let init = read_init(&files["vp9_90/init.mp4"]).unwrap();
    assert_eq!(init.entry.codec_string, source_codec);
    // vpcC version 1: profile 0, level 10 (from the codec string), 8-bit 4:2:0 co-sited, limited range.
    let vpcc = init.entry.config.clone().unwrap();
    assert_eq!(&vpcc[..7], &[1, 0, 0, 0, 0, 10, 0x82], "{vpcc:02x?}");
}

#[test]
fn a_replaced_encoder_writes_the_segment_in_progress_again_byte_for_byte() {
    let once = {
        let mut job = LadderJob::new(&VIDEO_ONLY.to_vec(), &with_target(2.0)).unwrap();
        let mut files = Files::new();
        let r = job.add_rung(rung("v90", "avc1.4d400c")).unwrap();
        let n = job.video_samples().size.len();
        push_own(&mut job, &mut files, r, 0, n);
        finish(job, files, true)
    };
    let mut job = LadderJob::new(&VIDEO_ONLY.to_vec(), &with_target(2.0)).unwrap();
    let mut files = Files::new();
    let r = job.add_rung(rung("v90", "avc1.4d400c")).unwrap();
    let v = job.video_samples();
    let n = v.size.len();
    let bounds = job.boundaries_us();
    // The key sample that starts the second segment, in decode order.
    let second = (0..n)
        .find(|&i| v.key[i] == 1 && (v.timestamp_us[i] - bounds[1]).abs() < 1.0)
        .unwrap();
    // Before anything is pushed, a restart starts at the first frame.
    assert_eq!(job.restart_rung(r).unwrap(), bounds[0]);
    // The first segment and part of the second, then the encoder "fails".
    push_own(&mut job, &mut files, r, 0, second + 10);
    assert_eq!(files.keys().filter(|p| p.contains("seg_")).count(), 1);
    assert_eq!(job.restart_rung(r).unwrap(), bounds[1]);
    // The new encoder must start with the key frame at the segment's start.
    let desc = job.source().video.description.clone().unwrap();
    let at = v.offset[second + 1] as usize;
    let delta = VIDEO_ONLY[at..at + v.size[second + 1] as usize].to_vec();
    let e = job
        .push_video(
            r,
            delta,
            v.timestamp_us[second + 1].round(),
            false,
            Some(&desc),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("after the encoder was restarted"),
        "{e}"
    );
    push_own(&mut job, &mut files, r, second, n);
    let again = finish(job, files, true);
    assert_eq!(
        once.keys().collect::<Vec<_>>(),
        again.keys().collect::<Vec<_>>()
    );
    for (p, b) in &once {
        assert!(again[p] == *b, "{p} differs after the restart");
    }
    assert_conforms(&again);
}
