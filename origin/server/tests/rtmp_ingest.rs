//! Issue 13, RTMP ingest: real ffmpeg publishes into `rtmp::start` with a recording gate and sink
//! (tests/rtmp_support). The gate decides before any media; the sink gets the raw FLV bodies in order and
//! `closed` exactly once; garbage, idling, killed publishers and connection floods end in a closed
//! connection and a listener that still serves.
mod rtmp_support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rtmp_support::*;
use upcast_origin::rtmp::{CloseReason, Limits};

fn is_closed(ev: &[Rec]) -> bool {
    ev.iter().any(|r| matches!(r, Rec::Closed(_)))
}

#[test]
fn ffmpeg_h264_aac_reaches_the_sink_in_order_and_closes_once() {
    let (addr, shared) = listen(Limits::default());
    let st = ffmpeg(&format!("rtmp://{addr}/live/good"), 3)
        .status()
        .unwrap();
    assert!(st.success(), "ffmpeg: {st}");
    let ev = shared.wait_for("closed", is_closed);
    assert_eq!(closes(&ev), vec![CloseReason::PublisherStopped]);
    assert!(
        matches!(ev.last(), Some(Rec::Closed(_))),
        "closed comes last"
    );
    assert_eq!(shared.opens.load(Ordering::SeqCst), 1);

    let meta = ev.iter().find_map(|r| match r {
        Rec::Meta(m) => Some(m.clone()),
        _ => None,
    });
    let meta = meta.expect("onMetaData");
    assert_eq!((meta.width, meta.height), (Some(320), Some(180)));

    let v = videos(&ev);
    // FLV video tag body: frame type << 4 | codec id (7 = AVC), then the AVC packet type.
    let (_, first) = &v[0];
    assert_eq!(
        (first[0], first[1]),
        (0x17, 0),
        "first video: the AVC sequence header"
    );
    let keys = v.iter().filter(|(_, b)| b[0] == 0x17 && b[1] == 1).count();
    assert!(keys >= 3, "{keys} key frames in 3 s at -g 30");
    assert!(v.iter().all(|(_, b)| b[0] & 0x0f == 7), "all AVC");
    let a = audios(&ev);
    // FLV audio tag body: format 10 (AAC) in the high nibble, then the AAC packet type.
    let (_, first) = &a[0];
    assert_eq!(
        (first[0] >> 4, first[1]),
        (10, 0),
        "first audio: the AAC config"
    );
    assert!(a[1..].iter().all(|(_, b)| b[0] >> 4 == 10 && b[1] == 1));
    for (what, ts) in [
        ("video", v.iter().map(|x| x.0).collect::<Vec<_>>()),
        ("audio", a.iter().map(|x| x.0).collect()),
    ] {
        assert!(
            ts.windows(2).all(|w| w[0] <= w[1]),
            "{what} timestamps never go back"
        );
        let span = ts[ts.len() - 1] - ts[0];
        assert!(
            (2500..=3500).contains(&span),
            "{what} spans {span} ms of a 3 s stream"
        );
    }
}

#[test]
fn refused_publishes_get_no_sink_and_ffmpeg_fails() {
    let (addr, shared) = listen(Limits::default());
    for url in ["live/wrong", "live/busy", "live/revoked", "other/good"] {
        let st = ffmpeg(&format!("rtmp://{addr}/{url}"), 1).status().unwrap();
        assert!(!st.success(), "{url}: ffmpeg succeeded");
    }
    let asked: Vec<String> = shared
        .asked
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.key.clone())
        .collect();
    // The gate answered the three keys; the wrong app was refused at connect, before the gate.
    assert_eq!(asked, ["wrong", "busy", "revoked"]);
    assert_eq!(shared.opens.load(Ordering::SeqCst), 0);
    assert!(
        shared.snapshot().is_empty(),
        "{}",
        summary(&shared.snapshot())
    );
}

#[test]
fn garbage_closes_the_connection_and_the_next_publisher_is_served() {
    let (addr, shared) = listen(Limits::default());
    // Before the handshake: an HTTP request is not RTMP version 3.
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    until_closed(&mut tcp);
    // After the handshake: a whole AMF0 command message (chunk stream 3, type 20) of bytes no AMF0
    // value starts with.
    let mut tcp = handshaken(addr).unwrap();
    let mut chunk = vec![0x03, 0, 0, 0, 0, 0, 10, 20, 0, 0, 0, 0];
    chunk.extend([0xffu8; 10]);
    tcp.write_all(&chunk).unwrap();
    until_closed(&mut tcp);
    assert_eq!(shared.opens.load(Ordering::SeqCst), 0);

    let st = ffmpeg(&format!("rtmp://{addr}/live/good"), 1)
        .status()
        .unwrap();
    assert!(st.success(), "ffmpeg after garbage: {st}");
    let ev = shared.wait_for("closed", is_closed);
    assert_eq!(closes(&ev), vec![CloseReason::PublisherStopped]);
    assert!(!videos(&ev).is_empty());
}

#[test]
fn a_killed_publisher_is_disconnected() {
    let (addr, shared) = listen(Limits::default());
    let mut child = ffmpeg(&format!("rtmp://{addr}/live/good"), 60)
        .spawn()
        .unwrap();
    shared.wait_for("30 video messages", |ev| videos(ev).len() >= 30);
    child.kill().unwrap();
    child.wait().unwrap();
    let ev = shared.wait_for("closed", is_closed);
    assert_eq!(closes(&ev), vec![CloseReason::Disconnected]);
}

#[test]
fn a_publisher_that_stops_sending_times_out() {
    let limits = Limits {
        idle_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let (addr, shared) = listen(limits);
    let mut child = ffmpeg(&format!("rtmp://{addr}/live/good"), 60)
        .spawn()
        .unwrap();
    shared.wait_for("10 video messages", |ev| videos(ev).len() >= 10);
    let pid = child.id().to_string();
    let stop = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    assert!(stop.success());
    let ev = shared.wait_for("closed", is_closed);
    child.kill().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status();
    child.wait().unwrap();
    assert_eq!(closes(&ev), vec![CloseReason::Timeout]);
}

#[test]
fn connection_limits_and_the_handshake_deadline() {
    let limits = Limits {
        max_connections_per_ip: 1,
        handshake_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let (addr, _shared) = listen(limits);
    // A holds the one slot without ever handshaking; B is closed at once, while A is still open.
    let mut a = std::net::TcpStream::connect(addr).unwrap();
    let mut b = std::net::TcpStream::connect(addr).unwrap();
    until_closed(&mut b);
    a.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let open = matches!(a.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    assert!(open, "A is still open when B is refused");
    a.set_nonblocking(false).unwrap();
    // A's handshake deadline passes: the server closes it, and the slot comes back.
    until_closed(&mut a);
    let deadline = std::time::Instant::now() + PATIENCE;
    while handshaken(addr).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the slot never came back"
        );
    }
}
