//! Issue 13, the live window's bounds in-process: the DVR window, the byte bound, the blocked-request
//! bound, private streams on signed links, end (ENDLIST) and a reconnect (discontinuity, MSNs continue).
#[path = "../../testkit/harness/mod.rs"]
mod harness;
mod live_support;

use std::time::Duration;

use live_support::*;
use upcast_origin::live::{HubLimits, LiveError};

#[actix_web::test]
async fn dvr_window_slides() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(4, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 21); // segments 0..9 of 1 s; a 4 s window keeps 6..9
    let p = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert_eq!(p.media_sequence, 6);
    assert_eq!(
        p.segments
            .iter()
            .map(|s| s.uri.as_str())
            .collect::<Vec<_>>(),
        ["6.m4s", "7.m4s", "8.m4s", "9.m4s"]
    );
    // Out of the playlist, still served for the window plus a segment (5 s: segments 1..5); 0 is gone.
    assert_eq!(
        get(&app, "/live/cam1/v0/5.m4s").await.2,
        concat(&v.pushed[10..12])
    );
    assert_eq!(
        get(&app, "/live/cam1/v0/part3.m4s").await.2,
        v.pushed[3].bytes
    );
    assert_eq!(get(&app, "/live/cam1/v0/0.m4s").await.0, 404);
    assert_eq!(get(&app, "/live/cam1/v0/part1.m4s").await.0, 404);
    assert_eq!(
        get(&app, "/live/cam1/v0/part13.m4s").await.2,
        v.pushed[13].bytes
    );
    let seg = v.pushed[12].bytes.len() + v.pushed[13].bytes.len();
    assert_eq!(
        s.bytes(),
        9 * seg + v.pushed[20].bytes.len(),
        "each segment's bytes once"
    );
}

#[actix_web::test]
async fn byte_bound_trims_and_refuses_a_runaway_segment() {
    let part_len = part(1, 0, 5, 100, true, true, 0).bytes.len();
    let limits = HubLimits {
        max_stream_bytes: 9 * part_len,
        ..HubLimits::default()
    };
    let (app, st, _d) = app_with(limits).await;
    let s = st.live.open("cam1", opts(600, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 21);
    assert!(
        s.bytes() <= 9 * part_len,
        "{} > {}",
        s.bytes(),
        9 * part_len
    );
    let p = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert_eq!(
        p.media_sequence, 6,
        "segments 6..9 and one open part fit in 9 parts' bytes"
    );
    // No key frame for longer than the bound allows: the part that would overflow the open segment is
    // refused and nothing of it is served.
    let mut long = Feed::new("v0", 1000, 500);
    long.seq = 1; // not a segment start
    let mut refused = None;
    for _ in 0..12 {
        let p = long.next();
        if let Err(e) = s.push("v0", p, now()) {
            refused = Some(e);
            break;
        }
    }
    assert!(
        matches!(refused, Some(LiveError::SegmentTooLarge(_))),
        "{refused:?}"
    );
    assert!(s.bytes() <= 9 * part_len);
}

#[actix_web::test]
async fn no_key_frame_for_longer_than_the_window_is_refused() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(3, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 1000, 500); // one key frame, then none
    v.push(&s, 6); // 3 s of one open segment: the window's length
    let e = s.push("v0", v.next(), now()).unwrap_err();
    assert_eq!(
        (e.code(), e.clone()),
        ("no-key-frame", LiveError::NoKeyFrame(3.0))
    );
    // What was published stays; a key frame starts the next segment and closes this one.
    let p = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(p.segments.is_empty());
    assert_eq!(
        get(&app, "/live/cam1/v0/part5.m4s").await.2,
        v.pushed[5].bytes
    );
    let key = part(99, 3500, 5, 100, true, true, 1);
    let closed = s.push("v0", key, now()).unwrap().unwrap();
    assert_eq!((closed.msn, closed.duration), (0, 3.0));
}

#[actix_web::test]
async fn blocked_requests_are_bounded_per_address_and_in_all() {
    let limits = HubLimits {
        max_blocked: 2,
        max_blocked_per_ip: 1,
        ..HubLimits::default()
    };
    let (app, st, _d) = app_with(limits).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 4, 500);
    v.push(&s, 2);
    let uri = "/live/cam1/v0/index.m3u8?_HLS_msn=0&_HLS_part=2";
    let a = get_from(&app, uri, "127.0.0.2:1000");
    let b = get_from(&app, uri, "127.0.0.3:1000");
    let rest = async {
        assert_eq!(st.live.slots.in_use(), 2);
        // The same address again: its one slot is taken (429); another address: all slots taken (503).
        let again = get_from(&app, uri, "127.0.0.2:1001").await;
        let other = get_from(&app, uri, "127.0.0.4:1000").await;
        v.push(&s, 1);
        (again, other)
    };
    let (ra, rb, (again, other)) = futures_util::future::join3(a, b, rest).await;
    assert_eq!((ra.0, rb.0), (200, 200));
    assert_eq!(again.0, 429);
    assert_eq!((other.0, other.1["retry-after"].as_str()), (503, "5"));
    assert_eq!(
        st.live
            .counters
            .blocked_refused
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(st.live.slots.in_use(), 0);
}

#[actix_web::test]
async fn private_streams_only_on_signed_links() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("priv1", opts(60, false)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    Feed::new("v0", 4, 500).push(&s, 5);
    assert_eq!(get(&app, "/live/priv1/v0/index.m3u8").await.0, 404);
    let exp = upcast_origin::db::now_secs() + 600;
    let sig = st
        .keys
        .sign(&upcast_origin::streams::api::signing_subject("priv1"), exp);
    let (code, h, body) = get(&app, &format!("/s/{exp}/{sig}/live/priv1/v0/index.m3u8")).await;
    assert_eq!(code, 200);
    assert!(h["cache-control"].starts_with("private, max-age="));
    assert_eq!(media(&body).segments.len(), 1);
    assert_eq!(
        get(&app, &format!("/s/{exp}/{sig}/live/other/v0/index.m3u8"))
            .await
            .0,
        403
    );
}

#[actix_web::test]
async fn end_releases_waiters_and_reconnect_continues_with_a_discontinuity() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 3); // segment 0, part 1.0 open
    let reload = get(&app, "/live/cam1/v0/index.m3u8?_HLS_msn=2");
    let mut last = Vec::new();
    let stop = async {
        assert_eq!(st.live.slots.in_use(), 1);
        last = s.end();
    };
    let ((code, _, body), ()) = futures_util::future::join(reload, stop).await;
    assert_eq!(code, 200);
    assert_eq!(
        last.iter().map(|c| c.msn).collect::<Vec<_>>(),
        [1],
        "the open segment, closed for recording"
    );
    let t = text(&body);
    assert!(
        t.ends_with("1.m4s\n#EXT-X-ENDLIST\n") && !t.contains("PRELOAD-HINT"),
        "{t}"
    );
    assert!(matches!(
        s.push("v0", v.next(), now()),
        Err(LiveError::Ended)
    ));

    // The publisher comes back within the grace period: same stream, MSNs go on after a discontinuity.
    let again = st.live.open("cam1", opts(60, true)).unwrap();
    again.add_track("v0", video_track(640, 360)).unwrap();
    let mut w = Feed::new("v0", 2, 500);
    w.push(&again, 3);
    let p = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(!p.end_list);
    assert_eq!(
        p.segments
            .iter()
            .map(|s| (s.uri.as_str(), s.discontinuity))
            .collect::<Vec<_>>(),
        [("0.m4s", false), ("1.m4s", false), ("2.m4s", true)]
    );
    // A new init after the reconnect: a new EXT-X-MAP from the next segment on.
    again.end();
    let third = st.live.open("cam1", opts(60, true)).unwrap();
    third.add_track("v0", video_track(1280, 720)).unwrap();
    Feed::new("v0", 2, 500).push(&third, 3);
    let t = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(
        t.contains("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-1.mp4\"")
            || t.contains("#EXT-X-MAP:URI=\"init-1.mp4\"\n#EXT-X-DISCONTINUITY"),
        "{t}"
    );
    assert_eq!(
        get(&app, "/live/cam1/v0/init-1.mp4").await.2,
        video_track(1280, 720).init
    );
    assert!(st.live.remove("cam1").is_some());
    assert_eq!(get(&app, "/live/cam1/v0/index.m3u8").await.0, 404);
}

#[actix_web::test]
async fn discontinuity_sequence_counts_what_slid_out() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(2, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    Feed::new("v0", 2, 500).push(&s, 7); // segments 0..2, 3 open with one part
    assert_eq!(s.end().len(), 1);
    let s = st.live.open("cam1", opts(2, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    Feed::new("v0", 2, 500).push(&s, 9); // 4 (after the discontinuity) ..7, 8 open
    let p = media(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert_eq!((p.media_sequence, p.discontinuity_sequence), (6, 1));
    assert!(p.segments.iter().all(|s| !s.discontinuity));
    assert_eq!(st.live.stats().streams, 1);
    // Ended streams make room for new ones when the hub is full, and a sweep drops them.
    assert!(st.live.sweep(Duration::ZERO).is_empty(), "cam1 is live");
    s.end();
    assert_eq!(st.live.sweep(Duration::ZERO), ["cam1"]);
    assert_eq!(get(&app, "/live/cam1/v0/index.m3u8").await.0, 404);
}

#[actix_web::test]
async fn the_multivariant_playlist_waits_for_every_rendition_to_have_media() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam9", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    s.add_track("a0", audio_track()).unwrap();
    // Nothing yet, then video alone: a player handed this would never learn of the audio group.
    assert_eq!(get(&app, "/live/cam9/index.m3u8").await.0, 404);
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 1);
    assert_eq!(get(&app, "/live/cam9/index.m3u8").await.0, 404);
    Feed::new("a0", 2, 500).push(&s, 1);
    let (code, _, body) = get(&app, "/live/cam9/index.m3u8").await;
    assert_eq!(code, 200);
    let text = text(&body);
    assert!(
        text.contains("#EXT-X-STREAM-INF") && text.contains("TYPE=AUDIO"),
        "{text}"
    );
}

#[actix_web::test]
async fn a_rendition_that_never_starts_does_not_hold_the_others_back() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam8", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    s.add_track("a0", audio_track()).unwrap();
    Feed::new("v0", 2, 500).push(&s, 5); // two whole segments and a part
    let (code, _, body) = get(&app, "/live/cam8/index.m3u8").await;
    assert_eq!(code, 200);
    let text = text(&body);
    assert!(
        text.contains("v0/index.m3u8") && !text.contains("a0/"),
        "{text}"
    );
}
