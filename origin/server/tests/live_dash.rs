//! Issue 15 (live half), in-process: real CMAF parts pushed into the hub and `/live/{id}/manifest.mpd`
//! read back with the core's MPD reader: the SegmentTimeline is the window's segments to the tick, its
//! Numbers are the MSNs the LL-HLS routes serve, the window slides, the Representations are the
//! multivariant playlist's renditions, a reconnect starts a Period (a new init segment names init-1.mp4),
//! an ended stream stops updating, private streams only on signed links.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
mod live_support;

use std::time::{Duration, UNIX_EPOCH};

use live_support::dash::*;
use live_support::*;
use upcast_core::dash::model::{Mpd, Representation, SegmentTemplate};
use upcast_origin::live::dash::iso;
use upcast_origin::live::HubLimits;

#[actix_web::test]
async fn timeline_numbers_and_renditions_match_the_window() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(6, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    s.add_track("a0", audio_track()).unwrap();
    let (mut v, mut a) = (Feed::new("v0", 4, 500), Feed::new("a0", 4, 500));
    // Media time starts at 10 s: presentationTimeOffset carries it.
    v.t_ms = 10_000;
    a.t_ms = 10_000;
    v.push(&s, 14);
    a.push(&s, 14);

    let (code, h, body) = get(&app, "/live/cam1/manifest.mpd").await;
    assert_eq!(code, 200);
    assert_eq!(h["cache-control"], "public, max-age=1");
    assert_eq!(h["access-control-allow-origin"], "*");
    let m = Mpd::parse(&text(&body)).unwrap();
    assert_eq!(m.mpd_type, "dynamic");
    assert_eq!(m.media_presentation_duration, None);
    let d = m.dynamic.as_ref().unwrap();
    let ast = UNIX_EPOCH + Duration::from_secs(BASE_S + 10);
    assert_eq!(d.availability_start_time, iso(ast));
    assert_eq!(d.availability_start_time, "2027-01-15T08:00:10.000Z");
    assert_eq!(d.publish_time, iso(ast + Duration::from_secs(6)));
    assert_eq!(d.minimum_update_period.as_deref(), Some("PT2.000S"));
    assert_eq!(d.time_shift_buffer_depth.as_deref(), Some("PT6.000S"));
    assert_eq!(d.suggested_presentation_delay.as_deref(), Some("PT6.000S"));
    assert_eq!(
        d.utc_timing[0].scheme_id_uri,
        "urn:mpeg:dash:utc:http-iso:2014"
    );
    assert!(d.utc_timing[0].value.ends_with("/live/time"), "{d:?}");
    assert_eq!(m.periods.len(), 1);
    assert_eq!(m.periods[0].start.as_deref(), Some("PT0.000S"));

    // The same renditions as the multivariant playlist.
    let mv = match m3u8_rs::parse_playlist_res(&get(&app, "/live/cam1/index.m3u8").await.2) {
        Ok(m3u8_rs::Playlist::MasterPlaylist(p)) => p,
        other => panic!("{other:?}"),
    };
    let mut hls: Vec<String> = mv.variants.iter().map(|v| v.uri.clone()).collect();
    hls.extend(mv.alternatives.iter().filter_map(|a| a.uri.clone()));
    let sets = &m.periods[0].adaptation_sets;
    let mut dash: Vec<String> = sets
        .iter()
        .flat_map(|s| {
            s.representations
                .iter()
                .map(|r| format!("{}/index.m3u8", r.id))
        })
        .collect();
    hls.sort();
    dash.sort();
    assert_eq!(dash, hls);
    let (video, audio) = (&sets[0].representations[0], &sets[1].representations[0]);
    assert_eq!(
        (sets[0].content_type.as_str(), video.id.as_str()),
        ("video", "v0")
    );
    assert_eq!((video.width, video.height), (Some(640), Some(360)));
    assert_eq!(video.codecs, "avc1.42c01e");
    assert_eq!(
        video.frame_rate.as_deref(),
        Some("10"),
        "5 frames a 0.5 s part"
    );
    assert!(video.bandwidth > 0);
    assert_eq!(audio.audio_sampling_rate, Some(48_000));
    assert_eq!(
        audio.audio_channel_configuration.as_ref().unwrap().value,
        "2"
    );

    // The timeline: segments 0..3 (the fourth is open), tfdt and lengths to the tick, and the files.
    for (rep, feed, init) in [
        (video, &v, video_track(640, 360).init),
        (audio, &a, audio_track().init),
    ] {
        let t = rep.segment_template.as_ref().unwrap();
        assert_eq!(
            (t.timescale, t.presentation_time_offset),
            (Some(TIMESCALE), Some(10_000))
        );
        assert_eq!(t.initialization, format!("{}/init.mp4", rep.id));
        assert_eq!(
            get(&app, &format!("/live/cam1/{}", t.initialization))
                .await
                .2,
            init
        );
        let segs = timeline(t);
        let want: Vec<(u64, u64, u64)> = (0..3).map(|k| (k, 10_000 + 2000 * k, 2000)).collect();
        assert_eq!(segs, want);
        for (n, start, _) in segs {
            let k = usize::try_from(n).unwrap() * 4;
            assert_eq!(feed.pushed[k].start, start);
            let (code, _, body) = get(&app, &format!("/live/cam1/{}", url(rep, n))).await;
            assert_eq!(code, 200);
            assert_eq!(body, concat(&feed.pushed[k..k + 4]));
        }
    }

    // The window slides: the timeline follows the LL-HLS playlist's segments, Number for MSN.
    v.push(&s, 16);
    a.push(&s, 16);
    let m = mpd(&app, "/live/cam1/manifest.mpd").await;
    for rep in m.periods[0]
        .adaptation_sets
        .iter()
        .flat_map(|s| &s.representations)
    {
        let p = media(
            &get(&app, &format!("/live/cam1/{}/index.m3u8", rep.id))
                .await
                .2,
        );
        let segs = timeline(rep.segment_template.as_ref().unwrap());
        assert!(p.media_sequence > 0);
        assert_eq!(segs.first().unwrap().0, p.media_sequence);
        let uris: Vec<String> = segs.iter().map(|s| url(rep, s.0)).collect();
        let hls: Vec<String> = p
            .segments
            .iter()
            .map(|s| format!("{}/{}", rep.id, s.uri))
            .collect();
        assert_eq!(uris, hls);
        assert!(segs
            .iter()
            .all(|&(n, t, d)| t == 10_000 + 2000 * n && d == 2000));
    }
    // Gzip when asked for.
    let r = actix_web::test::call_service(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/live/cam1/manifest.mpd")
            .insert_header(("Accept-Encoding", "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
    assert_eq!(r.headers().get("vary").unwrap(), "Accept-Encoding");
    let z = actix_web::test::read_body(r).await;
    let mut unz = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut unz).unwrap();
    assert_eq!(Mpd::parse(&unz).unwrap(), m);
}

#[actix_web::test]
async fn reconnects_start_periods_and_the_end_stops_updates() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam2", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 4); // segments 0, 1 (1 s each)
    s.pause();
    // The publisher returns 5 s later; its media time continues to the tick.
    let again = st.live.open("cam2", opts(60, true)).unwrap();
    again.add_track("v0", video_track(640, 360)).unwrap();
    push_late(&again, &mut v, 4, Duration::from_secs(5));
    again.end();
    // A third publisher with another picture size: another init segment.
    let third = st.live.open("cam2", opts(60, true)).unwrap();
    third.add_track("v0", video_track(1280, 720)).unwrap();
    push_late(&third, &mut v, 5, Duration::from_secs(9));

    let m = mpd(&app, "/live/cam2/manifest.mpd").await;
    let starts: Vec<_> = m.periods.iter().map(|p| p.start.clone().unwrap()).collect();
    // Media 2 s + 5 s away; media 4 s + 9 s away.
    assert_eq!(starts, ["PT0.000S", "PT7.000S", "PT13.000S"]);
    let reps: Vec<&Representation> = m
        .periods
        .iter()
        .map(|p| &p.adaptation_sets[0].representations[0])
        .collect();
    let t: Vec<&SegmentTemplate> = reps
        .iter()
        .map(|r| r.segment_template.as_ref().unwrap())
        .collect();
    assert_eq!(
        t.iter()
            .map(|t| t.presentation_time_offset)
            .collect::<Vec<_>>(),
        [Some(0), Some(2000), Some(4000)]
    );
    assert_eq!(timeline(t[1]), [(2, 2000, 1000), (3, 3000, 1000)]);
    assert_eq!(timeline(t[2]), [(4, 4000, 1000), (5, 5000, 1000)]);
    assert_eq!(t[1].initialization, "v0/init.mp4");
    assert_eq!(t[2].initialization, "v0/init-1.mp4");
    assert_eq!((reps[2].width, reps[2].height), (Some(1280), Some(720)));
    assert_eq!(
        get(&app, "/live/cam2/v0/init-1.mp4").await.2,
        video_track(1280, 720).init
    );
    let d = m.dynamic.as_ref().unwrap();
    assert!(d.minimum_update_period.is_some() && m.media_presentation_duration.is_none());

    // Ended: still dynamic, no further updates, the duration up to the last segment's end.
    third.end();
    let m = mpd(&app, "/live/cam2/manifest.mpd").await;
    assert_eq!(m.mpd_type, "dynamic");
    let d = m.dynamic.as_ref().unwrap();
    assert_eq!(d.minimum_update_period, None);
    assert_eq!(m.media_presentation_duration.as_deref(), Some("PT15.500S"));
    let last = m.periods[2].adaptation_sets[0].representations[0]
        .segment_template
        .as_ref();
    assert_eq!(timeline(last.unwrap()).last(), Some(&(6, 6000, 500)));
    let end = UNIX_EPOCH + Duration::from_secs(BASE_S) + Duration::from_millis(15_500);
    assert_eq!(d.publish_time, iso(end));
}

#[actix_web::test]
async fn private_streams_only_on_signed_links_and_the_clock() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("priv1", opts(60, false)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    assert_eq!(get(&app, "/live/priv1/manifest.mpd").await.0, 404);
    Feed::new("v0", 4, 500).push(&s, 5);
    assert_eq!(get(&app, "/live/priv1/manifest.mpd").await.0, 404);
    let exp = upcast_origin::db::now_secs() + 600;
    let sig = st
        .keys
        .sign(&upcast_origin::streams::api::signing_subject("priv1"), exp);
    let base = format!("/s/{exp}/{sig}/live/priv1");
    let (code, h, body) = get(&app, &format!("{base}/manifest.mpd")).await;
    assert_eq!(code, 200);
    assert!(h["cache-control"].starts_with("private, max-age="));
    let m = Mpd::parse(&text(&body)).unwrap();
    let rep = &m.periods[0].adaptation_sets[0].representations[0];
    assert_eq!(
        timeline(rep.segment_template.as_ref().unwrap()),
        [(0, 0, 2000)]
    );
    // Its relative URLs resolve under the signed prefix.
    assert_eq!(get(&app, &format!("{base}/{}", url(rep, 0))).await.0, 200);
    let other = format!("/s/{exp}/{sig}/live/other/manifest.mpd");
    assert_eq!(get(&app, &other).await.0, 403);

    let (code, h, body) = get(&app, "/live/time").await;
    assert_eq!(code, 200);
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["access-control-allow-origin"], "*");
    let t = chrono::DateTime::parse_from_rfc3339(&text(&body)).unwrap();
    let now = chrono::DateTime::from_timestamp(upcast_origin::db::now_secs(), 0).unwrap();
    assert!((now - t.to_utc()).num_seconds().abs() <= 2, "{t}");
}

#[actix_web::test]
async fn waits_for_every_rendition_and_says_when_segments_do_not_align() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("multi", opts(60, true)).unwrap();
    for (name, w, h) in [("v0", 640, 360), ("v1", 320, 180)] {
        s.add_track(name, video_track(w, h)).unwrap();
    }
    s.add_track("a0", audio_track()).unwrap();
    // v1 comes from an encoder with its own key frames: 1.5 s segments against v0's 2 s.
    let (mut v0, mut v1, mut a) = (
        Feed::new("v0", 4, 500),
        Feed::new("v1", 3, 500),
        Feed::new("a0", 4, 500),
    );
    v0.push(&s, 5);
    v1.push(&s, 4);
    a.push(&s, 3);
    let uri = "/live/multi/manifest.mpd";
    assert_eq!(get(&app, uri).await.0, 404, "a0 has no segment yet");
    a.push(&s, 2);
    assert_eq!(get(&app, uri).await.0, 200);
    v0.push(&s, 4);
    v1.push(&s, 3);
    let m = mpd(&app, "/live/multi/manifest.mpd").await;
    let sets = &m.periods[0].adaptation_sets;
    let ids: Vec<&str> = sets[0]
        .representations
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["v0", "v1"]);
    assert_eq!(sets[0].segment_alignment, None);
    assert_eq!(sets[1].segment_alignment, Some(true));
    // Renditions cut at the same instants align.
    let aligned = st.live.open("aligned", opts(60, true)).unwrap();
    for name in ["v0", "v1"] {
        aligned.add_track(name, video_track(640, 360)).unwrap();
        Feed::new(name, 4, 500).push(&aligned, 9);
    }
    let m = mpd(&app, "/live/aligned/manifest.mpd").await;
    assert_eq!(
        m.periods[0].adaptation_sets[0].segment_alignment,
        Some(true)
    );
}
