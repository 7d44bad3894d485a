//! `upcast-origin`, the origin (run by `upcast serve`, origin/cli). Accepts HLS packages over an
//! authenticated upload API, checks every byte it is given, stores durably, and serves playback with the
//! headers hls.js and CDNs need. The API's bodies are [`api_types`], shared with the `upcast upload`
//! client; API.md and SECURITY.md beside this crate describe the contract and the threat model.
#![forbid(unsafe_code)]

pub mod access_log;
pub mod api_types;
pub mod auth;
pub mod body;
pub mod cache;
pub mod captions;
pub mod catalog;
pub mod check;
pub mod config;
pub mod db;
pub mod direct;
pub mod error;
pub mod ingest;
pub mod lease;
pub mod limits;
pub mod live;
pub mod live_ingest;
pub mod manifest;
pub mod metrics;
pub mod migrations;
pub mod paths;
pub mod playlist;
pub mod publish;
pub mod publish_gate;
pub mod ranges;
pub mod read_only;
pub mod recording;
pub mod rendered;
pub mod rtmp;
pub mod serve;
pub mod signing;
pub mod signing_api;
pub mod startup;
pub mod store;
pub mod store_s3;
pub mod streams;
pub mod tokens;
pub mod upload;
pub mod videos;
pub mod webhooks;

use std::sync::Arc;

use actix_web::web::{self, ServiceConfig};

pub use config::{Config, Limits, StoreConfig, WebhookConfig};

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub cfg: Config,
    pub db: db::Db,
    pub store: Arc<dyn store::Store>,
    pub keys: auth::Keys,
    pub catalog: catalog::Catalog,
    pub objects: cache::ObjectCache,
    pub publishing: publish_gate::PublishGate,
    pub limits: limits::State,
    /// Ingest jobs waiting and running.
    pub ingest: ingest::Jobs,
    /// Webhook registrations and delivery; `webhooks.emit(kind, data)` queues an event.
    pub webhooks: webhooks::Webhooks,
    /// The Prometheus counters and gauges served at `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Live streams' status and publishing rights (the ingest and the live window update it).
    pub streams: streams::Streams,
    /// Live streams' windows (LL-HLS playback); the ingest side opens streams and pushes parts here.
    pub live: live::Hub,
    /// The RTMP listener's bound address (with `--rtmp-listen …:0`, the port the OS chose).
    pub rtmp_bound: std::sync::OnceLock<std::net::SocketAddr>,
    /// Live publishers' sessions and HTTP publish tickets (RTMP and HTTP ingest share them).
    pub live_publish: live_ingest::Registry,
    /// A read-only origin's recent catalog misses (ids the store had no manifest for).
    pub read_only_misses: read_only::Misses,
    /// The writer lease this origin holds on a shared store (released when the server stops).
    pub lease: Option<Arc<lease::Held>>,
    /// `--access-log FILE`: one line per request.
    pub access_log: Option<Arc<access_log::AccessLog>>,
}

impl AppState {
    /// Authenticate `req` and check that its caller may do `action` (`401`, or `403 missing-scope` /
    /// `admin-only`); the caller, for handlers that look further.
    pub async fn require(
        &self,
        req: &actix_web::HttpRequest,
        action: auth::Action<'_>,
    ) -> error::ApiResult<auth::Caller> {
        let caller = self.keys.caller(&self.db, req).await?;
        caller.may(action)?;
        Ok(caller)
    }
}

/// Mount the API and playback routes (and `www/` when configured). Tests mount this in-process.
pub fn routes(state: web::Data<AppState>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg: &mut ServiceConfig| {
        let www = state.cfg.www_dir.clone();
        // One scope around everything, for the metrics middleware: it counts every response by class.
        let mut all = web::scope("")
            .wrap(actix_web::middleware::from_fn(metrics::http::count))
            .route("/metrics", web::get().to(metrics::http::scrape))
            .service(
                web::scope("/api")
                    .wrap(actix_web::middleware::from_fn(read_only::guard))
                    .wrap(actix_web::middleware::from_fn(limits::api))
                    .wrap(
                        actix_web::middleware::DefaultHeaders::new()
                            .add(("X-Content-Type-Options", "nosniff"))
                            .add(("Cache-Control", "no-store")),
                    )
                    .route("/ingest", web::post().to(ingest::ingest))
                    .route("/signing-keys", web::get().to(signing_api::list))
                    .route("/signing-keys/rotate", web::post().to(signing_api::rotate))
                    .route("/ingest/{job}", web::get().to(ingest::status))
                    .route("/videos", web::post().to(videos::create))
                    .route("/videos", web::get().to(videos::list))
                    .route("/videos/{id}", web::get().to(videos::get))
                    .route("/videos/{id}", web::delete().to(videos::delete))
                    .route("/videos/{id}/files", web::get().to(videos::files))
                    .route(
                        "/videos/{id}/files/{path:.*}",
                        web::put().to(upload::put_file),
                    )
                    .route("/videos/{id}/publish", web::post().to(publish::publish))
                    .route("/videos/{id}/captions/{lang}", web::put().to(captions::put))
                    .route(
                        "/videos/{id}/captions/{lang}",
                        web::delete().to(captions::delete),
                    )
                    .route(
                        "/videos/{id}/direct-uploads",
                        web::post().to(direct::presign),
                    )
                    .route(
                        "/videos/{id}/direct-uploads/complete",
                        web::post().to(direct::complete),
                    )
                    .route("/videos/{id}/tickets", web::post().to(videos::ticket))
                    .route("/videos/{id}/playback", web::get().to(videos::playback))
                    .route("/webhooks", web::post().to(webhooks::api::create))
                    .route("/webhooks", web::get().to(webhooks::api::list))
                    .route("/webhooks/{id}", web::delete().to(webhooks::api::delete))
                    .route(
                        "/webhooks/{id}/deliveries",
                        web::get().to(webhooks::api::deliveries),
                    )
                    .route("/tokens", web::post().to(tokens::create))
                    .route("/tokens", web::get().to(tokens::list))
                    .route("/tokens/{id}", web::delete().to(tokens::delete))
                    .route("/streams", web::post().to(streams::api::create))
                    .route("/streams", web::get().to(streams::api::list))
                    // Before `/streams/{id}`, which would take `events` as an id.
                    .route("/streams/events", web::get().to(streams::events::all))
                    .route("/streams/{id}", web::get().to(streams::api::get))
                    .route("/streams/{id}", web::patch().to(streams::api::patch))
                    .route("/streams/{id}", web::delete().to(streams::api::delete))
                    .route(
                        "/streams/{id}/key",
                        web::post().to(streams::api::rotate_key),
                    )
                    .route(
                        "/streams/{id}/key",
                        web::delete().to(streams::api::revoke_key),
                    )
                    .route(
                        "/streams/{id}/playback",
                        web::get().to(streams::api::playback),
                    )
                    .route("/streams/{id}/events", web::get().to(streams::events::one))
                    // Publishing over HTTP: the stream key buys a ticket, the ticket uploads parts.
                    .route("/live/publish", web::post().to(live_ingest::publish))
                    .route("/live/{id}/renew", web::post().to(live_ingest::renew))
                    .route("/live/{id}/end", web::post().to(live_ingest::end))
                    .route("/live/{id}/status", web::get().to(live_ingest::status))
                    .route(
                        "/live/{id}/{rendition}/init.mp4",
                        web::put().to(live_ingest::put_init),
                    )
                    .route(
                        "/live/{id}/{rendition}/parts/{n}",
                        web::put().to(live_ingest::put_part),
                    )
                    .route(
                        "/live/{id}/{rendition}/pause",
                        web::post().to(live_ingest::pause),
                    ),
            )
            .route("/v/{id}/{path:.*}", web::get().to(serve::public))
            .route("/v/{id}/{path:.*}", web::head().to(serve::public))
            .route(
                "/v/{id}/{path:.*}",
                web::method(actix_web::http::Method::OPTIONS).to(serve::preflight),
            )
            .route("/live/time", web::get().to(live::dash::time))
            .route("/live/time", web::head().to(live::dash::time))
            .route("/live/{id}/{path:.*}", web::get().to(live::routes::public))
            .route("/live/{id}/{path:.*}", web::head().to(live::routes::public))
            .route(
                "/live/{id}/{path:.*}",
                web::method(actix_web::http::Method::OPTIONS).to(serve::preflight),
            )
            .route(
                "/s/{exp}/{sig}/live/{id}/{path:.*}",
                web::get().to(live::routes::signed),
            )
            .route(
                "/s/{exp}/{sig}/live/{id}/{path:.*}",
                web::head().to(live::routes::signed),
            )
            .route(
                "/s/{exp}/{sig}/live/{id}/{path:.*}",
                web::method(actix_web::http::Method::OPTIONS).to(serve::preflight),
            )
            .route(
                "/s/{exp}/{sig}/v/{id}/{path:.*}",
                web::get().to(serve::signed),
            )
            .route(
                "/s/{exp}/{sig}/v/{id}/{path:.*}",
                web::head().to(serve::signed),
            )
            .route(
                "/s/{exp}/{sig}/v/{id}/{path:.*}",
                web::method(actix_web::http::Method::OPTIONS).to(serve::preflight),
            );
        if let Some(dir) = www.filter(|d| d.is_dir()) {
            all = all.service(actix_files::Files::new("/", dir).index_file("index.html"));
        }
        cfg.app_data(state).service(all);
    }
}

/// Open storage and metadata, collect orphans, and load keys. Returns the state and, on first start, the
/// generated admin token (to print once).
pub fn prepare(cfg: Config) -> Result<(web::Data<AppState>, Option<String>), String> {
    startup::prepare(cfg)
}

/// Resolves at the first SIGTERM or SIGINT; the handlers are in place when this returns.
fn stop_signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        let t = Box::pin(term.recv());
        let i = Box::pin(int.recv());
        futures_util::future::select(t, i).await;
    })
}

/// Run the server until it is stopped.
pub async fn run(cfg: Config) -> std::io::Result<()> {
    let listen = cfg.listen;
    let workers = cfg.workers;
    // A read-only origin takes no live ingest either.
    let rtmp = cfg
        .rtmp_listen
        .filter(|_| !cfg.read_only)
        .map(|a| (a, cfg.rtmp.clone()));
    let (state, generated) = prepare(cfg).map_err(std::io::Error::other)?;
    if let Some(t) = generated {
        // Printed once: only its hash is stored.
        eprintln!("upcast: generated admin token (shown once, store it now): {t}");
    }
    // Deliver webhook events (those queued before a stop first) on this runtime.
    state.webhooks.start();
    if let Some(every) = state.cfg.read_only_poll.filter(|_| state.cfg.read_only) {
        read_only::follow(state.clone(), every);
    }
    if let Some((addr, limits)) = rtmp {
        // Publishes are authorized by the streams registry; their media goes through the live muxer.
        let ingest = live_ingest::LiveIngest::new(state.clone(), state.cfg.live_ingest.clone());
        let bound = rtmp::start(addr, ingest.clone(), ingest, limits)
            .await
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("RTMP on {addr}: {e} (choose another with --rtmp-listen ADDR, or off)"),
                )
            })?;
        let _ = state.rtmp_bound.set(bound);
    }
    let ips = state.limits.ips.clone();
    let lease = state.lease.clone();
    let mut server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(limits::connection))
            .wrap(actix_web::middleware::from_fn(access_log::middleware))
            .configure(routes(state.clone()))
    })
    .on_connect(move |conn, ext| {
        // Small responses must not wait for delayed ACKs (the ~40 ms Nagle signature).
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
        limits::on_connect(&ips, conn, ext);
    })
    .client_request_timeout(std::time::Duration::from_secs(10))
    .bind(listen)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    let bound = server.addrs().first().copied().unwrap_or(listen);
    // SIGTERM and SIGINT stop the server gracefully, then the writer lease is given up so another writer
    // can start at once. The handlers are ours, installed before the address is announced: actix-web's
    // own are installed only when the server is first polled, and a signal sent before that (right after
    // the announcement) killed the process with the lease still held.
    let stop = stop_signals()?;
    let running = server.disable_signals().run();
    let handle = running.handle();
    actix_web::rt::spawn(async move {
        stop.await;
        handle.stop(true).await;
    });
    eprintln!("upcast: serving on http://{bound}");
    let ran = running.await;
    if let Some(l) = lease {
        match l.release() {
            Ok(true) => eprintln!("upcast: writer lease released"),
            Ok(false) => eprintln!("upcast: the writer lease was no longer ours to release"),
            Err(e) => eprintln!("upcast: {e}"),
        }
    }
    ran
}
