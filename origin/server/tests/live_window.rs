//! Issue 13, the origin's live window in-process: real CMAF parts (the core's writers) pushed into the hub,
//! played back over `/live/...`: playlist tags and order, blocking reload and preload hints released by the
//! part they wait for, the 400/503 rules, delta updates, rendition reports, DVR and byte trimming, the
//! blocked-request bound, private streams, end and reconnect.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
mod live_support;

use std::sync::atomic::Ordering;

use live_support::*;
use upcast_origin::live::HubLimits;

#[actix_web::test]
async fn playlist_tags_order_and_bytes() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    s.add_track("a0", audio_track()).unwrap();
    let (mut v, mut a) = (Feed::new("v0", 4, 500), Feed::new("a0", 4, 500));
    let closed = v.push(&s, 14);
    a.push(&s, 14);
    // Three segments closed (the 5th, 9th and 13th part started the next), two parts open.
    assert_eq!(closed.iter().map(|c| c.msn).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(closed[1].bytes.to_vec(), concat(&v.pushed[4..8]));
    assert_eq!(closed[1].key_chunks, [(0, v.pushed[4].bytes.len() as u64)]);

    let (code, h, body) = get(&app, "/live/cam1/v0/index.m3u8").await;
    assert_eq!(code, 200);
    assert_eq!(h["content-type"], "application/vnd.apple.mpegurl");
    assert_eq!(h["cache-control"], "public, max-age=1");
    assert_eq!(h["access-control-allow-origin"], "*");
    let t = text(&body);
    let p = media(&body);
    assert_eq!(
        (p.version, p.target_duration, p.media_sequence),
        (Some(9), 2, 0)
    );
    assert_eq!(
        p.segments
            .iter()
            .map(|s| s.uri.as_str())
            .collect::<Vec<_>>(),
        ["0.m4s", "1.m4s", "2.m4s"]
    );
    assert_eq!(p.segments[0].map.as_ref().unwrap().uri, "init.mp4");
    assert!(p
        .segments
        .iter()
        .all(|s| s.program_date_time.is_some() && (s.duration - 2.0).abs() < 1e-6));
    assert!(t.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12,PART-HOLD-BACK=1.5,HOLD-BACK=6\n"));
    assert!(t.contains("#EXT-X-PART-INF:PART-TARGET=0.5\n"));
    let mut tail: Vec<&str> = t.lines().skip_while(|l| *l != "2.m4s").skip(1).collect();
    // The open segment's program date-time comes before its first part, as a complete segment's does.
    assert!(tail[0].starts_with("#EXT-X-PROGRAM-DATE-TIME:"), "{t}");
    tail.remove(0);
    assert_eq!(
        tail,
        [
            "#EXT-X-PART:DURATION=0.5,URI=\"part12.m4s\",INDEPENDENT=YES",
            "#EXT-X-PART:DURATION=0.5,URI=\"part13.m4s\"",
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part14.m4s\"",
            "#EXT-X-RENDITION-REPORT:URI=\"../a0/index.m3u8\",LAST-MSN=3,LAST-PART=1",
        ]
    );

    // Gzip when asked for: the same text.
    let r = actix_web::test::call_service(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/live/cam1/v0/index.m3u8")
            .insert_header(("Accept-Encoding", "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
    assert_eq!(r.headers().get("vary").unwrap(), "Accept-Encoding");
    let z = actix_web::test::read_body(r).await;
    let mut unz = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut unz).unwrap();
    assert_eq!(unz, t);

    // Parts and segments are the bytes pushed, whole CMAF that the core reads back.
    let (code, _, init) = get(&app, "/live/cam1/v0/init.mp4").await;
    assert_eq!(code, 200);
    let info = upcast_core::cmaf::read::read_init(&init).unwrap();
    let (code, h, seg) = get(&app, "/live/cam1/v0/1.m4s").await;
    assert_eq!((code, seg.clone()), (200, concat(&v.pushed[4..8])));
    assert_eq!(h["cache-control"], "public, max-age=60");
    assert_eq!(
        upcast_core::cmaf::read::read_segment(&seg, &info)
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        get(&app, "/live/cam1/v0/part6.m4s").await.2,
        v.pushed[6].bytes
    );
    assert_eq!(
        get(&app, "/live/cam1/v0/part13.m4s").await.2,
        v.pushed[13].bytes
    );
    // The open segment is not a segment yet; a part past the hint does not exist.
    assert_eq!(get(&app, "/live/cam1/v0/3.m4s").await.0, 404);
    assert_eq!(get(&app, "/live/cam1/v0/part15.m4s").await.0, 404);
    assert_eq!(get(&app, "/live/cam1/v9/index.m3u8").await.0, 404);
    assert_eq!(get(&app, "/live/nope/v0/index.m3u8").await.0, 404);

    // Multivariant: the video a variant with both codecs, the audio an EXT-X-MEDIA.
    let (code, _, mv) = get(&app, "/live/cam1/index.m3u8").await;
    assert_eq!(code, 200);
    let Ok(m3u8_rs::Playlist::MasterPlaylist(m)) = m3u8_rs::parse_playlist_res(&mv) else {
        panic!("{}", text(&mv))
    };
    assert_eq!(m.variants.len(), 1);
    let var = &m.variants[0];
    assert_eq!(
        (
            var.uri.as_str(),
            var.codecs.as_deref(),
            var.audio.as_deref()
        ),
        (
            "v0/index.m3u8",
            Some("avc1.42c01e,mp4a.40.2"),
            Some("audio")
        )
    );
    assert_eq!(
        var.resolution.map(|r| (r.width, r.height)),
        Some((640, 360))
    );
    assert!(
        var.bandwidth > 8 * 4 * 5 * 200 / 2,
        "measured from the segments: {}",
        var.bandwidth
    );
    assert_eq!(m.alternatives.len(), 1);
    assert_eq!(m.alternatives[0].uri.as_deref(), Some("a0/index.m3u8"));
    assert!(s.viewers() >= 1);
}

#[actix_web::test]
async fn blocking_reload_and_preload_hint_are_released_by_the_part() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 4, 500);
    v.push(&s, 6); // segment 0, and parts 1.0 and 1.1 open
    let slots = &st.live.slots;
    // The request runs first and parks on the window; the second future sees it parked, then pushes.
    let reload = get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=1&_HLS_part=2");
    let push = async {
        assert_eq!(slots.in_use(), 1, "the reload waits");
        v.push(&s, 1);
    };
    let ((code, h, body), ()) = futures_util::future::join(reload, push).await;
    assert_eq!(code, 200);
    assert_eq!(h["cache-control"], "public, max-age=12");
    assert!(text(&body).contains("#EXT-X-PART:DURATION=0.5,URI=\"part6.m4s\"\n"));
    assert!(text(&body).contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part7.m4s\"\n"));
    assert_eq!(slots.in_use(), 0);

    // The hinted part: the request waits until it is pushed whole, then gets exactly it.
    let hinted = get(&app, "/live/cam1/v0/part7.m4s");
    let mut next = None;
    let push = async {
        assert_eq!(slots.in_use(), 1, "the hinted part waits");
        v.push(&s, 1);
        next = v.pushed.last().cloned();
    };
    let ((code, _, body), ()) = futures_util::future::join(hinted, push).await;
    assert_eq!((code, body), (200, next.unwrap().bytes));
    // A whole segment asked for (1, its four parts already listed): released when the part that starts
    // segment 2 closes it.
    let reload = get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=1");
    let push = async {
        assert_eq!(slots.in_use(), 1);
        v.push(&s, 1);
    };
    let ((code, _, body), ()) = futures_util::future::join(reload, push).await;
    assert_eq!(code, 200);
    assert!(text(&body).contains("\n1.m4s\n"));
    assert_eq!(st.live.counters.blocked_waits.load(Ordering::Relaxed), 3);
    // Already there: answered at once, no wait counted.
    assert_eq!(
        get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=1&_HLS_part=0")
            .await
            .0,
        200
    );
    assert_eq!(st.live.counters.blocked_waits.load(Ordering::Relaxed), 3);
}

#[actix_web::test]
async fn the_hint_is_right_when_a_key_frame_closes_a_segment_early() {
    // Parts are numbered across segments, so the hint names the next part before anyone knows whether
    // it starts a segment: a publisher's early key frame does not make the hinted part one that never
    // comes.
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 4, 500);
    v.push(&s, 6); // segment 0 (parts 0..3), segment 1 open with parts 4 and 5
    let t = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(
        t.contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part6.m4s\"\n"),
        "{t}"
    );
    // The hinted part is asked for; the publisher's next part is a key frame two parts early.
    let slots = &st.live.slots;
    let key = part(v.seq + 1, v.t_ms, 5, 100, true, true, 7);
    let hinted = get(&app, "/live/cam1/v0/part6.m4s");
    let push = async {
        assert_eq!(slots.in_use(), 1, "the hinted part waits");
        let closed = s.push("v0", key.clone(), now()).unwrap();
        assert_eq!(
            closed.map(|c| c.msn),
            Some(1),
            "segment 1 closed after two parts"
        );
    };
    let ((code, _, body), ()) = futures_util::future::join(hinted, push).await;
    assert_eq!((code, body), (200, key.bytes.clone()));
    let p = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    let t = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(t.contains("part4.m4s") && t.contains("part5.m4s"), "{t}");
    assert!(
        t.contains("#EXT-X-PART:DURATION=0.5,URI=\"part6.m4s\",INDEPENDENT=YES\n"),
        "the key part opens segment 2 under the hinted URI:\n{t}"
    );
    assert!(
        t.contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part7.m4s\"\n"),
        "{t}"
    );
    assert_eq!(p.segments.len(), 2, "segments 0 and 1 complete");
}

#[actix_web::test]
async fn reload_rules_400_and_503() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500); // 1 s segments: target duration 1, a blocked request gives up after 3 s
    v.push(&s, 3); // segment 0; 1.0 open
    let code = |r: (u16, _, Vec<u8>)| {
        (
            r.0,
            serde_json::from_slice::<serde_json::Value>(&r.2).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    assert_eq!(
        code(get(&app, "/live/cam1/v0/index.m3u8?_HLS_part=1").await),
        (400, "bad-request".into())
    );
    assert_eq!(
        code(get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=x").await),
        (400, "bad-request".into())
    );
    // Last segment in the playlist is 1 (open, one part): 3 may be asked for, 4 may not.
    assert_eq!(
        code(get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=4").await),
        (400, "bad-request".into())
    );
    let (c, h, b) = get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=3").await;
    assert_eq!((c, h["cache-control"].as_str()), (503, "no-store"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&b).unwrap()["code"],
        "blocking-timeout"
    );
    assert_eq!(st.live.counters.blocked_timeouts.load(Ordering::Relaxed), 1);
    assert_eq!(st.live.slots.in_use(), 0, "the slot is given back");
}

#[actix_web::test]
async fn delta_update_skips_old_segments() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 21); // segments 0..9 of 1 s, 10.0 open
    let full = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert_eq!(full.segments.len(), 10);
    for q in [
        "_HLS_skip=YES",
        "_HLS_skip=v2",
        "_HLS_msn=10&_HLS_part=0&_HLS_skip=YES",
    ] {
        let (code, _, body) = get(&app, &format!("/live/cam1/v0/index.m3u8?{q}")).await;
        assert_eq!(code, 200);
        let t = text(&body);
        // CAN-SKIP-UNTIL=6: segments 5..9 start within 6 s of the end (0.5 s open), 0..4 are skipped.
        assert!(t.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=5\n"), "{q}: {t}");
        let p = media(&body);
        assert_eq!(p.media_sequence, 0);
        assert_eq!(p.segments.first().map(|s| s.uri.as_str()), Some("5.m4s"));
    }
}

#[actix_web::test]
async fn rendition_reports_name_the_other_renditions() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(1280, 720)).unwrap();
    s.add_track("v1", video_track(640, 360)).unwrap();
    let (mut a, mut b) = (Feed::new("v0", 4, 500), Feed::new("v1", 4, 500));
    a.push(&s, 7);
    b.push(&s, 9);
    let t0 = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(
        t0.contains("#EXT-X-RENDITION-REPORT:URI=\"../v1/index.m3u8\",LAST-MSN=2,LAST-PART=0\n"),
        "{t0}"
    );
    assert!(!t0.contains("../v0/"));
    let t1 = text(&get(&app, "/live/cam1/v1/index.m3u8").await.2);
    assert!(
        t1.contains("#EXT-X-RENDITION-REPORT:URI=\"../v0/index.m3u8\",LAST-MSN=1,LAST-PART=2\n"),
        "{t1}"
    );
    let mv = text(&get(&app, "/live/cam1/index.m3u8").await.2);
    assert_eq!(mv.matches("#EXT-X-STREAM-INF").count(), 2);
    assert!(mv.contains("RESOLUTION=1280x720") && mv.contains("RESOLUTION=640x360"));
}
