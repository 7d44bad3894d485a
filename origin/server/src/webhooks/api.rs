//! `/api/webhooks`: register (the answer carries the signing secret, shown once), list, delete, and the
//! delivery log. Admin only (the scoped tokens' `webhooks` scope will be checked in [`may_manage`]).
use actix_web::{web, HttpRequest, HttpResponse};

use super::{random_id, rows, target, EventKind};
use crate::api_types::{CreatedWebhook, NewWebhook, Webhook};
use crate::auth::random_token;
use crate::db::now_secs;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Webhooks one origin holds.
pub const MAX_WEBHOOKS: usize = 100;
/// Attempts listed by the delivery log.
pub const LOG_LINES: usize = 200;

/// Who may manage webhooks: the admin token, or a token with the `webhooks:write` scope.
pub async fn may_manage(state: &AppState, req: &HttpRequest) -> ApiResult<()> {
    state
        .require(req, crate::auth::Action::Webhooks)
        .await
        .map(drop)
}

/// Webhook ids are `wh_` and 24 lowercase hex digits; anything else cannot name one.
fn check_id(id: &str) -> ApiResult<()> {
    let ok = id.strip_prefix("wh_").is_some_and(|h| {
        h.len() == 24
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    ok.then_some(()).ok_or(ApiError::NotFound)
}

pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    may_manage(&state, &req).await?;
    let new: NewWebhook = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("webhook body: {e}")))?;
    let url = target::check_url(&new.url, state.webhooks.config().allow_private)?;
    let mut events = Vec::new();
    for e in &new.events {
        let kind = EventKind::from_text(e).ok_or_else(|| {
            let known: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::BadRequest(format!(
                "unknown event type {e:?}; known: {}",
                known.join(", ")
            ))
        })?;
        if !events.contains(&kind.as_str().to_string()) {
            events.push(kind.as_str().to_string());
        }
    }
    let webhook = Webhook {
        id: random_id("wh_")?,
        url,
        events,
        created_at: now_secs(),
    };
    let secret = random_token("whsec_")?;
    let (w, s) = (webhook.clone(), secret.clone());
    state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            if rows::list(&tx)?.len() >= MAX_WEBHOOKS {
                return Err(ApiError::QuotaExceeded(format!(
                    "an origin holds at most {MAX_WEBHOOKS} webhooks"
                )));
            }
            rows::insert(&tx, &w, &s)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedWebhook { webhook, secret }))
}

pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    may_manage(&state, &req).await?;
    let all = state.db.run(|c| rows::list(c)).await?;
    Ok(HttpResponse::Ok().json(all))
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    may_manage(&state, &req).await?;
    let id = id.into_inner();
    check_id(&id)?;
    if state.db.run(move |c| rows::delete(c, &id)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The latest attempts, newest first.
pub async fn deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    may_manage(&state, &req).await?;
    let id = id.into_inner();
    check_id(&id)?;
    let log = state
        .db
        .run(move |c| {
            rows::get(c, &id)?.ok_or(ApiError::NotFound)?;
            rows::attempts(c, &id, LOG_LINES)
        })
        .await?;
    Ok(HttpResponse::Ok().json(log))
}
