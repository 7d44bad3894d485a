//! The segmenter, the subtitle playlists and the announcements on hand-made timelines.

use super::attach::{caption_files, captions_in_master, first_variant};
use super::*;

fn track(text: &str) -> Track {
    parse(text.as_bytes(), &TextLimits::default()).unwrap()
}

fn timeline() -> Timeline {
    Timeline::from_durations(6, &[6.0, 6.0, 3.5])
}

#[test]
fn a_cue_across_a_boundary_is_in_both_segments() {
    let t = track(
        "WEBVTT\n\nSTYLE\n::cue { color: lime }\n\n00:01.000 --> 00:02.000\none\n\n\
         00:05.500 --> 00:06.500\nacross\n\n00:06.000 --> 00:07.000\nat the boundary\n\n\
         00:14.000 --> 00:20.000\npast the end\n",
    );
    let segs = segment_track(&t, &timeline());
    assert_eq!(segs.len(), 3);
    for s in &segs {
        assert!(s.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\nSTYLE\n::cue { color: lime }\n"), "{s}");
    }
    assert!(segs[0].contains("one") && segs[0].contains("across"));
    assert!(
        !segs[0].contains("at the boundary"),
        "a cue starting at the end belongs to the next"
    );
    assert!(segs[1].contains("00:00:05.500 --> 00:00:06.500\nacross"));
    assert!(segs[1].contains("at the boundary") && !segs[1].contains("one"));
    assert!(segs[2].contains("past the end") && !segs[2].contains("across"));
    // Every segment is itself a WebVTT file the parser accepts.
    for s in &segs {
        assert!(parse(s.as_bytes(), &TextLimits::default()).is_ok(), "{s}");
    }
}

#[test]
fn trim_to_the_video_end() {
    let mut t = track("WEBVTT\n\n00:01.000 --> 00:02.000\na\n\n00:15.000 --> 00:17.000\nb\n\n00:16.000 --> 00:18.000\nc\n");
    let end = timeline().end_ms();
    assert_eq!(end, 15_500);
    let note = t.trim_to(end).unwrap();
    assert!(note.contains("1 cue(s) after it dropped, 1 cut"), "{note}");
    assert_eq!(t.cues.len(), 2);
    assert_eq!(t.cues[1].end_ms, 15_500);
    assert!(t.trim_to(end).is_none());
}

#[test]
fn playlist_and_timestamp_map_follow_the_video() {
    let p = segment::media_playlist(&timeline());
    let parsed = m3u8_rs::parse_media_playlist_res(p.as_bytes()).unwrap();
    assert_eq!(parsed.target_duration, 6);
    assert!(parsed.end_list);
    let uris: Vec<&str> = parsed.segments.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(uris, ["seg_00001.vtt", "seg_00002.vtt", "seg_00003.vtt"]);
    assert!(p.contains("#EXTINF:3.500000"), "{p}");
    let again = Timeline::from_media_playlist(&p).unwrap();
    assert_eq!(again, timeline());
    let shifted = Timeline {
        start_90k: 900_000,
        ..timeline()
    };
    assert_eq!(
        segment::timestamp_map(&shifted),
        "X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000"
    );
}

const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"en\",NAME=\"English\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio/playlist.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"audio\"\nvideo/playlist.m3u8\n\
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,CODECS=\"avc1.64001f\",URI=\"video/iframes.m3u8\"\n";

const MPD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" \
profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"PT15.5S\" minBufferTime=\"PT6S\">\
<Period id=\"0\"><AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\"><Representation id=\"video\" bandwidth=\"1000\" codecs=\"avc1.64001f\">\
<SegmentTemplate timescale=\"1000\" initialization=\"video/init.mp4\" media=\"video/seg_$Number%05d$.m4s\" startNumber=\"1\">\
<SegmentTimeline><S t=\"0\" d=\"6000\" r=\"1\"/><S d=\"3500\"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>\n";

#[test]
fn announced_in_master_and_mpd_and_replaced() {
    let en = caption_files(
        &track("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n"),
        &timeline(),
        "en",
        "English",
        true,
        false,
    );
    let pt = caption_files(
        &track("WEBVTT\n\n00:01.000 --> 00:02.000\nolá\n"),
        &timeline(),
        "pt-br",
        "Português",
        false,
        true,
    );
    assert!(en.info.dir.starts_with("subs_en_") && en.info.dir.len() == "subs_en_".len() + 16);
    assert!(crate::layout::is_dir_name(&pt.info.dir), "{}", pt.info.dir);
    let paths: Vec<&str> = en.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths.len(), 5);
    assert!(
        paths
            .iter()
            .all(|p| crate::layout::check_package_path(p).is_ok()),
        "{paths:?}"
    );
    let (master, mpd) = attach(MASTER, Some(MPD), &[en.info.clone(), pt.info.clone()]).unwrap();
    assert!(master.contains(&format!(
        "#EXT-X-MEDIA:TYPE=SUBTITLES,URI=\"{}/playlist.m3u8\",GROUP-ID=\"subs\",LANGUAGE=\"en\",NAME=\"English\",DEFAULT=YES,AUTOSELECT=YES",
        en.info.dir
    )), "{master}");
    assert!(
        master.contains("NAME=\"Português\",AUTOSELECT=YES,FORCED=YES"),
        "{master}"
    );
    assert!(
        master.contains("AUDIO=\"audio\",SUBTITLES=\"subs\""),
        "{master}"
    );
    assert_eq!(
        master.matches("SUBTITLES=\"subs\"").count(),
        1,
        "not on the I-frame variant"
    );
    assert_eq!(
        captions_in_master(&master).unwrap(),
        [en.info.clone(), pt.info.clone()]
    );
    assert_eq!(first_variant(&master).unwrap(), "video/playlist.m3u8");
    let mpd = mpd.unwrap();
    assert!(
        mpd.contains("contentType=\"text\" mimeType=\"text/vtt\" lang=\"en\""),
        "{mpd}"
    );
    assert!(
        mpd.contains(&format!("<BaseURL>{}/all.vtt</BaseURL>", en.info.dir)),
        "{mpd}"
    );
    assert!(mpd.contains("value=\"forced-subtitle\""), "{mpd}");
    assert!(mpd.contains("<Label>Português</Label>"), "{mpd}");
    let refs = crate::dash::package_references("manifest.mpd", mpd.as_bytes()).unwrap();
    assert!(refs.contains(&en.info.whole_file()), "{refs:?}");
    // Replacing: announcing only the new English leaves no trace of the old renditions.
    let (master2, mpd2) = attach(&master, Some(&mpd), std::slice::from_ref(&pt.info)).unwrap();
    assert!(!master2.contains(&en.info.dir) && master2.contains(&pt.info.dir));
    assert!(!mpd2.as_ref().unwrap().contains(&en.info.dir));
    let (master3, mpd3) = attach(&master2, mpd2.as_deref(), &[]).unwrap();
    assert!(!master3.contains("SUBTITLES"), "{master3}");
    assert!(!mpd3.unwrap().contains("text/vtt"));
}

#[test]
fn a_bare_url_elsewhere_in_an_mpd_is_still_refused() {
    let bad = MPD.replace(
        "<SegmentTemplate",
        "<BaseURL>https://elsewhere/</BaseURL><SegmentTemplate",
    );
    let e = crate::dash::Mpd::parse(&bad).unwrap_err();
    assert!(e.contains("text (WebVTT) Representation"), "{e}");
}
