//! The ladder end to end, natively: real H.264 samples from a fixture fed to the muxer as if an encoder
//! had made them (avcC as description, µs timestamps, decode order with B-frames), real AAC samples as
//! encoded audio. The package must read back, cut where the copy rung cuts, pass the conformance checker,
//! and (when ffmpeg is installed) decode to the same frames as the copy rung.
#![cfg(all(not(target_arch = "wasm32"), feature = "check"))]
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
use common::{push_source_sample, with_target, FASTSTART, LONG_GOP, MOOV_AT_END};
use std::collections::BTreeMap;
use upcast_core::captions::{CaptionInput, Chapter, TextRequest};
use upcast_core::check::{check_package, MemReader, Severity};
use upcast_core::cmaf::read::{read_init, read_segment};
use upcast_core::demux::{demux, Sample};
use upcast_core::ladder::{AudioEncoding, Candidate, Encodable, LadderJob};
use upcast_core::Limits;

const VIDEO_ONLY: &[u8] = include_bytes!("../../tests/fixtures/video_only.mp4");
const VP9_OPUS: &[u8] = include_bytes!("../../tests/fixtures/vp9_opus.mp4");
const CHAPTERS: &[u8] = include_bytes!("../../tests/fixtures/chapters.mp4");

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

#[derive(Clone, Copy, PartialEq)]
enum Audio {
    /// The source's AAC is copied.
    Copy,
    /// The source's AAC samples are pushed as encoder output.
    Encode,
}

/// Build a ladder from `fixture`: rungs `ids` fed with the source's own H.264 samples, the copy rung when
/// `copy`, audio copied or re-muxed. Returns the job and every file of the package.
fn ladder(
    fixture: &[u8],
    target: f64,
    ids: &[&str],
    copy: bool,
    audio: Audio,
) -> (LadderJob, BTreeMap<String, Vec<u8>>) {
    ladder_with_text(fixture, target, ids, copy, audio, TextRequest::default())
}

/// [`ladder`] with captions and chapters given to the job before anything is pushed.
fn ladder_with_text(
    fixture: &[u8],
    target: f64,
    ids: &[&str],
    copy: bool,
    audio: Audio,
    text: TextRequest,
) -> (LadderJob, BTreeMap<String, Vec<u8>>) {
    let src = fixture.to_vec();
    let mut job = LadderJob::new(&src, &with_target(target)).unwrap();
    job.set_text(text).unwrap();
    let mut files = BTreeMap::new();
    let mut put = |list: Vec<(String, Vec<u8>)>| {
        for (p, b) in list {
            assert!(files.insert(p.clone(), b).is_none(), "{p} written twice");
        }
    };
    let v = job.video_samples();
    for id in ids {
        let r = job.add_rung(rung(id)).unwrap();
        for i in 0..v.size.len() {
            put(push_source_sample(&mut job, &src, r, i));
        }
    }
    if audio == Audio::Encode {
        let a = job.source().audio.clone().unwrap();
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
            put(job
                .push_audio(bytes, s.timestamp_us[i].round(), s.duration_us[i].round())
                .unwrap());
        }
    }
    let copied: Vec<(String, Vec<u8>)> = job
        .copy_files(copy)
        .unwrap()
        .into_iter()
        .map(|(p, body)| (p, body.to_vec(&src).unwrap()))
        .collect();
    put(copied);
    put(job.finish().unwrap());
    (job, files)
}

fn segments_of<'a>(files: &'a BTreeMap<String, Vec<u8>>, dir: &str) -> Vec<&'a Vec<u8>> {
    let prefix = format!("{dir}/seg_");
    files
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .map(|(_, b)| b)
        .collect()
}

fn assert_conforms(files: &BTreeMap<String, Vec<u8>>) {
    // The ladder writes the MPD beside master.m3u8, and the check below covers it (the DASH rules).
    assert!(files.contains_key(upcast_core::layout::MANIFEST));
    let reader = MemReader {
        files: files.clone(),
    };
    let report = check_package(&reader, "master.m3u8");
    let musts: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Must)
        .collect();
    if std::env::var_os("LADDER_SHOW").is_some() {
        eprintln!("{:#?}", report.findings);
    }
    assert!(musts.is_empty(), "MUST findings: {musts:#?}");
}

/// (tfdt, first sample is sync) of every segment of `dir`.
fn starts(files: &BTreeMap<String, Vec<u8>>, dir: &str) -> Vec<(u64, bool)> {
    let init = read_init(&files[&format!("{dir}/init.mp4")]).unwrap();
    segments_of(files, dir)
        .into_iter()
        .map(|b| {
            let frags = read_segment(b, &init).unwrap();
            (frags[0].base_decode_time, frags[0].samples[0].is_sync())
        })
        .collect()
}

#[test]
fn encoded_rungs_cut_where_the_copy_rung_cuts_and_conform() {
    for fixture in [FASTSTART, MOOV_AT_END] {
        let (job, files) = ladder(fixture, 2.0, &["v90", "low"], true, Audio::Copy);
        let copy = starts(&files, "video");
        assert!(copy.len() >= 4, "{copy:?}");
        for id in ["v90", "low"] {
            let enc = starts(&files, id);
            assert_eq!(
                enc, copy,
                "{id}: segment starts (tfdt, key) differ from the copy rung"
            );
            assert!(files.contains_key(&format!("{id}/playlist.m3u8")));
            assert!(files.contains_key(&format!("{id}/iframes.m3u8")));
        }
        assert_eq!(
            job.boundaries_us().len(),
            copy.len(),
            "one boundary per segment"
        );
        let master = String::from_utf8(files["master.m3u8"].clone()).unwrap();
        assert_eq!(master.matches("#EXT-X-STREAM-INF").count(), 3, "{master}");
        assert_eq!(master.matches("#EXT-X-I-FRAME-STREAM-INF").count(), 3);
        let codec = job.source().video.codec.clone();
        assert!(
            master.contains(&format!("CODECS=\"{codec},mp4a.40.2\"")),
            "{master}"
        );
        assert!(master.contains("RESOLUTION=160x90"));
        assert!(master.contains("FRAME-RATE=25"));
        assert!(master.contains("TYPE=AUDIO"));
        assert_conforms(&files);
        let s = job.summary();
        assert_eq!(s.ladder.rungs.len(), 2);
        assert_eq!(s.ladder.audio, "copy");
    }
}

#[test]
fn encoded_segments_carry_the_source_samples_exactly() {
    let src = FASTSTART.to_vec();
    let (job, files) = ladder(FASTSTART, 2.0, &["v90"], true, Audio::Copy);
    let init = read_init(&files["v90/init.mp4"]).unwrap();
    assert_eq!(init.timescale, job.source().video.timescale);
    assert_eq!(
        init.entry.config.as_deref(),
        job.source().video.description.as_deref(),
        "avcC written verbatim"
    );
    // Every sample's bytes, in decode order, are the source's, and decode times are continuous.
    let v = job.video_samples();
    let mut i = 0;
    let mut next = None;
    for seg in segments_of(&files, "v90") {
        for f in read_segment(seg, &init).unwrap() {
            if let Some(n) = next {
                assert_eq!(f.base_decode_time, n, "tfdt continuous");
            }
            next = Some(f.base_decode_time + f.duration());
            let mut at = f.data_offset as usize;
            for s in &f.samples {
                let o = v.offset[i] as usize;
                assert_eq!(
                    &seg[at..at + s.size as usize],
                    &src[o..o + v.size[i] as usize]
                );
                assert_eq!(s.is_sync(), v.key[i] == 1, "sample {i}");
                at += s.size as usize;
                i += 1;
            }
        }
    }
    assert_eq!(i, v.size.len());
    // The I-frame playlist addresses whole moof + mdat ranges.
    let iframes = String::from_utf8(files["v90/iframes.m3u8"].clone()).unwrap();
    assert!(iframes.contains("#EXT-X-BYTERANGE"), "{iframes}");
}

#[test]
fn encoded_audio_is_cut_at_the_video_boundaries() {
    let (job, files) = ladder(FASTSTART, 2.0, &["v90"], true, Audio::Encode);
    assert_eq!(job.summary().ladder.audio, "encoded");
    let video = starts(&files, "video").len();
    assert_eq!(segments_of(&files, "audio").len(), video);
    let init = read_init(&files["audio/init.mp4"]).unwrap();
    assert_eq!(init.timescale, 48000);
    assert_eq!(init.entry.codec_string, "mp4a.40.2");
    assert_conforms(&files);
}

#[test]
fn long_gop_source_is_not_copyable_and_encoded_rungs_cut_every_target() {
    let src = LONG_GOP.to_vec();
    let mut job = LadderJob::new(&src, &with_target(6.0)).unwrap();
    assert!(!job.source().copyable);
    assert!(job
        .source()
        .copy_reason
        .as_deref()
        .unwrap()
        .contains("key frames"));
    let b = job.boundaries_us();
    assert!(b.len() >= 3, "{b:?}");
    assert!(b.windows(2).all(|w| w[1] - w[0] <= 6.5e6), "{b:?}");
    let all: Vec<Encodable> = job
        .candidates()
        .iter()
        .map(|c| Encodable {
            rung: c.clone(),
            hardware: false,
        })
        .collect();
    let p = job.propose(&all);
    assert!(!p.copy);
    assert!(job.copy_files(true).is_err(), "the copy rung is refused");
    // The copied AAC is re-cut at the ladder's boundaries, not at the source's key frames.
    let audio_segments = job
        .copy_files(false)
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("audio/seg_"))
        .count();
    assert_eq!(audio_segments, b.len());
    // A delta frame at a boundary is refused with a clear message.
    let v = job.video_samples();
    let desc = job.source().video.description.clone().unwrap();
    let r = job.add_rung(rung("v54")).unwrap();
    let mut err = None;
    for i in 0..v.size.len() {
        let at = v.offset[i] as usize;
        let bytes = src[at..at + v.size[i] as usize].to_vec();
        if let Err(e) = job.push_video(r, bytes, v.timestamp_us[i], v.key[i] == 1, Some(&desc)) {
            err = Some(e.to_string());
            break;
        }
    }
    let err = err.expect("the source's GOPs do not fit the boundaries");
    assert!(err.contains("key frame"), "{err}");
}

#[test]
fn bad_chunks_are_refused_not_written() {
    let src = FASTSTART.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let desc = job.source().video.description.clone().unwrap();
    let r = job.add_rung(rung("v90")).unwrap();
    // Not a key frame first; a timestamp that is no source frame; no description for H.264.
    assert!(job
        .push_video(r, vec![0; 10], 0.0, false, Some(&desc))
        .is_err());
    assert!(job
        .push_video(r, vec![0; 10], 12345.0, true, Some(&desc))
        .is_err());
    let mut fresh = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let r2 = fresh.add_rung(rung("v90")).unwrap();
    assert!(fresh.push_video(r2, vec![0; 10], 0.0, true, None).is_err());
    assert!(job
        .push_video(7, vec![0; 10], 0.0, true, Some(&desc))
        .is_err());
    assert!(job.add_rung(rung("video")).is_err());
    assert!(job.add_rung(rung("../x")).is_err());
    assert!(
        job.add_rung(rung("V720")).is_err(),
        "the origin refuses upper case"
    );
    assert!(
        job.push_audio(vec![1], 0.0, 21333.0).is_err(),
        "no audio encoding set"
    );
}

#[test]
fn video_only_source_without_copy() {
    let (_, files) = ladder(VIDEO_ONLY, 2.0, &["v90"], false, Audio::Copy);
    assert!(!files.keys().any(|p| p.starts_with("video/")));
    let master = String::from_utf8(files["master.m3u8"].clone()).unwrap();
    assert_eq!(master.matches("#EXT-X-STREAM-INF").count(), 1, "{master}");
    assert_conforms(&files);
}

#[test]
fn memory_stays_flat_over_thirty_minutes() {
    // The fixture's movie with its video table replaced by 30 minutes at 25 fps (a key frame every 2 s)
    // and no audio: 45,000 chunks of 2 kB (90 MB) pushed; the muxer may hold an open segment and GOP plus
    // a small record per finished segment.
    let src = FASTSTART.to_vec();
    let mut movie = demux(&src, &Limits::default()).unwrap();
    let vi = movie.video.unwrap();
    let t = &mut movie.tracks[vi];
    t.timescale = 12800;
    t.edit = Default::default();
    let frames = 30 * 60 * 25;
    t.samples = (0..frames)
        .map(|i| Sample {
            offset: 0,
            size: 100,
            dts: i as u64 * 512,
            duration: 512,
            cts_offset: 0,
            sync: i % 50 == 0,
        })
        .collect();
    movie.audio = None;
    let mut job = LadderJob::from_movie(movie, &with_target(6.0)).unwrap();
    assert_eq!(job.boundaries_us().len(), 300);
    let desc = job.source().video.description.clone().unwrap();
    let r = job.add_rung(rung("v90")).unwrap();
    let (mut peak, mut pushed, mut handed) = (0, 0usize, 0usize);
    for i in 0..frames {
        let bytes = vec![0u8; 2000];
        pushed += bytes.len();
        let out = job
            .push_video(r, bytes, i as f64 * 40_000.0, i % 50 == 0, Some(&desc))
            .unwrap();
        handed += out.iter().map(|(_, b)| b.len()).sum::<usize>();
        peak = peak.max(job.retained_bytes());
    }
    let out = job.finish().unwrap();
    handed += out.iter().map(|(_, b)| b.len()).sum::<usize>();
    assert!(handed > pushed, "every chunk was handed out in a segment");
    // One 6 s segment of 2 kB frames is 300 kB; 300 segment records are a few tens of kB.
    assert!(peak < 400_000, "held {peak} bytes of {pushed} pushed");
    assert!(out.iter().any(|(p, _)| p == "master.m3u8"));
}

/// The source's own audio samples pushed as the encoded audio, the copy rung's files, then `finish`: every
/// file of the package from there on.
fn push_source_audio_and_finish(job: &mut LadderJob, src: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let a = job.audio_samples();
    for i in 0..a.size.len() {
        let at = a.offset[i] as usize;
        let bytes = src[at..at + a.size[i] as usize].to_vec();
        files.extend(
            job.push_audio(bytes, a.timestamp_us[i], a.duration_us[i])
                .unwrap(),
        );
    }
    let whole = src.to_vec(); // the copy rung's bodies read from a `Source` ([u8] is unsized)
    for (p, body) in job.copy_files(true).unwrap() {
        files.insert(p, body.to_vec(&whole).unwrap());
    }
    files.extend(job.finish().unwrap());
    files
}

#[test]
fn vp9_rung_with_encoded_opus() {
    // VP9 chunks with the source's vpcC as description; the Opus packets re-muxed with no description
    // (a mapping-family-0 OpusHead is made).
    let src = VP9_OPUS.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    assert_eq!(job.source().audio.as_ref().map(|a| a.copy), Some(false));
    let desc = job.source().video.description.clone();
    let mut files = BTreeMap::new();
    let r = job
        .add_rung(Candidate {
            codec: "vp09.00.10.08".into(),
            ..rung("v90")
        })
        .unwrap();
    let v = job.video_samples();
    for i in 0..v.size.len() {
        let at = v.offset[i] as usize;
        let bytes = src[at..at + v.size[i] as usize].to_vec();
        files.extend(
            job.push_video(r, bytes, v.timestamp_us[i], v.key[i] == 1, desc.as_deref())
                .unwrap(),
        );
    }
    job.set_audio_encoding(&AudioEncoding {
        codec: "opus".into(),
        sample_rate: 48000,
        channels: 2,
        description: None,
    })
    .unwrap();
    files.extend(push_source_audio_and_finish(&mut job, &src));
    assert_eq!(starts(&files, "v90"), starts(&files, "video"));
    let init = read_init(&files["audio/init.mp4"]).unwrap();
    assert_eq!(init.entry.codec_string, "opus");
    let master = String::from_utf8(files["master.m3u8"].clone()).unwrap();
    assert!(master.contains("vp09.00.10.08,opus"), "{master}");
    assert_conforms(&files);
}

/// ffmpeg's frame hashes of the video of `playlist` (None when ffmpeg is not installed).
fn frame_hashes(dir: &std::path::Path, playlist: &str) -> Option<Vec<String>> {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-v",
            "error",
            "-allowed_extensions",
            "ALL",
            "-i",
        ])
        .arg(dir.join(playlist))
        .args(["-map", "0:v:0", "-f", "framemd5", "-"])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "ffmpeg on {playlist}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_string()))
            .collect(),
    )
}

#[test]
fn ffmpeg_decodes_encoded_rungs_to_the_copy_rungs_frames() {
    let (_, files) = ladder(MOOV_AT_END, 2.0, &["v90"], true, Audio::Encode);
    let dir = std::env::temp_dir().join(format!("upcast-ladder-{}", std::process::id()));
    for (p, b) in &files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    }
    let Some(copy) = frame_hashes(&dir, "video/playlist.m3u8") else {
        eprintln!("ffmpeg is not installed: frame comparison skipped");
        return;
    };
    let enc = frame_hashes(&dir, "v90/playlist.m3u8").unwrap();
    let master = frame_hashes(&dir, "master.m3u8").unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(copy.len(), 200, "8 s at 25 fps");
    assert_eq!(
        enc, copy,
        "the encoded rung decodes to the copy rung's frames"
    );
    assert_eq!(master.len(), copy.len());
}

#[test]
fn opus_from_a_44_1_khz_source_declares_48_khz_in_both_places() {
    // An MP3 at 44.1 kHz re-encoded as Opus: WebCodecs' encoder is configured at 44100 and its OpusHead
    // says so. Chromium refuses an Opus track whose AudioSampleEntry samplerate and dOps InputSampleRate
    // differ, so both are 48000.
    let src = VP9_OPUS.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 1, 0x38, 0x01]); // version, 1 channel, pre-skip 312
    head.extend_from_slice(&44100u32.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]); // gain, mapping family 0
    job.set_audio_encoding(&AudioEncoding {
        codec: "opus".into(),
        sample_rate: 44100,
        channels: 1,
        description: Some(head),
    })
    .unwrap();
    let mut files = BTreeMap::new();
    files.extend(push_source_audio_and_finish(&mut job, &src));
    let init = read_init(&files["audio/init.mp4"]).unwrap();
    let audio = init.entry.audio.as_ref().unwrap();
    assert_eq!((audio.sample_rate, audio.channels), (48000, 1));
    let dops = init.entry.config.as_deref().unwrap();
    assert_eq!(dops[1], 1, "OutputChannelCount");
    assert_eq!(&dops[2..4], &312u16.to_be_bytes(), "PreSkip");
    assert_eq!(&dops[4..8], &48000u32.to_be_bytes(), "InputSampleRate");
    assert_eq!(init.timescale, 48000);
    assert_conforms(&files);
}

fn caption(lang: &str, text: &str) -> CaptionInput {
    CaptionInput {
        lang: lang.into(),
        name: "Captions & more".into(),
        default: true,
        forced: false,
        bytes: text.as_bytes().to_vec(),
    }
}

#[test]
fn ladder_with_captions_and_the_source_chapters_announces_them_and_conforms() {
    let text = TextRequest {
        inputs: vec![caption(
            "pt-br",
            "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nOlá\n",
        )],
        ..TextRequest::default()
    };
    let (job, files) = ladder_with_text(CHAPTERS, 2.0, &["v90"], true, Audio::Copy, text);
    assert_conforms(&files);
    let master = String::from_utf8(files["master.m3u8"].clone()).unwrap();
    assert!(
        master.contains("TYPE=SUBTITLES,URI=\"subs_pt-br_")
            && master.contains("LANGUAGE=\"pt-BR\",NAME=\"Captions & more\",DEFAULT=YES"),
        "{master}"
    );
    let variants: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .collect();
    assert_eq!(variants.len(), 2, "{master}");
    assert!(variants.iter().all(|l| l.contains("SUBTITLES=\"subs\"")));
    let mpd = String::from_utf8(files["manifest.mpd"].clone()).unwrap();
    assert!(
        mpd.contains("<Label>Captions &amp; more</Label>") && mpd.contains("lang=\"pt-BR\""),
        "{mpd}"
    );
    // No chapters were typed: the source's chapter track is the chapters track.
    let chapters = String::from_utf8(files["chapters.vtt"].clone()).unwrap();
    assert!(
        chapters.contains("00:00:03.000 --> 00:00:06.000\nCafé tour\n")
            && chapters.contains("\nQ&amp;A and credits\n"),
        "{chapters}"
    );
    let s = job.summary();
    assert_eq!(s.package.chapters.as_deref(), Some("chapters.vtt"));
    assert_eq!(s.package.captions.len(), 1);
    assert_eq!(s.package.source_chapters.len(), 3);
}

#[test]
fn ladder_typed_chapters_win_and_source_chapters_can_be_left_out() {
    let typed = TextRequest {
        chapters: Some(vec![Chapter {
            start_ms: 0,
            title: "Mine".into(),
        }]),
        ..TextRequest::default()
    };
    let (_, files) = ladder_with_text(CHAPTERS, 2.0, &["v90"], true, Audio::Copy, typed);
    let chapters = String::from_utf8(files["chapters.vtt"].clone()).unwrap();
    assert!(
        chapters.contains("\nMine\n") && !chapters.contains("Opening"),
        "{chapters}"
    );
    let none = TextRequest {
        use_source_chapters: false,
        ..TextRequest::default()
    };
    let (_, files) = ladder_with_text(CHAPTERS, 2.0, &["v90"], true, Audio::Copy, none);
    assert!(!files.contains_key("chapters.vtt"));
    assert!(!String::from_utf8_lossy(&files["master.m3u8"]).contains("SUBTITLES"));
}

#[test]
fn ladder_refuses_a_bad_caption_file_before_encoding() {
    let src = CHAPTERS.to_vec();
    let mut job = LadderJob::new(&src, &with_target(2.0)).unwrap();
    let e = job
        .set_text(TextRequest {
            inputs: vec![caption("en", "WEBVTT\n\n00:01.000 --> 00:0x.000\nhi\n")],
            ..TextRequest::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("line 3"), "{e}");
}

const VP8_OPUS: &[u8] = include_bytes!("../../tests/fixtures/vp8_opus.webm");

#[test]
fn vp8_source_is_decoded_for_the_ladder_and_cut_at_its_own_key_frames() {
    let src = VP8_OPUS.to_vec();
    let mut job = LadderJob::new(&src, &with_target(1.5)).unwrap();
    let s = job.source().clone();
    assert!(!s.copyable);
    let why = s.copy_reason.unwrap();
    assert!(why.contains("VP8 video has no CMAF packaging"), "{why}");
    // WebCodecs' codec string, no description.
    assert_eq!(s.video.codec, "vp8");
    assert_eq!(s.video.description, None);
    assert_eq!((s.video.display_width, s.video.display_height), (160, 90));
    assert_eq!(s.video.frames, 75);
    let audio = s.audio.unwrap();
    assert_eq!((audio.codec.as_str(), audio.copy), ("opus", false));
    // The cuts are the source's key frames (1 s apart), not every target duration (which would cut at
    // 1.5 s, where there is none).
    let v = job.video_samples();
    let keys: Vec<f64> = (0..v.key.len())
        .filter(|&i| v.key[i] == 1)
        .map(|i| v.timestamp_us[i])
        .collect();
    assert_eq!(keys.len(), 3);
    let b = job.boundaries_us();
    assert!(b.len() >= 2, "{b:?}");
    assert!(
        b.iter().all(|t| keys.contains(t)),
        "{b:?} vs key frames {keys:?}"
    );
    // The planner offers the source's own size as the top rung, and the proposal has no copy rung.
    assert_eq!(
        (job.candidates()[0].width, job.candidates()[0].height),
        (160, 90)
    );
    let all: Vec<Encodable> = job
        .candidates()
        .iter()
        .map(|c| Encodable {
            rung: c.clone(),
            hardware: false,
        })
        .collect();
    let p = job.propose(&all);
    assert!(!p.copy);
    assert!(p.rungs.iter().all(|r| r.codec.starts_with("avc1.")));
    assert!(job.copy_files(true).is_err(), "the copy rung is refused");
    // The copy package (no ladder) leaves the VP8 track out, saying so, and keeps the Opus.
    let pkg = upcast_core::segment(&src, &with_target(1.5)).unwrap();
    assert!(
        pkg.summary
            .warnings
            .iter()
            .any(|w| w.contains("VP8 video has no CMAF packaging")),
        "{:?}",
        pkg.summary.warnings
    );
    assert!(pkg.video().is_empty());
    assert_eq!(pkg.audio().len(), 1);
    // VP8 with Vorbis (no audio either can be copied): the ladder still takes the VP8 alone; the copy
    // package refuses the file, naming both tracks.
    let vv = include_bytes!("../../tests/fixtures/vp8_vorbis.webm").to_vec();
    let job = LadderJob::new(&vv, &with_target(6.0)).unwrap();
    assert_eq!(job.source().video.codec, "vp8");
    assert!(job.source().audio.is_none());
    let e = upcast_core::segment(&vv, &with_target(6.0))
        .err()
        .expect("nothing to copy")
        .to_string();
    assert!(e.contains("VP8 video") && e.contains("Vorbis audio"), "{e}");
}
