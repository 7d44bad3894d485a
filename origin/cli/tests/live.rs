//! Live end to end against a real `upcast serve` with its RTMP listener on loopback and real ffmpeg as
//! the publisher (x264 `-tune zerolatency` + AAC, in real time with `-re`): the stream plays as LL-HLS,
//! passes `upcast validate --live`, a wrong key and a second publisher are refused before any media, a
//! publisher that comes back within the grace period continues the same stream, and the recording
//! becomes a published video that passes `upcast validate`.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/live_client.rs"]
mod live_client;

use harness::*;
use live_client::*;

#[test]
fn an_ffmpeg_stream_plays_as_ll_hls_and_its_recording_becomes_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, true);
    let mut ff = publish(s.rtmp.unwrap(), &key, 12);

    let master = until(30, "the multivariant playlist", || {
        let (code, body) = get(&s, &format!("/live/{id}/index.m3u8"));
        (code == 200).then_some(body)
    });
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    assert!(master.contains("TYPE=AUDIO"), "{master}");
    let media = until(30, "two segments in the video playlist", || {
        let (code, body) = get(&s, &format!("/live/{id}/video/index.m3u8"));
        (code == 200 && msns(&body).1 >= 2).then_some(body)
    });
    for tag in [
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
        "PART-HOLD-BACK=",
        "#EXT-X-PART-INF:PART-TARGET=",
        "#EXT-X-PART:",
        "INDEPENDENT=YES",
        "#EXT-X-PRELOAD-HINT:TYPE=PART",
        "#EXT-X-PROGRAM-DATE-TIME:",
        "#EXT-X-RENDITION-REPORT:",
        "#EXT-X-MAP:",
    ] {
        assert!(media.contains(tag), "{tag} in\n{media}");
    }

    // A blocking reload for a segment two ahead of the playlist's last one comes back once it exists.
    let (first, count, _) = msns(&media);
    let next = first + count as u64 + 1;
    let (code, later) = get(&s, &format!("/live/{id}/video/index.m3u8?_HLS_msn={next}"));
    assert_eq!(code, 200);
    let (f2, c2, _) = msns(&later);
    assert!(
        f2 + c2 as u64 >= next,
        "the reload waited for segment {next}:\n{later}"
    );

    let url = s.url(&format!("/live/{id}/index.m3u8"));
    let (ok, report) = validate(&["--live", &url, "--reloads", "4"]);
    assert!(ok, "upcast validate --live:\n{report}");
    // No SHOULD either: the preload hint names the next part even when a key frame starts a segment
    // (parts are numbered across segments), and PART-HOLD-BACK is three times the PART-TARGET written.
    assert!(
        report.contains("(0 MUST, 0 SHOULD;"),
        "upcast validate --live:\n{report}"
    );

    // A plain HLS client (no LL-HLS: ffmpeg's HLS demuxer knows none of its tags) plays the same
    // playlists from their whole segments.
    let plain = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i", &url])
        .args(["-t", "2", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        plain.status.success() && plain.stderr.is_empty(),
        "ffmpeg reading the live HLS: {}",
        String::from_utf8_lossy(&plain.stderr)
    );

    let st = stream_state(&s, &id);
    assert_eq!(st["state"], "live", "{st}");
    let status_json = st.to_string();
    assert!(
        status_json.contains("avc1.") && status_json.contains("mp4a.40"),
        "{st}"
    );

    assert!(ff.wait().unwrap().success(), "ffmpeg published to the end");
    // The publisher stopped: reconnecting, then ended once the grace period has passed.
    until(40, "the end of the stream", || {
        (stream_state(&s, &id)["state"] == "ended").then_some(())
    });
    let ended = get(&s, &format!("/live/{id}/video/index.m3u8")).1;
    assert!(ended.contains("#EXT-X-ENDLIST"), "{ended}");

    let vid = &published_recording(&s, &id);
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
    check_invariants(&s.data);
}

#[test]
fn a_wrong_key_and_a_second_publisher_are_refused_before_any_media() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, false);

    let wrong = publish(s.rtmp.unwrap(), "not-a-key", 2)
        .wait_with_output()
        .unwrap();
    assert!(!wrong.status.success(), "a wrong key is refused");
    assert_eq!(get(&s, &format!("/live/{id}/index.m3u8")).0, 404);

    let mut first = publish(s.rtmp.unwrap(), &key, 20);
    until(30, "the stream live", || {
        (get(&s, &format!("/live/{id}/index.m3u8")).0 == 200).then_some(())
    });
    let second = publish(s.rtmp.unwrap(), &key, 2)
        .wait_with_output()
        .unwrap();
    assert!(
        !second.status.success(),
        "a second publisher on a live key is refused"
    );
    assert_eq!(stream_state(&s, &id)["state"], "live");
    let (_, metrics) = status(
        agent()
            .get(&s.url("/metrics"))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    assert!(metrics.contains("reason=\"unknown-key\""), "{metrics}");
    assert!(metrics.contains("reason=\"already-live\""), "{metrics}");
    let _ = first.kill();
    let _ = first.wait();
}

#[test]
fn a_publisher_back_within_the_grace_period_continues_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    // A grace period that a second ffmpeg starting on a loaded 2-core machine stays well within: the test
    // is about coming back in time, not about how fast a process starts.
    let s = server_with(&dir.path().join("data"), &["--live-grace-secs", "20"]);
    let (id, key) = create_stream(&s, true);
    let playlist = format!("/live/{id}/video/index.m3u8");

    let mut a = publish(s.rtmp.unwrap(), &key, 30);
    let before = until(40, "three segments from the first publisher", || {
        let (code, body) = get(&s, &playlist);
        (code == 200 && msns(&body).1 >= 3).then_some(body)
    });
    let (first, count, _) = msns(&before);
    a.kill().unwrap(); // SIGKILL: the connection drops mid-part.
    a.wait().unwrap();
    until(20, "reconnecting", || {
        (stream_state(&s, &id)["state"] == "reconnecting").then_some(())
    });

    let mut b = publish(s.rtmp.unwrap(), &key, 4);
    until(
        40,
        "the second publisher's segments after a discontinuity",
        || {
            let (_, body) = get(&s, &playlist);
            let (f, c, d) = msns(&body);
            (d >= 1 && f + c as u64 > first + count as u64 + 1).then_some(())
        },
    );
    let st = stream_state(&s, &id);
    assert_eq!(st["state"], "live", "{st}");
    assert_eq!(st["reason"], "publisher-reconnected", "{st}");
    // The same stream: the media sequence went on from the first publisher's.
    let (f, _, _) = msns(&get(&s, &playlist).1);
    assert!(f <= first + count as u64, "MSNs continue");
    assert!(b.wait().unwrap().success());

    // One recording of both publishers, published once the grace period has passed.
    let vid = &published_recording(&s, &id);
    let (_, all) = api(&s, "GET", "/api/videos", None);
    assert_eq!(
        all["videos"].as_array().unwrap().len(),
        1,
        "one recording: {all}"
    );
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
}
