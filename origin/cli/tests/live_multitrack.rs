//! Enhanced RTMP multitrack (what OBS 31 sends) becomes an adaptive ladder with no transcoding: a real
//! `upcast serve` takes a publish over a real RTMP connection whose video messages are ManyTracks avc1
//! bodies carrying two renditions (640x360 and 320x180, encoded by ffmpeg into two FLV files at test time
//! with the same GOP, their tags joined by timestamp) plus AAC audio, sent in real time. The multivariant
//! playlist lists both variants with the audio group, the renditions' segments line up (same MSN, same
//! time, same duration), each playlist reports the others, `upcast validate --live` passes, the status
//! shows both renditions, and the recording is a two-rung video that passes `upcast validate`.
#[path = "../../testkit/flv_tags.rs"]
mod flv_tags;
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/live_client.rs"]
mod live_client;
#[path = "../../testkit/rtmp_client.rs"]
mod rtmp_client;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use flv_tags::{ladder, ladder_flvs, Tag};
use harness::*;
use live_client::*;
use rtmp_client::RawPublisher;
use serde_json::Value;

const SECONDS: u32 = 14;

/// Publish `tags` to `rtmp://addr/live/key` at the pace of their timestamps (as an encoder does).
fn publish_tags(addr: SocketAddr, key: &str, tags: Vec<Tag>) -> std::thread::JoinHandle<()> {
    let key = key.to_string();
    std::thread::spawn(move || {
        let mut p = RawPublisher::start(addr, &key);
        let t0 = Instant::now();
        for t in tags {
            let due = t0 + Duration::from_millis(u64::from(t.ts_ms));
            // Pacing the publisher like a real-time encoder (this is the source's clock, not a wait for
            // the server).
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let body = bytes::Bytes::from(t.body);
            let sent = if t.kind == 9 {
                p.video(t.ts_ms, body)
            } else {
                p.audio(t.ts_ms, body)
            };
            sent.expect("the server takes every message");
        }
    })
}

/// A media playlist's segments: MSN → (EXTINF, PROGRAM-DATE-TIME).
fn segments(text: &str) -> BTreeMap<u64, (String, Option<String>)> {
    let mut msn = msns(text).0;
    let (mut inf, mut pdt) = (None, None);
    let mut out = BTreeMap::new();
    for l in text.lines() {
        if let Some(v) = l.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
            pdt = Some(v.to_string());
        } else if let Some(v) = l.strip_prefix("#EXTINF:") {
            inf = Some(v.trim_end_matches(',').to_string());
        } else if !l.starts_with('#') && !l.is_empty() {
            if let Some(d) = inf.take() {
                out.insert(msn, (d, pdt.take()));
                msn += 1;
            }
        }
    }
    out
}

fn variants(master: &str) -> Vec<&str> {
    master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .collect()
}

#[test]
fn a_multitrack_publish_becomes_an_aligned_ladder_and_a_two_rung_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (hi, lo) = ladder_flvs(dir.path(), SECONDS);
    let tags = ladder(&hi, &[lo]);
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, true);
    let publisher = publish_tags(s.rtmp.unwrap(), &key, tags);

    let master = until(40, "two variants in the multivariant playlist", || {
        let (code, body) = get(&s, &format!("/live/{id}/index.m3u8"));
        (code == 200 && variants(&body).len() == 2 && body.contains("TYPE=AUDIO")).then_some(body)
    });
    let v = variants(&master);
    assert!(v[0].contains("RESOLUTION=640x360"), "{master}");
    assert!(v[1].contains("RESOLUTION=320x180"), "{master}");
    for line in &v {
        assert!(line.contains("CODECS=\"avc1."), "{master}");
        assert!(line.contains(",mp4a.40.2\""), "{master}");
        assert!(line.contains("AUDIO=\"audio\""), "{master}");
    }
    assert!(master.contains("video/index.m3u8"), "{master}");
    assert!(master.contains("video_2/index.m3u8"), "{master}");

    // Both renditions at the same segment: a blocking reload of each for the same MSN, then every
    // segment the two have in common has the same duration and the same program date-time.
    let hi_path = format!("/live/{id}/video/index.m3u8");
    let lo_path = format!("/live/{id}/video_2/index.m3u8");
    let first = until(40, "three segments of the first rendition", || {
        let (code, body) = get(&s, &hi_path);
        (code == 200 && msns(&body).1 >= 3).then_some(body)
    });
    let (f, c, _) = msns(&first);
    let next = f + c as u64 + 1;
    let (ch, hi_text) = get(&s, &format!("{hi_path}?_HLS_msn={next}"));
    let (cl, lo_text) = get(&s, &format!("{lo_path}?_HLS_msn={next}"));
    assert_eq!((ch, cl), (200, 200), "{hi_text}\n{lo_text}");
    let (a, b) = (segments(&hi_text), segments(&lo_text));
    assert!(a.contains_key(&(next - 1)), "{hi_text}");
    assert!(b.contains_key(&(next - 1)), "{lo_text}");
    let common: Vec<_> = a.keys().filter(|m| b.contains_key(m)).collect();
    assert!(common.len() >= 3, "{hi_text}\n{lo_text}");
    for m in common {
        assert_eq!(a[m], b[m], "segment {m}:\n{hi_text}\n{lo_text}");
    }
    // Each rendition reports the other and the audio.
    assert!(
        hi_text.contains("#EXT-X-RENDITION-REPORT:URI=\"../video_2/index.m3u8\""),
        "{hi_text}"
    );
    assert!(
        lo_text.contains("#EXT-X-RENDITION-REPORT:URI=\"../video/index.m3u8\""),
        "{lo_text}"
    );
    assert!(
        lo_text.contains("#EXT-X-RENDITION-REPORT:URI=\"../audio/index.m3u8\""),
        "{lo_text}"
    );

    let url = s.url(&format!("/live/{id}/index.m3u8"));
    let (ok, report) = validate(&["--live", &url, "--reloads", "3"]);
    assert!(ok, "upcast validate --live:\n{report}");

    let st = stream_state(&s, &id);
    assert_eq!(st["state"], "live", "{st}");
    let sizes: Vec<(Value, Value)> = st["ingest"]["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["width"].is_number())
        .map(|r| (r["width"].clone(), r["height"].clone()))
        .collect();
    assert_eq!(
        sizes,
        vec![(640.into(), 360.into()), (320.into(), 180.into())],
        "{st}"
    );

    publisher
        .join()
        .expect("the publisher sent the whole stream");
    until(60, "the end of the stream", || {
        (stream_state(&s, &id)["state"] == "ended").then_some(())
    });
    let vid = &published_recording(&s, &id);
    let rec_master = get(&s, &format!("/v/{vid}/master.m3u8")).1;
    let rungs = variants(&rec_master);
    assert_eq!(rungs.len(), 2, "{rec_master}");
    assert!(rungs[0].contains("RESOLUTION=640x360"), "{rec_master}");
    assert!(rungs[1].contains("RESOLUTION=320x180"), "{rec_master}");
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
    check_invariants(&s.data);
}
