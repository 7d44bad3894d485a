//! The catalog of published videos, also kept in a shared store (a bucket): one manifest object per
//! published video, `manifests/{id}.json` — its title, visibility, times and every file's path, SHA-256
//! and size. Any number of read-only origins serve from these, and an origin with an empty database
//! rebuilds its catalog from them (`upcast serve --recover-from-store`).
//!
//! The writer puts a video's manifest after the video is `ready` in its own database (publish, ingest,
//! recording), and again at start-up for any ready video whose manifest is missing (a write that failed).
//! It deletes the manifest before the video's objects when the video is deleted.
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::api_types::{StoredFile, Visibility};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::store::{PutIf, Store};

pub const PREFIX: &str = "manifests/";
/// The manifest format; a reader refuses others (a newer writer's) rather than guess.
pub const VERSION: u32 = 1;
/// A manifest larger than this is refused when read (a video holds at most 20 000 files by default).
pub const MAX_MANIFEST_BYTES: usize = 16 << 20;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub version: u32,
    pub id: String,
    pub title: String,
    pub visibility: Visibility,
    pub created_at: i64,
    pub published_at: Option<i64>,
    /// A live stream's recording: the stream it was recorded from. Absent from manifests written before
    /// recordings named their stream (and for other videos); the format version is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
    pub files: Vec<StoredFile>,
}

pub fn name(video_id: &str) -> String {
    format!("{PREFIX}{video_id}.json")
}

/// The manifest of a ready video, from the database; None when the video is not (or no longer) ready.
pub fn from_db(c: &Connection, video_id: &str) -> ApiResult<Option<Manifest>> {
    let Some(v) = db::video(c, video_id)? else {
        return Ok(None);
    };
    if !v.is_ready() {
        return Ok(None);
    }
    Ok(Some(Manifest {
        version: VERSION,
        id: v.id,
        title: v.title,
        visibility: v.visibility,
        created_at: v.created_at,
        published_at: v.published_at,
        stream_id: v.stream_id,
        files: db::files(c, video_id)?,
    }))
}

/// Writes `video_id`'s manifest when the store is shared and the video is ready (blocking).
pub fn write(store: &dyn Store, db: &db::Db, video_id: &str) -> ApiResult<()> {
    if !store.shared() {
        return Ok(());
    }
    let Some(m) = db.run_now(|c| from_db(c, video_id))? else {
        return Ok(());
    };
    let bytes = serde_json::to_vec(&m).map_err(|e| ApiError::Internal(e.to_string()))?;
    store
        .put_blob(&name(video_id), &bytes, PutIf::Always)
        .map_err(ApiError::from_io)?;
    Ok(())
}

/// Reads and checks one manifest; None when absent.
pub fn read(store: &dyn Store, video_id: &str) -> ApiResult<Option<Manifest>> {
    let Some((bytes, _)) = store.get_blob(&name(video_id)).map_err(ApiError::from_io)? else {
        return Ok(None);
    };
    parse(video_id, &bytes).map(Some)
}

/// A manifest's JSON, checked: the format version, the id it is filed under, every path and digest.
pub fn parse(video_id: &str, bytes: &[u8]) -> ApiResult<Manifest> {
    let bad = |why: String| ApiError::Internal(format!("manifest of {video_id}: {why}"));
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(bad(format!("{} bytes, over the limit", bytes.len())));
    }
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if m.version != VERSION {
        return Err(bad(format!(
            "version {}, this origin reads {VERSION}",
            m.version
        )));
    }
    if m.id != video_id {
        return Err(bad(format!("names video {:?}", m.id)));
    }
    crate::paths::check_video_id(&m.id).map_err(|e| bad(e.to_string()))?;
    if let Some(s) = &m.stream_id {
        crate::paths::check_video_id(s).map_err(|e| bad(format!("stream_id: {e}")))?;
    }
    for f in &m.files {
        crate::paths::check(&f.path).map_err(|e| bad(e.to_string()))?;
        if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("{}: {:?} is not a SHA-256", f.path, f.sha256)));
        }
    }
    Ok(m)
}

/// Records a manifest's video as ready with its files, unless the database already has that video.
/// Returns whether it was added.
pub fn import(c: &mut Connection, m: &Manifest) -> ApiResult<bool> {
    let tx = c.transaction()?;
    if db::video(&tx, &m.id)?.is_some() {
        return Ok(false);
    }
    db::insert_published(&tx, m)?;
    tx.commit()?;
    Ok(true)
}

/// The ids of every manifest in the store.
pub fn list(store: &dyn Store) -> ApiResult<Vec<String>> {
    let names = store.list_blobs(PREFIX).map_err(ApiError::from_io)?;
    Ok(names
        .iter()
        .filter_map(|n| n.strip_prefix(PREFIX)?.strip_suffix(".json"))
        .map(str::to_string)
        .collect())
}

/// What a catalog rebuild did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    pub imported: usize,
    pub present: usize,
    /// Manifests that could not be read or were refused (each logged).
    pub refused: usize,
}

/// Imports every manifest in the store that the database lacks (blocking).
pub fn recover(store: &dyn Store, db: &db::Db) -> ApiResult<Recovered> {
    let mut out = Recovered::default();
    for id in list(store)? {
        let m = match read(store, &id) {
            Ok(Some(m)) => m,
            Ok(None) => continue, // Deleted meanwhile.
            Err(e) => {
                eprintln!("upcast: recover: {id}: {e}");
                out.refused += 1;
                continue;
            }
        };
        if db.run_now(|c| import(c, &m))? {
            out.imported += 1;
        } else {
            out.present += 1;
        }
    }
    Ok(out)
}

/// Imports the manifests of the videos the database lacks, reading only those (a read-only origin's poll:
/// one listing, and one GET per video published since). Returns how many it imported; a manifest that
/// cannot be read is logged and tried again next time.
pub fn import_new(store: &dyn Store, db: &db::Db) -> ApiResult<usize> {
    let ids = list(store)?;
    let missing: Vec<String> = db.run_now(|c| {
        let mut out = Vec::new();
        for id in &ids {
            if db::video(c, id)?.is_none() {
                out.push(id.clone());
            }
        }
        Ok(out)
    })?;
    let mut imported = 0;
    for id in missing {
        match read(store, &id) {
            Ok(Some(m)) => {
                if db.run_now(|c| import(c, &m))? {
                    imported += 1;
                }
            }
            Ok(None) => {} // Deleted meanwhile.
            Err(e) => eprintln!("upcast: catalog poll: {id}: {e}"),
        }
    }
    Ok(imported)
}

/// Writes the manifest of every ready video that has none (a write that failed after a publish).
pub fn reconcile(store: &dyn Store, db: &db::Db) -> ApiResult<usize> {
    if !store.shared() {
        return Ok(0);
    }
    let have: std::collections::HashSet<String> = list(store)?.into_iter().collect();
    let ready: Vec<String> = db.run_now(|c| {
        Ok(db::videos(c, None)?
            .into_iter()
            .filter(|v| v.is_ready() && !have.contains(&v.id))
            .map(|v| v.id)
            .collect())
    })?;
    for id in &ready {
        write(store, db, id)?;
    }
    Ok(ready.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            version: VERSION,
            id: "abcdefghijklmnop".into(),
            title: "t".into(),
            visibility: Visibility::Private,
            created_at: 1,
            published_at: Some(2),
            stream_id: None,
            files: vec![StoredFile {
                path: "master.m3u8".into(),
                sha256: "a".repeat(64),
                size: 10,
            }],
        }
    }

    #[test]
    fn refuses_manifests_it_cannot_trust() {
        let m = sample();
        let ok = serde_json::to_vec(&m).unwrap();
        assert_eq!(parse(&m.id, &ok).unwrap(), m);
        assert!(parse("qrstuvwxyz012345", &ok).is_err());
        let mut newer = m.clone();
        newer.version = 2;
        assert!(parse(&m.id, &serde_json::to_vec(&newer).unwrap()).is_err());
        let mut evil = m.clone();
        evil.files[0].path = "../../etc/passwd".into();
        assert!(parse(&m.id, &serde_json::to_vec(&evil).unwrap()).is_err());
        let mut recorded = m.clone();
        recorded.stream_id = Some("qrstuvwxyz012345".into());
        let json = serde_json::to_vec(&recorded).unwrap();
        assert_eq!(parse(&m.id, &json).unwrap(), recorded);
        assert!(
            !String::from_utf8_lossy(&ok).contains("stream_id"),
            "absent when None"
        );
        recorded.stream_id = Some("../x".into());
        assert!(parse(&m.id, &serde_json::to_vec(&recorded).unwrap()).is_err());
        let mut bad_sha = m;
        bad_sha.files[0].sha256 = "zz".into();
        assert!(parse(&bad_sha.id, &serde_json::to_vec(&bad_sha).unwrap()).is_err());
    }
}
