//! Spool bytes counted against the quotas while they are written. Every upload holds a [`Reservation`]
//! that grows before bytes reach the disk (or is taken in full up front when the size is declared). A
//! reservation is checked against the video's and the total quota together with the stored bytes and every
//! other live reservation, and released when it is dropped: after the commit transaction recorded the row
//! (the row counts from then on), or with the spool when the upload fails.
//!
//! Consistency: a reservation grows only while the caller holds the metadata lock (it is handed the
//! connection), and a committed upload drops its reservation inside the same lock hold, after the row is
//! written. So no check ever sees the bytes neither as reserved nor as stored; it may see them as both for
//! a moment, which errs on the side of refusing.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::db::{self, Quota};
use crate::error::{ApiError, ApiResult};

#[derive(Default)]
struct Totals {
    all: u64,
    per_video: HashMap<String, u64>,
}

/// Every live reservation, shared by all workers.
#[derive(Default)]
pub struct Reservations {
    totals: Mutex<Totals>,
}

impl Reservations {
    /// An empty reservation for a body that will be stored under `video` (or under no video yet, like an
    /// ingest's source file: it counts against the total quota only).
    pub fn start(self: &Arc<Self>, video: Option<&str>) -> Reservation {
        Reservation {
            table: self.clone(),
            video: video.map(str::to_string),
            bytes: 0,
        }
    }

    /// Bytes reserved in total and for `video` (for tests and the status of a running server).
    pub fn reserved(&self, video: Option<&str>) -> (u64, u64) {
        let t = self.totals.lock().unwrap_or_else(|p| p.into_inner());
        let v = video.and_then(|v| t.per_video.get(v)).copied().unwrap_or(0);
        (t.all, v)
    }
}

/// Bytes held for one upload's spool. Dropping it releases them.
pub struct Reservation {
    table: Arc<Reservations>,
    video: Option<String>,
    bytes: u64,
}

impl Reservation {
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Grow the reservation to `to` bytes if the quotas leave room for it next to what is stored and what
    /// every other upload holds. `c` is the metadata connection: the caller holds the metadata lock.
    pub fn grow(&mut self, c: &Connection, to: u64, quota: &Quota) -> ApiResult<()> {
        if to <= self.bytes {
            return Ok(());
        }
        let stored_total = db::total_bytes(c)?;
        let stored_video = match &self.video {
            Some(v) => db::video_bytes(c, v)?.1,
            None => 0,
        };
        let more = to - self.bytes;
        let mut t = self.table.totals.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = &self.video {
            let held = t.per_video.get(v).copied().unwrap_or(0);
            if stored_video.saturating_add(held).saturating_add(more) > quota.max_video_bytes {
                return Err(ApiError::QuotaExceeded(format!(
                    "this video would hold more than {} bytes (stored and being uploaded)",
                    quota.max_video_bytes
                )));
            }
        }
        if stored_total.saturating_add(t.all).saturating_add(more) > quota.max_total_bytes {
            return Err(ApiError::QuotaExceeded(format!(
                "the origin would hold more than {} bytes (stored and being uploaded)",
                quota.max_total_bytes
            )));
        }
        t.all += more;
        if let Some(v) = &self.video {
            *t.per_video.entry(v.clone()).or_insert(0) += more;
        }
        self.bytes = to;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut t = self.table.totals.lock().unwrap_or_else(|p| p.into_inner());
        t.all = t.all.saturating_sub(self.bytes);
        if let Some(v) = &self.video {
            if let Some(n) = t.per_video.get_mut(v) {
                *n = n.saturating_sub(self.bytes);
                if *n == 0 {
                    t.per_video.remove(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_types::Visibility;

    fn conn() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = db::Db::open(&dir.path().join("t.db")).unwrap();
        db.run_now(|c| {
            db::create_video(c, "v1", "t", Visibility::Public)?;
            db::create_video(c, "v2", "t", Visibility::Public)
        })
        .unwrap();
        // A second connection to the same file: the test needs a plain `Connection`.
        let c = Connection::open(dir.path().join("t.db")).unwrap();
        (dir, c)
    }

    fn quota(video: u64, total: u64) -> Quota {
        Quota {
            max_video_bytes: video,
            max_total_bytes: total,
            max_files_per_video: 100,
        }
    }

    #[test]
    fn reservations_share_the_quotas_and_release_on_drop() {
        let (_dir, c) = conn();
        let t = Arc::new(Reservations::default());
        let q = quota(100, 150);
        let mut a = t.start(Some("v1"));
        let mut b = t.start(Some("v1"));
        let mut other = t.start(Some("v2"));
        a.grow(&c, 60, &q).unwrap();
        // The video's quota counts every upload to it.
        assert_eq!(b.grow(&c, 41, &q).unwrap_err().code(), "quota-exceeded");
        b.grow(&c, 40, &q).unwrap();
        // The total quota counts every video.
        assert_eq!(other.grow(&c, 51, &q).unwrap_err().code(), "quota-exceeded");
        other.grow(&c, 50, &q).unwrap();
        assert_eq!(t.reserved(Some("v1")), (150, 100));
        drop(a);
        assert_eq!(t.reserved(Some("v1")), (90, 40));
        drop((b, other));
        assert_eq!(t.reserved(Some("v1")), (0, 0));
    }
}
