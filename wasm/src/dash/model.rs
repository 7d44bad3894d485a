//! The part of the MPD schema (ISO/IEC 23009-1) upcast writes and checks, as serde types: the writer
//! serializes them with quick-xml and the checker parses an MPD back into the same types. Attributes are the
//! `@`-prefixed fields (quick-xml's convention); each struct lists its attributes before its elements, the
//! order quick-xml writes them in. Elements and attributes not listed here are ignored when parsing.

use serde::{Deserialize, Serialize};

/// The MPD namespace (ISO/IEC 23009-1 § 5.3.1).
pub const NAMESPACE: &str = "urn:mpeg:dash:schema:mpd:2011";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mpd {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    #[serde(rename = "@profiles", default)]
    pub profiles: String,
    /// `static` (VOD) or `dynamic` (live).
    #[serde(rename = "@type", default)]
    pub mpd_type: String,
    #[serde(
        rename = "@mediaPresentationDuration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub media_presentation_duration: Option<String>,
    #[serde(rename = "@minBufferTime", default)]
    pub min_buffer_time: String,
    #[serde(rename = "Period", default)]
    pub periods: Vec<Period>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Period {
    #[serde(rename = "@id", default)]
    pub id: String,
    #[serde(rename = "@start", default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(rename = "AdaptationSet", default)]
    pub adaptation_sets: Vec<AdaptationSet>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdaptationSet {
    #[serde(rename = "@id", default)]
    pub id: String,
    /// `video` or `audio`.
    #[serde(rename = "@contentType", default)]
    pub content_type: String,
    #[serde(rename = "@mimeType", default)]
    pub mime_type: String,
    #[serde(rename = "@lang", default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Every Representation's segments start and end at the same instants (ISO/IEC 23009-1 § 5.3.3.2).
    #[serde(
        rename = "@segmentAlignment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub segment_alignment: Option<bool>,
    /// Every segment starts with a SAP of this type or lower.
    #[serde(
        rename = "@startWithSAP",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_with_sap: Option<u8>,
    #[serde(rename = "Role", default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Descriptor>,
    #[serde(rename = "Representation", default)]
    pub representations: Vec<Representation>,
}

/// A scheme and its value: `Role`, `AudioChannelConfiguration`, `EssentialProperty`, ...
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "@schemeIdUri", default)]
    pub scheme_id_uri: String,
    #[serde(rename = "@value", default)]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Representation {
    #[serde(rename = "@id", default)]
    pub id: String,
    /// Bits per second.
    #[serde(rename = "@bandwidth", default)]
    pub bandwidth: u64,
    #[serde(rename = "@codecs", default)]
    pub codecs: String,
    #[serde(rename = "@width", default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(rename = "@height", default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(rename = "@sar", default, skip_serializing_if = "Option::is_none")]
    pub sar: Option<String>,
    #[serde(
        rename = "@frameRate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub frame_rate: Option<String>,
    #[serde(
        rename = "@audioSamplingRate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_sampling_rate: Option<u32>,
    #[serde(
        rename = "AudioChannelConfiguration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_channel_configuration: Option<Descriptor>,
    #[serde(
        rename = "SegmentTemplate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub segment_template: Option<SegmentTemplate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentTemplate {
    #[serde(
        rename = "@timescale",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub timescale: Option<u32>,
    #[serde(rename = "@initialization", default)]
    pub initialization: String,
    #[serde(rename = "@media", default)]
    pub media: String,
    #[serde(
        rename = "@startNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_number: Option<u64>,
    #[serde(
        rename = "SegmentTimeline",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub segment_timeline: Option<SegmentTimeline>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentTimeline {
    #[serde(rename = "S", default)]
    pub entries: Vec<S>,
}

/// One entry of a SegmentTimeline: a segment starting at `t` (or where the previous one ended) lasting
/// `d` ticks, repeated `r` more times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S {
    #[serde(rename = "@t", default, skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
    #[serde(rename = "@d")]
    pub d: u64,
    #[serde(rename = "@r", default, skip_serializing_if = "Option::is_none")]
    pub r: Option<i64>,
}

impl Mpd {
    /// The MPD as an XML document (declaration, then the indented `MPD` element).
    pub fn to_xml(&self) -> Result<String, String> {
        let mut body = String::new();
        let mut ser = quick_xml::se::Serializer::with_root(&mut body, Some("MPD"))
            .map_err(|e| format!("MPD: {e}"))?;
        ser.indent(' ', 2);
        self.serialize(ser).map_err(|e| format!("MPD: {e}"))?;
        Ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}\n"
        ))
    }

    /// Parse an MPD document. Errors name what quick-xml could not read.
    pub fn parse(text: &str) -> Result<Mpd, String> {
        // quick-xml's deserializer takes the root element whatever its name; the name is checked here.
        let root = text
            .split('<')
            .map(str::trim_start)
            .find(|t| !t.is_empty() && !t.starts_with('?') && !t.starts_with('!'))
            .unwrap_or("");
        let name_end = root
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(root.len());
        if &root[..name_end] != "MPD" {
            return Err("the root element is not MPD".into());
        }
        quick_xml::de::from_str(text).map_err(|e| format!("not a readable MPD: {e}"))
    }
}
