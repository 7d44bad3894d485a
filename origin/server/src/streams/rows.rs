//! The `streams` and `stream_keys` tables. A stream has at most one current key (a partial unique index);
//! rotated and revoked keys stay as hashes with `revoked_at` so a publisher using one hears `revoked`, not
//! `unknown-key` (the newest [`KEPT_REVOKED`] per stream are kept).
use rusqlite::{params, Connection, OptionalExtension};

use crate::api_types::{PatchStream, Visibility};
use crate::db::now_secs;
use crate::error::ApiResult;

/// Revoked key hashes kept per stream, to tell a publisher its key was revoked.
pub const KEPT_REVOKED: i64 = 20;

/// A stream's row, with whether it has a current key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRow {
    pub id: String,
    pub title: String,
    pub visibility: Visibility,
    pub record: bool,
    pub dvr_window_secs: u32,
    pub created_at: i64,
    pub has_key: bool,
    /// Unix ms: the stream went live and no end was recorded since (set while live).
    pub live_since: Option<i64>,
    /// Unix ms of the last end, and why.
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

const COLS: &str = "s.id, s.title, s.visibility, s.record, s.dvr_window_secs, s.created_at,
    EXISTS (SELECT 1 FROM stream_keys k WHERE k.stream_id = s.id AND k.revoked_at IS NULL),
    s.live_since, s.ended_at, s.end_reason";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StreamRow> {
    Ok(StreamRow {
        id: r.get(0)?,
        title: r.get(1)?,
        visibility: r.get(2)?,
        record: r.get(3)?,
        dvr_window_secs: r.get(4)?,
        created_at: r.get(5)?,
        has_key: r.get(6)?,
        live_since: r.get(7)?,
        ended_at: r.get(8)?,
        end_reason: r.get(9)?,
    })
}

pub fn insert(c: &Connection, row: &StreamRow, key_hash: &str) -> ApiResult<()> {
    c.execute(
        "INSERT INTO streams (id, title, visibility, record, dvr_window_secs, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            row.id,
            row.title,
            row.visibility,
            row.record,
            row.dvr_window_secs,
            row.created_at
        ],
    )?;
    set_key(c, &row.id, Some(key_hash))?;
    Ok(())
}

pub fn get(c: &Connection, id: &str) -> ApiResult<Option<StreamRow>> {
    let sql = format!("SELECT {COLS} FROM streams s WHERE s.id = ?1");
    Ok(c.query_row(&sql, [id], from_row).optional()?)
}

pub fn list(c: &Connection) -> ApiResult<Vec<StreamRow>> {
    let sql = format!("SELECT {COLS} FROM streams s ORDER BY s.created_at, s.id");
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn count(c: &Connection) -> ApiResult<u64> {
    Ok(c.query_row("SELECT COUNT(*) FROM streams", [], |r| r.get(0))?)
}

/// Apply the fields a `PATCH` names (already checked). False when there is no such stream.
pub fn update(c: &Connection, id: &str, p: &PatchStream) -> ApiResult<bool> {
    let n = c.execute(
        "UPDATE streams SET title = COALESCE(?2, title), visibility = COALESCE(?3, visibility),
             record = COALESCE(?4, record), dvr_window_secs = COALESCE(?5, dvr_window_secs)
         WHERE id = ?1",
        params![id, p.title, p.visibility, p.record, p.dvr_window_secs],
    )?;
    Ok(n > 0)
}

/// Delete a stream and its keys (cascade). False when there is no such stream.
pub fn delete(c: &Connection, id: &str) -> ApiResult<bool> {
    Ok(c.execute("DELETE FROM streams WHERE id = ?1", [id])? > 0)
}

/// Revoke the current key (if any) and make `new_hash` current (`None`: no key until the next rotation).
/// Old revoked hashes beyond [`KEPT_REVOKED`] are dropped, oldest first: keys are revoked in the order they
/// were inserted (one current at a time), so `rowid` orders them even within one second. Run it inside a
/// transaction.
pub fn set_key(c: &Connection, id: &str, new_hash: Option<&str>) -> ApiResult<()> {
    let now = now_secs();
    c.execute(
        "UPDATE stream_keys SET revoked_at = ?2 WHERE stream_id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
    if let Some(h) = new_hash {
        c.execute(
            "INSERT INTO stream_keys (hash, stream_id, created_at) VALUES (?1, ?2, ?3)",
            params![h, id, now],
        )?;
    }
    c.execute(
        "DELETE FROM stream_keys WHERE stream_id = ?1 AND revoked_at IS NOT NULL AND hash NOT IN
            (SELECT hash FROM stream_keys WHERE stream_id = ?1 AND revoked_at IS NOT NULL
             ORDER BY rowid DESC LIMIT ?2)",
        params![id, KEPT_REVOKED],
    )?;
    Ok(())
}

/// What a stream key's hash names.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyLookup {
    Current(StreamRow),
    Revoked,
    Unknown,
}

pub fn by_key(c: &Connection, hash: &str) -> ApiResult<KeyLookup> {
    let found: Option<(String, Option<i64>)> = c
        .query_row(
            "SELECT stream_id, revoked_at FROM stream_keys WHERE hash = ?1",
            [hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match found {
        None => KeyLookup::Unknown,
        Some((_, Some(_))) => KeyLookup::Revoked,
        Some((id, None)) => get(c, &id)?.map_or(KeyLookup::Unknown, KeyLookup::Current),
    })
}

/// The stream went live at `ms` (a crash before its end shows as `ended`, `origin-restarted`, next start).
pub fn record_live(c: &Connection, id: &str, ms: i64) -> ApiResult<()> {
    c.execute(
        "UPDATE streams SET live_since = ?2 WHERE id = ?1",
        params![id, ms],
    )?;
    Ok(())
}

/// The stream ended at `ms` for `reason`.
pub fn record_end(c: &Connection, id: &str, ms: i64, reason: Option<&str>) -> ApiResult<()> {
    c.execute(
        "UPDATE streams SET live_since = NULL, ended_at = ?2, end_reason = ?3 WHERE id = ?1",
        params![id, ms, reason],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    /// Rotations keep one current key and at most [`KEPT_REVOKED`] revoked hashes; the newest are kept.
    #[test]
    fn rotation_keeps_a_bounded_history() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.run_now(|c| {
            let row = StreamRow {
                id: "s".into(),
                title: String::new(),
                visibility: Visibility::Public,
                record: false,
                dvr_window_secs: 60,
                created_at: 0,
                has_key: true,
                live_since: None,
                ended_at: None,
                end_reason: None,
            };
            insert(c, &row, "k0")?;
            for i in 1..=30 {
                set_key(c, "s", Some(&format!("k{i}")))?;
            }
            let n: i64 = c.query_row("SELECT COUNT(*) FROM stream_keys", [], |r| r.get(0))?;
            assert_eq!(n, KEPT_REVOKED + 1);
            assert_eq!(by_key(c, "k30")?, KeyLookup::Current(get(c, "s")?.unwrap()));
            assert_eq!(by_key(c, "k29")?, KeyLookup::Revoked);
            assert_eq!(by_key(c, "k0")?, KeyLookup::Unknown);
            set_key(c, "s", None)?;
            assert_eq!(by_key(c, "k30")?, KeyLookup::Revoked);
            assert!(!get(c, "s")?.unwrap().has_key);
            Ok(())
        })
        .unwrap();
    }
}
