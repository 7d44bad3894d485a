//! Publishing over HTTP (what a browser tab does: one bounded PUT per part, since streaming request
//! bodies do not work over HTTP/1.1). The stream key buys a ticket; the ticket (as bearer) PUTs each
//! rendition's init segment and then its parts, checked ([`super::check`]) and pushed through the same
//! [`Feed`] an RTMP publish uses: one session, status, recording, webhooks, metrics and grace period.
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::check::{check_init, parse_claim, refused, Refused, Rung};
use super::feed::Feed;
use super::sink::lock;
use super::tickets::{Ticket, TicketError};
use crate::AppState;

fn answer(r: Refused) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(r.status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .json(match r.expected {
            Some(n) => json!({ "code": r.code, "msg": r.msg, "expected": n }),
            None => json!({ "code": r.code, "msg": r.msg }),
        })
}

#[derive(Deserialize)]
pub struct PublishBody {
    stream_key: String,
}

/// `POST /api/live/publish`: a stream key for a publish ticket.
pub async fn publish(state: web::Data<AppState>, body: web::Json<PublishBody>) -> HttpResponse {
    let publisher = match state.streams.authorize_publish(&body.stream_key).await {
        Ok(p) => p,
        Err(r) => {
            state.metrics.publish_refused(r.code());
            let status = match r {
                crate::streams::Refusal::AlreadyLive => 409,
                crate::streams::Refusal::Internal(ref m) => {
                    eprintln!("upcast: live: authorizing a publish: {m}");
                    500
                }
                _ => 403,
            };
            return answer(refused(status, r.code(), r));
        }
    };
    let token = match crate::auth::random_token("upp_") {
        Ok(t) => t,
        Err(e) => return answer(refused(500, "internal", e)),
    };
    let opts = state.cfg.live_ingest.clone();
    let reg = &state.live_publish;
    let row = publisher.stream.clone();
    let session = match super::session::begin(&state, &reg.sessions, &opts, row) {
        Ok(s) => s,
        Err(e) => {
            state.metrics.publish_refused("live-unavailable");
            return answer(refused(503, "live-unavailable", e));
        }
    };
    let id = publisher.stream.id.clone();
    let feed = Feed::new(
        state.clone(),
        opts.clone(),
        session,
        publisher,
        reg.sessions.clone(),
    );
    let ticket = reg.tickets.issue(&token, feed, opts.ticket_ttl);
    actix_web::rt::spawn(watch(state.clone(), ticket, opts.idle));
    HttpResponse::Created().json(json!({
        "stream_id": id,
        "ticket": token,
        "expires_in_secs": opts.ticket_ttl.as_secs(),
        "part_target_ms": u64::try_from(opts.part_target.as_millis()).unwrap_or(u64::MAX),
        "idle_timeout_secs": opts.idle.as_secs_f64(),
        "playback_url": crate::streams::api::playback_path(&id),
    }))
}

/// A ticket's watchdog: a publisher silent for `idle`, or a ticket past its expiry, goes away as an
/// RTMP publisher's disconnect does (`reconnecting`, then the grace period).
async fn watch(state: web::Data<AppState>, ticket: Arc<Ticket>, idle: Duration) {
    let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        actix_web::rt::time::sleep(tick).await;
        if ticket.lease.is_gone() {
            return;
        }
        let why = if ticket.lease.expired() {
            "ticket-expired"
        } else if ticket.lock().last_seen.elapsed() >= idle {
            "publisher-idle"
        } else {
            continue;
        };
        state.live_publish.tickets.retire(&ticket);
        ticket.lock().feed.close(why);
        return;
    }
}

/// The ticket a request carries as `Authorization: Bearer upp_…`, for stream `id`.
fn ticket(state: &AppState, req: &HttpRequest, id: &str) -> Result<Arc<Ticket>, Refused> {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    state
        .live_publish
        .tickets
        .find(token, id)
        .map_err(|e| match e {
            TicketError::Bad => refused(401, "bad-ticket", "missing or unknown publish ticket"),
            TicketError::Expired => refused(401, "ticket-expired", "the publish ticket has expired"),
            TicketError::Ended => refused(
                401,
                "ticket-ended",
                "this publish is over (ended, or its publisher went idle); publish again with the key",
            ),
        })
}

/// `POST /api/live/{id}/renew`: the ticket lives another TTL from now.
pub async fn renew(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    match ticket(&state, &req, &id) {
        Ok(t) => {
            t.lease.renew(state.cfg.live_ingest.ticket_ttl);
            HttpResponse::Ok()
                .json(json!({ "expires_in_secs": state.cfg.live_ingest.ticket_ttl.as_secs() }))
        }
        Err(r) => answer(r),
    }
}

/// `GET /api/live/{id}/status`: the origin's status of the ticket's own stream (state, since, viewers,
/// ingest figures), so the publishing page can show it without a token that reads every stream.
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = ticket(&state, &req, &id) {
        return answer(r);
    }
    match crate::streams::api::load(&state, &id).await {
        Ok(row) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": state.streams.view(&row) })),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

/// `POST /api/live/{id}/end`: the publish is over; the stream ends now (no grace period).
pub async fn end(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    match ticket(&state, &req, &id) {
        Ok(t) => {
            state.live_publish.tickets.retire(&t);
            t.lock().feed.end_now();
            HttpResponse::NoContent().finish()
        }
        Err(r) => answer(r),
    }
}

/// `POST /api/live/{id}/{rendition}/pause`: the publisher stops sending this rendition for now (a rung
/// dropped because the uplink cannot keep up). Its playlist carries on with GAP parts and segments in
/// step with the other renditions; its next part must start a segment, and may start later than the
/// last one ended. The recording leaves the rendition out (its rungs must cover the same time).
pub async fn pause(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, name) = path.into_inner();
    let t = match ticket(&state, &req, &id) {
        Ok(t) => t,
        Err(r) => return answer(r),
    };
    let mut guard = t.lock();
    let p = &mut *guard;
    let Some(rung) = p.rungs.get_mut(&name) else {
        return answer(refused(
            409,
            "no-init",
            format!("PUT {name}/init.mp4 before pausing it"),
        ));
    };
    if rung.end.is_none() {
        return answer(refused(
            409,
            "nothing-to-pause",
            format!("{name} has no part yet; a rendition is paused once it has started"),
        ));
    }
    rung.paused = true;
    let session = p.feed.session.clone();
    if let Err(e) = p.feed.pause(&mut lock(&session), &name) {
        return answer(refused(409, "live-window", e));
    }
    p.last_seen = std::time::Instant::now();
    HttpResponse::Ok().json(json!({ "rendition": name, "paused": true }))
}

/// How long one part's body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Read a body of at most `max` bytes, within [`BODY_TIMEOUT`].
async fn body(payload: web::Payload, max: usize) -> Result<Vec<u8>, Refused> {
    actix_web::rt::time::timeout(BODY_TIMEOUT, read_body(payload, max))
        .await
        .unwrap_or_else(|_| Err(refused(408, "body-timeout", "the body took over 30 s")))
}

async fn read_body(mut payload: web::Payload, max: usize) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| refused(400, "body-aborted", e))?;
        if out.len() + chunk.len() > max {
            return Err(refused(
                413,
                "part-too-large",
                format!("a part or init is at most {max} bytes"),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Authenticate, admit (in-flight and rate bounds) and read the body of an upload.
async fn upload(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    payload: web::Payload,
) -> Result<(Arc<Ticket>, super::tickets::Slot, Vec<u8>), Refused> {
    let t = ticket(state, req, id)?;
    let slot = t
        .admit()
        .map_err(|code| refused(429, code, "slow down: too many parts at once"))?;
    let max = usize::try_from(state.cfg.limits.max_segment_bytes).unwrap_or(usize::MAX);
    let bytes = body(payload, max).await?;
    Ok((t, slot, bytes))
}

/// `PUT /api/live/{id}/{rendition}/init.mp4`.
pub async fn put_init(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> HttpResponse {
    let (id, name) = path.into_inner();
    let (t, _slot, bytes) = match upload(&state, &req, &id, payload).await {
        Ok(x) => x,
        Err(r) => return answer(r),
    };
    let (info, init) = match check_init(&name, &bytes) {
        Ok(x) => x,
        Err(r) => return answer(r),
    };
    let mut p = t.lock();
    if let Some(r) = p.rungs.get(&name) {
        if r.info.init == bytes {
            return HttpResponse::Ok().json(json!({ "rendition": name }));
        }
        return answer(refused(
            409,
            "init-changed",
            "a rendition's init segment cannot change during a publish; publish again",
        ));
    }
    let session = p.feed.session.clone();
    if let Err(e) = p.feed.track(&mut lock(&session), &name, &info) {
        return answer(refused(409, "live-window", e));
    }
    let rung = Rung::new(info, init);
    p.rungs.insert(name.clone(), rung);
    HttpResponse::Created().json(json!({ "rendition": name }))
}

/// `PUT /api/live/{id}/{rendition}/parts/{n}`.
pub async fn put_part(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, u64)>,
    payload: web::Payload,
) -> HttpResponse {
    let (id, name, n) = path.into_inner();
    let claim = match parse_claim(
        req.headers()
            .get("x-upcast-part")
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(c) => c,
        Err(r) => return answer(r),
    };
    let (t, _slot, bytes) = match upload(&state, &req, &id, payload).await {
        Ok(x) => x,
        Err(r) => return answer(r),
    };
    match super::http_part::push(&state, &t, &name, n, claim, bytes) {
        Ok((status, v)) => HttpResponse::build(status).json(v),
        Err(r) => answer(r),
    }
}
