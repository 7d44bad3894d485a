//! `upcast upload OUTDIR --to URL [--token T]`: upload a package made by `upcast segment` through the
//! origin's API, skipping what the origin already has, then publish. Interrupted runs resume: the video id
//! and upload ticket are kept in `OUTDIR/.upcast-upload.json`. `--captions LANG[:NAME]=FILE` adds caption
//! files to the published video through the captions API (`PUT /api/videos/{id}/captions/{lang}`).
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use upcast_origin::api_types::{
    CreateVideo, CreatedVideo, DirectFile, DirectUpload, ErrorBody, FileList, PutFileAnswer,
    Ticket, Video, Visibility,
};
use upcast_origin::error::ApiError;
use upcast_origin::paths::{self, FileKind};

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
    /// Caption files added to the video once it is published (`--chapters` belongs to `upcast segment`).
    #[command(flatten)]
    pub text: crate::text_args::TextArgs,
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

/// Upload order: playlists and the MPD first (the package is playable as a growing EVENT stream while it
/// uploads),
/// then init segments, then media segments and text (captions) by name, images and the poster last.
fn order(k: FileKind) -> u8 {
    match k {
        FileKind::Playlist | FileKind::Manifest => 0,
        FileKind::Init => 1,
        FileKind::Segment | FileKind::Text => 2,
        FileKind::Image(_) | FileKind::Poster => 3,
    }
}

struct Client {
    agent: ureq::Agent,
    base: String,
    retries: u32,
}

impl Client {
    /// Run `f` until it succeeds, a non-retryable status comes back, or attempts run out; the answer's body
    /// as `T`, one of the API's types.
    fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        f: impl Fn(&ureq::Agent) -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> anyhow::Result<T> {
        match self.try_call(what, f)? {
            Ok(v) => Ok(v),
            Err((code, body)) => bail!("{what}: HTTP {code} {body}"),
        }
    }

    /// [`Client::call`], with a refusal that retrying cannot change handed back as (status, body).
    fn try_call<T: DeserializeOwned>(
        &self,
        what: &str,
        f: impl Fn(&ureq::Agent) -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> anyhow::Result<Result<T, (u16, String)>> {
        let mut last = String::new();
        for attempt in 0..self.retries.max(1) {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt.min(5)));
            }
            match f(&self.agent).map_err(|e| *e) {
                Ok(r) => {
                    let text = r.into_string().unwrap_or_default();
                    return serde_json::from_str(&text)
                        .map(Ok)
                        .with_context(|| format!("{what}: the answer: {text}"));
                }
                Err(ureq::Error::Status(code, r)) => {
                    let body = r.into_string().unwrap_or_default();
                    // 408, 429 and 5xx other than 507 may pass; other refusals will not.
                    if code == 408 || code == 429 || (code >= 500 && code != 507) {
                        last = format!("{what}: HTTP {code} {body}");
                        continue;
                    }
                    return Ok(Err((code, body)));
                }
                Err(e) => last = format!("{what}: {e}"),
            }
        }
        bail!("{last} (gave up after {} attempts)", self.retries.max(1))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Where an upload stands between runs: `OUTDIR/.upcast-upload.json`.
struct Session {
    root: PathBuf,
    to: String,
    video_id: String,
    ticket: String,
}

impl Session {
    fn state_path(root: &Path) -> PathBuf {
        root.join(STATE_FILE)
    }

    /// The session a previous run against the same origin left, if any.
    fn resume(root: &Path, to: &str) -> Option<Session> {
        let r: Resume = serde_json::from_slice(&fs::read(Self::state_path(root)).ok()?).ok()?;
        (r.to == to).then(|| Session {
            root: root.to_path_buf(),
            to: r.to,
            video_id: r.video_id,
            ticket: r.ticket,
        })
    }

    /// Write the session atomically (a temporary file renamed over the old one).
    fn save(&self) -> anyhow::Result<()> {
        let r = Resume {
            to: self.to.clone(),
            video_id: self.video_id.clone(),
            ticket: self.ticket.clone(),
        };
        let tmp = self.root.join(format!("{STATE_FILE}.tmp"));
        fs::write(&tmp, serde_json::to_vec(&r)?)?;
        fs::rename(&tmp, Self::state_path(&self.root))?;
        Ok(())
    }
}

/// Resume the previous run's video, or create one with the admin token.
fn open_video(
    client: &Client,
    root: &Path,
    token: Option<&str>,
    args: &Args,
) -> anyhow::Result<Session> {
    if let Some(s) = Session::resume(root, &client.base) {
        return Ok(s);
    }
    let admin = token.context("a new video needs --token (admin) or $UPCAST_TOKEN")?;
    let body = serde_json::to_string(&CreateVideo {
        title: args.title.clone(),
        visibility: if args.private {
            Visibility::Private
        } else {
            Visibility::Public
        },
    })?;
    let url = client.url("/api/videos");
    let created: CreatedVideo = client.call("create video", |a| {
        a.post(&url)
            .set("Authorization", &format!("Bearer {admin}"))
            .set("Content-Type", "application/json")
            .send_string(&body)
            .map_err(Box::new)
    })?;
    let s = Session {
        root: root.to_path_buf(),
        to: client.base.clone(),
        video_id: created.video.id,
        ticket: created.upload.ticket,
    };
    s.save()?;
    Ok(s)
}

/// A resumed upload whose ticket has expired gets a new one when an admin token is at hand.
fn renew_ticket_if_expired(
    client: &Client,
    session: &mut Session,
    token: Option<&str>,
) -> anyhow::Result<()> {
    let probe = client
        .agent
        .get(&client.url(&format!("/api/videos/{}", session.video_id)))
        .set("Authorization", &format!("Bearer {}", session.ticket))
        .call();
    let Err(ureq::Error::Status(401, r)) = probe else {
        return Ok(());
    };
    let body = r.into_string().unwrap_or_default();
    let expired = serde_json::from_str::<ErrorBody>(&body)
        .is_ok_and(|e| e.code == ApiError::TicketExpired.code());
    let Some(admin) = token.filter(|_| expired) else {
        bail!("the upload ticket is no longer valid: {body}")
    };
    let url = client.url(&format!("/api/videos/{}/tickets", session.video_id));
    let t: Ticket = client.call("new ticket", |a| {
        a.post(&url)
            .set("Authorization", &format!("Bearer {admin}"))
            .call()
            .map_err(Box::new)
    })?;
    session.ticket = t.ticket;
    session.save()?;
    eprintln!("upcast: upload ticket renewed");
    Ok(())
}

/// Sends one file straight to the origin's bucket: a presigned PUT from the origin, the bytes to the bucket
/// (which checks their SHA-256 and length), then `complete` (the origin reads them back and checks them).
/// Returns false when the origin stores on its own disk (`direct-uploads-off`).
fn send_direct(
    client: &Client,
    video_id: &str,
    auth: &str,
    f: &Local,
    bytes: &[u8],
) -> anyhow::Result<bool> {
    let desc = DirectFile {
        path: f.path.clone(),
        sha256: f.sha256.clone(),
        size: u64::try_from(bytes.len())?,
    };
    let body = serde_json::to_string(&desc)?;
    let presign = client.url(&format!("/api/videos/{video_id}/direct-uploads"));
    let post = |a: &ureq::Agent, url: &str| {
        a.post(url)
            .set("Authorization", auth)
            .send_string(&body)
            .map_err(Box::new)
    };
    let answer: DirectUpload = match client
        .try_call(&format!("presign {}", f.path), |a| post(a, &presign))?
    {
        Ok(answer) => answer,
        Err((409, body)) if body.contains(ApiError::DirectUploadsOff.code()) => return Ok(false),
        Err((code, body)) => bail!("presign {}: HTTP {code} {body}", f.path),
    };
    if answer.stored.is_some() {
        return Ok(true);
    }
    let Some(url) = answer.url else {
        bail!(
            "presign {}: the answer has neither `stored` nor `url`",
            f.path
        );
    };
    // The bucket's answer is XML, not the API's JSON: only its status matters here.
    let _: serde_json::Value = client.call(&format!("send {} to the bucket", f.path), |a| {
        let mut r = a.put(&url);
        for (k, v) in &answer.headers {
            // ureq sends the body's own Content-Length, which the signature pins.
            if !k.eq_ignore_ascii_case("content-length") {
                r = r.set(k, v);
            }
        }
        match r.send_bytes(bytes) {
            Ok(_) => ureq::Response::new(200, "OK", "null").map_err(Box::new),
            Err(e) => Err(Box::new(e)),
        }
    })?;
    let complete = client.url(&format!("/api/videos/{video_id}/direct-uploads/complete"));
    let _: PutFileAnswer = client.call(&format!("complete {}", f.path), |a| post(a, &complete))?;
    Ok(true)
}

/// Send every local file the origin does not already hold with the same bytes: straight to the bucket when
/// the origin's store is one, else through the origin (PUT). Returns (sent, skipped).
fn send_files(
    client: &Client,
    video_id: &str,
    auth: &str,
    local: &[Local],
) -> anyhow::Result<(usize, usize)> {
    let url = client.url(&format!("/api/videos/{video_id}/files"));
    let have: FileList = client.call("list files", |a| {
        a.get(&url)
            .set("Authorization", auth)
            .call()
            .map_err(Box::new)
    })?;
    let remote: HashMap<String, String> =
        have.files.into_iter().map(|f| (f.path, f.sha256)).collect();
    let (mut sent, mut skipped) = (0usize, 0usize);
    let mut direct = true;
    for f in local {
        if remote.get(&f.path) == Some(&f.sha256) {
            skipped += 1;
            continue;
        }
        let bytes = fs::read(&f.file)?;
        if direct && send_direct(client, video_id, auth, f, &bytes)? {
            sent += 1;
            continue;
        }
        // The origin stores on its own disk (or said so once): every file through it.
        direct = false;
        let url = client.url(&format!("/api/videos/{video_id}/files/{}", f.path));
        let _: PutFileAnswer = client.call(&format!("PUT {}", f.path), |a| {
            a.put(&url)
                .set("Authorization", auth)
                .set("X-Upcast-Sha256", &f.sha256)
                .send_bytes(&bytes)
                .map_err(Box::new)
        })?;
        sent += 1;
    }
    Ok((sent, skipped))
}

/// PUT each `--captions` file to the published video; the origin's warnings go to stderr.
fn add_captions(
    client: &Client,
    video_id: &str,
    auth: &str,
    text: &crate::text_args::TextArgs,
) -> anyhow::Result<()> {
    for c in text.inputs(64 << 20)? {
        let url = client.url(&format!("/api/videos/{video_id}/captions/{}", c.lang));
        let answer: upcast_origin::captions::CaptionAnswer =
            client.call(&format!("captions {}", c.lang), |a| {
                a.put(&url)
                    .set("Authorization", auth)
                    .query("name", &c.name)
                    .query("default", &c.default.to_string())
                    .query("forced", &c.forced.to_string())
                    .send_bytes(&c.bytes)
                    .map_err(Box::new)
            })?;
        for w in answer.warnings {
            eprintln!("upcast: {w}");
        }
        eprintln!("upcast: captions {} added", c.lang);
    }
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.text.chapters.is_some() {
        bail!("--chapters goes into the package: `upcast segment --chapters FILE`, then upload");
    }
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

    let mut session = open_video(&client, &root, token.as_deref(), &args)?;
    let video_id = session.video_id.clone();
    eprintln!("upcast: video {video_id}");
    renew_ticket_if_expired(&client, &mut session, token.as_deref())?;
    let auth = format!("Bearer {}", session.ticket);

    let (sent, skipped) = send_files(&client, &video_id, &auth, &local)?;
    let url = client.url(&format!("/api/videos/{video_id}/publish"));
    let video: Video = client.call("publish", |a| {
        a.post(&url)
            .set("Authorization", &auth)
            .call()
            .map_err(Box::new)
    })?;
    eprintln!(
        "upcast: {sent} files sent, {skipped} already there; state {}",
        serde_json::Value::from(video.state.as_str())
    );
    add_captions(&client, &video_id, &auth, &args.text)?;
    match video.playback_url {
        Some(p) => println!("{}{p}", client.base),
        None => println!("{}/api/videos/{video_id}/playback", client.base),
    }
    Ok(ExitCode::SUCCESS)
}
