//! `upcast serve [--listen ADDR] [--data DIR]`: run the origin with embedded defaults.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use upcast_origin::store_s3::{Retry, S3Location};
use upcast_origin::{Config, Limits, StoreConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Data directory (database, stored objects).
    #[arg(long, default_value = "./data")]
    pub data: PathBuf,
    /// Where media objects live: local disk under --data (default), or an S3-compatible bucket,
    /// `s3://BUCKET?endpoint=http://HOST:PORT&region=NAME[&public_url=URL][&presign_endpoint=URL]`, signed with
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. The database and spool files stay under --data.
    #[arg(long)]
    pub store: Option<String>,
    /// Serve every video the --store bucket's manifests publish, and refuse every write (405 read-only).
    /// Run any number of these beside one writer (the origin without --read-only).
    #[arg(long)]
    pub read_only: bool,
    /// With --read-only: re-read the bucket's catalog every N seconds, so videos published since appear in
    /// the video list without a restart (a request naming one imports it at once anyway). 0: off.
    #[arg(long, default_value_t = 30)]
    pub read_only_poll_secs: u64,
    /// The playback signing keys' file (default: DATA/signing-keys.json). Origins serving private videos
    /// from one bucket share it, so each accepts the links any of them signs.
    #[arg(long)]
    pub signing_keys_file: Option<PathBuf>,
    /// Attempts per bucket request on 503 SlowDown, 5xx, 429 and timeouts (jittered exponential backoff).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub store_attempts: u32,
    /// Append one JSON line per request to FILE: method, path (no query), status, request body bytes read
    /// and response body bytes written (origin/server/API.md, "Access log").
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
    /// Static pages served at `/`.
    #[arg(long, default_value = "./www")]
    pub www: PathBuf,
    /// Drop a request body that sends nothing for this many seconds.
    #[arg(long, default_value_t = 30)]
    pub body_idle_timeout_secs: u64,
    /// After the grace period, a request body must average at least this many KiB/s over the rate window
    /// (and finish within grace + its size limit at this rate). 0: off.
    #[arg(long, default_value_t = 4)]
    pub body_min_kib_per_sec: u64,
    /// Seconds over which a body's rate is averaged.
    #[arg(long, default_value_t = 30)]
    pub body_rate_window_secs: u64,
    /// Seconds a body may take before its rate is checked.
    #[arg(long, default_value_t = 30)]
    pub body_rate_grace_secs: u64,
    /// Open connections one client address may hold; more get 429 and are closed. 0: no limit.
    #[arg(long, default_value_t = 256)]
    pub max_conns_per_ip: u32,
    /// API requests per second one client address may make (playback is not limited). 0: no limit.
    #[arg(long, default_value_t = 100)]
    pub api_rate_per_ip: u32,
    /// API requests one client address may make at once above that rate.
    #[arg(long, default_value_t = 500)]
    pub api_burst_per_ip: u32,
    /// Request bodies (PUT/POST under /api) one client address may send at once. 0: no limit.
    #[arg(long, default_value_t = 16)]
    pub max_uploads_per_ip: u32,
    /// Client addresses whose limits are tracked at once.
    #[arg(long, default_value_t = 65_536)]
    pub max_tracked_ips: usize,
    /// A reverse proxy whose X-Forwarded-For is believed for the per-request limits (repeatable). By
    /// default no proxy header is trusted.
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a new upload ticket stays valid, in seconds.
    #[arg(long, default_value_t = 24 * 3600)]
    pub ticket_ttl_secs: u64,
    /// Bytes one video may hold.
    #[arg(long)]
    pub max_video_bytes: Option<u64>,
    /// Bytes all videos together may hold.
    #[arg(long)]
    pub max_total_bytes: Option<u64>,
    /// Largest caption file (SRT or WebVTT) the captions API accepts, bytes.
    #[arg(long, default_value_t = 5 << 20)]
    pub max_caption_bytes: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// MiB of hot objects kept in memory for playback.
    #[arg(long, default_value_t = 256)]
    pub cache_mib: usize,
    /// Objects up to this many KiB are served from memory; larger ones stream from the store. Also what
    /// one response can hold in memory (it may keep an evicted entry alive).
    #[arg(long, default_value_t = 256)]
    pub cache_max_object_kib: u64,
    /// Deliver webhooks to private, loopback and link-local addresses too (refused by default: a webhook
    /// URL must not reach the origin's own network; see SECURITY.md).
    #[arg(long)]
    pub webhook_allow_private: bool,
    /// Milliseconds before a failed webhook delivery's first retry; doubles per attempt up to an hour.
    #[arg(long, default_value_t = 5000)]
    pub webhook_retry_ms: u64,
    /// Attempts per webhook delivery before it is marked failed.
    #[arg(long, default_value_t = 12)]
    pub webhook_attempts: u32,
    /// Seconds one webhook delivery attempt may take.
    #[arg(long, default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// Serve /metrics without a token (for a local Prometheus; the numbers name streams).
    #[arg(long)]
    pub metrics_public: bool,
    /// Address RTMP publishers (OBS, ffmpeg) connect to, `rtmp://ADDR/live/STREAM_KEY`; `off`: no RTMP.
    /// Given twice, the last one counts.
    #[arg(long, default_value = "127.0.0.1:1935", overrides_with = "rtmp_listen")]
    pub rtmp_listen: RtmpListen,
    /// Seconds an RTMP publisher may send no media (and a new connection may take to start publishing).
    #[arg(long, default_value_t = 10)]
    pub rtmp_idle_timeout_secs: u64,
    /// Open RTMP connections in the whole origin.
    #[arg(long, default_value_t = 64)]
    pub rtmp_max_connections: usize,
    /// Open RTMP connections from one client address.
    #[arg(long, default_value_t = 8)]
    pub rtmp_max_connections_per_ip: u32,
    /// Seconds a live stream waits for its publisher to come back (the same key continues the stream)
    /// before it ends and its recording is published.
    #[arg(long, default_value_t = 10)]
    pub live_grace_secs: u64,
    /// Milliseconds of an LL-HLS part (PART-TARGET); 333 gives lower latency, more requests.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(100..=2000))]
    pub live_part_target_ms: u64,
    /// Seconds an HTTP publisher (`/api/live/…`) may send nothing before its stream goes `reconnecting`.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub live_idle_secs: u64,
    /// Seconds an HTTP publish ticket lives (renewable with `POST /api/live/{id}/renew`).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub live_ticket_secs: u64,
    /// Blocked playlist reloads and preload-hint requests waiting at once, all viewers together.
    #[arg(long, default_value_t = 4096)]
    pub live_max_blocked: usize,
    /// Blocked requests one viewer address may hold at once.
    #[arg(long, default_value_t = 32)]
    pub live_max_blocked_per_ip: usize,
}

/// `--rtmp-listen`: an address, or `off`.
#[derive(Clone, Copy, Debug)]
pub struct RtmpListen(pub Option<SocketAddr>);

impl std::str::FromStr for RtmpListen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "off" {
            return Ok(RtmpListen(None));
        }
        s.parse()
            .map(|a| RtmpListen(Some(a)))
            .map_err(|e| format!("an address such as 127.0.0.1:1935, or off: {e}"))
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut limits = Limits {
        body_idle_timeout: Duration::from_secs(args.body_idle_timeout_secs.max(1)),
        ticket_ttl: Duration::from_secs(args.ticket_ttl_secs.max(1)),
        body_min_rate: args.body_min_kib_per_sec << 10,
        body_rate_window: Duration::from_secs(args.body_rate_window_secs.max(1)),
        body_rate_grace: Duration::from_secs(args.body_rate_grace_secs),
        max_conns_per_ip: args.max_conns_per_ip,
        api_rate_per_ip: args.api_rate_per_ip,
        api_burst_per_ip: args.api_burst_per_ip,
        max_uploads_per_ip: args.max_uploads_per_ip,
        max_tracked_ips: args.max_tracked_ips,
        trusted_proxies: args.trusted_proxies,
        ..Limits::default()
    };
    if let Some(n) = args.max_video_bytes {
        limits.max_video_bytes = n;
    }
    if let Some(n) = args.max_total_bytes {
        limits.max_total_bytes = n;
    }
    limits.max_caption_bytes = args.max_caption_bytes;
    let mut cfg = Config::new(args.listen, args.data);
    if let Some(spec) = &args.store {
        let env = |k: &str| std::env::var(k).unwrap_or_default();
        let loc = S3Location::parse(
            spec,
            &env("AWS_ACCESS_KEY_ID"),
            &env("AWS_SECRET_ACCESS_KEY"),
        )
        .map_err(anyhow::Error::msg)?;
        let retry = Retry {
            attempts: args.store_attempts,
            ..Retry::default()
        };
        cfg.store = StoreConfig::S3(Box::new(loc), retry);
    }
    cfg.read_only = args.read_only;
    cfg.read_only_poll =
        (args.read_only_poll_secs > 0).then(|| Duration::from_secs(args.read_only_poll_secs));
    cfg.signing_keys_file = args.signing_keys_file.clone();
    cfg.www_dir = Some(args.www);
    cfg.access_log = args.access_log;
    cfg.admin_token = std::env::var("UPCAST_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    cfg.limits = limits;
    cfg.workers = args.workers;
    cfg.cache_bytes = args.cache_mib << 20;
    cfg.cache_max_object = args.cache_max_object_kib << 10;
    cfg.webhooks = upcast_origin::WebhookConfig {
        allow_private: args.webhook_allow_private,
        retry_base: Duration::from_millis(args.webhook_retry_ms.max(1)),
        max_attempts: args.webhook_attempts.max(1),
        timeout: Duration::from_secs(args.webhook_timeout_secs.max(1)),
        ..Default::default()
    };
    cfg.metrics_public = args.metrics_public;
    cfg.rtmp_listen = args.rtmp_listen.0;
    cfg.rtmp.idle_timeout = Duration::from_secs(args.rtmp_idle_timeout_secs.max(1));
    cfg.rtmp.max_connections = args.rtmp_max_connections;
    cfg.rtmp.max_connections_per_ip = args.rtmp_max_connections_per_ip;
    cfg.live_ingest.grace = Duration::from_secs(args.live_grace_secs);
    cfg.live_ingest.part_target = Duration::from_millis(args.live_part_target_ms);
    cfg.live_ingest.idle = Duration::from_secs(args.live_idle_secs);
    cfg.live_ingest.ticket_ttl = Duration::from_secs(args.live_ticket_secs);
    cfg.live.max_blocked = args.live_max_blocked;
    cfg.live.max_blocked_per_ip = args.live_max_blocked_per_ip;
    actix_web::rt::System::new().block_on(upcast_origin::run(cfg))?;
    Ok(ExitCode::SUCCESS)
}
