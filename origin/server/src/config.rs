//! Server configuration: embedded defaults so `upcast serve` runs with no setup.
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Size limits and quotas, checked before and during every write.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest init or media segment accepted (`.mp4`, `.m4s`).
    pub max_segment_bytes: u64,
    /// Largest playlist accepted (`.m3u8`).
    pub max_playlist_bytes: u64,
    /// Largest raw MP4 accepted by `POST /api/ingest`.
    pub max_ingest_bytes: u64,
    /// Total bytes one video may hold.
    pub max_video_bytes: u64,
    /// Total bytes all videos together may hold.
    pub max_total_bytes: u64,
    /// Most files one video may hold.
    pub max_files_per_video: u64,
    /// Largest caption file (SRT/WebVTT) `PUT /api/videos/{id}/captions/{lang}` accepts.
    pub max_caption_bytes: u64,
    /// A request body that sends nothing for this long is dropped.
    pub body_idle_timeout: Duration,
    /// How long a new upload ticket stays valid.
    pub ticket_ttl: Duration,
    /// Publish checks running at once in the whole origin (each reads a whole package).
    pub max_publish_checks: usize,
    /// After a failed publish, a video's next check waits this long, doubling per failure in a row…
    pub publish_backoff: Duration,
    /// … up to this.
    pub publish_backoff_max: Duration,
    /// After `body_rate_grace`, a request body must average at least this many bytes per second over the
    /// last `body_rate_window`, and finish within `body_rate_grace + size limit / body_min_rate`. 0 turns
    /// the rate and the deadline off (the idle timeout still holds).
    pub body_min_rate: u64,
    pub body_rate_window: Duration,
    pub body_rate_grace: Duration,
    /// Open connections one client address may hold; the next ones get `429` and are closed. 0: no limit.
    pub max_conns_per_ip: u32,
    /// `/api/*` requests per second one client address may make (token bucket), and the burst above that
    /// rate. Playback (`/v/`, `/s/`) is not limited. 0: no limit.
    pub api_rate_per_ip: u32,
    pub api_burst_per_ip: u32,
    /// Request bodies (`PUT`/`POST` under `/api`) one client address may send at once. 0: no limit.
    pub max_uploads_per_ip: u32,
    /// Client addresses whose limits are tracked at once (an idle address's entry is dropped first).
    pub max_tracked_ips: usize,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies). Empty: no proxy header is trusted, and
    /// every limit applies to the TCP peer address.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_segment_bytes: 64 << 20,
            max_playlist_bytes: 1 << 20,
            max_ingest_bytes: 8 << 30,
            max_video_bytes: 20 << 30,
            max_total_bytes: 500 << 30,
            max_files_per_video: 20_000,
            max_caption_bytes: 5 << 20,
            body_idle_timeout: Duration::from_secs(30),
            ticket_ttl: Duration::from_secs(24 * 3600),
            max_publish_checks: 2,
            publish_backoff: Duration::from_secs(1),
            publish_backoff_max: Duration::from_secs(60),
            body_min_rate: 4 << 10,
            body_rate_window: Duration::from_secs(30),
            body_rate_grace: Duration::from_secs(30),
            max_conns_per_ip: 256,
            api_rate_per_ip: 100,
            api_burst_per_ip: 500,
            max_uploads_per_ip: 16,
            max_tracked_ips: 65_536,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Holds `upcast.db`, `objects/` (local store) and `tmp/` (spool files, whatever the store).
    pub data_dir: PathBuf,
    /// Where objects live: local disk under `data_dir` (the default) or an S3-compatible bucket.
    pub store: StoreConfig,
    /// Serve what the shared store's manifests publish and refuse every write (`--read-only`).
    pub read_only: bool,
    /// A read-only origin re-reads the store's catalog this often for videos published since
    /// (`--read-only-poll-secs`); None: only at start and when a request names an unknown video.
    pub read_only_poll: Option<Duration>,
    /// Static pages served at `/` when the directory exists.
    pub www_dir: Option<PathBuf>,
    /// `--access-log FILE`: a JSON line per request (method, path, status, request and response bytes).
    pub access_log: Option<PathBuf>,
    /// Admin token given by the operator (`UPCAST_ADMIN_TOKEN`); generated on first start when absent.
    pub admin_token: Option<String>,
    pub limits: Limits,
    /// HTTP worker threads (actix default: one per core).
    pub workers: Option<usize>,
    /// Bytes of hot objects kept in memory for serving.
    pub cache_bytes: usize,
    /// Media objects up to this size are served from the object cache, larger ones stream from the store.
    /// A response may keep an evicted entry alive, so this is also what one response can hold in memory.
    pub cache_max_object: u64,
    /// The playback signing keys (0600); `data_dir/signing-keys.json` when None.
    pub signing_keys_file: Option<PathBuf>,
    pub webhooks: WebhookConfig,
    /// `/metrics` answers without a token (for a Prometheus that cannot send one; bind to loopback then).
    pub metrics_public: bool,
    /// Where the RTMP ingest listens (`--rtmp-listen`); `None`: no RTMP ingest.
    pub rtmp_listen: Option<SocketAddr>,
    /// What encoders connect to when that differs from `rtmp_listen` (behind NAT or a proxy):
    /// `rtmp://HOST[:PORT]`; the API appends `/live`. `None`: built from `rtmp_listen` (an unspecified
    /// address takes the host the API request named).
    pub rtmp_public_url: Option<String>,
    /// The RTMP listener's limits.
    pub rtmp: crate::rtmp::Limits,
    /// Bounds of live playback (streams, bytes per stream, blocked requests).
    pub live: crate::live::HubLimits,
    /// How live ingest cuts parts and segments and how long a stream waits for its publisher.
    pub live_ingest: crate::live_ingest::IngestOptions,
}

/// The object store `upcast serve --store` chose.
#[derive(Clone, Debug, Default)]
pub enum StoreConfig {
    /// `data_dir/objects/` (embedded default).
    #[default]
    Local,
    /// An S3-compatible bucket, with the retry policy for its requests.
    S3(Box<crate::store_s3::S3Location>, crate::store_s3::Retry),
}

/// How webhook events are delivered (see `webhooks`).
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Deliver to private, loopback and link-local addresses too (refused by default: SSRF).
    pub allow_private: bool,
    /// The wait before the first retry; it doubles per failed attempt up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Attempts per delivery, the first included; after the last failure the delivery is `failed`.
    pub max_attempts: u32,
    /// One attempt (connect, send, the receiver's answer) may take this long.
    pub timeout: Duration,
    /// Attempts in flight at once, all receivers together.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_private: false,
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            max_attempts: 12,
            timeout: Duration::from_secs(10),
            concurrency: 4,
        }
    }
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Config {
            listen,
            data_dir,
            store: StoreConfig::Local,
            read_only: false,
            read_only_poll: None,
            www_dir: None,
            access_log: None,
            admin_token: None,
            limits: Limits::default(),
            workers: None,
            cache_bytes: 256 << 20,
            cache_max_object: 256 << 10,
            signing_keys_file: None,
            webhooks: WebhookConfig::default(),
            metrics_public: false,
            rtmp_listen: None,
            rtmp_public_url: None,
            rtmp: crate::rtmp::Limits::default(),
            live: crate::live::HubLimits::default(),
            live_ingest: crate::live_ingest::IngestOptions::default(),
        }
    }
}
