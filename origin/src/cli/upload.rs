//! `upcast upload OUTDIR --to URL [--token T]`: upload a package made by `upcast segment` through the
//! origin's API, skipping what the origin already has, then publish. Interrupted runs resume: the video id
//! and upload ticket are kept in `OUTDIR/.upcast-upload.json`.
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::server::paths::{self, FileKind};

const STATE_FILE: &str = ".upcast-upload.json";

#[derive(clap::Args)]
pub struct Args {
    /// Package directory (holds master.m3u8).
    pub outdir: PathBuf,
    /// Origin base URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub to: String,
    /// Admin token (to create the video) or upload ticket; defaults to $UPCAST_TOKEN.
    #[arg(long)]
    pub token: Option<String>,
    /// Title of a new video.
    #[arg(long, default_value = "")]
    pub title: String,
    /// Make a new video private (played through signed links).
    #[arg(long)]
    pub private: bool,
    /// Attempts per request before giving up.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Resume {
    to: String,
    video_id: String,
    ticket: String,
}

struct Local {
    path: String,
    file: PathBuf,
    sha256: String,
    kind: FileKind,
}

fn scan(root: &Path, dir: &Path, out: &mut Vec<Local>) -> anyhow::Result<()> {
    for e in fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            scan(root, &p, out)?;
            continue;
        }
        let rel = p.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
        let Ok(kind) = paths::check(&rel) else {
            continue;
        };
        let bytes = fs::read(&p).with_context(|| p.display().to_string())?;
        out.push(Local {
            path: rel,
            file: p,
            sha256: hex::encode(Sha256::digest(&bytes)),
            kind,
        });
    }
    Ok(())
}

/// Upload order: playlists first (the package is playable as a growing EVENT stream while it uploads),
/// then init segments, then media segments by name, the poster last.
fn order(k: FileKind) -> u8 {
    match k {
        FileKind::Playlist => 0,
        FileKind::Init => 1,
        FileKind::Segment => 2,
        FileKind::Poster => 3,
    }
}

struct Client {
    agent: ureq::Agent,
    base: String,
    retries: u32,
}

impl Client {
    /// Run `f` until it succeeds, a non-retryable status comes back, or attempts run out.
    fn call(
        &self,
        what: &str,
        f: impl Fn(&ureq::Agent) -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut last = String::new();
        for attempt in 0..self.retries.max(1) {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt.min(5)));
            }
            match f(&self.agent).map_err(|e| *e) {
                Ok(r) => {
                    let text = r.into_string().unwrap_or_default();
                    return Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null));
                }
                Err(ureq::Error::Status(code, r)) => {
                    let body = r.into_string().unwrap_or_default();
                    // 408, 429 and 5xx other than 507 may pass; other refusals will not.
                    if code == 408 || code == 429 || (code >= 500 && code != 507) {
                        last = format!("{what}: HTTP {code} {body}");
                        continue;
                    }
                    bail!("{what}: HTTP {code} {body}");
                }
                Err(e) => last = format!("{what}: {e}"),
            }
        }
        bail!("{last} (gave up after {} attempts)", self.retries.max(1))
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let root = args
        .outdir
        .canonicalize()
        .with_context(|| args.outdir.display().to_string())?;
    if !root.join(upcast_core::layout::MASTER).is_file() {
        bail!("{} has no {}", root.display(), upcast_core::layout::MASTER);
    }
    let mut local = Vec::new();
    scan(&root, &root, &mut local)?;
    local.sort_by(|a, b| (order(a.kind), &a.path).cmp(&(order(b.kind), &b.path)));

    let client = Client {
        agent: ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(60))
            .timeout_write(Duration::from_secs(60))
            .build(),
        base: args.to.trim_end_matches('/').to_string(),
        retries: args.retries,
    };
    let token = args
        .token
        .clone()
        .or_else(|| std::env::var("UPCAST_TOKEN").ok());
    let state_path = root.join(STATE_FILE);
    let resume: Option<Resume> = fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|r: &Resume| r.to == client.base);

    let (video_id, mut ticket) = match resume {
        Some(r) => (r.video_id, r.ticket),
        None => {
            let admin = token
                .clone()
                .context("a new video needs --token (admin) or $UPCAST_TOKEN")?;
            let body = serde_json::json!({
                "title": args.title,
                "visibility": if args.private { "private" } else { "public" },
            })
            .to_string();
            let url = format!("{}/api/videos", client.base);
            let v = client.call("create video", |a| {
                a.post(&url)
                    .set("Authorization", &format!("Bearer {admin}"))
                    .set("Content-Type", "application/json")
                    .send_string(&body)
                    .map_err(Box::new)
            })?;
            let id = v["id"]
                .as_str()
                .context("origin answered without an id")?
                .to_string();
            let ticket = v["upload"]["ticket"]
                .as_str()
                .context("origin answered without a ticket")?
                .to_string();
            let r = Resume {
                to: client.base.clone(),
                video_id: id.clone(),
                ticket: ticket.clone(),
            };
            let tmp = root.join(format!("{STATE_FILE}.tmp"));
            fs::write(&tmp, serde_json::to_vec(&r)?)?;
            fs::rename(&tmp, &state_path)?;
            (id, ticket)
        }
    };
    eprintln!("upcast: video {video_id}");
    // A resumed upload whose ticket has expired gets a new one when an admin token is at hand.
    let probe = client
        .agent
        .get(&format!("{}/api/videos/{video_id}", client.base))
        .set("Authorization", &format!("Bearer {ticket}"))
        .call();
    if let Err(ureq::Error::Status(401, r)) = probe {
        let body = r.into_string().unwrap_or_default();
        let admin = token.clone().filter(|_| body.contains("ticket-expired"));
        let Some(admin) = admin else {
            bail!("the upload ticket is no longer valid: {body}")
        };
        let url = format!("{}/api/videos/{video_id}/tickets", client.base);
        let t = client.call("new ticket", |a| {
            a.post(&url)
                .set("Authorization", &format!("Bearer {admin}"))
                .call()
                .map_err(Box::new)
        })?;
        ticket = t["ticket"]
            .as_str()
            .context("origin answered without a ticket")?
            .to_string();
        let r = Resume {
            to: client.base.clone(),
            video_id: video_id.clone(),
            ticket: ticket.clone(),
        };
        let tmp = root.join(format!("{STATE_FILE}.tmp"));
        fs::write(&tmp, serde_json::to_vec(&r)?)?;
        fs::rename(&tmp, &state_path)?;
        eprintln!("upcast: upload ticket renewed");
    }
    let auth = format!("Bearer {ticket}");

    let url = format!("{}/api/videos/{video_id}/files", client.base);
    let have = client.call("list files", |a| {
        a.get(&url)
            .set("Authorization", &auth)
            .call()
            .map_err(Box::new)
    })?;
    let remote: HashMap<String, String> = have["files"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| {
                    Some((
                        f["path"].as_str()?.to_string(),
                        f["sha256"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();

    let (mut sent, mut skipped) = (0usize, 0usize);
    for f in &local {
        if remote.get(&f.path) == Some(&f.sha256) {
            skipped += 1;
            continue;
        }
        let bytes = fs::read(&f.file)?;
        let url = format!("{}/api/videos/{video_id}/files/{}", client.base, f.path);
        client.call(&format!("PUT {}", f.path), |a| {
            a.put(&url)
                .set("Authorization", &auth)
                .set("X-Upcast-Sha256", &f.sha256)
                .send_bytes(&bytes)
                .map_err(Box::new)
        })?;
        sent += 1;
    }
    let url = format!("{}/api/videos/{video_id}/publish", client.base);
    let v = client.call("publish", |a| {
        a.post(&url)
            .set("Authorization", &auth)
            .call()
            .map_err(Box::new)
    })?;
    eprintln!(
        "upcast: {sent} files sent, {skipped} already there; state {}",
        v["state"]
    );
    match v["playback_url"].as_str() {
        Some(p) => println!("{}{p}", client.base),
        None => println!("{}/api/videos/{video_id}/playback", client.base),
    }
    Ok(ExitCode::SUCCESS)
}
