//! `upcast validate PATH_OR_URL [--json]`: run the conformance checker on a package in a folder, named by its
//! multivariant playlist file (or its `manifest.mpd`), or served over http(s) on loopback. `upcast validate
//! --live URL [--reloads N]` follows a live LL-HLS stream instead (see [`crate::validate_live`]). Exit
//! status: 0 when no MUST rule fails, 1 when one does, 2 when the package cannot be looked at (usage, I/O).

use anyhow::{bail, Context};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use upcast_core::check::{check_package, render_text, PackageReader, Report};

#[derive(clap::Args)]
pub struct Args {
    /// A package folder (holding master.m3u8), a multivariant playlist file or a package's manifest.mpd, or
    /// an http(s) URL of one on loopback (127.0.0.0/8, ::1, localhost). The MPD beside the multivariant
    /// playlist is checked with it (the DASH rules), whichever of the two is named.
    #[arg(required_unless_present = "live", conflicts_with = "live")]
    pub target: Option<String>,
    /// Follow a live LL-HLS stream at this loopback URL (a media or a multivariant playlist) with blocking
    /// reloads and check the live rules on every snapshot, every reload and every INDEPENDENT part.
    #[arg(long, value_name = "URL")]
    pub live: Option<String>,
    /// Blocking reloads per media playlist with --live.
    #[arg(long, default_value_t = 6, requires = "live",
          value_parser = clap::value_parser!(u32).range(0..=crate::validate_live::MAX_RELOADS))]
    pub reloads: u32,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let result = match (&args.live, &args.target) {
        (Some(url), _) => crate::validate_live::validate_live(url, args.reloads),
        (None, Some(target)) => validate(target),
        (None, None) => Err(anyhow::anyhow!(
            "name a package, or a live stream with --live URL"
        )),
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("upcast validate: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render_text(&report).as_bytes())?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Check the package at `target` (folder, playlist file or loopback URL).
pub fn validate(target: &str) -> anyhow::Result<Report> {
    if target.starts_with("http://") || target.starts_with("https://") {
        let (reader, master) = HttpReader::new(target)?;
        return Ok(check_package(&reader, &master_for(&master)));
    }
    let path = Path::new(target);
    let (root, master) = if path.is_dir() {
        (path.to_path_buf(), upcast_core::package::MASTER.to_string())
    } else if path.is_file() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("the playlist's file name is not UTF-8")?;
        let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (root, master_for(name))
    } else {
        bail!("{target}: no such file or folder");
    };
    Ok(check_package(&FolderReader { root }, &master))
}

/// The multivariant playlist to check from: `path` itself, or for an MPD the `master.m3u8` beside it (a
/// package is checked from its multivariant playlist; the MPD beside it is checked on the way).
fn master_for(path: &str) -> String {
    match path.strip_suffix(upcast_core::layout::MANIFEST) {
        Some(dir) if dir.is_empty() || dir.ends_with('/') => {
            format!("{dir}{}", upcast_core::layout::MASTER)
        }
        _ => path.to_string(),
    }
}

/// Files under a folder. Package paths come resolved (no `..`), so they cannot leave the folder.
pub struct FolderReader {
    pub root: PathBuf,
}

impl PackageReader for FolderReader {
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, String> {
        if path.split('/').any(|s| s == "..") {
            return Err("path leaves the package".into());
        }
        let full = self.root.join(path);
        let file = std::fs::File::open(&full).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        if len > max_len {
            return Err(format!("{len} bytes, over the limit of {max_len}"));
        }
        // A hint only: `len` is at most `max_len`.
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.take(max_len)
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        Ok(buf)
    }
}

/// `url` parsed, when it is http(s) on a loopback host.
pub fn loopback_url(url: &str) -> anyhow::Result<url::Url> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url} is not a URL"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("{url}: only http(s) URLs are fetched");
    }
    if !loopback {
        bail!(
            "{url}: only loopback hosts (127.0.0.0/8, ::1, localhost) are fetched; copy the package \
             locally and validate the folder instead"
        );
    }
    Ok(parsed)
}

/// Files under an http(s) URL on loopback. Redirects are not followed (they could leave loopback).
pub struct HttpReader {
    base: url::Url,
    agent: ureq::Agent,
}

impl HttpReader {
    /// The reader for the host of `url` and the master playlist's package path.
    pub fn new(url: &str) -> anyhow::Result<(Self, String)> {
        let parsed = loopback_url(url)?;
        let master = parsed.path().trim_start_matches('/').to_string();
        let mut base = parsed.clone();
        base.set_path("/");
        base.set_query(None);
        base.set_fragment(None);
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(std::time::Duration::from_secs(30))
            .build();
        Ok((HttpReader { base, agent }, master))
    }
}

impl PackageReader for HttpReader {
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, String> {
        let url = self.base.join(path).map_err(|e| e.to_string())?;
        let resp = self
            .agent
            .request_url("GET", &url)
            .call()
            .map_err(|e| e.to_string())?;
        if let Some(len) = resp
            .header("content-length")
            .and_then(|l| l.parse::<u64>().ok())
        {
            if len > max_len {
                return Err(format!("{len} bytes, over the limit of {max_len}"));
            }
        }
        let mut buf = Vec::new();
        resp.into_reader()
            .take(max_len.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        if buf.len() as u64 > max_len {
            return Err(format!("over the limit of {max_len} bytes"));
        }
        Ok(buf)
    }
}
