//! Limits that keep one client from taking the origin's disk, connections, workers or upload slots:
//! spool reservations against the quotas ([`reserve`]), the pace of a request body ([`pace`], read through
//! [`body::BodyReader`]), per-client-address connections, API rate and uploads in flight ([`ip`]), and
//! closing the connection instead of draining a body the server answered early ([`close`]).
//!
//! Client address: the TCP peer. `X-Forwarded-For` is believed only from the peers listed in
//! `Limits::trusted_proxies` (none by default), and then only for the per-request limits (API rate,
//! uploads); the connection limit always counts TCP peers, so behind a proxy it counts the proxy.
pub mod body;
pub mod close;
pub mod ip;
pub mod pace;
pub mod reserve;

use std::any::Any;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::error::ApiError;
use super::{AppState, Limits};
use ip::{ConnGuard, IpTable, Settings};
use reserve::Reservations;

/// The limits' shared state, in [`AppState`].
pub struct State {
    pub ips: Arc<IpTable>,
    pub reservations: Arc<Reservations>,
}

impl State {
    pub fn new(limits: &Limits) -> State {
        State {
            ips: IpTable::new(Settings::from(limits)),
            reservations: Arc::default(),
        }
    }
}

/// `HttpServer::on_connect`: count the connection under its peer address. The guard lives in the
/// connection's extensions and uncounts it when the connection is dropped.
pub fn on_connect(ips: &Arc<IpTable>, conn: &dyn Any, ext: &mut Extensions) {
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Ok(peer) = tcp.peer_addr() {
            ext.insert(ips.connect(peer.ip()));
        }
    }
}

/// A `429 rate-limited` naming the limit (`limit`, the flag's name without `--`), with `Retry-After`.
pub fn refuse(limit: &'static str, what: String, retry_after: u64) -> HttpResponse {
    let mut res = ApiError::RateLimited {
        what,
        retry_after,
        limit: Some(limit),
    }
    .error_response();
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res
}

/// The address a request is limited under: the TCP peer, or the nearest untrusted hop of
/// `X-Forwarded-For` when the peer is a trusted proxy. `None` off TCP (in-process tests).
pub fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    Some(
        hops.into_iter()
            .rev()
            .find(|h| !trusted.contains(h))
            .unwrap_or(peer),
    )
}

/// App-wide middleware: refuse every request on a connection over its address's connection limit (429,
/// closed), and close instead of draining when a response goes out before its request body was read.
pub async fn connection(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let over = req
        .conn_data::<ConnGuard>()
        .filter(|g| g.over)
        .map(|g| g.limit());
    let body = close::track(&mut req);
    let res = match over {
        Some(max) => req.into_response(refuse(
            "max-conns-per-ip",
            format!("this address already has {max} open connections"),
            1,
        )),
        // Handlers' errors arrive here as responses (actix-web's handler service renders them); an `Err`
        // would come only from a middleware, and none of ours returns one.
        None => next.call(req).await?.map_into_boxed_body(),
    };
    Ok(close::finish(res, body, over.is_some()))
}

/// `/api` middleware: the per-address request rate, and request bodies in flight per address.
pub async fn api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let ip = state
        .as_ref()
        .and_then(|s| client_ip(req.request(), &s.cfg.limits.trusted_proxies));
    let (Some(state), Some(ip)) = (state, ip) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let ips = &state.limits.ips;
    if let Err(wait) = ips.api_request(ip) {
        let rate = ips.settings().rate;
        return Ok(req.into_response(refuse(
            "api-rate-per-ip",
            format!("more than {rate} API requests per second from this address"),
            wait,
        )));
    }
    let _upload = if has_body(&req) && matches!(*req.method(), Method::PUT | Method::POST) {
        match ips.start_upload(ip) {
            Some(g) => Some(g),
            None => {
                let max = ips.settings().max_uploads;
                return Ok(req.into_response(refuse(
                    "max-uploads-per-ip",
                    format!("this address already has {max} uploads in progress"),
                    1,
                )));
            }
        }
    } else {
        None
    };
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn has_body(req: &ServiceRequest) -> bool {
    let h = req.headers();
    h.contains_key("transfer-encoding")
        || h.get("content-length")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}
