//! Low-latency HLS media playlists (RFC 8216bis § 4.4.3.7–4.4.5.2, Apple's LL-HLS rules) for a live window:
//! complete segments with their parts near the live edge, the open segment's parts, a preload hint,
//! rendition reports and delta updates. Pure: the caller gives every figure (program date-times as unix
//! milliseconds), nothing here reads a clock.
//!
//! m3u8-rs writes the header, the segments (EXTINF, EXT-X-MAP, EXT-X-PROGRAM-DATE-TIME,
//! EXT-X-DISCONTINUITY) and each segment's EXT-X-PART lines (as the segment's unknown tags, which it writes
//! before EXTINF). m3u8-rs 6.0.1 writes no playlist-level unknown tags and nothing after the last segment's
//! URI, so EXT-X-SERVER-CONTROL, EXT-X-PART-INF and EXT-X-SKIP (after the header) and the open segment's
//! EXT-X-PART, EXT-X-PRELOAD-HINT and EXT-X-RENDITION-REPORT (after the last URI) are written by hand here.

use super::to_string;
use m3u8_rs::{ExtTag, Map, MediaPlaylist, MediaSegment};

/// One part: whole CMAF chunks, `duration` seconds, `independent` when it starts with a key frame.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePart {
    pub uri: String,
    pub duration: f64,
    pub independent: bool,
    /// `GAP=YES`: the rendition has no media for this part (a rung the publisher paused); a player takes
    /// it from another rendition (RFC 8216bis § 4.4.4.9).
    pub gap: bool,
}

/// One complete segment of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSegment {
    pub uri: String,
    pub duration: f64,
    /// EXT-X-PROGRAM-DATE-TIME of its first sample, unix milliseconds.
    pub pdt_ms: Option<i64>,
    /// EXT-X-DISCONTINUITY before it (a publisher reconnected).
    pub discontinuity: bool,
    /// EXT-X-MAP before it when its init segment differs from the previous segment's; the first segment
    /// written always gets [`LivePlaylist::map_uri`] or this.
    pub map_uri: Option<String>,
    pub parts: Vec<LivePart>,
    /// EXT-X-GAP: no media here (RFC 8216bis § 4.4.4.7); the URI is never to be loaded.
    pub gap: bool,
}

/// The open segment's tags (see [`LivePlaylist::open_tags`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenTags {
    pub discontinuity: bool,
    pub map_uri: Option<String>,
    /// Unix milliseconds.
    pub pdt_ms: Option<i64>,
}

/// EXT-X-RENDITION-REPORT for another rendition of the same stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionReport {
    pub uri: String,
    pub last_msn: u64,
    pub last_part: u64,
}

/// A live media playlist: the window of one rendition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LivePlaylist {
    /// EXT-X-TARGETDURATION (whole seconds, never less than any rounded segment duration).
    pub target_duration: u64,
    /// EXT-X-PART-INF PART-TARGET, seconds.
    pub part_target: f64,
    /// EXT-X-MEDIA-SEQUENCE: the MSN of `segments[0]`.
    pub media_sequence: u64,
    pub discontinuity_sequence: u64,
    /// The init segment of the first segment in the window.
    pub map_uri: String,
    pub segments: Vec<LiveSegment>,
    /// Parts of the open segment (MSN `media_sequence + segments.len()`), pushed whole.
    pub open_parts: Vec<LivePart>,
    /// What the open segment's own tags say before its first part (the same tags its EXTINF line carries
    /// once it is complete): a discontinuity after a reconnect, a new EXT-X-MAP after a changed init, its
    /// program date-time. A player reading the parts of a segment that follows a reconnect must learn of
    /// the discontinuity before them, not one segment later.
    pub open_tags: OpenTags,
    /// EXT-X-PRELOAD-HINT TYPE=PART: the next part's URI.
    pub preload_hint: Option<String>,
    pub rendition_reports: Vec<RenditionReport>,
    pub ended: bool,
}

/// EXT-X-VERSION 9: EXT-X-SKIP (delta updates) needs it (RFC 8216bis § 8).
pub const LIVE_VERSION: usize = 9;

/// How many target durations back from the live edge complete segments still list their parts (RFC
/// 8216bis § 4.4.4.9: parts MAY be removed once older than three target durations).
const PARTS_KEPT_TARGETS: f64 = 3.0;

impl LivePlaylist {
    /// PART-HOLD-BACK: 3 × PART-TARGET, Apple's MUST (RFC 8216bis says at least 2×; MediaMTX writes 2.5×).
    /// Three times the PART-TARGET as written (whole ms, rounded up), so a player that multiplies the two
    /// attributes it reads never finds the hold-back short by a rounding.
    pub fn part_hold_back(&self) -> f64 {
        ms_up(3.0 * self.part_target_written())
    }

    /// PART-TARGET as written: whole milliseconds, rounded up, as no part may last longer (§ 4.4.3.7).
    pub fn part_target_written(&self) -> f64 {
        ms_up(self.part_target)
    }

    /// HOLD-BACK for players that ignore parts: 3 × target duration (the spec's minimum).
    pub fn hold_back(&self) -> f64 {
        3.0 * self.target_secs()
    }

    /// CAN-SKIP-UNTIL: 6 × target duration (the spec's minimum).
    pub fn can_skip_until(&self) -> f64 {
        6.0 * self.target_secs()
    }

    fn target_secs(&self) -> f64 {
        // Target durations are small whole seconds; exact in f64.
        #[allow(clippy::cast_precision_loss)]
        let t = self.target_duration.max(1) as f64;
        t
    }

    /// How many of the oldest segments a delta update (`_HLS_skip=YES`) replaces with EXT-X-SKIP: those
    /// that start more than CAN-SKIP-UNTIL before the end of the playlist.
    pub fn skippable(&self) -> usize {
        let mut from_end: f64 = self.open_parts.iter().map(|p| p.duration).sum();
        let until = self.can_skip_until();
        let mut keep = 0;
        for s in self.segments.iter().rev() {
            from_end += s.duration;
            if from_end > until {
                break;
            }
            keep += 1;
        }
        self.segments.len() - keep
    }

    /// The playlist text; a delta update when `skip` (EXT-X-SKIP in place of [`Self::skippable`] segments).
    pub fn write(&self, skip: bool) -> String {
        // EXTINF with microsecond resolution, as every writer of this crate (see hls::media).
        m3u8_rs::WRITE_OPT_FLOAT_PRECISION.store(6, std::sync::atomic::Ordering::Relaxed);
        let skipped = if skip { self.skippable() } else { 0 };
        let header = MediaPlaylist {
            version: Some(LIVE_VERSION),
            target_duration: self.target_duration.max(1),
            media_sequence: self.media_sequence,
            discontinuity_sequence: self.discontinuity_sequence,
            independent_segments: true,
            ..MediaPlaylist::default()
        };
        let head = to_string(|w| header.write_to(w));
        let mut full = header;
        full.segments = self.media_segments(skipped);
        let body = to_string(|w| full.write_to(w));
        // The header is the same playlist without segments: what follows it is the segments.
        let segments = body.strip_prefix(head.as_str()).unwrap_or_default();
        let mut out = head;
        out.push_str(&format!(
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL={},PART-HOLD-BACK={},HOLD-BACK={}\n",
            secs(self.can_skip_until()),
            secs(self.part_hold_back()),
            secs(self.hold_back()),
        ));
        out.push_str(&format!(
            "#EXT-X-PART-INF:PART-TARGET={}\n",
            secs(self.part_target_written())
        ));
        if skipped > 0 {
            out.push_str(&format!("#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}\n"));
        }
        out.push_str(segments);
        if !self.open_parts.is_empty() {
            let t = &self.open_tags;
            if t.discontinuity {
                out.push_str("#EXT-X-DISCONTINUITY\n");
            }
            // With no complete segment written (a stream's first second), the open segment carries the
            // playlist's map: parts are unplayable without their init segment.
            let first = self.segments.len() <= skipped;
            let map = t.map_uri.as_ref().or(first.then_some(&self.map_uri));
            if let Some(uri) = map {
                out.push_str(&format!("#EXT-X-MAP:URI=\"{uri}\"\n"));
            }
            if let Some(when) = t.pdt_ms.and_then(pdt) {
                out.push_str(&format!(
                    "#EXT-X-PROGRAM-DATE-TIME:{}\n",
                    when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                ));
            }
        }
        for p in &self.open_parts {
            out.push_str(&format!("{}\n", part_tag(p)));
        }
        if let Some(uri) = self.preload_hint.as_ref().filter(|_| !self.ended) {
            out.push_str(&format!("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{uri}\"\n"));
        }
        for r in &self.rendition_reports {
            out.push_str(&format!(
                "#EXT-X-RENDITION-REPORT:URI=\"{}\",LAST-MSN={},LAST-PART={}\n",
                r.uri, r.last_msn, r.last_part
            ));
        }
        if self.ended {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }

    /// The segments after the first `skipped`, as m3u8-rs writes them: parts listed only for those that end
    /// within three target durations of the live edge; the map on the first one written.
    fn media_segments(&self, skipped: usize) -> Vec<MediaSegment> {
        let open: f64 = self.open_parts.iter().map(|p| p.duration).sum();
        let horizon = PARTS_KEPT_TARGETS * self.target_secs();
        let mut ends_before_edge = Vec::with_capacity(self.segments.len());
        let mut acc = open;
        for s in self.segments.iter().rev() {
            ends_before_edge.push(acc);
            acc += s.duration;
        }
        ends_before_edge.reverse();
        let mut map = Some(self.map_uri.clone());
        self.segments
            .iter()
            .zip(ends_before_edge)
            .skip(skipped)
            .map(|(s, edge)| {
                if let Some(m) = &s.map_uri {
                    map = Some(m.clone());
                }
                let parts = if edge < horizon { &s.parts[..] } else { &[] };
                MediaSegment {
                    uri: s.uri.clone(),
                    duration: crate::num::f64_to_f32(s.duration),
                    discontinuity: s.discontinuity,
                    map: map.take().map(|uri| Map {
                        uri,
                        ..Map::default()
                    }),
                    program_date_time: s.pdt_ms.and_then(pdt),
                    // m3u8-rs 6.0.1 has no field for EXT-X-GAP: it goes with the parts as an unknown
                    // tag, written before EXTINF (a segment's tags may come in any order before its URI).
                    unknown_tags: parts
                        .iter()
                        .map(|p| ExtTag {
                            tag: "X-PART".into(),
                            rest: Some(part_attrs(p)),
                        })
                        .chain(s.gap.then(|| ExtTag {
                            tag: "X-GAP".into(),
                            rest: None,
                        }))
                        .collect(),
                    ..MediaSegment::default()
                }
            })
            .collect()
    }
}

fn part_attrs(p: &LivePart) -> String {
    let mut a = format!("DURATION={},URI=\"{}\"", secs(p.duration), p.uri);
    if p.independent {
        a.push_str(",INDEPENDENT=YES");
    }
    if p.gap {
        a.push_str(",GAP=YES");
    }
    a
}

fn part_tag(p: &LivePart) -> String {
    format!("#EXT-X-PART:{}", part_attrs(p))
}

/// Seconds as decimal-floating-point with millisecond resolution and no trailing zeros ("1.5", "0.333").
/// `s` rounded up to whole milliseconds; a float just above a whole millisecond (0.5 from 0.4999…9 +
/// 1 ulp) stays on it.
fn ms_up(s: f64) -> f64 {
    (s * 1000.0 - 1e-6).ceil() / 1000.0
}

fn secs(s: f64) -> String {
    let t = format!("{s:.3}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t.is_empty() {
        "0".into()
    } else {
        t.into()
    }
}

fn pdt(ms: i64) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.fixed_offset())
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
