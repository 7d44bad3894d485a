//! The part of the MPD schema (ISO/IEC 23009-1) upcast writes and checks: [`Mpd::to_xml`] (`xml_write.rs`)
//! writes these types and [`Mpd::parse`] (`xml_read.rs`) reads an MPD back into them, both with quick-xml's
//! event reader and writer. (quick-xml's serde support did the same in 60 KB more wasm for the segmenter
//! and 210 KB more for the checker build: serde's generic code is monomorphized per type.)

/// The MPD namespace (ISO/IEC 23009-1 § 5.3.1).
pub const NAMESPACE: &str = "urn:mpeg:dash:schema:mpd:2011";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mpd {
    pub xmlns: String,
    pub profiles: String,
    /// `static` (VOD) or `dynamic` (live).
    pub mpd_type: String,
    pub media_presentation_duration: Option<String>,
    pub min_buffer_time: String,
    /// The timing of a dynamic (live) MPD; None in a static one.
    pub dynamic: Option<Dynamic>,
    pub periods: Vec<Period>,
}

/// What a dynamic MPD adds (ISO/IEC 23009-1 § 5.3.1.2, DASH-IF IOP § 4.3): xs:dateTime and xs:duration
/// strings as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dynamic {
    /// The wall-clock instant of presentation time zero.
    pub availability_start_time: String,
    pub publish_time: String,
    /// How often a client reloads the MPD; None once the presentation has ended (no further updates).
    pub minimum_update_period: Option<String>,
    /// How far behind the live edge a client may seek (the DVR window).
    pub time_shift_buffer_depth: Option<String>,
    pub suggested_presentation_delay: Option<String>,
    /// `UTCTiming` descriptors: where a client reads the server's clock.
    pub utc_timing: Vec<Descriptor>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Period {
    pub id: String,
    pub start: Option<String>,
    pub adaptation_sets: Vec<AdaptationSet>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdaptationSet {
    pub id: String,
    /// `video`, `audio`, `text` or `image`.
    pub content_type: String,
    pub mime_type: String,
    pub lang: Option<String>,
    /// Every Representation's segments start and end at the same instants (ISO/IEC 23009-1 § 5.3.3.2).
    pub segment_alignment: Option<bool>,
    /// Every segment starts with a SAP of this type or lower.
    pub start_with_sap: Option<u8>,
    pub role: Option<Descriptor>,
    /// The `Label` element's text: what a player's menu shows (a subtitle track's name).
    pub label: Option<String>,
    /// A SegmentTemplate its Representations inherit when they have none (upcast writes one per
    /// Representation; a hand-made MPD may put it here).
    pub segment_template: Option<SegmentTemplate>,
    pub representations: Vec<Representation>,
}

/// A scheme and its value: `Role`, `AudioChannelConfiguration`, `EssentialProperty`, ...
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Descriptor {
    pub scheme_id_uri: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Representation {
    pub id: String,
    /// Bits per second.
    pub bandwidth: u64,
    pub codecs: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sar: Option<String>,
    pub frame_rate: Option<String>,
    pub audio_sampling_rate: Option<u32>,
    pub audio_channel_configuration: Option<Descriptor>,
    /// An `EssentialProperty` a player must understand to use the Representation: the thumbnail tiling
    /// (`http://dashif.org/thumbnail_tile`, `COLSxROWS`) of an image Representation.
    pub essential_property: Option<Descriptor>,
    pub segment_template: Option<SegmentTemplate>,
    /// A text Representation's one file (a whole WebVTT track), package-relative; only in a
    /// `contentType="text"` AdaptationSet (see `crate::captions::attach`).
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentTemplate {
    pub timescale: Option<u32>,
    pub initialization: String,
    pub media: String,
    pub start_number: Option<u64>,
    /// Every segment's duration in `timescale` ticks, for a template without a SegmentTimeline: only the
    /// storyboard's image Representation (one sprite sheet per duration) is written so.
    pub duration: Option<u64>,
    /// The number of the last segment (ISO/IEC 23009-1:2022 § 5.3.9.2.2, `@endNumber`): the storyboard's
    /// last sheet, when the presentation (its longest track) runs a little past the sheets' span.
    pub end_number: Option<u64>,
    /// The media time (in `timescale` ticks) at the Period's start (dynamic MPDs only: upcast's static
    /// packages start at zero).
    pub presentation_time_offset: Option<u64>,
    pub segment_timeline: Option<SegmentTimeline>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentTimeline {
    pub entries: Vec<S>,
}

/// One entry of a SegmentTimeline: a segment starting at `t` (or where the previous one ended) lasting
/// `d` ticks, repeated `r` more times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct S {
    pub t: Option<u64>,
    pub d: u64,
    pub r: Option<i64>,
}

impl Period {
    /// An AdaptationSet id no set of this Period has: one more than the largest numeric id.
    pub fn next_set_id(&self) -> String {
        self.adaptation_sets
            .iter()
            .filter_map(|a| a.id.parse::<u64>().ok())
            .max()
            .map_or(0, |m| m.saturating_add(1))
            .to_string()
    }
}

/// An xs:duration of the form the MPD writer uses (`PT1H2M3.5S`, days too: `P1DT2H`) in milliseconds,
/// rounded up; `None` for anything else (years and months have no fixed length).
pub fn duration_ms(text: &str) -> Option<u64> {
    let rest = text.trim().strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut ms: u64 = 0;
    if !days.is_empty() {
        let d: u64 = days.strip_suffix('D')?.parse().ok()?;
        ms = d.checked_mul(86_400_000)?;
    }
    let mut num = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let unit: u64 = match c {
                    'H' => 3_600_000,
                    'M' => 60_000,
                    _ => 1000,
                };
                let (whole, frac) = num.split_once('.').unwrap_or((&num, ""));
                if whole.is_empty() && frac.is_empty()
                    || frac.len() > 9
                    || c != 'S' && !frac.is_empty()
                {
                    return None;
                }
                let w: u64 = if whole.is_empty() {
                    0
                } else {
                    whole.parse().ok()?
                };
                let mut part = w.checked_mul(unit)?;
                if !frac.is_empty() {
                    let f: u64 = frac.parse().ok()?;
                    let scale = 10u64.pow(u32::try_from(frac.len()).ok()?);
                    part = part.checked_add((f * 1000).div_ceil(scale))?;
                }
                ms = ms.checked_add(part)?;
                num.clear();
            }
            _ => return None,
        }
    }
    num.is_empty().then_some(ms)
}
