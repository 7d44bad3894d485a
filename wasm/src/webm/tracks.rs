//! The Segment's Info (TimestampScale) and Tracks (one [`TrackInfo`] per TrackEntry), read from elements
//! held in memory after their sizes were checked.

use super::ebml::{self, children, float, string, uint, Element};
use crate::error::{Error, Result};

/// What a TrackEntry says (Matroska § 5.1.4.1).
#[derive(Debug, Clone, Default)]
pub struct TrackInfo {
    /// Position of the TrackEntry in Tracks.
    pub index: usize,
    /// Where the TrackEntry starts (for errors).
    pub at: u64,
    pub number: u64,
    /// 1 video, 2 audio, others (subtitles, buttons, ...) are left out.
    pub kind: u64,
    pub enabled: bool,
    pub codec_id: String,
    pub private: Option<Vec<u8>>,
    /// Nanoseconds; the duration of every frame when set.
    pub default_duration: Option<u64>,
    /// Nanoseconds of codec delay (Opus pre-skip).
    pub codec_delay: u64,
    pub language: String,
    pub width: u64,
    pub height: u64,
    pub channels: u64,
    pub sampling_frequency: f64,
}

/// TimestampScale from Info: nanoseconds per block timestamp tick (1 000 000 by default).
pub fn timestamp_scale(info: &[u8], base: u64) -> Result<u64> {
    let path = "Segment/Info";
    for (el, data) in children(info, base, path)? {
        if el.id == ebml::TIMESTAMP_SCALE {
            let v = uint(data, "Segment/Info/TimestampScale", el.start)?;
            if v == 0 {
                return Err(Error::malformed(
                    "Segment/Info/TimestampScale",
                    el.start,
                    "TimestampScale is 0",
                ));
            }
            return Ok(v);
        }
    }
    Ok(1_000_000)
}

/// Every TrackEntry of Tracks, at most `max_tracks`.
pub fn read_tracks(tracks: &[u8], base: u64, max_tracks: usize) -> Result<Vec<TrackInfo>> {
    let path = "Segment/Tracks";
    let mut out: Vec<TrackInfo> = Vec::new();
    for (el, data) in children(tracks, base, path)? {
        if el.id != ebml::TRACK_ENTRY {
            continue;
        }
        let here = format!("{path}/TrackEntry[{}]", out.len());
        if out.len() >= max_tracks {
            return Err(Error::limit(
                &here,
                el.start,
                format!("more than {max_tracks} tracks"),
            ));
        }
        let t = track_entry(data, &el, &here, out.len())?;
        if t.number == 0 || out.iter().any(|o| o.number == t.number) {
            return Err(Error::malformed(
                &here,
                el.start,
                format!("TrackNumber {} is 0 or used twice", t.number),
            ));
        }
        out.push(t);
    }
    Ok(out)
}

fn track_entry(data: &[u8], el: &Element, path: &str, index: usize) -> Result<TrackInfo> {
    let mut t = TrackInfo {
        index,
        at: el.start,
        enabled: true,
        // The spec's default is "eng", but MediaRecorder writes none whatever is spoken: say "und".
        language: "und".into(),
        ..TrackInfo::default()
    };
    for (c, d) in children(data, el.data_start(), path)? {
        let p = format!("{path}/{}", ebml::name(c.id));
        match c.id {
            ebml::TRACK_NUMBER => t.number = uint(d, &p, c.start)?,
            ebml::TRACK_TYPE => t.kind = uint(d, &p, c.start)?,
            ebml::FLAG_ENABLED => t.enabled = uint(d, &p, c.start)? != 0,
            ebml::CODEC_ID => t.codec_id = string(d),
            ebml::CODEC_PRIVATE => t.private = Some(d.to_vec()),
            ebml::DEFAULT_DURATION => t.default_duration = Some(uint(d, &p, c.start)?),
            ebml::CODEC_DELAY => t.codec_delay = uint(d, &p, c.start)?,
            ebml::LANGUAGE => t.language = string(d),
            ebml::CONTENT_ENCODINGS => {
                return Err(Error::unsupported(
                    &p,
                    c.start,
                    "compressed or encrypted track (ContentEncodings)",
                ))
            }
            ebml::VIDEO => {
                for (v, vd) in children(d, c.data_start(), &p)? {
                    match v.id {
                        ebml::PIXEL_WIDTH => t.width = uint(vd, &p, v.start)?,
                        ebml::PIXEL_HEIGHT => t.height = uint(vd, &p, v.start)?,
                        _ => {}
                    }
                }
            }
            ebml::AUDIO => {
                for (a, ad) in children(d, c.data_start(), &p)? {
                    match a.id {
                        ebml::CHANNELS => t.channels = uint(ad, &p, a.start)?,
                        ebml::SAMPLING_FREQUENCY => t.sampling_frequency = float(ad, &p, a.start)?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(t)
}
