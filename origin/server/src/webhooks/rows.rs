//! The webhooks' rows: the registered webhooks (with their secrets), the events waiting or delivered, one
//! delivery per (webhook, event) with its state and next due time, and the log of attempts. The queue is
//! these rows: it survives a restart, and an attempt cut off by a stop is made again (at least once).
use rusqlite::{params, Connection, OptionalExtension};

use crate::api_types::{DeliveryAttempt, Webhook, WebhookEvent};
use crate::db::now_secs;
use crate::error::ApiResult;

/// A delivery whose next attempt is due.
#[derive(Clone, Debug)]
pub struct Due {
    pub delivery_id: i64,
    /// Attempts already made.
    pub attempts: u32,
    pub url: String,
    pub secret: String,
    pub body: String,
}

fn webhook_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    let events: String = r.get(2)?;
    Ok(Webhook {
        id: r.get(0)?,
        url: r.get(1)?,
        events: events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        created_at: r.get(3)?,
    })
}

pub fn insert(c: &Connection, w: &Webhook, secret: &str) -> ApiResult<()> {
    c.execute(
        "INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![w.id, w.url, w.events.join(","), secret, w.created_at],
    )?;
    Ok(())
}

pub fn list(c: &Connection) -> ApiResult<Vec<Webhook>> {
    let mut st =
        c.prepare("SELECT id, url, events, created_at FROM webhooks ORDER BY created_at, id")?;
    let rows = st.query_map([], webhook_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Connection, id: &str) -> ApiResult<Option<Webhook>> {
    Ok(c.query_row(
        "SELECT id, url, events, created_at FROM webhooks WHERE id = ?1",
        [id],
        webhook_from_row,
    )
    .optional()?)
}

/// Delete a webhook; its deliveries and their attempts go with it.
pub fn delete(c: &Connection, id: &str) -> ApiResult<bool> {
    let n = c.execute("DELETE FROM webhooks WHERE id = ?1", [id])?;
    c.execute(
        "DELETE FROM webhook_events WHERE NOT EXISTS
           (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
        [],
    )?;
    Ok(n > 0)
}

/// Queue `event` (its JSON `body`) for every webhook that wants its type, due at `now_ms`. Returns the
/// deliveries queued (none: the event is not stored).
pub fn enqueue(
    c: &mut Connection,
    event: &WebhookEvent,
    body: &str,
    now_ms: i64,
) -> ApiResult<usize> {
    let tx = c.transaction()?;
    let targets: Vec<String> = list(&tx)?
        .into_iter()
        .filter(|w| w.events.is_empty() || w.events.contains(&event.kind))
        .map(|w| w.id)
        .collect();
    if targets.is_empty() {
        return Ok(0);
    }
    tx.execute(
        "INSERT INTO webhook_events (id, type, created_at, body) VALUES (?1, ?2, ?3, ?4)",
        params![event.id, event.kind, event.created_at, body],
    )?;
    for w in &targets {
        tx.execute(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, state, next_at_ms, updated_at)
             VALUES (?1, ?2, 'pending', ?3, ?4)",
            params![w, event.id, now_ms, now_secs()],
        )?;
    }
    tx.commit()?;
    Ok(targets.len())
}

/// Pending deliveries due at `now_ms`, oldest first, at most `limit`.
pub fn due(c: &Connection, now_ms: i64, limit: usize) -> ApiResult<Vec<Due>> {
    let mut st = c.prepare(
        "SELECT d.id, d.attempts, w.url, w.secret, e.body
           FROM webhook_deliveries d
           JOIN webhooks w ON w.id = d.webhook_id
           JOIN webhook_events e ON e.id = d.event_id
          WHERE d.state = 'pending' AND d.next_at_ms <= ?1
          ORDER BY d.next_at_ms, d.id LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = st.query_map(params![now_ms, limit], |r| {
        Ok(Due {
            delivery_id: r.get(0)?,
            attempts: r.get(1)?,
            url: r.get(2)?,
            secret: r.get(3)?,
            body: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the next pending delivery not yet due at `now_ms` falls due (unix milliseconds).
pub fn next_due_after(c: &Connection, now_ms: i64) -> ApiResult<Option<i64>> {
    Ok(c.query_row(
        "SELECT MIN(next_at_ms) FROM webhook_deliveries WHERE state = 'pending' AND next_at_ms > ?1",
        [now_ms],
        |r| r.get(0),
    )?)
}

/// What one attempt found, and what the delivery becomes.
pub struct Attempted<'a> {
    pub delivery_id: i64,
    pub attempt: u32,
    pub status_code: Option<u16>,
    pub error: Option<&'a str>,
    /// `pending` (then `next_at_ms` is the next attempt), `delivered` or `failed`.
    pub state: &'static str,
    pub next_at_ms: i64,
}

pub fn record(c: &mut Connection, a: &Attempted<'_>) -> ApiResult<()> {
    let tx = c.transaction()?;
    // The webhook may have been deleted during the attempt: then there is nothing left to record.
    let n = tx.execute(
        "UPDATE webhook_deliveries SET state = ?2, attempts = ?3, next_at_ms = ?4, updated_at = ?5
          WHERE id = ?1",
        params![a.delivery_id, a.state, a.attempt, a.next_at_ms, now_secs()],
    )?;
    if n > 0 {
        tx.execute(
            "INSERT OR REPLACE INTO webhook_attempts (delivery_id, attempt, status_code, error, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![a.delivery_id, a.attempt, a.status_code, a.error, now_secs()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The latest attempts to deliver to webhook `id`, newest first.
pub fn attempts(c: &Connection, id: &str, limit: usize) -> ApiResult<Vec<DeliveryAttempt>> {
    let mut st = c.prepare(
        "SELECT e.id, e.type, a.attempt, a.status_code, a.error, a.at, d.state
           FROM webhook_attempts a
           JOIN webhook_deliveries d ON d.id = a.delivery_id
           JOIN webhook_events e ON e.id = d.event_id
          WHERE d.webhook_id = ?1
          ORDER BY a.at DESC, d.id DESC, a.attempt DESC LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = st.query_map(params![id, limit], |r| {
        Ok(DeliveryAttempt {
            event_id: r.get(0)?,
            kind: r.get(1)?,
            attempt: r.get(2)?,
            status_code: r.get(3)?,
            error: r.get(4)?,
            at: r.get(5)?,
            delivery: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Forget finished deliveries last touched before `before` (unix seconds), and events left with none.
pub fn prune(c: &Connection, before: i64) -> ApiResult<usize> {
    let n = c.execute(
        "DELETE FROM webhook_deliveries WHERE state != 'pending' AND updated_at < ?1",
        [before],
    )?;
    c.execute(
        "DELETE FROM webhook_events WHERE NOT EXISTS
           (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
        [],
    )?;
    Ok(n)
}
