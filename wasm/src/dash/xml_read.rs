//! [`Mpd::parse`]: an MPD read back with quick-xml's event reader into [`super::model`]. What upcast does
//! not write is refused rather than half-understood: only the elements of [`ALLOWED_ELEMENTS`], each
//! where the schema puts it (no `Location`, `SegmentList`, `SegmentBase`, `ContentSteering`,
//! ..., each of which can send a player elsewhere), no `xlink:href` or `xml:base`, no DOCTYPE, and no
//! SegmentTemplate attribute that names a URL the checks do not read (`index`, `bitstreamSwitching`) or
//! shifts the timeline (`presentationTimeOffset`). `BaseURL` only as a text Representation's one file
//! (a whole WebVTT track, `crate::captions`), resolved inside the package like every other URL. A dynamic (live) MPD, which the origin writes and the
//! package checks refuse by its type, may also have `UTCTiming` and `presentationTimeOffset`.

use super::model::{
    AdaptationSet, Descriptor, Dynamic, Mpd, Period, Representation, SegmentTemplate,
    SegmentTimeline, S,
};
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;

/// Elements an accepted MPD may hold. Their only URL-bearing attributes are `SegmentTemplate@media` and
/// `@initialization`, which the checks resolve inside the package.
pub const ALLOWED_ELEMENTS: [&str; 17] = [
    "MPD",
    "ProgramInformation",
    "Title",
    "Period",
    "AdaptationSet",
    "ContentComponent",
    "Role",
    "Label",
    "Accessibility",
    "EssentialProperty",
    "SupplementalProperty",
    "Representation",
    "AudioChannelConfiguration",
    "SegmentTemplate",
    "SegmentTimeline",
    "S",
    "BaseURL",
];

/// The attributes of one element, names and unescaped values.
fn attributes(e: &BytesStart<'_>, name: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("<{name}>: {err}"))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        if key.contains("href") || key.starts_with("xlink") || key == "xml:base" {
            return Err(format!(
                "<{name}> attribute {key} names a URL upcast does not accept"
            ));
        }
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| format!("<{name}> {key}: {err}"))?;
        out.push((key, Cow::into_owned(value)));
    }
    Ok(out)
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn text(attrs: &[(String, String)], key: &str) -> String {
    get(attrs, key).unwrap_or_default().to_string()
}

fn num<T: std::str::FromStr>(
    attrs: &[(String, String)],
    el: &str,
    key: &str,
) -> Result<Option<T>, String> {
    get(attrs, key)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| format!("{el}@{key} {v:?} is not a number"))
        })
        .transpose()
}

fn descriptor(attrs: &[(String, String)]) -> Descriptor {
    Descriptor {
        scheme_id_uri: text(attrs, "schemeIdUri"),
        value: text(attrs, "value"),
    }
}

fn template(a: &[(String, String)], dynamic: bool) -> Result<SegmentTemplate, String> {
    let el = "SegmentTemplate";
    if let Some((k, _)) = a.iter().find(|(k, _)| {
        matches!(k.as_str(), "index" | "bitstreamSwitching")
            || (k == "presentationTimeOffset" && !dynamic)
    }) {
        return Err(format!("{el}@{k} is not accepted"));
    }
    Ok(SegmentTemplate {
        timescale: num(a, el, "timescale")?,
        initialization: text(a, "initialization"),
        media: text(a, "media"),
        start_number: num(a, el, "startNumber")?,
        duration: num(a, el, "duration")?,
        end_number: num(a, el, "endNumber")?,
        presentation_time_offset: num(a, el, "presentationTimeOffset")?,
        segment_timeline: None,
    })
}

/// The model under construction, and where in it the next element goes.
#[derive(Default)]
struct Builder {
    mpd: Option<Mpd>,
}

impl Builder {
    fn dynamic(&self) -> bool {
        self.mpd.as_ref().is_some_and(|m| m.mpd_type == "dynamic")
    }
    fn period(&mut self) -> Option<&mut Period> {
        self.mpd.as_mut()?.periods.last_mut()
    }
    fn set(&mut self) -> Option<&mut AdaptationSet> {
        self.period()?.adaptation_sets.last_mut()
    }
    fn rep(&mut self) -> Option<&mut Representation> {
        self.set()?.representations.last_mut()
    }
    /// The SegmentTemplate the element inside `parent` belongs to.
    fn template(&mut self, parent: &str) -> Option<&mut SegmentTemplate> {
        match parent {
            "Representation" => self.rep()?.segment_template.as_mut(),
            "AdaptationSet" => self.set()?.segment_template.as_mut(),
            _ => None,
        }
    }

    /// Take in element `name` (with `attrs`) whose ancestors are `stack`.
    fn element(
        &mut self,
        name: &str,
        a: &[(String, String)],
        stack: &[String],
    ) -> Result<(), String> {
        let parent = stack.last().map_or("", String::as_str);
        let grandparent = stack.len().checked_sub(2).map_or("", |i| stack[i].as_str());
        let misplaced = || {
            Err(format!(
                "<{name}> is not where the MPD schema puts it (inside <{parent}>)"
            ))
        };
        match (name, parent) {
            ("MPD", "") => {
                let opt = |k: &str| get(a, k).map(str::to_string);
                let mpd_type = get(a, "type").unwrap_or("static").to_string();
                let dynamic = (mpd_type == "dynamic").then(|| Dynamic {
                    availability_start_time: text(a, "availabilityStartTime"),
                    publish_time: text(a, "publishTime"),
                    minimum_update_period: opt("minimumUpdatePeriod"),
                    time_shift_buffer_depth: opt("timeShiftBufferDepth"),
                    suggested_presentation_delay: opt("suggestedPresentationDelay"),
                    utc_timing: Vec::new(),
                });
                self.mpd = Some(Mpd {
                    xmlns: text(a, "xmlns"),
                    profiles: text(a, "profiles"),
                    mpd_type,
                    media_presentation_duration: opt("mediaPresentationDuration"),
                    min_buffer_time: text(a, "minBufferTime"),
                    dynamic,
                    periods: Vec::new(),
                });
            }
            ("UTCTiming", "MPD") => {
                let live = self.mpd.as_mut().and_then(|m| m.dynamic.as_mut());
                live.ok_or("<UTCTiming> only belongs in a dynamic MPD")?
                    .utc_timing
                    .push(descriptor(a));
            }
            ("Period", "MPD") => {
                let p = Period {
                    id: text(a, "id"),
                    start: get(a, "start").map(str::to_string),
                    adaptation_sets: Vec::new(),
                };
                self.mpd.as_mut().ok_or("no MPD")?.periods.push(p);
            }
            ("AdaptationSet", "Period") => {
                let el = "AdaptationSet";
                let s = AdaptationSet {
                    id: text(a, "id"),
                    content_type: text(a, "contentType"),
                    mime_type: text(a, "mimeType"),
                    lang: get(a, "lang").map(str::to_string),
                    segment_alignment: get(a, "segmentAlignment").map(|v| v == "true"),
                    start_with_sap: num(a, el, "startWithSAP")?,
                    ..AdaptationSet::default()
                };
                self.period().ok_or("no Period")?.adaptation_sets.push(s);
            }
            ("Role", "AdaptationSet") => {
                self.set().ok_or("no AdaptationSet")?.role = Some(descriptor(a))
            }
            ("Representation", "AdaptationSet") => {
                let el = "Representation";
                let r = Representation {
                    id: text(a, "id"),
                    bandwidth: num(a, el, "bandwidth")?.unwrap_or(0),
                    codecs: text(a, "codecs"),
                    width: num(a, el, "width")?,
                    height: num(a, el, "height")?,
                    sar: get(a, "sar").map(str::to_string),
                    frame_rate: get(a, "frameRate").map(str::to_string),
                    audio_sampling_rate: num(a, el, "audioSamplingRate")?,
                    ..Representation::default()
                };
                self.set()
                    .ok_or("no AdaptationSet")?
                    .representations
                    .push(r);
            }
            ("BaseURL", "Representation") => {
                if self.set().is_none_or(|s| s.content_type != "text") {
                    return Err(
                        "<BaseURL> is accepted only in a text (WebVTT) Representation".into(),
                    );
                }
                self.rep().ok_or("no Representation")?.base_url = Some(String::new());
            }
            ("EssentialProperty", "Representation") => {
                let r = self.rep().ok_or("no Representation")?;
                if r.essential_property.is_some() {
                    return Err(format!(
                        "Representation {}: more than one EssentialProperty (upcast writes one)",
                        r.id
                    ));
                }
                r.essential_property = Some(descriptor(a));
            }
            ("AudioChannelConfiguration", "Representation") => {
                self.rep()
                    .ok_or("no Representation")?
                    .audio_channel_configuration = Some(descriptor(a));
            }
            ("SegmentTemplate", "Representation") => {
                let t = template(a, self.dynamic())?;
                self.rep().ok_or("no Representation")?.segment_template = Some(t);
            }
            ("SegmentTemplate", "AdaptationSet") => {
                let t = template(a, self.dynamic())?;
                self.set().ok_or("no AdaptationSet")?.segment_template = Some(t);
            }
            ("SegmentTimeline", "SegmentTemplate") => {
                let t = self.template(grandparent).ok_or("no SegmentTemplate")?;
                t.segment_timeline = Some(SegmentTimeline::default());
            }
            ("S", "SegmentTimeline") => {
                let great = stack.len().checked_sub(3).map_or("", |i| stack[i].as_str());
                let s = S {
                    t: num(a, "S", "t")?,
                    d: num(a, "S", "d")?.ok_or("S without @d")?,
                    r: num(a, "S", "r")?,
                };
                let t = self.template(great).ok_or("no SegmentTemplate")?;
                t.segment_timeline
                    .get_or_insert_with(SegmentTimeline::default)
                    .entries
                    .push(s);
            }
            ("MPD" | "Period" | "AdaptationSet" | "Role" | "Representation" | "UTCTiming", _)
            | ("AudioChannelConfiguration" | "SegmentTemplate" | "SegmentTimeline" | "S", _)
            | ("BaseURL", _) => {
                return misplaced();
            }
            _ if stack.is_empty() => return misplaced(),
            _ => {} // descriptive elements (ProgramInformation, Label, ...): not modelled
        }
        Ok(())
    }
}

impl Builder {
    /// Text inside element `parent`: a BaseURL's URL, a Label's name; other text is not modelled. Pieces
    /// arrive as they are (text, then a resolved `&amp;`, then text: quick-xml reports entity references
    /// as events of their own) and are trimmed once the element ends ([`Builder::end`]).
    fn text(&mut self, parent: &str, text: &str) -> Result<(), String> {
        match parent {
            "BaseURL" => {
                if let Some(u) = self.rep().and_then(|r| r.base_url.as_mut()) {
                    u.push_str(text);
                }
            }
            "Label" => {
                if let Some(s) = self.set() {
                    s.label.get_or_insert_with(String::new).push_str(text);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Element `name` ended: its text is whole, and loses the indentation around it.
    fn end(&mut self, name: &str) {
        let trim = |t: &mut String| *t = t.trim().to_string();
        match name {
            "BaseURL" => {
                if let Some(u) = self.rep().and_then(|r| r.base_url.as_mut()) {
                    trim(u);
                }
            }
            "Label" => {
                if let Some(l) = self.set().and_then(|s| s.label.as_mut()) {
                    trim(l);
                }
            }
            _ => {}
        }
    }
}

/// The text an entity reference stands for: the five XML predefined entities and character references;
/// any other entity is refused (an MPD upcast accepts declares none: no DOCTYPE).
fn reference(r: &quick_xml::events::BytesRef<'_>, pos: u64) -> Result<String, String> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| format!("bad character reference near byte {pos}: {e}"))?
    {
        return Ok(c.to_string());
    }
    let name = r
        .decode()
        .map_err(|e| format!("bad entity reference near byte {pos}: {e}"))?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| format!("unknown entity &{name}; near byte {pos}"))
}

impl Mpd {
    /// Parse an MPD document (see the module for what is refused). Errors say what and where.
    pub fn parse(text: &str) -> Result<Mpd, String> {
        let mut reader = quick_xml::Reader::from_str(text);
        let mut stack: Vec<String> = Vec::new();
        let mut b = Builder::default();
        loop {
            let pos = reader.buffer_position();
            let (e, empty) = match reader.read_event() {
                Ok(Event::Start(e)) => (e, false),
                Ok(Event::Empty(e)) => (e, true),
                Ok(Event::End(_)) => {
                    if let Some(name) = stack.pop() {
                        b.end(&name);
                    }
                    continue;
                }
                Ok(Event::Text(t)) => {
                    let text = t
                        .xml10_content()
                        .map_err(|e| format!("bad text near byte {pos}: {e}"))?;
                    b.text(stack.last().map_or("", String::as_str), &text)?;
                    continue;
                }
                Ok(Event::GeneralRef(r)) => {
                    let text = reference(&r, pos)?;
                    b.text(stack.last().map_or("", String::as_str), &text)?;
                    continue;
                }
                Ok(Event::DocType(_)) => return Err("a DOCTYPE is not accepted in an MPD".into()),
                Ok(Event::Eof) => break,
                Ok(_) => continue,
                Err(e) => return Err(format!("not well-formed XML near byte {pos}: {e}")),
            };
            let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
            if !ALLOWED_ELEMENTS.contains(&name.as_str()) && name != "UTCTiming" {
                return Err(format!(
                    "element <{name}> is not accepted (upcast MPDs address segments with \
                     SegmentTemplate and SegmentTimeline only; no BaseURL, SegmentList, Location or \
                     other URL)"
                ));
            }
            if stack.is_empty() && b.mpd.is_some() {
                return Err(format!("<{name}> after the MPD element"));
            }
            let attrs = attributes(&e, &name)?;
            b.element(&name, &attrs, &stack)?;
            if !empty {
                stack.push(name);
            }
        }
        if !stack.is_empty() {
            return Err(format!(
                "not well-formed XML: <{}> is not closed",
                stack.join("/")
            ));
        }
        b.mpd
            .ok_or_else(|| "the root element is not MPD".to_string())
    }
}
