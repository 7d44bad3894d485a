//! Issue 13, the live hub in-process: stream ids and rendition names, viewer counting, HEAD, and the
//! stream bound (ended streams make room, live ones are never evicted).
#[path = "../../testkit/harness/mod.rs"]
mod harness;
mod live_support;

use live_support::*;
use upcast_origin::live::{HubLimits, LiveError};

#[actix_web::test]
async fn viewers_head_and_bad_ids() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    assert!(matches!(
        st.live.open("a/b", opts(60, true)),
        Err(LiveError::BadName(_))
    ));
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    assert!(matches!(
        s.add_track("V 0", video_track(64, 64)),
        Err(LiveError::BadName(_))
    ));
    s.add_track("v0", video_track(640, 360)).unwrap();
    let mut v = Feed::new("v0", 2, 500);
    v.push(&s, 3);
    assert_eq!(s.viewers(), 0);
    for peer in ["127.0.0.5:1", "127.0.0.6:1", "127.0.0.5:2"] {
        assert_eq!(
            get_from(&app, "/live/cam1/v0/index.m3u8", peer).await.0,
            200
        );
    }
    assert_eq!(s.viewers(), 2, "distinct addresses");
    let r = actix_web::test::call_service(
        &app,
        actix_web::test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/live/cam1/v0/part1.m4s")
            .to_request(),
    )
    .await;
    assert_eq!(r.status(), 200);
    // The body announces the part's length (what actix-http sends as Content-Length) and holds nothing.
    let len = u64::try_from(v.pushed[1].bytes.len()).unwrap();
    let size = actix_web::body::MessageBody::size(r.response().body());
    assert_eq!(size, actix_web::body::BodySize::Sized(len));
    assert!(actix_web::test::read_body(r).await.is_empty());
}

#[actix_web::test]
async fn a_full_hub_evicts_ended_streams_never_live_ones() {
    let limits = HubLimits {
        max_streams: 2,
        ..HubLimits::default()
    };
    let (_app, st, _d) = app_with(limits).await;
    let a = st.live.open("a", opts(60, true)).unwrap();
    st.live.open("b", opts(60, true)).unwrap();
    assert!(matches!(
        st.live.open("c", opts(60, true)),
        Err(LiveError::TooManyStreams(2))
    ));
    a.end();
    st.live.open("c", opts(60, true)).unwrap();
    let mut ids = st.live.ids();
    ids.sort();
    assert_eq!(ids, ["b", "c"]);
}

#[actix_web::test]
async fn reconnects_with_new_init_segments_keep_only_those_in_use() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    Feed::new("v0", 2, 500).push(&s, 3);
    // Three reconnects, each with another picture size, and no media in between.
    for (k, w) in [(1, 320u16), (2, 480), (3, 800)] {
        s.end();
        let s = st.live.open("cam1", opts(60, true)).unwrap();
        s.add_track("v0", video_track(w, 360)).unwrap();
        let uri = format!("/live/cam1/v0/init-{k}.mp4");
        assert_eq!(get(&app, &uri).await.2, video_track(w, 360).init);
    }
    // Generation 0 is what segments 0 and 1 follow; 1 and 2 were never used and are gone.
    assert_eq!(get(&app, "/live/cam1/v0/init.mp4").await.0, 200);
    assert_eq!(get(&app, "/live/cam1/v0/init-1.mp4").await.0, 404);
    assert_eq!(get(&app, "/live/cam1/v0/init-2.mp4").await.0, 404);
}
