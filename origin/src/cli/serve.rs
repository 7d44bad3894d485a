//! `upcast serve [--listen ADDR] [--data DIR]`: run the origin with embedded defaults.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::server::{Config, Limits};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Data directory (database, stored objects).
    #[arg(long, default_value = "./data")]
    pub data: PathBuf,
    /// Static pages served at `/`.
    #[arg(long, default_value = "./www")]
    pub www: PathBuf,
    /// Drop a request body that sends nothing for this many seconds.
    #[arg(long, default_value_t = 30)]
    pub body_idle_timeout_secs: u64,
    /// How long a new upload ticket stays valid, in seconds.
    #[arg(long, default_value_t = 24 * 3600)]
    pub ticket_ttl_secs: u64,
    /// Bytes one video may hold.
    #[arg(long)]
    pub max_video_bytes: Option<u64>,
    /// Bytes all videos together may hold.
    #[arg(long)]
    pub max_total_bytes: Option<u64>,
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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut limits = Limits {
        body_idle_timeout: Duration::from_secs(args.body_idle_timeout_secs.max(1)),
        ticket_ttl: Duration::from_secs(args.ticket_ttl_secs.max(1)),
        ..Limits::default()
    };
    if let Some(n) = args.max_video_bytes {
        limits.max_video_bytes = n;
    }
    if let Some(n) = args.max_total_bytes {
        limits.max_total_bytes = n;
    }
    let mut cfg = Config::new(args.listen, args.data);
    cfg.www_dir = Some(args.www);
    cfg.admin_token = std::env::var("UPCAST_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    cfg.limits = limits;
    cfg.workers = args.workers;
    cfg.cache_bytes = args.cache_mib << 20;
    cfg.cache_max_object = args.cache_max_object_kib << 10;
    actix_web::rt::System::new().block_on(crate::server::run(cfg))?;
    Ok(ExitCode::SUCCESS)
}
