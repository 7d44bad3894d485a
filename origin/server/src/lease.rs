//! One writer per shared store. Uploads, publishes and deletes go through one origin: the one holding the
//! writer lease, an object `writer-lease.json` in the bucket naming its holder and when the lease ends.
//!
//! Taking it is a conditional write, so two origins starting together cannot both win: create it only if
//! absent (`If-None-Match: *`), or replace an expired one only if it is still the version read
//! (`If-Match: ETAG`). The holder renews it every [`TTL`]/3 the same way; when a renewal finds another
//! holder, or the lease runs out before a renewal gets through, the process exits (it may no longer
//! write). A restarted writer with the same data directory is the same holder (its id is kept in
//! `DATA/writer-id`) and takes its lease back at once; another must wait for it to expire. Origins that
//! only serve run with `--read-only` and take no lease.
use std::path::Path;
use std::sync::Arc;
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
    let lease = Lease {
        holder: holder.to_string(),
        data_dir: data_dir.display().to_string(),
        expires_at: now_secs() + ttl_secs(),
    };
    serde_json::to_vec(&lease).unwrap_or_default()
}

/// Takes the writer lease, or says who holds it; on success keeps renewing it on a thread for as long as
/// the process lives.
pub fn acquire(store: &Arc<dyn Store>, data_dir: &Path) -> Result<(), String> {
    let me = holder_id(data_dir)?;
    let tag = take(store.as_ref(), &me, data_dir)?;
    renew_forever(store.clone(), me, data_dir.to_path_buf(), tag);
    Ok(())
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

fn renew_forever(store: Arc<dyn Store>, me: String, data_dir: std::path::PathBuf, tag: String) {
    std::thread::spawn(move || {
        let mut tag = tag;
        let mut good_until = now_secs() + ttl_secs();
        loop {
            std::thread::sleep(TTL / 3);
            match store.put_blob(NAME, &body(&me, &data_dir), PutIf::Matches(tag.clone())) {
                Ok(Some(t)) => {
                    tag = t;
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
