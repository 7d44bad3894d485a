//! The static MPD of a package, from the same [`Rendition`]s the HLS playlists are written from: one
//! AdaptationSet per video codec family (a player switches between the Representations of one set
//! seamlessly, which ISO/IEC 23009-1 § 5.3.3.1 allows only for one codec; it picks the set it can decode
//! by @codecs) and one per audio language, a Representation per rendition whose
//! SegmentTemplate names the rendition's existing `init.mp4` and `seg_NNNNN.m4s` files, with a
//! SegmentTimeline of the segments' tfdt and durations in the rendition's timescale.
//!
//! No trick-play AdaptationSet: the I-frame byte ranges the HLS I-frame playlists use lie inside the media
//! segments, and the profiles written here (isoff-live, CMAF) address segments with SegmentTemplate only,
//! which cannot name byte ranges. `SegmentList`/`SegmentURL@mediaRange` could, but outside those profiles,
//! and each range is a one-frame CMAF fragment whose samples last one frame while its timeline entry would
//! have to last the whole GOP: not a conformant segment.

use super::model::{
    AdaptationSet, Descriptor, Mpd, Period, Representation, SegmentTemplate, SegmentTimeline,
    NAMESPACE, S,
};
use crate::cmaf::{MediaSegment, Rendition};
use crate::hls::language::rfc5646;
use crate::layout;

/// `profiles`: DASH-IF IOP's live profile (SegmentTemplate, segments as files) and the CMAF profile.
pub const PROFILES: &str = "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019";
/// `AudioChannelConfiguration` by channel count (ISO/IEC 23003-3 scheme: the value is the count).
pub const CHANNELS_SCHEME: &str = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
/// The `$Number$` template of the media segments, matching [`layout::segment_name`] from `startNumber` 1.
pub const NUMBER_TEMPLATE: &str = "seg_$Number%05d$.m4s";

/// The codec family of a rendition: the sample entry's four-character code ("avc1", "av01", "vp09"...),
/// with avc3 counted as avc1 and hev1 as hvc1 (the same codec, parameter sets in band or not).
fn family(r: &Rendition) -> &str {
    match r.entry.codec_string.split('.').next().unwrap_or_default() {
        "avc3" => "avc1",
        "hev1" => "hvc1",
        f => f,
    }
}

/// The MPD (`manifest.mpd`) of a package: `videos` one AdaptationSet per codec family (in the order of
/// each family's first rendition), `audios` one AdaptationSet per language, in the order given.
pub fn mpd(videos: &[&Rendition], audios: &[&Rendition]) -> String {
    let mut sets = Vec::new();
    let mut families: Vec<&str> = Vec::new();
    for v in videos {
        if !families.contains(&family(v)) {
            families.push(family(v));
        }
    }
    for f in families {
        sets.push(AdaptationSet {
            id: sets.len().to_string(),
            content_type: "video".into(),
            mime_type: "video/mp4".into(),
            segment_alignment: Some(true),
            start_with_sap: Some(1),
            representations: videos
                .iter()
                .filter(|r| family(r) == f)
                .map(|r| representation(r))
                .collect(),
            ..AdaptationSet::default()
        });
    }
    let mut languages: Vec<String> = Vec::new();
    for a in audios {
        let lang = rfc5646(&a.language);
        if !languages.contains(&lang) {
            languages.push(lang);
        }
    }
    for (i, lang) in languages.iter().enumerate() {
        sets.push(AdaptationSet {
            id: (sets.len()).to_string(),
            content_type: "audio".into(),
            mime_type: "audio/mp4".into(),
            lang: Some(lang.clone()),
            segment_alignment: Some(true),
            start_with_sap: Some(1),
            role: Some(Descriptor {
                scheme_id_uri: "urn:mpeg:dash:role:2011".into(),
                value: if i == 0 { "main" } else { "alternate" }.into(),
            }),
            segment_template: None,
            label: None,
            representations: audios
                .iter()
                .filter(|a| rfc5646(&a.language) == *lang)
                .map(|r| representation(r))
                .collect(),
        });
    }
    let all = videos.iter().chain(audios);
    let duration = all.clone().map(|r| r.duration_s()).fold(0.0, f64::max);
    let longest = all
        .flat_map(|r| r.segments.iter().map(|s| s.duration_s(r.timescale)))
        .fold(0.0, f64::max);
    Mpd {
        xmlns: NAMESPACE.into(),
        profiles: PROFILES.into(),
        mpd_type: "static".into(),
        media_presentation_duration: Some(seconds(duration)),
        // With `bandwidth` the peak over one segment, a buffer of the longest segment is always enough.
        min_buffer_time: seconds(longest.max(1.0)),
        dynamic: None,
        periods: vec![Period {
            id: "0".into(),
            start: Some("PT0S".into()),
            adaptation_sets: sets,
        }],
    }
    .to_xml()
}

fn representation(r: &Rendition) -> Representation {
    let video = r.entry.video.as_ref();
    let audio = r.entry.audio.as_ref();
    Representation {
        id: r.id.clone(),
        bandwidth: crate::num::f64_to_u64(r.peak_bitrate().ceil()),
        codecs: r.entry.codec_string.clone(),
        width: video.map(|v| u32::from(v.width)),
        height: video.map(|v| u32::from(v.height)),
        sar: video.map(|v| sar(v.pasp)),
        frame_rate: r.frame_rate.filter(|f| *f > 0.0).map(frame_rate),
        audio_sampling_rate: audio.map(|a| a.sample_rate),
        audio_channel_configuration: audio.map(|a| Descriptor {
            scheme_id_uri: CHANNELS_SCHEME.into(),
            value: a.channels.to_string(),
        }),
        segment_template: Some(SegmentTemplate {
            timescale: Some(r.timescale),
            initialization: layout::in_dir(&r.id, layout::INIT),
            media: layout::in_dir(&r.id, NUMBER_TEMPLATE),
            start_number: Some(1),
            duration: None,
            end_number: None,
            presentation_time_offset: None,
            segment_timeline: Some(SegmentTimeline {
                entries: timeline(&r.segments),
            }),
        }),
        essential_property: None,
        base_url: None,
    }
}

/// The SegmentTimeline of `segments`: runs of equal durations folded into `r`, an explicit `t` at the
/// start and wherever a segment does not start where the previous one ended.
pub fn timeline(segments: &[MediaSegment]) -> Vec<S> {
    let mut out: Vec<S> = Vec::new();
    let mut end: Option<u64> = None;
    for s in segments {
        let follows = end == Some(s.start);
        match out.last_mut() {
            Some(last) if follows && last.d == s.duration => {
                last.r = Some(last.r.unwrap_or(0) + 1);
            }
            _ => out.push(S {
                t: (!follows).then_some(s.start),
                d: s.duration,
                r: None,
            }),
        }
        end = Some(s.start.saturating_add(s.duration));
    }
    out
}

/// An xs:duration in seconds, rounded up to the millisecond (a duration never shorter than the media).
pub fn seconds(s: f64) -> String {
    let ms = crate::num::f64_to_u64((s * 1000.0).ceil());
    format!("PT{}.{:03}S", ms / 1000, ms % 1000)
}

/// `sar` from the pixel aspect ratio box (`1:1` without one), reduced.
fn sar(pasp: Option<(u32, u32)>) -> String {
    let (h, v) = pasp.filter(|&(h, v)| h > 0 && v > 0).unwrap_or((1, 1));
    let g = gcd(h, v);
    format!("{}:{}", h / g, v / g)
}

/// `frameRate` as DASH's FrameRateType: an integer, or `N*1000/1001` for the NTSC rates, else `N/1000`.
pub fn frame_rate(fps: f64) -> String {
    let near = |x: f64| (x - x.round()).abs() < 0.001;
    if near(fps) {
        return crate::num::f64_to_u64(fps.round()).to_string();
    }
    let ntsc = fps * 1001.0 / 1000.0;
    if near(ntsc) {
        return format!("{}/1001", crate::num::f64_to_u64(ntsc.round()) * 1000);
    }
    let n = crate::num::f64_to_u64((fps * 1000.0).round());
    let g = gcd64(n, 1000);
    format!("{}/{}", n / g, 1000 / g)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

fn gcd64(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd64(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u64, duration: u64) -> MediaSegment {
        MediaSegment {
            len: 1,
            start,
            duration,
            iframes: Vec::new(),
        }
    }

    #[test]
    fn timeline_folds_runs_and_marks_gaps() {
        let segs = [seg(0, 10), seg(10, 10), seg(20, 10), seg(30, 7), seg(40, 7)];
        let t = timeline(&segs);
        assert_eq!(
            t,
            vec![
                S {
                    t: Some(0),
                    d: 10,
                    r: Some(2)
                },
                S {
                    t: None,
                    d: 7,
                    r: None
                },
                S {
                    t: Some(40),
                    d: 7,
                    r: None
                },
            ]
        );
        assert!(timeline(&[]).is_empty());
    }

    #[test]
    fn figures() {
        assert_eq!(seconds(8.0211), "PT8.022S");
        assert_eq!(seconds(0.0), "PT0.000S");
        assert_eq!(sar(None), "1:1");
        assert_eq!(sar(Some((64, 48))), "4:3");
        assert_eq!(frame_rate(25.0), "25");
        assert_eq!(frame_rate(30000.0 / 1001.0), "30000/1001");
        assert_eq!(frame_rate(12.5), "25/2");
    }
}
