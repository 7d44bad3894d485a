//! Video management: create (with an upload ticket), list, get, delete, list stored files, new tickets,
//! and signed playback links for private videos.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::{hash_token, random_token};
use super::db::{self, VideoRow};
use super::error::{ApiError, ApiResult};
use super::paths;
use super::publish::MASTER;
use super::signing::MAX_LINK_TTL;
use super::store::ObjectKey;
use super::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVideo {
    #[serde(default)]
    title: String,
    #[serde(default = "public")]
    visibility: String,
}

fn public() -> String {
    "public".into()
}

/// A video as the API shows it.
pub fn video_json(_state: &AppState, v: &VideoRow) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    if v.is_public() {
        j["playback_url"] = format!("/v/{}/{MASTER}", v.id).into();
        if v.poster {
            j["poster_url"] = format!("/v/{}/{}", v.id, paths::POSTER).into();
        }
    }
    j
}

pub fn new_id() -> ApiResult<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect())
}

async fn issue_ticket(state: &AppState, video_id: &str) -> ApiResult<serde_json::Value> {
    let token = random_token("upt_")?;
    let expires = db::now_secs() + state.cfg.limits.ticket_ttl.as_secs() as i64;
    let (h, vid) = (hash_token(&token), video_id.to_string());
    state
        .db
        .run(move |c| db::insert_ticket(c, &h, &vid, expires))
        .await?;
    Ok(serde_json::json!({"ticket": token, "expires_at": expires}))
}

pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.keys.caller(&state.db, &req).await?.must_be_admin()?;
    let body = super::upload::small_body(&state, payload, 64 << 10).await?;
    let body: CreateVideo = if body.is_empty() {
        CreateVideo {
            title: String::new(),
            visibility: public(),
        }
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    if !matches!(body.visibility.as_str(), "public" | "private") {
        return Err(ApiError::BadRequest(
            "visibility is \"public\" or \"private\"".into(),
        ));
    }
    if body.title.len() > 500 || body.title.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "title: at most 500 bytes, no control characters".into(),
        ));
    }
    let id = new_id()?;
    let (vid, title, vis) = (id.clone(), body.title, body.visibility);
    let token = random_token("upt_")?;
    let expires = db::now_secs() + state.cfg.limits.ticket_ttl.as_secs() as i64;
    let h = hash_token(&token);
    // The video and its first ticket in one transaction: a refusal (a full disk, say) leaves neither.
    let video = state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            db::create_video(&tx, &vid, &title, &vis)?;
            db::insert_ticket(&tx, &h, &vid, expires)?;
            tx.commit()?;
            db::video(c, &vid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    let mut j = video_json(&state, &video);
    j["upload"] = serde_json::json!({"ticket": token, "expires_at": expires});
    Ok(HttpResponse::Created().json(j))
}

pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    state.keys.caller(&state.db, &req).await?.must_be_admin()?;
    let all = state.db.run(|c| db::videos(c)).await?;
    let items: Vec<_> = all.iter().map(|v| video_json(&state, v)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "videos": items })))
}

async fn load(state: &AppState, req: &HttpRequest, id: &str) -> ApiResult<VideoRow> {
    let caller = state.keys.caller(&state.db, req).await?;
    paths::check_video_id(id)?;
    caller.may_write(id)?;
    let vid = id.to_string();
    state
        .db
        .run(move |c| db::video(c, &vid))
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id).await?;
    Ok(HttpResponse::Ok().json(video_json(&state, &v)))
}

pub async fn files(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id).await?;
    let vid = v.id.clone();
    let files = state.db.run(move |c| db::files(c, &vid)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "state": v.state, "files": files })))
}

pub async fn ticket(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.keys.caller(&state.db, &req).await?.must_be_admin()?;
    let v = load(&state, &req, &id).await?;
    Ok(HttpResponse::Created().json(issue_ticket(&state, &v.id).await?))
}

#[derive(Deserialize)]
pub struct LinkQuery {
    ttl: Option<u64>,
}

/// A playback URL valid for `ttl` seconds (default one hour, at most 7 days).
pub async fn playback(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id).await?;
    let ttl = i64::try_from(q.ttl.unwrap_or(3600))
        .unwrap_or(MAX_LINK_TTL)
        .clamp(1, MAX_LINK_TTL);
    let exp = db::now_secs() + ttl;
    let sig = state.keys.sign(&v.id, exp);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "url": format!("/s/{exp}/{sig}/v/{}/{MASTER}", v.id),
        "expires_at": exp,
    })))
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.keys.caller(&state.db, &req).await?.must_be_admin()?;
    let v = load(&state, &req, &id).await?;
    let store = state.store.clone();
    let vid = v.id.clone();
    state
        .db
        .run(move |c| {
            let files = db::files(c, &vid)?;
            db::delete_video(c, &vid)?;
            // Rows first, objects after: a crash in between leaves orphans, collected at the next start.
            for f in files {
                let key = ObjectKey {
                    video_id: vid.clone(),
                    sha256: f.sha256,
                };
                if let Err(e) = store.delete(&key) {
                    log::warn!("delete {key:?}: {e}");
                }
            }
            Ok(())
        })
        .await?;
    state.catalog.invalidate(&v.id);
    Ok(HttpResponse::NoContent().finish())
}
