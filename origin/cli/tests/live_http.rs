//! Publishing live over HTTP, as a browser tab does (the wasm core muxes each rung's CMAF parts, the tab
//! PUTs them one by one): a real `upcast serve` takes a two-rung ladder plus audio, muxed by the core
//! from ffmpeg's output and uploaded at the pace of its timestamps. The LL-HLS playlists list both rungs
//! with aligned segments, `upcast validate --live` passes, the status shows the renditions; bad tickets,
//! gaps, retries, conflicting bytes and a false INDEPENDENT claim get their codes; ending the publish
//! publishes a recording that passes `upcast validate`; an idle publisher's stream goes `reconnecting`
//! then `ended`; an expired ticket is refused and a renewed one is not.
#[path = "../../testkit/flv_tags.rs"]
mod flv_tags;
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/http_publisher.rs"]
mod http_publisher;
#[path = "../../testkit/live_client.rs"]
mod live_client;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use harness::*;
use http_publisher::*;
use live_client::*;
use serde_json::Value;

const SECONDS: u32 = 10;

fn start(data: &std::path::Path, extra: &[&str]) -> Server {
    let mut args = vec!["--api-rate-per-ip", "0", "--live-grace-secs", "3"];
    args.extend(extra);
    Server::start(data, &args)
}

#[test]
fn a_ladder_published_over_http_plays_validates_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let muxed = encode_ladder(dir.path(), SECONDS);
    let names: Vec<&str> = muxed.inits.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["video", "video_2", "audio"]);
    let s = start(&dir.path().join("data"), &[]);
    let base = s.url("");
    let (id, key) = create_stream(&s, true);

    let (c, v) = publish_http(&base, "sk_nope");
    assert_eq!((c, v["code"].as_str()), (403, Some("unknown-key")), "{v}");
    let (c, v) = publish_http(&base, &key);
    assert_eq!(c, 201, "{v}");
    let ticket = v["ticket"].as_str().unwrap().to_string();
    assert!(ticket.starts_with("upp_"), "{v}");
    assert_eq!(v["stream_id"], id.as_str());
    assert_eq!(v["part_target_ms"], 500);
    assert!(v["playback_url"].as_str().unwrap().contains(&id), "{v}");
    let (c, v) = publish_http(&base, &key);
    assert_eq!((c, v["code"].as_str()), (409, Some("already-live")), "{v}");

    let init_path = |n: &str| format!("/api/live/{id}/{n}/init.mp4");
    let (c, v) = call(
        &base,
        "PUT",
        &init_path("video"),
        "upp_nope",
        None,
        &muxed.inits[0].1,
    );
    assert_eq!((c, v["code"].as_str()), (401, Some("bad-ticket")), "{v}");
    let (c, v) = call(
        &base,
        "PUT",
        &init_path("video"),
        &ticket,
        None,
        b"not an init",
    );
    assert_eq!((c, v["code"].as_str()), (422, Some("not-cmaf")), "{v}");
    for (n, init) in &muxed.inits {
        let (c, v) = call(&base, "PUT", &init_path(n), &ticket, None, init);
        assert_eq!(c, 201, "{n}: {v}");
    }
    let (c, _) = call(
        &base,
        "PUT",
        &init_path("video"),
        &ticket,
        None,
        &muxed.inits[0].1,
    );
    assert_eq!(c, 200, "the same init again is a no-op");

    let lags = std::thread::scope(|scope| {
        let up = scope.spawn(|| upload_checked(&base, &id, &ticket, &muxed.parts));
        let (hi, lo) = (
            format!("/live/{id}/video/index.m3u8"),
            format!("/live/{id}/video_2/index.m3u8"),
        );
        let first = until(40, "three segments of the first rung", || {
            let (code, body) = get(&s, &hi);
            (code == 200 && msns(&body).1 >= 3).then_some(body)
        });
        let (master_code, master) = get(&s, &format!("/live/{id}/index.m3u8"));
        assert_eq!(master_code, 200);
        assert_eq!(master.matches("#EXT-X-STREAM-INF").count(), 2, "{master}");
        assert!(master.contains("RESOLUTION=640x360"), "{master}");
        assert!(master.contains("RESOLUTION=320x180"), "{master}");
        let (f, c, _) = msns(&first);
        let next = f + c as u64 + 1;
        let (a, b) = (
            get(&s, &format!("{hi}?_HLS_msn={next}")).1,
            get(&s, &format!("{lo}?_HLS_msn={next}")).1,
        );
        let (sa, sb) = (segments(&a), segments(&b));
        assert!(
            sa.contains_key(&(next - 1)) && sb.contains_key(&(next - 1)),
            "{a}\n{b}"
        );
        let common: Vec<_> = sa.keys().filter(|m| sb.contains_key(m)).collect();
        assert!(common.len() >= 3, "{a}\n{b}");
        for m in common {
            assert_eq!(sa[m], sb[m], "segment {m} of both rungs:\n{a}\n{b}");
        }
        assert!(
            a.contains("#EXT-X-RENDITION-REPORT:URI=\"../video_2/index.m3u8\""),
            "{a}"
        );

        let (ok, report) = validate(&[
            "--live",
            &s.url(&format!("/live/{id}/index.m3u8")),
            "--reloads",
            "3",
        ]);
        assert!(ok, "upcast validate --live:\n{report}");
        let st = stream_state(&s, &id);
        assert_eq!(st["state"], "live", "{st}");
        let sizes: Vec<Value> = st["ingest"]["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["width"].as_u64().map(Value::from))
            .collect();
        assert_eq!(sizes, [640, 320], "{st}");
        assert_eq!(st["ingest"]["keyframe_interval_ms"], 1000, "{st}");
        assert_eq!(st["ingest"]["b_frames"], false, "{st}");
        assert!(st["ingest"]["bitrate_bps"].as_u64() > Some(10_000), "{st}");
        up.join().expect("every part was taken")
    });
    let mut sorted = lags.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    assert!(
        (-100..3000).contains(&median),
        "lag_ms median {median}: {lags:?}"
    );

    // The ticket reads its own stream's status (the Go live page shows it without an admin token),
    // and nothing else's.
    let (c, v) = call(
        &base,
        "GET",
        &format!("/api/live/{id}/status"),
        &ticket,
        None,
        b"",
    );
    assert_eq!(
        (c, &v["status"]["state"]),
        (200, &Value::from("live")),
        "{v}"
    );
    assert!(v["status"]["viewers"].is_u64(), "{v}");
    let (c, v) = call(
        &base,
        "GET",
        "/api/live/st_other/status",
        &ticket,
        None,
        b"",
    );
    assert_eq!(c, 401, "{v}");

    let (c, _) = call(
        &base,
        "POST",
        &format!("/api/live/{id}/end"),
        &ticket,
        None,
        b"",
    );
    assert_eq!(c, 204);
    let (c, v) = call(
        &base,
        "PUT",
        &init_path("video"),
        &ticket,
        None,
        &muxed.inits[0].1,
    );
    assert_eq!((c, v["code"].as_str()), (401, Some("ticket-ended")), "{v}");
    until(20, "the end of the stream", || {
        (stream_state(&s, &id)["state"] == "ended").then_some(())
    });
    let vid = &published_recording(&s, &id);
    let master = get(&s, &format!("/v/{vid}/master.m3u8")).1;
    assert_eq!(master.matches("#EXT-X-STREAM-INF").count(), 2, "{master}");
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
    check_invariants(&s.data);
}

/// Publish with `key`, PUT the inits and, per rendition, the parts due in `ms` from its first that
/// starts a segment; the ticket.
fn publish_some(base: &str, id: &str, key: &str, m: &Muxed, ms: std::ops::Range<u32>) -> String {
    let (c, v) = publish_http(base, key);
    assert_eq!(c, 201, "{v}");
    let ticket = v["ticket"].as_str().unwrap().to_string();
    for (n, init) in &m.inits {
        let path = format!("/api/live/{id}/{n}/init.mp4");
        assert_eq!(call(base, "PUT", &path, &ticket, None, init).0, 201);
    }
    let mut next: HashMap<&str, u64> = HashMap::new();
    for u in m.parts.iter().filter(|u| ms.contains(&u.due_ms)) {
        if !next.contains_key(u.rendition.as_str()) && !u.part.starts_segment {
            continue;
        }
        let n = next.entry(&u.rendition).or_insert(0);
        let path = format!("/api/live/{id}/{}/parts/{n}", u.rendition);
        let (c, v) = call(
            base,
            "PUT",
            &path,
            &ticket,
            Some(&claim(&u.part)),
            &u.part.bytes,
        );
        assert_eq!(c, 201, "{path}: {v}");
        *n += 1;
    }
    assert_eq!(next.len(), m.inits.len(), "every rendition sent parts");
    ticket
}

#[test]
fn an_idle_publisher_reconnects_then_ends_and_an_expired_ticket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let muxed = encode_ladder(dir.path(), 3);
    let s = start(
        &dir.path().join("data"),
        &["--live-idle-secs", "2", "--live-ticket-secs", "6"],
    );
    let base = s.url("");

    // A publisher that sends a second of media and goes silent.
    let (id, key) = create_stream(&s, false);
    let ticket = publish_some(&base, &id, &key, &muxed, 0..1000);
    until(10, "live", || {
        (stream_state(&s, &id)["state"] == "live").then_some(())
    });
    let st = until(20, "reconnecting", || {
        let st = stream_state(&s, &id);
        (st["state"] == "reconnecting").then_some(st)
    });
    assert_eq!(st["reason"], "publisher-idle", "{st}");
    let path = format!("/api/live/{id}/video/init.mp4");
    let (c, v) = call(&base, "PUT", &path, &ticket, None, &muxed.inits[0].1);
    assert_eq!((c, v["code"].as_str()), (401, Some("ticket-ended")), "{v}");
    // Back within the grace period with a new ticket: the same stream, after a discontinuity (on the
    // first segment the new publisher completes).
    publish_some(&base, &id, &key, &muxed, 1000..3000);
    let st = until(10, "live again", || {
        let st = stream_state(&s, &id);
        (st["state"] == "live").then_some(st)
    });
    assert_eq!(st["reason"], "publisher-reconnected", "{st}");
    let text = get(&s, &format!("/live/{id}/video/index.m3u8")).1;
    assert!(text.contains("#EXT-X-DISCONTINUITY"), "{text}");
    until(20, "ended", || {
        (stream_state(&s, &id)["state"] == "ended").then_some(())
    });

    // A ticket kept busy outlives its first expiry once renewed, then expires.
    let (id, key) = create_stream(&s, false);
    let ticket = publish_http(&base, &key).1["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let t0 = Instant::now();
    let path = format!("/api/live/{id}/video/init.mp4");
    let mut renewed = false;
    let refused_at = loop {
        if !renewed && t0.elapsed() >= Duration::from_secs(3) {
            let (c, v) = call(
                &base,
                "POST",
                &format!("/api/live/{id}/renew"),
                &ticket,
                None,
                b"",
            );
            assert_eq!(c, 200, "{v}");
            renewed = true;
        }
        let (c, v) = call(&base, "PUT", &path, &ticket, None, &muxed.inits[0].1);
        if c == 401 {
            assert_eq!(v["code"], "ticket-expired", "{v}");
            break t0.elapsed();
        }
        assert!(matches!(c, 200 | 201), "{v}");
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the ticket never expired"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        refused_at >= Duration::from_millis(8500),
        "expired {refused_at:?} after the publish"
    );
}

/// `2026-12-02T14:50:00.123Z` (or `+00:00`) as ms since 1970 (Howard Hinnant's days-from-civil).
fn pdt_ms(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    let frac = s[19..].strip_prefix('.').map_or(0, |f| {
        let digits: String = f.chars().take_while(char::is_ascii_digit).collect();
        format!("{digits:0<3}")[..3].parse::<i64>().unwrap()
    });
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + frac
}

fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(d.as_millis()).unwrap()
}

/// Publish the first `ms` of the ladder, the first part of each rendition claiming `capture=`
/// `capture_ms`; the program date-time of the video's first segment, and when its first part was sent.
fn first_pdt(s: &Server, m: &Muxed, capture_ms: i64) -> (i64, i64) {
    let base = s.url("");
    let (id, key) = create_stream(s, false);
    let (c, v) = publish_http(&base, &key);
    assert_eq!(c, 201, "{v}");
    let ticket = v["ticket"].as_str().unwrap().to_string();
    for (n, init) in &m.inits {
        let path = format!("/api/live/{id}/{n}/init.mp4");
        assert_eq!(call(&base, "PUT", &path, &ticket, None, init).0, 201);
    }
    let mut next: HashMap<&str, u64> = HashMap::new();
    let mut sent_at = None;
    for u in m.parts.iter().filter(|u| u.due_ms < 2500) {
        let n = next.entry(&u.rendition).or_insert(0);
        let path = format!("/api/live/{id}/{}/parts/{n}", u.rendition);
        let header = format!("{}; capture={capture_ms}", claim(&u.part));
        sent_at.get_or_insert_with(now_ms);
        let (c, v) = call(&base, "PUT", &path, &ticket, Some(&header), &u.part.bytes);
        assert_eq!(c, 201, "{path}: {v}");
        *n += 1;
    }
    let text = get(s, &format!("/live/{id}/video/index.m3u8")).1;
    let (_, pdt) = segments(&text).into_values().next().expect("a segment");
    (pdt_ms(&pdt.expect("PROGRAM-DATE-TIME")), sent_at.unwrap())
}

#[test]
fn a_publishers_capture_clock_anchors_program_date_time_clamped_to_the_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let muxed = encode_ladder(dir.path(), 3);
    let s = start(&dir.path().join("data"), &[]);
    assert_eq!(pdt_ms("1970-01-02T00:00:01.5Z"), 86_401_500);

    // Captured 1.5 s before the upload: the first segment is stamped with the capture plus its media
    // time (its first frame's decode time; the muxer's clock starts at the publisher's first tag).
    let first = &muxed
        .parts
        .iter()
        .find(|u| u.rendition == "video")
        .unwrap()
        .part;
    let start_ms = i64::try_from(first.start * 1000 / u64::from(first.timescale)).unwrap();
    let capture = now_ms() - 1500;
    let (pdt, _) = first_pdt(&s, &muxed, capture);
    assert!(
        (pdt - (capture + start_ms)).abs() <= 1,
        "PDT {pdt} vs capture {capture} + {start_ms} ms"
    );

    // A clock in the future is clamped: the first part's end is no later than its arrival.
    let (pdt, sent) = first_pdt(&s, &muxed, now_ms() + 60_000);
    assert!(
        pdt <= now_ms() && pdt >= sent - 1000,
        "PDT {pdt}, sent {sent}"
    );

    // A clock far in the past is clamped to 5 s (plus the first part) before the arrival.
    let (pdt, sent) = first_pdt(&s, &muxed, 1_000);
    assert!(
        pdt >= sent - 7_000 && pdt <= sent - 4_000,
        "PDT {pdt}, sent {sent}"
    );
}
