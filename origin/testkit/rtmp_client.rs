//! A raw RTMP publisher for tests (origin/server's and origin/cli's include this file with `#[path]`):
//! the simple handshake, then rml_rtmp's client session for `connect` and `publish`, and whatever media
//! messages the test builds (what ffmpeg never sends: Enhanced RTMP, multitrack, hand-made tags).
#![allow(dead_code)] // Each test binary uses a different subset.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a read waits for the server (the machine is shared and loaded).
const PATIENCE: Duration = Duration::from_secs(90);

/// A raw client: connect and do the simple (version 3, no digest) handshake.
pub fn handshaken(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(PATIENCE))?;
    let mut c0c1 = vec![0u8; 1537];
    c0c1[0] = 3;
    tcp.write_all(&c0c1)?;
    let mut s = vec![0u8; 1 + 1536 + 1536];
    tcp.read_exact(&mut s)?;
    assert_eq!(s[0], 3, "S0 is the RTMP version");
    tcp.write_all(&s[1..1537])?; // C2 echoes S1.
    Ok(tcp)
}

/// A publisher driven by rml_rtmp's client session over a raw socket: for messages ffmpeg never sends.
pub struct RawPublisher {
    pub tcp: TcpStream,
    pub client: rml_rtmp::sessions::ClientSession,
}

impl RawPublisher {
    /// Handshake, connect to `live`, publish on `key`, and wait until the server accepted.
    pub fn start(addr: SocketAddr, key: &str) -> RawPublisher {
        use rml_rtmp::sessions::{ClientSession, ClientSessionConfig, PublishRequestType};
        let tcp = handshaken(addr).unwrap();
        let (client, _) = ClientSession::new(ClientSessionConfig::new()).unwrap();
        let mut p = RawPublisher { tcp, client };
        let r = p.client.request_connection("live".into()).unwrap();
        p.send(vec![r]);
        p.until(|e| matches!(e, ClientEv::ConnectionRequestAccepted));
        let r = p
            .client
            .request_publishing(key.into(), PublishRequestType::Live)
            .unwrap();
        p.send(vec![r]);
        p.until(|e| matches!(e, ClientEv::PublishRequestAccepted));
        p
    }

    pub fn send(&mut self, results: Vec<rml_rtmp::sessions::ClientSessionResult>) {
        for r in results {
            if let rml_rtmp::sessions::ClientSessionResult::OutboundResponse(p) = r {
                self.tcp.write_all(&p.bytes).unwrap();
            }
        }
    }

    /// Read and answer the server until an event `want` arrives.
    fn until(&mut self, want: impl Fn(&ClientEv) -> bool) {
        use rml_rtmp::sessions::ClientSessionResult as R;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = self.tcp.read(&mut buf).unwrap();
            assert!(n > 0, "the server closed the connection during set-up");
            let mut found = false;
            let mut out = Vec::new();
            for r in self.client.handle_input(&buf[..n]).unwrap() {
                match r {
                    R::RaisedEvent(e) if want(&e) => found = true,
                    other => out.push(other),
                }
            }
            self.send(out);
            if found {
                return;
            }
        }
    }

    /// One whole message as a single type-0 chunk on chunk stream 10 (bodies under 128 bytes).
    pub fn raw_message(&mut self, type_id: u8, stream_id: u32, body: &[u8]) {
        let len = u32::try_from(body.len()).unwrap().to_be_bytes();
        let mut chunk = vec![10u8, 0, 0, 0, len[1], len[2], len[3], type_id];
        chunk.extend(stream_id.to_le_bytes());
        chunk.extend(body);
        self.tcp.write_all(&chunk).unwrap();
    }
}

type ClientEv = rml_rtmp::sessions::ClientSessionEvent;

impl RawPublisher {
    /// One video message (an FLV VIDEODATA body) at RTMP time `ts_ms`; an error once the server closed.
    pub fn video(&mut self, ts_ms: u32, body: bytes::Bytes) -> std::io::Result<()> {
        let ts = rml_rtmp::time::RtmpTimestamp::new(ts_ms);
        let r = self
            .client
            .publish_video_data(body, ts, false)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        self.write(r)
    }

    /// One audio message (an FLV AUDIODATA body) at RTMP time `ts_ms`; an error once the server closed.
    pub fn audio(&mut self, ts_ms: u32, body: bytes::Bytes) -> std::io::Result<()> {
        let ts = rml_rtmp::time::RtmpTimestamp::new(ts_ms);
        let r = self
            .client
            .publish_audio_data(body, ts, false)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        self.write(r)
    }

    fn write(&mut self, r: rml_rtmp::sessions::ClientSessionResult) -> std::io::Result<()> {
        match r {
            rml_rtmp::sessions::ClientSessionResult::OutboundResponse(p) => {
                self.tcp.write_all(&p.bytes)
            }
            _ => Ok(()),
        }
    }
}
