//! One RTMP connection: handshake, `connect`, one publish that the gate must allow before any media is
//! accepted, then media to the sink until the publisher stops, disconnects, idles or breaks a limit.
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use rml_rtmp::sessions::{
    ServerSession, ServerSessionConfig, ServerSessionEvent as Ev, ServerSessionResult as Res,
};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use super::io::{self, isolate, READ_BYTES};
use super::publish::{CloseReason, PublishGate, PublishRequest, Refusal, SinkFactory, SinkGuard};
use super::Limits;

pub(crate) struct Ctx {
    pub gate: Arc<dyn PublishGate>,
    pub sinks: Arc<dyn SinkFactory>,
    pub limits: Limits,
}

/// How a connection ended.
enum End {
    Closed(CloseReason),
    Refused(Refusal),
}

impl From<CloseReason> for End {
    fn from(r: CloseReason) -> Self {
        End::Closed(r)
    }
}

struct Conn<'a> {
    ctx: &'a Ctx,
    tcp: TcpStream,
    peer: SocketAddr,
    rtmp: ServerSession,
    /// Set once the gate allowed the publish and the sink opened.
    sink: Option<(SinkGuard, String)>,
    /// The idle deadline counts from here: the end of the handshake, then the last media message.
    last_media: Instant,
}

/// Serve one connection to its end, and say how it ended on stderr (never the stream key: it is a secret).
pub(crate) async fn serve(ctx: &Ctx, mut tcp: TcpStream, peer: SocketAddr) {
    let _ = tcp.set_nodelay(true);
    let mut buf = vec![0u8; READ_BYTES];
    let deadline = Instant::now() + ctx.limits.handshake_timeout;
    let rest = match io::handshake(&mut tcp, &mut buf, deadline).await {
        Ok(rest) => rest,
        Err(reason) => {
            eprintln!("upcast: rtmp: {peer}: handshake: {reason}");
            return;
        }
    };
    let (rtmp, first) = match isolate("session", || ServerSession::new(ServerSessionConfig::new()))
    {
        Ok(x) => x,
        Err(reason) => {
            eprintln!("upcast: rtmp: {peer}: {reason}");
            return;
        }
    };
    let mut conn = Conn {
        ctx,
        tcp,
        peer,
        rtmp,
        sink: None,
        last_media: Instant::now(),
    };
    let end = conn.run(first, &rest, &mut buf).await;
    match (end, conn.sink.take()) {
        (End::Closed(reason), Some((mut guard, stream))) => {
            eprintln!("upcast: rtmp: {peer}: stream {stream}: closed: {reason}");
            guard.close(reason);
        }
        (End::Closed(reason), None) => eprintln!("upcast: rtmp: {peer}: closed: {reason}"),
        (End::Refused(r), _) => eprintln!("upcast: rtmp: {peer}: publish refused: {r}"),
    }
}

impl Conn<'_> {
    async fn run(&mut self, first: Vec<Res>, rest: &[u8], buf: &mut [u8]) -> End {
        if let Err(end) = self.handle(first).await {
            return end;
        }
        let mut input = rest.to_vec();
        let mut pending = 0usize;
        loop {
            if !input.is_empty() {
                let rtmp = &mut self.rtmp;
                let results = match isolate("chunk", || rtmp.handle_input(&input)) {
                    Ok(r) => r,
                    Err(reason) => return reason.into(),
                };
                // rml_rtmp buffers a message until its last chunk and tells nothing before: bytes fed
                // with no message completed bound what it holds (answers it generates, such as acks at
                // a window the peer chose, do not count as a completed message).
                if results
                    .iter()
                    .all(|r| matches!(r, Res::OutboundResponse(_)))
                {
                    pending = pending.saturating_add(input.len());
                } else {
                    pending = 0;
                }
                let max = self.ctx.limits.max_message_bytes;
                if pending > max.saturating_add(READ_BYTES) {
                    return protocol(&format!(
                        "{pending} bytes with no message completed, above the message limit {max}"
                    ));
                }
                if let Err(end) = self.handle(results).await {
                    return end;
                }
            }
            let deadline = self.last_media + self.ctx.limits.idle_timeout;
            match io::read(&mut self.tcp, buf, deadline).await {
                Ok(n) => input = buf.get(..n).unwrap_or_default().to_vec(),
                Err(reason) => return reason.into(),
            }
        }
    }

    /// Send the responses and act on the events, in order; answers to our own accepts go first.
    async fn handle(&mut self, results: Vec<Res>) -> Result<(), End> {
        let mut queue: VecDeque<Res> = results.into();
        while let Some(r) = queue.pop_front() {
            let ev = match r {
                Res::OutboundResponse(p) => {
                    self.send(&p.bytes).await?;
                    continue;
                }
                Res::RaisedEvent(ev) => ev,
                // Messages the library has no use for (AMF3, shared objects): not media, dropped.
                Res::UnhandleableMessageReceived(_) => continue,
            };
            let more = self.event(ev).await?;
            for r in more.into_iter().rev() {
                queue.push_front(r);
            }
        }
        Ok(())
    }

    async fn event(&mut self, ev: Ev) -> Result<Vec<Res>, End> {
        let limits = &self.ctx.limits;
        match ev {
            Ev::ConnectionRequested {
                request_id,
                app_name,
            } => {
                if app_name != limits.app {
                    let code = "NetConnection.Connect.Rejected";
                    return Err(self.reject(request_id, code, Refusal::BadApp).await);
                }
                let rtmp = &mut self.rtmp;
                Ok(isolate("connect", || rtmp.accept_request(request_id))?)
            }
            Ev::PublishStreamRequested {
                request_id,
                app_name,
                stream_key,
                ..
            } => {
                if self.sink.is_some() {
                    return Err(protocol("a second publish on one connection"));
                }
                let req = PublishRequest {
                    app: app_name,
                    key: stream_key,
                    peer: self.peer,
                };
                self.publish(request_id, req).await
            }
            Ev::PublishStreamFinished { .. } => Err(CloseReason::PublisherStopped.into()),
            Ev::UnhandleableAmf0Command { command_name, .. }
                if command_name == "FCUnpublish" && self.sink.is_some() =>
            {
                Err(CloseReason::PublisherStopped.into())
            }
            Ev::PlayStreamRequested { request_id, .. } => {
                let rtmp = &mut self.rtmp;
                let why = "this port takes publishers only";
                let out = isolate("play", || {
                    rtmp.reject_request(request_id, "NetStream.Play.Failed", why)
                })?;
                self.handle_packets(out).await?;
                Err(protocol("play request"))
            }
            Ev::VideoDataReceived {
                data, timestamp, ..
            } => {
                let sink = self.media(data.len())?;
                sink.video(timestamp.value, data).map_err(sink_stopped)?;
                Ok(Vec::new())
            }
            Ev::AudioDataReceived {
                data, timestamp, ..
            } => {
                let sink = self.media(data.len())?;
                sink.audio(timestamp.value, data).map_err(sink_stopped)?;
                Ok(Vec::new())
            }
            Ev::StreamMetadataChanged { metadata, .. } => {
                if let Some((guard, _)) = self.sink.as_mut() {
                    if let Some(sink) = guard.sink() {
                        sink.metadata(io::metadata(metadata))
                            .map_err(sink_stopped)?;
                    }
                }
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Ask the gate (by the handshake deadline), open the sink, and only then accept the publish.
    async fn publish(&mut self, request_id: u32, req: PublishRequest) -> Result<Vec<Res>, End> {
        let bad_name = "NetStream.Publish.BadName";
        if req.app != self.ctx.limits.app {
            return Err(self.reject(request_id, bad_name, Refusal::BadApp).await);
        }
        let deadline = Instant::now() + self.ctx.limits.handshake_timeout;
        let answer = match timeout_at(deadline, self.ctx.gate.authorize(&req)).await {
            Ok(a) => a,
            Err(_) => Err(Refusal::Unavailable("gate-timeout".into())),
        };
        let opened = answer.and_then(|grant| {
            let sink = self.ctx.sinks.open(&grant, &req)?;
            Ok((grant, sink))
        });
        let (grant, sink) = match opened {
            Ok(x) => x,
            Err(refusal) => return Err(self.reject(request_id, bad_name, refusal).await),
        };
        // Held before accepting: a failure from here on still closes the sink exactly once.
        self.sink = Some((SinkGuard::new(sink), grant.stream_id));
        self.last_media = Instant::now();
        let rtmp = &mut self.rtmp;
        Ok(isolate("publish", || rtmp.accept_request(request_id))?)
    }

    /// Answer a request with an error status, send it, and end the connection with `refusal`.
    async fn reject(&mut self, request_id: u32, code: &str, refusal: Refusal) -> End {
        let rtmp = &mut self.rtmp;
        let out = isolate("refusal", || {
            rtmp.reject_request(request_id, code, refusal.code())
        });
        match out {
            Ok(out) => match self.handle_packets(out).await {
                Ok(()) => End::Refused(refusal),
                Err(end) => end,
            },
            Err(reason) => reason.into(),
        }
    }

    async fn handle_packets(&mut self, out: Vec<Res>) -> Result<(), End> {
        for r in out {
            if let Res::OutboundResponse(p) = r {
                self.send(&p.bytes).await?;
            }
        }
        Ok(())
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), End> {
        let deadline = Instant::now() + self.ctx.limits.idle_timeout;
        Ok(io::write(&mut self.tcp, bytes, deadline).await?)
    }

    /// The sink for a media message of `len` bytes, after the size limit; the idle clock restarts.
    fn media(&mut self, len: usize) -> Result<&mut (dyn super::Sink + 'static), End> {
        let max = self.ctx.limits.max_message_bytes;
        if len > max {
            return Err(protocol(&format!(
                "a {len}-byte media message, above the limit {max}"
            )));
        }
        self.last_media = Instant::now();
        // The library raises media only for a stream whose publish we accepted, so the sink is there.
        let (guard, _) = self
            .sink
            .as_mut()
            .ok_or_else(|| protocol("media before an accepted publish"))?;
        guard
            .sink()
            .ok_or_else(|| protocol("media after the end of the publish"))
    }
}

fn protocol(msg: &str) -> End {
    End::Closed(CloseReason::ProtocolError(msg.to_string()))
}

fn sink_stopped(e: super::SinkError) -> End {
    End::Closed(CloseReason::SinkStopped(e.0))
}
