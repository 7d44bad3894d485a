//! Changes to the schema of a database made by an earlier version, applied in order at open. The
//! database's `user_version` counts the migrations it has had; [`crate::db`]'s `SCHEMA` is the first
//! version's tables (created if absent), and each step here is one later change, run once, in the same
//! transaction as the version bump (a crash leaves the database before or after the step, never halfway).
use rusqlite::{Connection, TransactionBehavior};

/// The steps, oldest first: step `k` takes a database from version `k` to `k + 1`.
const STEPS: &[&str] = &[
    // 1: a recording names the live stream it was recorded from (`GET /api/videos?stream=`). No foreign
    // key: a recording outlives its stream, and still names where it came from.
    "ALTER TABLE videos ADD COLUMN stream_id TEXT;
     CREATE INDEX IF NOT EXISTS videos_by_stream ON videos (stream_id) WHERE stream_id IS NOT NULL;",
];

/// The version a database has once every step ran.
pub const LATEST: usize = STEPS.len();

fn refused(why: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(why),
    )
}

/// The steps the database has had (`PRAGMA user_version`, 0 for a new or first-version database).
fn version(c: &Connection) -> rusqlite::Result<usize> {
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    usize::try_from(v).map_err(|_| refused(format!("the database's schema version is {v}")))
}

/// Refuse a database that a newer build has migrated further than this one knows, before anything
/// (the first version's tables included) is written to it.
pub fn refuse_newer(c: &Connection) -> rusqlite::Result<()> {
    let v = version(c)?;
    if v > LATEST {
        return Err(refused(format!(
            "the database is at schema version {v}; this upcast knows versions up to {LATEST}"
        )));
    }
    Ok(())
}

/// Bring `c` (with the first version's tables) to [`LATEST`].
pub fn run(c: &mut Connection) -> rusqlite::Result<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    refuse_newer(&tx)?;
    for step in &STEPS[version(&tx)?..] {
        tx.execute_batch(step)?;
    }
    // PRAGMA takes no bound parameters; LATEST is a constant of this build.
    tx.execute_batch(&format!("PRAGMA user_version = {LATEST}"))?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made by the first version (no `stream_id`, version 0) with a video in it opens, gains
    /// the column (the old video's is NULL) and is at the latest version; opening again changes nothing.
    #[test]
    fn a_first_version_database_gains_the_stream_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE videos (id TEXT PRIMARY KEY, title TEXT NOT NULL,
                     visibility TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
                     published_at INTEGER);
                 INSERT INTO videos (id, title, visibility, state, created_at)
                     VALUES ('old', 't', 'public', 'ready', 1);",
            )
            .unwrap();
        }
        for _ in 0..2 {
            let db = crate::db::Db::open(&path).unwrap();
            db.run_now(|c| {
                assert_eq!(version(c)?, LATEST);
                let row = crate::db::video(c, "old")?.unwrap();
                assert_eq!(row.stream_id, None);
                Ok(())
            })
            .unwrap();
        }
    }

    /// A database from a newer build is refused, not changed.
    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!("PRAGMA user_version = {}", LATEST + 1))
                .unwrap();
        }
        let err = crate::db::Db::open(&path).err().expect("refused");
        assert!(err.to_string().contains("schema version"), "{err}");
        let c = Connection::open(&path).unwrap();
        assert_eq!(version(&c).unwrap(), LATEST + 1);
        let tables: i64 = c
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0, "nothing was created in it");
    }
}
