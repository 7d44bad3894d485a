//! One writer per shared store. Uploads, publishes and deletes go through one origin: the one holding the
//! writer lease, an object `writer-lease.json` in the bucket naming its holder and when the lease ends.
//!
//! Taking it is a conditional write, so two origins starting together cannot both win: create it only if
//! absent (`If-None-Match: *`), or replace an expired one only if it is still the version read
//! (`If-Match: ETAG`). The holder renews it every [`TTL`]/3 the same way; when a renewal finds another
//! holder, or the lease runs out before a renewal gets through, the process exits (it may no longer
//! write). A restarted writer with the same data directory is the same holder (its id is kept in
//! `DATA/writer-id`) and takes its lease back at once; another must wait for it to expire. Origins that
//! only serve run with `--read-only` and take no lease. A writer stopped by SIGTERM or SIGINT gives its
//! lease up on the way out ([`Held::release`]: the lease rewritten as already expired, only if it is still
//! this holder's version), so a new writer can start at once instead of waiting out the [`TTL`].
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::db::now_secs;
use crate::store::{PutIf, Store};

pub const NAME: &str = "writer-lease.json";
/// How long a lease lasts without renewal.
pub const TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Lease {
    holder: String,
    /// Where the holder keeps its database, to tell an operator which origin it is.
    data_dir: String,
    expires_at: i64,
}

fn ttl_secs() -> i64 {
    i64::try_from(TTL.as_secs()).unwrap_or(30)
}

/// This data directory's holder id, made on first use.
fn holder_id(data_dir: &Path) -> Result<String, String> {
    let p = data_dir.join("writer-id");
    match std::fs::read_to_string(&p) {
        Ok(s) if s.trim().len() == 32 => return Ok(s.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", p.display())),
    }
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| e.to_string())?;
    let id = hex::encode(b);
    std::fs::write(&p, &id).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(id)
}

fn body(holder: &str, data_dir: &Path) -> Vec<u8> {
    body_until(holder, data_dir, now_secs() + ttl_secs())
}

fn body_until(holder: &str, data_dir: &Path, expires_at: i64) -> Vec<u8> {
    let lease = Lease {
        holder: holder.to_string(),
        data_dir: data_dir.display().to_string(),
        expires_at,
    };
    serde_json::to_vec(&lease).unwrap_or_default()
}

/// The lease this process holds: renewed on a thread until [`Held::release`].
pub struct Held {
    store: Arc<dyn Store>,
    me: String,
    data_dir: PathBuf,
    /// The version last written (None once released). Renewal and release take it in turn, so a release
    /// never races a renewal into writing a live lease back.
    tag: Mutex<Option<String>>,
}

impl Held {
    /// Gives the lease up: rewrites it as expired, only if it is still the version this holder wrote (a
    /// lease another origin took meanwhile is left alone). Renewal stops. Returns whether it was released.
    pub fn release(&self) -> Result<bool, String> {
        let mut tag = self.tag.lock().unwrap_or_else(|p| p.into_inner());
        let Some(t) = tag.take() else {
            return Ok(false);
        };
        let gone = body_until(&self.me, &self.data_dir, 0);
        self.store
            .put_blob(NAME, &gone, PutIf::Matches(t))
            .map(|v| v.is_some())
            .map_err(|e| format!("writer lease: release: {e}"))
    }
}

/// Takes the writer lease, or says who holds it; on success keeps renewing it on a thread until the
/// process ends or the returned lease is released.
pub fn acquire(store: &Arc<dyn Store>, data_dir: &Path) -> Result<Arc<Held>, String> {
    let me = holder_id(data_dir)?;
    let tag = take(store.as_ref(), &me, data_dir)?;
    let held = Arc::new(Held {
        store: store.clone(),
        me,
        data_dir: data_dir.to_path_buf(),
        tag: Mutex::new(Some(tag)),
    });
    renew_until_released(held.clone());
    Ok(held)
}

/// One attempt at taking the lease: the new version's tag.
fn take(store: &dyn Store, me: &str, data_dir: &Path) -> Result<String, String> {
    let err = |e: std::io::Error| format!("writer lease: {e}");
    let put = |when: PutIf| store.put_blob(NAME, &body(me, data_dir), when).map_err(err);
    if let Some(tag) = put(PutIf::Absent)? {
        return Ok(tag);
    }
    let Some((bytes, tag)) = store.get_blob(NAME).map_err(err)? else {
        // Released between the two requests: try once more from the start.
        return put(PutIf::Absent)?.ok_or_else(|| "writer lease: taken meanwhile".to_string());
    };
    let held: Option<Lease> = serde_json::from_slice(&bytes).ok();
    // An unreadable lease counts as expired: it holds nothing.
    if let Some(l) = held.filter(|l| l.holder != me && l.expires_at >= now_secs()) {
        return Err(format!(
            "another origin ({}) is the writer of this store until its lease ends in {} s; \
             run this one with --read-only, or stop the other",
            l.data_dir,
            l.expires_at - now_secs()
        ));
    }
    put(PutIf::Matches(tag))?
        .ok_or_else(|| "writer lease: another origin took it at the same moment".to_string())
}

fn renew_until_released(held: Arc<Held>) {
    std::thread::spawn(move || {
        let mut good_until = now_secs() + ttl_secs();
        loop {
            std::thread::sleep(TTL / 3);
            let mut tag = held.tag.lock().unwrap_or_else(|p| p.into_inner());
            let Some(t) = tag.clone() else {
                return; // released
            };
            let next = body(&held.me, &held.data_dir);
            match held.store.put_blob(NAME, &next, PutIf::Matches(t)) {
                Ok(Some(t)) => {
                    *tag = Some(t);
                    good_until = now_secs() + ttl_secs();
                }
                Ok(None) => {
                    eprintln!("upcast: another origin took the writer lease: stopping");
                    std::process::exit(75);
                }
                Err(e) if now_secs() >= good_until => {
                    eprintln!("upcast: the writer lease ran out unrenewed ({e}): stopping");
                    std::process::exit(75);
                }
                Err(e) => eprintln!("upcast: writer lease renewal: {e}; trying again"),
            }
        }
    });
}
