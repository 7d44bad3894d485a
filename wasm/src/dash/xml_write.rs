//! [`Mpd::to_xml`]: the MPD written with quick-xml's event writer, indented, attributes escaped by it.

use super::model::{AdaptationSet, Descriptor, Mpd, Representation, SegmentTemplate};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io::Result as IoResult;

type W = Writer<Vec<u8>>;
/// Writes an element's children.
type Inner<'a> = &'a dyn Fn(&mut W) -> IoResult<()>;

/// `(name, value)` pairs of the attributes that are set, in order.
struct Attrs(Vec<(&'static str, String)>);

impl Attrs {
    fn new() -> Self {
        Attrs(Vec::new())
    }
    fn add(mut self, name: &'static str, value: impl ToString) -> Self {
        self.0.push((name, value.to_string()));
        self
    }
    fn opt(self, name: &'static str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.add(name, v),
            None => self,
        }
    }
}

fn element(w: &mut W, name: &'static str, attrs: &Attrs, inner: Option<Inner<'_>>) -> IoResult<()> {
    let e = w
        .create_element(name)
        .with_attributes(attrs.0.iter().map(|(k, v)| (*k, v.as_str())));
    match inner {
        Some(f) => e.write_inner_content(|w| f(w)).map(|_| ()),
        None => e.write_empty().map(|_| ()),
    }
}

fn text_element(w: &mut W, name: &'static str, text: &str) -> IoResult<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))
        .map(|_| ())
}

fn descriptor(w: &mut W, name: &'static str, d: &Descriptor) -> IoResult<()> {
    let a = Attrs::new()
        .add("schemeIdUri", &d.scheme_id_uri)
        .add("value", &d.value);
    element(w, name, &a, None)
}

fn template(w: &mut W, t: &SegmentTemplate) -> IoResult<()> {
    let a = Attrs::new()
        .opt("timescale", t.timescale)
        // An image Representation (the storyboard's sheets) has no initialization segment.
        .opt(
            "initialization",
            (!t.initialization.is_empty()).then_some(&t.initialization),
        )
        .add("media", &t.media)
        .opt("startNumber", t.start_number)
        .opt("endNumber", t.end_number)
        .opt("duration", t.duration)
        .opt("presentationTimeOffset", t.presentation_time_offset);
    let Some(tl) = &t.segment_timeline else {
        return element(w, "SegmentTemplate", &a, None);
    };
    element(
        w,
        "SegmentTemplate",
        &a,
        Some(&|w: &mut W| {
            element(
                w,
                "SegmentTimeline",
                &Attrs::new(),
                Some(&|w: &mut W| {
                    for s in &tl.entries {
                        let a = Attrs::new().opt("t", s.t).add("d", s.d).opt("r", s.r);
                        element(w, "S", &a, None)?;
                    }
                    Ok(())
                }),
            )
        }),
    )
}

fn representation(w: &mut W, r: &Representation) -> IoResult<()> {
    let a = Attrs::new()
        .add("id", &r.id)
        .add("bandwidth", r.bandwidth)
        .opt("codecs", (!r.codecs.is_empty()).then_some(&r.codecs))
        .opt("width", r.width)
        .opt("height", r.height)
        .opt("sar", r.sar.as_ref())
        .opt("frameRate", r.frame_rate.as_ref())
        .opt("audioSamplingRate", r.audio_sampling_rate);
    element(
        w,
        "Representation",
        &a,
        Some(&|w: &mut W| {
            // ISO/IEC 23009-1 Table 9 (RepresentationBase): AudioChannelConfiguration, then
            // EssentialProperty.
            if let Some(c) = &r.audio_channel_configuration {
                descriptor(w, "AudioChannelConfiguration", c)?;
            }
            if let Some(p) = &r.essential_property {
                descriptor(w, "EssentialProperty", p)?;
            }
            // ISO/IEC 23009-1 Table 9: BaseURL before SegmentTemplate.
            if let Some(u) = &r.base_url {
                text_element(w, "BaseURL", u)?;
            }
            if let Some(t) = &r.segment_template {
                template(w, t)?;
            }
            Ok(())
        }),
    )
}

fn adaptation_set(w: &mut W, s: &AdaptationSet) -> IoResult<()> {
    let a = Attrs::new()
        .add("id", &s.id)
        .add("contentType", &s.content_type)
        .add("mimeType", &s.mime_type)
        .opt("lang", s.lang.as_ref())
        .opt("segmentAlignment", s.segment_alignment)
        .opt("startWithSAP", s.start_with_sap);
    element(
        w,
        "AdaptationSet",
        &a,
        Some(&|w: &mut W| {
            if let Some(label) = &s.label {
                text_element(w, "Label", label)?;
            }
            if let Some(role) = &s.role {
                descriptor(w, "Role", role)?;
            }
            if let Some(t) = &s.segment_template {
                template(w, t)?;
            }
            for r in &s.representations {
                representation(w, r)?;
            }
            Ok(())
        }),
    )
}

impl Mpd {
    /// The MPD as an XML document: the declaration, then the indented `MPD` element.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        let write = |w: &mut W| -> IoResult<()> {
            w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            let live = self.dynamic.as_ref();
            let a = Attrs::new()
                .add("xmlns", &self.xmlns)
                .add("profiles", &self.profiles)
                .add("type", &self.mpd_type)
                .opt(
                    "availabilityStartTime",
                    live.map(|d| &d.availability_start_time),
                )
                .opt("publishTime", live.map(|d| &d.publish_time))
                .opt(
                    "minimumUpdatePeriod",
                    live.and_then(|d| d.minimum_update_period.as_ref()),
                )
                .opt(
                    "timeShiftBufferDepth",
                    live.and_then(|d| d.time_shift_buffer_depth.as_ref()),
                )
                .opt(
                    "suggestedPresentationDelay",
                    live.and_then(|d| d.suggested_presentation_delay.as_ref()),
                )
                .opt(
                    "mediaPresentationDuration",
                    self.media_presentation_duration.as_ref(),
                )
                .add("minBufferTime", &self.min_buffer_time);
            element(
                w,
                "MPD",
                &a,
                Some(&|w: &mut W| {
                    for p in &self.periods {
                        let a = Attrs::new().add("id", &p.id).opt("start", p.start.as_ref());
                        element(
                            w,
                            "Period",
                            &a,
                            Some(&|w: &mut W| {
                                for s in &p.adaptation_sets {
                                    adaptation_set(w, s)?;
                                }
                                Ok(())
                            }),
                        )?;
                    }
                    // After the Periods, where the schema puts UTCTiming.
                    for u in live.iter().flat_map(|d| &d.utc_timing) {
                        descriptor(w, "UTCTiming", u)?;
                    }
                    Ok(())
                }),
            )
        };
        // Writing into a Vec cannot fail (as `hls::to_string` says of the playlists), and every piece
        // written is a &str: the bytes are UTF-8.
        let _ = write(&mut w);
        let mut text = String::from_utf8_lossy(&w.into_inner()).into_owned();
        text.push('\n');
        text
    }
}
