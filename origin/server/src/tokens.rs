//! Scoped API tokens (`/api/tokens`, admin only): an app holds a token with the scopes it needs instead of
//! the admin token. The token is shown once at creation; the database keeps its SHA-256, its name, its
//! scopes (space-separated), when it was made and when it was last used (updated at most once a minute).
use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::{params, Connection, OptionalExtension};

use super::api_types::{ApiToken, CreateToken, CreatedToken, FromText, Scope, TokenList};
use super::auth::{hash_token, random_token, Action};
use super::db::now_secs;
use super::error::{ApiError, ApiResult};
use super::upload::small_body;
use super::videos::new_id;
use super::AppState;

/// Tokens the origin holds at most.
pub const MAX_TOKENS: u64 = 1000;
/// `last_used_at` is written when it is older than this (not on every request).
const TOUCH_EVERY_SECS: i64 = 60;

fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Unknown words (written by a newer version) grant nothing.
fn scopes_from_text(s: &str) -> Vec<Scope> {
    s.split(' ').filter_map(Scope::from_text).collect()
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: scopes_from_text(&r.get::<_, String>(2)?),
        created_at: r.get(3)?,
        last_used_at: r.get(4)?,
    })
}

/// The token with this hash, as (id, scopes), noting its use.
pub fn authenticate(c: &Connection, hash: &str) -> ApiResult<Option<(String, Vec<Scope>)>> {
    let found: Option<(String, String, Option<i64>)> = c
        .query_row(
            "SELECT id, scopes, last_used_at FROM api_tokens WHERE hash = ?1",
            [hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, scopes, last)) = found else {
        return Ok(None);
    };
    let now = now_secs();
    if last.is_none_or(|t| now - t >= TOUCH_EVERY_SECS) {
        c.execute(
            "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    Ok(Some((id, scopes_from_text(&scopes))))
}

fn check(body: &CreateToken) -> ApiResult<()> {
    if body.name.trim().is_empty()
        || body.name.len() > 200
        || body.name.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(
            "name: 1 to 200 bytes, no control characters".into(),
        ));
    }
    if body.scopes.is_empty() {
        return Err(ApiError::BadRequest("scopes: at least one".into()));
    }
    Ok(())
}

/// `POST /api/tokens` (admin): 201 with the token, shown this once.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::Admin).await?;
    let body = small_body(&state, payload, 16 << 10).await?;
    let mut body: CreateToken =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    check(&body)?;
    body.scopes.sort();
    body.scopes.dedup();
    let token = random_token("upk_")?;
    let info = ApiToken {
        id: new_id()?,
        name: body.name,
        scopes: body.scopes,
        created_at: now_secs(),
        last_used_at: None,
    };
    let (row, h) = (info.clone(), hash_token(&token));
    state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            let n: u64 = tx.query_row("SELECT COUNT(*) FROM api_tokens", [], |r| r.get(0))?;
            if n >= MAX_TOKENS {
                return Err(ApiError::QuotaExceeded(format!(
                    "the origin holds at most {MAX_TOKENS} API tokens"
                )));
            }
            tx.execute(
                "INSERT INTO api_tokens (id, hash, name, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.id, h, row.name, scopes_text(&row.scopes), row.created_at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken { info, token }))
}

/// `GET /api/tokens` (admin): every token, never the secret.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    state.require(&req, Action::Admin).await?;
    let tokens = state
        .db
        .run(|c| {
            let mut st = c.prepare(
                "SELECT id, name, scopes, created_at, last_used_at FROM api_tokens
                 ORDER BY created_at, id",
            )?;
            let rows = st.query_map([], from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenList { tokens }))
}

/// `DELETE /api/tokens/{id}` (admin): the token stops working at once. 204, or 404.
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::Admin).await?;
    let id = id.into_inner();
    let gone = state
        .db
        .run(move |c| Ok(c.execute("DELETE FROM api_tokens WHERE id = ?1", [&id])? > 0))
        .await?;
    if gone {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}
