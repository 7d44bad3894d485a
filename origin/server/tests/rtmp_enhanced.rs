//! Issue 13, Enhanced RTMP at the listener: OBS's `connect` with a `fourCcList` (an AMF0 strict array) is
//! accepted, and Enhanced RTMP / multitrack video bodies reach the sink byte for byte (the core parses them).
mod rtmp_support;

use std::io::Read;

use bytes::Bytes;
use rml_rtmp::time::RtmpTimestamp;
use rtmp_support::*;
use upcast_origin::rtmp::Limits;

fn amf_str(out: &mut Vec<u8>, s: &str) {
    out.extend(u16::try_from(s.len()).unwrap().to_be_bytes());
    out.extend(s.as_bytes());
}

fn amf_string(out: &mut Vec<u8>, s: &str) {
    out.push(0x02);
    amf_str(out, s);
}

/// `connect` as OBS 31 sends it, with the Enhanced RTMP capability list.
fn obs_connect() -> Vec<u8> {
    let mut b = Vec::new();
    amf_string(&mut b, "connect");
    b.push(0x00);
    b.extend(1f64.to_be_bytes());
    b.push(0x03);
    amf_str(&mut b, "app");
    amf_string(&mut b, "live");
    amf_str(&mut b, "type");
    amf_string(&mut b, "nonprivate");
    amf_str(&mut b, "fourCcList");
    b.push(0x0a);
    b.extend(3u32.to_be_bytes());
    for fourcc in ["av01", "vp09", "hvc1"] {
        amf_string(&mut b, fourcc);
    }
    amf_str(&mut b, "tcUrl");
    amf_string(&mut b, "rtmp://127.0.0.1/live");
    b.extend([0, 0, 9]);
    b
}

#[test]
fn a_connect_with_a_fourcc_list_succeeds() {
    let (addr, _shared) = listen(Limits::default());
    let mut p = RawPublisher {
        tcp: handshaken(addr).unwrap(),
        client: rml_rtmp::sessions::ClientSession::new(
            rml_rtmp::sessions::ClientSessionConfig::new(),
        )
        .unwrap()
        .0,
    };
    p.raw_message(1, 0, &4096u32.to_be_bytes()); // Set Chunk Size: the command is over 128 bytes.
    p.raw_message(20, 0, &obs_connect());
    let want = b"NetConnection.Connect.Success";
    let mut got: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want.as_slice()) {
        let n = p.tcp.read(&mut buf).unwrap();
        assert!(n > 0, "closed before accepting the connect");
        got.extend(&buf[..n]);
    }
}

#[test]
fn enhanced_and_multitrack_bodies_reach_the_sink_unchanged() {
    let (addr, shared) = listen(Limits::default());
    let mut p = RawPublisher::start(addr, "good");
    // Enhanced RTMP: IsExHeader | key frame, PacketType SequenceStart, FourCC hvc1, then a config stub.
    let hevc = Bytes::from_static(&[0x90, b'h', b'v', b'c', b'1', 1, 2, 3]);
    // Multitrack (PacketType 6), OneTrack, coded frames of av01, track 1.
    let multi = Bytes::from_static(&[0x96, 0x01, b'a', b'v', b'0', b'1', 1, 9, 9]);
    let mut out = Vec::new();
    for (i, body) in [hevc.clone(), multi.clone()].into_iter().enumerate() {
        let ts = RtmpTimestamp::new(u32::try_from(i).unwrap() * 33);
        out.push(p.client.publish_video_data(body, ts, false).unwrap());
    }
    p.send(out);
    let ev = shared.wait_for("two video messages", |ev| videos(ev).len() == 2);
    let v = videos(&ev);
    assert_eq!(v, vec![(0, hevc), (33, multi)]);
}
