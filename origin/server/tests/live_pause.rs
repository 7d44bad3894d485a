//! A rendition paused inside a publish, in-process, its uploads a segment behind the other's: its open
//! segment turns GAP, GAP parts and EXT-X-GAP segments catch up with the leading rendition's at once and
//! follow them at the same MSNs, GAP media is not served,
//! and its media comes back under the MSN of the segment the other rendition has just started (the
//! other rendition's part of that boundary arrived first).
#[path = "../../testkit/harness/mod.rs"]
mod harness;
mod live_support;

use live_support::*;
use upcast_origin::live::HubLimits;

fn uris(p: &m3u8_rs::MediaPlaylist) -> Vec<(String, bool)> {
    p.segments
        .iter()
        .map(|s| {
            let gap = s.unknown_tags.iter().any(|t| t.tag == "X-GAP");
            (s.uri.clone(), gap)
        })
        .collect()
}

#[actix_web::test]
async fn a_paused_rendition_lists_gaps_and_comes_back_under_the_same_msn() {
    let (app, st, _d) = app_with(HubLimits::default()).await;
    let s = st.live.open("cam1", opts(60, true)).unwrap();
    s.add_track("v0", video_track(640, 360)).unwrap();
    s.add_track("v1", video_track(320, 180)).unwrap();
    let (mut hi, mut lo) = (Feed::new("v0", 4, 500), Feed::new("v1", 4, 500));
    for _ in 0..6 {
        hi.push(&s, 1);
        lo.push(&s, 1);
    }
    // v0's uploads fall behind: v1 gets four more parts (into segment 2), v0's are never sent.
    for _ in 0..4 {
        hi.next();
        lo.push(&s, 1);
    }
    // Paused two parts into segment 1: that segment turns GAP (its parts are no longer served), and
    // v0's playlist catches up with v1's at once: GAP parts to the end of segment 1, then segment 2's.
    assert_eq!(get(&app, "/live/cam1/v0/part5.m4s").await.0, 200);
    s.pause_track("v0").unwrap();
    s.pause_track("v0").unwrap();
    assert_eq!(get(&app, "/live/cam1/v0/part5.m4s").await.0, 404);
    let t = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    assert!(
        t.contains("#EXT-X-PART:DURATION=0.5,URI=\"part7.m4s\",GAP=YES\n"),
        "{t}"
    );
    assert!(
        t.contains("#EXT-X-PART:DURATION=0.5,URI=\"part9.m4s\",GAP=YES\n"),
        "{t}"
    );
    assert!(!t.contains("part10.m4s"), "{t}");
    // Two more parts of v1 alone (to the end of segment 2).
    for _ in 0..2 {
        hi.next();
        lo.push(&s, 1);
    }
    let t = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    let p = media(t.as_bytes());
    assert_eq!(
        uris(&p),
        [("0.m4s".into(), false), ("1.m4s".into(), true)],
        "{t}"
    );
    // Segment 2 is open in both, with GAP parts in v0: its playlist has no preload hint.
    assert!(
        t.contains("#EXT-X-PART:DURATION=0.5,URI=\"part8.m4s\",INDEPENDENT=YES,GAP=YES\n"),
        "{t}"
    );
    assert!(
        t.contains("#EXT-X-PART:DURATION=0.5,URI=\"part11.m4s\",GAP=YES\n"),
        "{t}"
    );
    assert!(!t.contains("PRELOAD-HINT"), "{t}");
    assert_eq!(get(&app, "/live/cam1/v0/part9.m4s").await.0, 404);
    let t1 = text(&get(&app, "/live/cam1/v1/index.m3u8").await.2);
    assert!(
        t1.contains("#EXT-X-RENDITION-REPORT:URI=\"../v0/index.m3u8\",LAST-MSN=2,LAST-PART=3"),
        "{t1}"
    );

    // The boundary: v1's first part of segment 3 first (v0 gets a GAP segment 3 open), then v0's,
    // which takes segment 3's place.
    lo.push(&s, 1);
    let closed = hi.push(&s, 1);
    assert!(
        closed.is_empty(),
        "a GAP segment is not recorded: {closed:?}"
    );
    for _ in 0..4 {
        hi.push(&s, 1);
        lo.push(&s, 1);
    }
    let t = text(&get(&app, "/live/cam1/v0/index.m3u8").await.2);
    let t1 = text(&get(&app, "/live/cam1/v1/index.m3u8").await.2);
    let (p, p1) = (media(t.as_bytes()), media(t1.as_bytes()));
    let gaps: Vec<bool> = uris(&p).into_iter().map(|u| u.1).collect();
    assert_eq!(gaps, [false, true, true, false], "{t}");
    let names = |p: &m3u8_rs::MediaPlaylist| -> Vec<String> {
        p.segments.iter().map(|s| s.uri.clone()).collect()
    };
    assert_eq!(names(&p), names(&p1), "\n{t}\n{t1}");
    assert!(
        t.contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part17.m4s\""),
        "{t}"
    );
    assert_eq!(get(&app, "/live/cam1/v0/1.m4s").await.0, 404);
    assert_eq!(get(&app, "/live/cam1/v0/2.m4s").await.0, 404);
    assert_eq!(
        get(&app, "/live/cam1/v0/3.m4s").await.2,
        concat(&hi.pushed[12..16])
    );
}
