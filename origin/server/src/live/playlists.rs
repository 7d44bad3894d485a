//! The stream's playlists from its window: the multivariant playlist (video renditions as variants, audio
//! as one EXT-X-MEDIA group) and each rendition's LL-HLS media playlist (written by the core).
use std::time::UNIX_EPOCH;

use upcast_core::demux::TrackKind;
use upcast_core::hls::live::{LivePart, LivePlaylist, LiveSegment, OpenTags, RenditionReport};

use super::stream::State;
use super::window::RenditionWindow;

const AUDIO_GROUP: &str = "audio";

/// EXT-X-TARGETDURATION: the longest segment seen, rounded (RFC 8216 § 4.3.3.1), at least the part
/// target; never shrinks while the stream lives.
pub(super) fn target_duration(st: &State) -> u64 {
    let longest = st
        .renditions
        .iter()
        .map(|r| r.max_segment)
        .fold(part_target(st), f64::max);
    upcast_core::num::f64_to_u64(longest.round()).max(1)
}

/// PART-TARGET: the configured one, raised to the longest part seen (no part may exceed it).
pub(super) fn part_target(st: &State) -> f64 {
    st.renditions
        .iter()
        .map(|r| r.max_part)
        .fold(st.opts.part_target.as_secs_f64(), f64::max)
}

pub(super) fn init_uri(gen: u32) -> String {
    if gen == 0 {
        "init.mp4".into()
    } else {
        format!("init-{gen}.mp4")
    }
}

/// The LL-HLS media playlist of rendition `i`; a delta update when `skip`.
pub(super) fn media(st: &State, i: usize, skip: bool) -> Option<String> {
    let r = st.renditions.get(i)?;
    let mut prev_gen = r.listed().next().map(|s| s.init_gen);
    let segments = r
        .listed()
        .map(|s| {
            let map_uri = (Some(s.init_gen) != prev_gen).then(|| init_uri(s.init_gen));
            prev_gen = Some(s.init_gen);
            LiveSegment {
                uri: format!("{}.m4s", s.msn),
                duration: s.duration,
                pdt_ms: s
                    .pdt
                    .duration_since(UNIX_EPOCH)
                    .ok()
                    .and_then(|d| i64::try_from(d.as_millis()).ok()),
                discontinuity: s.discontinuity,
                map_uri,
                parts: parts(
                    s.first_part,
                    s.parts
                        .iter()
                        .map(|p| (p.duration, p.independent, p.range.is_empty())),
                ),
                gap: s.is_gap(),
            }
        })
        .collect();
    let (edge, _) = r.edge();
    let open = r.open_parts();
    // The open segment's init (a reconnect may have started a new one and no segment shows it yet).
    let first_gen = r.listed().next().map_or(r.init_gen(), |s| s.init_gen);
    let p = LivePlaylist {
        target_duration: target_duration(st),
        part_target: part_target(st),
        media_sequence: r.listed().next().map_or(edge, |s| s.msn),
        discontinuity_sequence: r.discontinuity_sequence,
        map_uri: init_uri(first_gen),
        segments,
        open_parts: parts(
            r.open.as_ref().map_or(r.next_part, |o| o.first_part),
            open.into_iter(),
        ),
        open_tags: open_tags(r),
        // A paused rendition's next part is a GAP one: nothing for a player to preload.
        preload_hint: (!r.paused).then(|| part_uri(r.next_part)),
        rendition_reports: reports(st, i),
        ended: st.ended,
    };
    Some(p.write(skip))
}

/// The open segment's own tags, written before its parts: its discontinuity, its init segment when it
/// differs from the last listed segment's, its program date-time.
fn open_tags(r: &RenditionWindow) -> OpenTags {
    let Some(o) = &r.open else {
        return OpenTags::default();
    };
    let last_gen = r.listed().last().map(|s| s.init_gen);
    OpenTags {
        discontinuity: o.discontinuity,
        map_uri: last_gen
            .is_some_and(|g| g != o.init_gen)
            .then(|| init_uri(o.init_gen)),
        pdt_ms: o
            .pdt
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_millis()).ok()),
    }
}

/// A part's URI: its rendition-wide number (see [`RenditionWindow::next_part`]).
pub(super) fn part_uri(n: u64) -> String {
    format!("part{n}.m4s")
}

/// The parts of one segment, the first numbered `first`.
fn parts(first: u64, ps: impl Iterator<Item = (f64, bool, bool)>) -> Vec<LivePart> {
    ps.zip(first..)
        .map(|((duration, independent, gap), n)| LivePart {
            uri: part_uri(n),
            duration,
            independent,
            gap,
        })
        .collect()
}

fn reports(st: &State, i: usize) -> Vec<RenditionReport> {
    st.renditions
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .filter_map(|(_, r)| {
            let (last_msn, last_part) = r.last_part()?;
            Some(RenditionReport {
                uri: format!("../{}/index.m3u8", r.name),
                last_msn,
                last_part,
            })
        })
        .collect()
}

/// The multivariant playlist: every video rendition a variant (CODECS with the audio's, RESOLUTION,
/// BANDWIDTH measured from the window), the audio renditions one group; audio alone when there is no
/// video.
pub(super) fn multivariant(st: &State) -> String {
    use m3u8_rs::{
        AlternativeMedia, AlternativeMediaType, MasterPlaylist, Resolution, VariantStream,
    };
    // Renditions with no media yet are left out (see the multivariant route: they are listed once they
    // have some, unless one never starts).
    let is = |r: &&RenditionWindow, k: TrackKind| r.info.kind == k && r.has_media();
    let videos: Vec<_> = st
        .renditions
        .iter()
        .filter(|r| is(r, TrackKind::Video))
        .collect();
    let audios: Vec<_> = st
        .renditions
        .iter()
        .filter(|r| is(r, TrackKind::Audio))
        .collect();
    let audio = audios.first();
    let mut m = MasterPlaylist {
        version: Some(upcast_core::hls::live::LIVE_VERSION),
        independent_segments: true,
        ..MasterPlaylist::default()
    };
    let uri = |r: &RenditionWindow| format!("{}/index.m3u8", r.name);
    if !videos.is_empty() {
        m.alternatives = audios
            .iter()
            .enumerate()
            .map(|(k, a)| AlternativeMedia {
                media_type: AlternativeMediaType::Audio,
                uri: Some(uri(a)),
                group_id: AUDIO_GROUP.into(),
                name: a.name.clone(),
                default: k == 0,
                autoselect: true,
                channels: Some(a.info.channels.to_string()),
                ..AlternativeMedia::default()
            })
            .collect();
    }
    let variants: Vec<&RenditionWindow> = if videos.is_empty() {
        audios.clone()
    } else {
        videos
    };
    for v in variants {
        let with_audio = v.info.kind == TrackKind::Video && audio.is_some();
        let (codecs, bandwidth) = match audio.filter(|_| with_audio) {
            Some(a) => (
                format!("{},{}", v.info.codec, a.info.codec),
                v.bandwidth() + a.bandwidth(),
            ),
            None => (v.info.codec.clone(), v.bandwidth()),
        };
        m.variants.push(VariantStream {
            uri: uri(v),
            bandwidth: bandwidth.max(1),
            codecs: Some(codecs),
            resolution: (v.info.kind == TrackKind::Video).then_some(Resolution {
                width: u64::from(v.info.width),
                height: u64::from(v.info.height),
            }),
            audio: with_audio.then(|| AUDIO_GROUP.to_string()),
            ..VariantStream::default()
        });
    }
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = m.write_to(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
