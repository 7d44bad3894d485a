//! The MPD's XML both ways: what the writer writes parses back to the same model; what the reader refuses.

use super::model::*;
use super::refs::{package_references, representations};
use crate::hls::resolve::Strictness;

fn sample() -> Mpd {
    let template = |dir: &str| SegmentTemplate {
        timescale: Some(90_000),
        initialization: format!("{dir}/init.mp4"),
        media: format!("{dir}/seg_$Number%05d$.m4s"),
        start_number: Some(1),
        duration: None,
        end_number: None,
        presentation_time_offset: None,
        segment_timeline: Some(SegmentTimeline {
            entries: vec![
                S {
                    t: Some(0),
                    d: 180_000,
                    r: Some(1),
                },
                S {
                    t: None,
                    d: 90_000,
                    r: None,
                },
            ],
        }),
    };
    Mpd {
        xmlns: NAMESPACE.into(),
        profiles: super::write::PROFILES.into(),
        mpd_type: "static".into(),
        media_presentation_duration: Some("PT5.000S".into()),
        min_buffer_time: "PT2.000S".into(),
        dynamic: None,
        periods: vec![Period {
            id: "0".into(),
            start: Some("PT0S".into()),
            adaptation_sets: vec![AdaptationSet {
                id: "0".into(),
                content_type: "audio".into(),
                mime_type: "audio/mp4".into(),
                lang: Some("fr".into()),
                segment_alignment: Some(true),
                start_with_sap: Some(1),
                role: Some(Descriptor {
                    scheme_id_uri: "urn:mpeg:dash:role:2011".into(),
                    value: "main".into(),
                }),
                segment_template: None,
                label: None,
                representations: vec![Representation {
                    id: "a&b".into(),
                    bandwidth: 128_000,
                    codecs: "mp4a.40.2".into(),
                    audio_sampling_rate: Some(48_000),
                    audio_channel_configuration: Some(Descriptor {
                        scheme_id_uri: super::write::CHANNELS_SCHEME.into(),
                        value: "2".into(),
                    }),
                    segment_template: Some(template("audio")),
                    ..Representation::default()
                }],
            }],
        }],
    }
}

#[test]
fn written_mpd_parses_back_to_the_same_model() {
    let m = sample();
    let xml = m.to_xml();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD "),
        "{xml}"
    );
    assert!(
        xml.contains("id=\"a&amp;b\""),
        "attributes are escaped: {xml}"
    );
    assert_eq!(Mpd::parse(&xml).unwrap(), m);
    let reps = representations("manifest.mpd", &m, 100, Strictness::Package).unwrap();
    let starts: Vec<(String, u64, u64)> = reps[0]
        .segments
        .iter()
        .map(|s| (s.path.clone(), s.start, s.duration))
        .collect();
    assert_eq!(
        starts,
        [
            ("audio/seg_00001.m4s".to_string(), 0, 180_000),
            ("audio/seg_00002.m4s".to_string(), 180_000, 180_000),
            ("audio/seg_00003.m4s".to_string(), 360_000, 90_000),
        ]
    );
    assert!(
        representations("manifest.mpd", &m, 2, Strictness::Package).is_err(),
        "the budget holds"
    );
}

#[test]
fn an_adaptation_set_template_is_inherited() {
    let mut m = sample();
    let set = &mut m.periods[0].adaptation_sets[0];
    set.segment_template = set.representations[0].segment_template.take();
    let back = Mpd::parse(&m.to_xml()).unwrap();
    assert_eq!(back, m);
    let refs = package_references("manifest.mpd", m.to_xml().as_bytes()).unwrap();
    assert_eq!(refs[0], "audio/init.mp4");
    assert_eq!(refs.len(), 4);
}

#[test]
fn refused_documents() {
    let xml = sample().to_xml();
    for (from, to, why) in [
        (
            "<Period",
            "<BaseURL>http://x.example/</BaseURL><Period",
            "<BaseURL> is not where the MPD schema puts it",
        ),
        (
            "<Period",
            "<Location>http://x.example/m.mpd</Location><Period",
            "<Location>",
        ),
        (
            "<SegmentTemplate",
            "<SegmentTemplate index=\"i.sidx\"",
            "index",
        ),
        (
            "<SegmentTemplate",
            "<SegmentTemplate presentationTimeOffset=\"9\"",
            "presentationTimeOffset",
        ),
        (
            "<Period",
            "<Period xml:base=\"http://x.example/\"",
            "xml:base",
        ),
        ("<MPD ", "<!DOCTYPE MPD>\n<MPD ", "DOCTYPE"),
        ("<MPD ", "<Period/><MPD ", "not where"),
        ("<S t=\"0\" d=\"180000\"", "<S t=\"0\"", "without @d"),
        ("d=\"90000\"", "d=\"ninety\"", "not a number"),
        ("</MPD>", "</MPD><MPD/>", "after the MPD"),
        ("</Period>", "</Perio>", "well-formed"),
    ] {
        assert!(xml.contains(from), "{from}");
        let bad = xml.replacen(from, to, 1);
        let e = Mpd::parse(&bad).expect_err(to);
        assert!(e.contains(why), "{to}: {e}");
    }
    assert!(Mpd::parse("").unwrap_err().contains("root element"));
    assert!(Mpd::parse("#EXTM3U\n")
        .unwrap_err()
        .contains("root element"));
    for (from, to) in [
        ("media=\"audio/", "media=\"../x/"),
        ("media=\"audio/", "media=\"//x.example/"),
        (
            "initialization=\"audio/init.mp4\"",
            "initialization=\"audio/init.html\"",
        ),
        (" r=\"1\"", " r=\"-1\""),
    ] {
        let bad = xml.replacen(from, to, 1);
        assert!(
            package_references("manifest.mpd", bad.as_bytes()).is_err(),
            "{to}"
        );
    }
}

#[test]
fn a_dynamic_mpd_parses_back() {
    let mut m = sample();
    m.mpd_type = "dynamic".into();
    m.media_presentation_duration = None;
    m.dynamic = Some(Dynamic {
        availability_start_time: "2027-01-15T08:00:00.000Z".into(),
        publish_time: "2027-01-15T08:01:00.500Z".into(),
        minimum_update_period: Some("PT2.000S".into()),
        time_shift_buffer_depth: Some("PT60.000S".into()),
        suggested_presentation_delay: Some("PT6.000S".into()),
        utc_timing: vec![Descriptor {
            scheme_id_uri: "urn:mpeg:dash:utc:http-iso:2014".into(),
            value: "http://127.0.0.1/live/time".into(),
        }],
    });
    let t = m.periods[0].adaptation_sets[0].representations[0]
        .segment_template
        .as_mut()
        .unwrap();
    t.presentation_time_offset = Some(4_500);
    let xml = m.to_xml();
    assert!(xml.contains("availabilityStartTime=\"2027-01-15T08:00:00.000Z\""));
    assert!(xml.contains("presentationTimeOffset=\"4500\""));
    // UTCTiming follows the Periods (ISO/IEC 23009-1 Table 3's order).
    assert!(xml.find("<UTCTiming").unwrap() > xml.find("</Period>").unwrap());
    assert_eq!(Mpd::parse(&xml).unwrap(), m);
    // In a static MPD neither is accepted.
    let static_xml = xml.replacen("type=\"dynamic\"", "type=\"static\"", 1);
    let e = Mpd::parse(&static_xml).unwrap_err();
    assert!(e.contains("presentationTimeOffset"), "{e}");
    let no_pto = static_xml.replacen(" presentationTimeOffset=\"4500\"", "", 1);
    let e = Mpd::parse(&no_pto).unwrap_err();
    assert!(e.contains("UTCTiming"), "{e}");
}

#[test]
fn a_label_with_entities_round_trips() {
    let mut m = sample();
    let set = &mut m.periods[0].adaptation_sets[0];
    set.label = Some("Q&A <live> \"now\" & more".into());
    set.lang = Some("pt-BR".into());
    let xml = m.to_xml();
    assert!(
        xml.contains("<Label>Q&amp;A &lt;live&gt; &quot;now&quot; &amp; more</Label>"),
        "{xml}"
    );
    assert!(xml.contains("lang=\"pt-BR\""), "{xml}");
    let back = Mpd::parse(&xml).unwrap();
    assert_eq!(back, m);
    // Character references, and an entity nobody declared.
    let refs = xml.replace("Q&amp;A", "Q&#38;A&#x21;");
    let back = Mpd::parse(&refs).unwrap();
    assert_eq!(
        back.periods[0].adaptation_sets[0].label.as_deref(),
        Some("Q&A! <live> \"now\" & more")
    );
    assert!(Mpd::parse(&xml.replace("Q&amp;A", "Q&nbsp;A"))
        .unwrap_err()
        .contains("unknown entity &nbsp;"));
}
