//! `GET /api/signing-keys` and `POST /api/signing-keys/rotate` (admin): see which playback signing keys
//! verify links, and make a new one. Secrets never leave the key file.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::Action;
use super::error::{ApiError, ApiResult};
use super::signing::MAX_LINK_TTL;
use super::upload::small_body;
use super::AppState;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotate {
    /// How long links signed by earlier keys keep playing; default: the longest life a link may have.
    overlap_secs: Option<i64>,
}

pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    state.require(&req, Action::Admin).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "keys": state.keys.signing.list() })))
}

pub async fn rotate(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::Admin).await?;
    let body = small_body(&state, payload, 4096).await?;
    let r: Rotate = if body.iter().all(u8::is_ascii_whitespace) {
        Rotate::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    let overlap = r.overlap_secs.unwrap_or(MAX_LINK_TTL);
    if !(0..=MAX_LINK_TTL).contains(&overlap) {
        return Err(ApiError::BadRequest(format!(
            "overlap_secs: 0 to {MAX_LINK_TTL}"
        )));
    }
    let st = state.clone();
    let keys = web::block(move || st.keys.signing.rotate(overlap)).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "keys": keys })))
}
