//! The live stream as a dynamic MPD (ISO/IEC 23009-1, DASH-IF IOP § 4), written by the core's MPD writer
//! over the same window the LL-HLS playlists list: each rendition a Representation whose SegmentTemplate
//! names the files the LL-HLS routes serve (`{r}/init.mp4` or `{r}/init-{n}.mp4`, `{r}/{msn}.m4s`, so
//! `$Number$` is the MSN) and whose SegmentTimeline is the window's complete segments, their tfdt and
//! lengths to the tick.
//!
//! Periods: one per epoch of the stream. A reconnect (or a changed init segment) starts a new epoch: the
//! ingest keeps each track's media time continuous across a reconnect, but the wall clock went on while
//! the publisher was away, and a Period's `start` plus `presentationTimeOffset` is the only way a DASH
//! client maps media time to wall-clock availability; a changed init segment needs a new Period anyway.
//! `availabilityStartTime` is the stream's first program date-time and never moves; each Period starts
//! at its epoch's first program date-time, and its `presentationTimeOffset` is the track's tick there.
//!
//! An ended stream (DASH-IF IOP § 4.4.3.1, "MPD-based end of a live presentation"): the MPD stays dynamic
//! with its last `publishTime`, loses `minimumUpdatePeriod` (no further updates) and gains
//! `mediaPresentationDuration` up to the end of its last segment.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use upcast_core::cmaf::MediaSegment;
use upcast_core::dash::model::{
    AdaptationSet, Descriptor, Dynamic, Mpd, Period, Representation, SegmentTemplate,
    SegmentTimeline, NAMESPACE,
};
use upcast_core::dash::write::{frame_rate, seconds, timeline, CHANNELS_SCHEME, PROFILES};
use upcast_core::demux::TrackKind;

use super::playlists::{init_uri, target_duration};
use super::stream::State;
use super::window::RenditionWindow;

/// `UTCTiming@schemeIdUri` of a URL that answers the time as ISO 8601 text.
pub const UTC_HTTP_ISO: &str = "urn:mpeg:dash:utc:http-iso:2014";

/// The first segment of an epoch in one rendition: its tfdt and program date-time (ties the track's clock
/// to the wall's for the Period's `presentationTimeOffset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Anchor {
    pub epoch: u32,
    pub start: u64,
    pub pdt: SystemTime,
}

/// `GET|HEAD /live/time`: the origin's clock as ISO 8601 (the live MPD's `UTCTiming`), never cached.
pub async fn time() -> actix_web::HttpResponse {
    let mut resp = actix_web::HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(iso(SystemTime::now()));
    crate::serve::playback_headers(&mut resp);
    resp
}

/// An xs:dateTime in UTC with milliseconds.
pub fn iso(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The dynamic MPD of the stream; `utc_url` is where clients read the origin's clock. None until every
/// rendition has a complete segment, or one has two (a track that never starts is left out), as the
/// multivariant playlist waits: a player keeps the AdaptationSets it first sees.
pub(super) fn mpd(st: &State, utc_url: &str) -> Option<String> {
    let ast = st.first_pdt?;
    let ready = st.renditions.iter().all(|r| !r.segments.is_empty())
        || st.renditions.iter().any(|r| r.segments.len() >= 2);
    if !ready {
        return None;
    }
    let shown: Vec<&RenditionWindow> = st
        .renditions
        .iter()
        .filter(|r| r.listed().next().is_some())
        .collect();
    let mut epochs: Vec<u32> = shown
        .iter()
        .flat_map(|r| r.listed().map(|s| s.epoch))
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    if epochs.is_empty() {
        return None;
    }
    let periods = epochs.iter().map(|&e| period(&shown, e, ast)).collect();
    let end = shown
        .iter()
        .filter_map(|r| r.listed().last().map(|s| s.pdt + secs(s.duration)))
        .max()
        .unwrap_or(ast);
    let target = target_duration(st) as f64;
    let longest = st
        .renditions
        .iter()
        .map(|r| r.max_segment)
        .fold(1.0, f64::max);
    let since = |t: SystemTime| t.duration_since(ast).unwrap_or_default().as_secs_f64();
    Some(
        Mpd {
            xmlns: NAMESPACE.into(),
            profiles: PROFILES.into(),
            mpd_type: "dynamic".into(),
            media_presentation_duration: st.ended.then(|| seconds(since(end))),
            min_buffer_time: seconds(longest),
            dynamic: Some(Dynamic {
                availability_start_time: iso(ast),
                // The window last changed when its newest segment completed.
                publish_time: iso(end),
                minimum_update_period: (!st.ended).then(|| seconds(target)),
                time_shift_buffer_depth: Some(seconds(st.opts.dvr_window.as_secs_f64())),
                suggested_presentation_delay: Some(seconds(3.0 * target)),
                utc_timing: vec![Descriptor {
                    scheme_id_uri: UTC_HTTP_ISO.into(),
                    value: utc_url.into(),
                }],
            }),
            periods,
        }
        .to_xml(),
    )
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

/// Period `epoch`: it starts at the earliest first program date-time of the epoch's segments (whole
/// milliseconds after `ast`); video renditions in one AdaptationSet, audio in another.
fn period(shown: &[&RenditionWindow], epoch: u32, ast: SystemTime) -> Period {
    let in_epoch: Vec<&RenditionWindow> = shown
        .iter()
        .copied()
        .filter(|r| r.listed().any(|s| s.epoch == epoch))
        .collect();
    let wall = in_epoch
        .iter()
        .filter_map(|r| anchor(r, epoch).map(|a| a.1))
        .min()
        .unwrap_or(ast);
    let start_ms = wall.duration_since(ast).unwrap_or_default().as_millis();
    let start = ast + Duration::from_millis(u64::try_from(start_ms).unwrap_or(u64::MAX));
    let mut sets = Vec::new();
    for (kind, content, mime) in [
        (TrackKind::Video, "video", "video/mp4"),
        (TrackKind::Audio, "audio", "audio/mp4"),
    ] {
        let of_kind: Vec<&RenditionWindow> = in_epoch
            .iter()
            .copied()
            .filter(|r| r.info.kind == kind)
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        sets.push(AdaptationSet {
            id: sets.len().to_string(),
            content_type: content.into(),
            mime_type: mime.into(),
            // Multitrack renditions are cut at their own encoder's key frames: say so only when true.
            segment_alignment: aligned(&of_kind, epoch).then_some(true),
            start_with_sap: Some(1),
            role: (kind == TrackKind::Audio).then(|| Descriptor {
                scheme_id_uri: "urn:mpeg:dash:role:2011".into(),
                value: "main".into(),
            }),
            representations: of_kind
                .iter()
                .map(|r| representation(r, epoch, start))
                .collect(),
            ..AdaptationSet::default()
        });
    }
    Period {
        id: epoch.to_string(),
        start: Some(format!("PT{}.{:03}S", start_ms / 1000, start_ms % 1000)),
        adaptation_sets: sets,
    }
}

/// Whether the renditions' segments of `epoch` start at the same instants where they overlap.
fn aligned(reps: &[&RenditionWindow], epoch: u32) -> bool {
    let starts = |r: &RenditionWindow| -> Vec<SystemTime> {
        r.listed()
            .filter(|s| s.epoch == epoch)
            .map(|s| s.pdt)
            .collect()
    };
    let all: Vec<Vec<SystemTime>> = reps.iter().map(|r| starts(r)).collect();
    let from = all.iter().filter_map(|v| v.first()).max().copied();
    let common = |v: &Vec<SystemTime>| -> Vec<SystemTime> {
        v.iter().copied().filter(|t| Some(*t) >= from).collect()
    };
    let first = all.first().map(common).unwrap_or_default();
    all.iter().all(|v| {
        let c = common(v);
        let n = c.len().min(first.len());
        c[..n] == first[..n]
    })
}

/// Where rendition `r` entered `epoch`: its tfdt and program date-time then (the anchor, or the first
/// listed segment of the epoch once the anchor has gone).
fn anchor(r: &RenditionWindow, epoch: u32) -> Option<(u64, SystemTime)> {
    let kept = r.anchors.iter().find(|a| a.epoch == epoch);
    kept.map(|a| (a.start, a.pdt)).or_else(|| {
        let s = r.listed().find(|s| s.epoch == epoch)?;
        Some((s.start, s.pdt))
    })
}

fn representation(r: &RenditionWindow, epoch: u32, period_start: SystemTime) -> Representation {
    let ts = r.timescale.max(1);
    let segs: Vec<_> = r.listed().filter(|s| s.epoch == epoch).collect();
    // The track's tick at the Period's start: its anchor's tfdt less the anchor's wall-clock time after
    // the Period's start (the ingest stamps every part's PDT from the same media clock).
    let (t0, pdt0) = anchor(r, epoch).unwrap_or((0, period_start));
    let after = pdt0.duration_since(period_start).unwrap_or_default();
    let after_ticks = (after.as_micros() * u128::from(ts) + 500_000) / 1_000_000;
    let pto = t0.saturating_sub(u64::try_from(after_ticks).unwrap_or(u64::MAX));
    let media: Vec<MediaSegment> = segs
        .iter()
        .map(|s| MediaSegment {
            len: s.bytes.len() as u64,
            start: s.start,
            duration: s.ticks,
            iframes: Vec::new(),
        })
        .collect();
    let gen = segs.first().map_or(0, |s| s.init_gen);
    let video = r.info.kind == TrackKind::Video;
    let audio = r.info.kind == TrackKind::Audio;
    Representation {
        id: r.name.clone(),
        bandwidth: r.bandwidth().max(1),
        codecs: r.info.codec.clone(),
        width: video.then_some(r.info.width),
        height: video.then_some(r.info.height),
        sar: None,
        frame_rate: r.frame_rate().filter(|_| video).map(frame_rate),
        audio_sampling_rate: audio.then_some(r.info.sample_rate),
        audio_channel_configuration: audio.then(|| Descriptor {
            scheme_id_uri: CHANNELS_SCHEME.into(),
            value: r.info.channels.to_string(),
        }),
        segment_template: Some(SegmentTemplate {
            timescale: Some(ts),
            initialization: format!("{}/{}", r.name, init_uri(gen)),
            media: format!("{}/$Number$.m4s", r.name),
            start_number: segs.first().map(|s| s.msn),
            duration: None,
            end_number: None,
            presentation_time_offset: Some(pto),
            segment_timeline: Some(SegmentTimeline {
                entries: timeline(&media),
            }),
        }),
        essential_property: None,
        base_url: None,
    }
}

/// The stream's live MPD for the clock at `utc_url`, rendered once per state of the window (viewers
/// polling every second share one rendering), gzipped (then `true`) when asked and compressing works.
pub(super) fn cached_mpd(
    stream: &super::LiveStream,
    utc_url: &str,
    gzip: bool,
) -> Option<(actix_web::web::Bytes, bool)> {
    use actix_web::web::Bytes;
    let st = stream.lock();
    let mut cache = stream.mpd.lock().unwrap_or_else(|e| e.into_inner());
    let fresh = cache
        .as_ref()
        .is_some_and(|(u, r)| u == utc_url && r.version == st.version);
    if !fresh {
        let text = mpd(&st, utc_url)?;
        let r = super::stream::Rendered {
            version: st.version,
            identity: Bytes::from(text),
            gzip: None,
        };
        *cache = Some((utc_url.to_string(), r));
    }
    drop(st);
    let (_, r) = cache.as_mut()?;
    if gzip && r.gzip.is_none() {
        r.gzip = crate::rendered::gzip(&r.identity).ok().map(Bytes::from);
    }
    match (&r.gzip, gzip) {
        (Some(z), true) => Some((z.clone(), true)),
        _ => Some((r.identity.clone(), false)),
    }
}
