//! Issue 13, RTMP ingest under messages ffmpeg never sends, from a raw publisher (rml_rtmp's client over a
//! socket): each one closes the publish with `protocol-error` (the sink hears it once), never a panic.
mod rtmp_support;

use bytes::Bytes;
use rml_rtmp::time::RtmpTimestamp;
use rtmp_support::*;
use upcast_origin::rtmp::{CloseReason, Limits};

fn protocol_error(ev: &[Rec]) -> String {
    match closes(ev).as_slice() {
        [CloseReason::ProtocolError(m)] => m.clone(),
        other => panic!("expected one protocol-error close, got {other:?}"),
    }
}

fn closed(ev: &[Rec]) -> bool {
    !closes(ev).is_empty()
}

#[test]
fn a_media_message_above_the_limit_closes_the_publish() {
    let limits = Limits {
        max_message_bytes: 1000,
        ..Limits::default()
    };
    let (addr, shared) = listen(limits);
    let mut p = RawPublisher::start(addr, "good");
    let small = p
        .client
        .publish_video_data(Bytes::from(vec![0x17; 1000]), RtmpTimestamp::new(0), false)
        .unwrap();
    let big = p
        .client
        .publish_video_data(Bytes::from(vec![0x27; 1001]), RtmpTimestamp::new(33), false)
        .unwrap();
    p.send(vec![small, big]);
    let ev = shared.wait_for("closed", closed);
    assert_eq!(
        videos(&ev).len(),
        1,
        "the message at the limit passed, the one above did not"
    );
    let msg = protocol_error(&ev);
    assert!(msg.contains("1001-byte media message"), "{msg}");
}

#[test]
fn a_message_that_never_ends_is_cut_off_at_the_limit() {
    let limits = Limits {
        max_message_bytes: 1 << 20,
        ..Limits::default()
    };
    let (addr, shared) = listen(limits);
    let mut p = RawPublisher::start(addr, "good");
    // Chunk size 16 MiB (rml_rtmp applies it silently), then one video message announced at 16 MiB whose
    // bytes keep coming: the server must give up well before buffering all of it.
    p.raw_message(1, 0, &(16u32 << 20).to_be_bytes());
    let mut header = vec![10u8, 0, 0, 0, 0xff, 0xff, 0xff, 9];
    header.extend(1u32.to_le_bytes());
    let mut sent = header.len();
    let mut ok = std::io::Write::write_all(&mut p.tcp, &header).is_ok();
    let piece = vec![0x17u8; 64 << 10];
    while ok && sent < (8 << 20) {
        ok = std::io::Write::write_all(&mut p.tcp, &piece).is_ok();
        sent += piece.len();
    }
    let ev = shared.wait_for("closed", closed);
    let msg = protocol_error(&ev);
    assert!(msg.contains("with no message completed"), "{msg}");
    assert!(videos(&ev).is_empty());
}

#[test]
fn input_that_panics_the_rtmp_library_closes_only_that_publish() {
    let (addr, shared) = listen(Limits::default());
    let mut p = RawPublisher::start(addr, "good");
    // AMF0 data (type 18): the string "@setDataFrame" and nothing after it; rml_rtmp 0.8 indexes the
    // missing argument. Were the panic not caught, the sink would hear `disconnected` from the unwinding.
    let mut body = vec![0x02, 0x00, 13];
    body.extend(b"@setDataFrame");
    p.raw_message(18, 1, &body);
    let ev = shared.wait_for("closed", closed);
    let msg = protocol_error(&ev);
    assert!(msg.contains("could not handle"), "{msg}");
    // The listener still serves.
    let _next = RawPublisher::start(addr, "good");
}
