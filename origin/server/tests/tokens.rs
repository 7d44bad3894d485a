//! In-process tests of scoped API tokens: created once and shown once, stored hashed, listed without the
//! secret, revoked at once; and each class of endpoint refuses a token without its scope (`403
//! missing-scope` naming it) or any token at all where only the admin may (`403 admin-only`).
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::http::StatusCode;
use actix_web::test;
use harness::service::*;
use harness::*;
use serde_json::Value;
use upcast_origin::auth::{Action, Caller, Scope};

async fn call(app: &impl TestApp, token: &str, req: test::TestRequest) -> (StatusCode, Value) {
    let req = req.insert_header(("Authorization", format!("Bearer {token}")));
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn token(app: &impl TestApp, scopes: &[&str]) -> String {
    let body = serde_json::json!({ "name": format!("app {scopes:?}"), "scopes": scopes });
    let (s, v) = call(
        app,
        ADMIN,
        test::TestRequest::post().uri("/api/tokens").set_json(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_string()
}

fn refused(got: (StatusCode, Value), code: &str, scope: Option<&str>) {
    assert_eq!(got.0, StatusCode::FORBIDDEN, "{}", got.1);
    assert_eq!(
        (got.1["code"].as_str(), got.1["scope"].as_str()),
        (Some(code), scope),
        "{}",
        got.1
    );
}

#[actix_web::test]
async fn create_list_use_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(config(dir.path()));
    let app = app_on(&st).await;
    let body = r#"{"name":"dashboard","scopes":["read","streams:write","read"]}"#;
    let (s, v) = call(
        &app,
        ADMIN,
        test::TestRequest::post()
            .uri("/api/tokens")
            .set_payload(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let tok = v["token"].as_str().unwrap().to_string();
    let id = v["id"].as_str().unwrap().to_string();
    assert!(tok.starts_with("upk_"), "{tok}");
    assert_eq!(v["scopes"], serde_json::json!(["read", "streams:write"]));
    assert_eq!(v["last_used_at"], Value::Null);
    // Stored hashed: the secret is not in the database file.
    let db = std::fs::read(dir.path().join("upcast.db")).unwrap();
    let wal = std::fs::read(dir.path().join("upcast.db-wal")).unwrap_or_default();
    let hay = [db, wal].concat();
    assert!(!hay.windows(tok.len()).any(|w| w == tok.as_bytes()));

    let (s, _) = call(&app, &tok, test::TestRequest::get().uri("/api/streams")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = call(&app, ADMIN, test::TestRequest::get().uri("/api/tokens")).await;
    assert_eq!(s, StatusCode::OK);
    let listed = &v["tokens"][0];
    assert_eq!(
        (listed["id"].as_str(), listed["name"].as_str()),
        (Some(id.as_str()), Some("dashboard"))
    );
    assert!(listed["last_used_at"].is_i64(), "{v}");
    assert!(!v.to_string().contains(&tok) && listed.get("token").is_none());

    for (body, what) in [
        (r#"{"name":"x","scopes":["admin"]}"#, "unknown scope"),
        (r#"{"name":"x","scopes":[]}"#, "no scope"),
        (r#"{"name":"","scopes":["read"]}"#, "empty name"),
        (
            r#"{"name":"x","scopes":["read"],"admin":true}"#,
            "unknown field",
        ),
    ] {
        let (s, v) = call(
            &app,
            ADMIN,
            test::TestRequest::post()
                .uri("/api/tokens")
                .set_payload(body),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad-request")),
            "{what}: {v}"
        );
    }

    let (s, _) = call(
        &app,
        ADMIN,
        test::TestRequest::delete().uri(&format!("/api/tokens/{id}")),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(&app, &tok, test::TestRequest::get().uri("/api/streams")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, _) = call(
        &app,
        ADMIN,
        test::TestRequest::delete().uri(&format!("/api/tokens/{id}")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn each_endpoint_class_needs_its_scope() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(config(dir.path()));
    let app = app_on(&st).await;
    let read = token(&app, &["read"]).await;
    let videos = token(&app, &["videos:write"]).await;
    let streams = token(&app, &["streams:write"]).await;
    let post = |uri: &str| test::TestRequest::post().uri(uri);
    let get = |uri: &str| test::TestRequest::get().uri(uri);

    // videos:write: create, upload (a file of the fixture), tickets, delete.
    let (s, v) = call(&app, &videos, post("/api/videos").set_payload("{}")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let vid = v["id"].as_str().unwrap().to_string();
    let f = pkg_file("master.m3u8");
    let put = test::TestRequest::put()
        .uri(&format!("/api/videos/{vid}/files/{}", f.path))
        .insert_header(("X-Upcast-Sha256", f.sha256.clone()))
        .set_payload(f.bytes.clone());
    let (s, v) = call(&app, &videos, put).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = call(&app, &videos, post(&format!("/api/videos/{vid}/tickets"))).await;
    assert_eq!(s, StatusCode::CREATED);
    refused(
        call(&app, &read, post("/api/videos")).await,
        "missing-scope",
        Some("videos:write"),
    );
    refused(
        call(&app, &streams, post(&format!("/api/videos/{vid}/publish"))).await,
        "missing-scope",
        Some("videos:write"),
    );
    refused(
        call(&app, &read, post(&format!("/api/videos/{vid}/tickets"))).await,
        "missing-scope",
        Some("videos:write"),
    );

    // read: lists, gets, files, playback links.
    for uri in [
        "/api/videos".to_string(),
        format!("/api/videos/{vid}"),
        format!("/api/videos/{vid}/files"),
        format!("/api/videos/{vid}/playback"),
        "/api/streams".into(),
    ] {
        let (s, v) = call(&app, &read, get(&uri)).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {v}");
        refused(
            call(&app, &videos, get(&uri)).await,
            "missing-scope",
            Some("read"),
        );
    }

    // streams:write: create, key, patch, delete.
    let (s, v) = call(&app, &streams, post("/api/streams")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, &streams, post(&format!("/api/streams/{sid}/key"))).await;
    assert_eq!(s, StatusCode::OK);
    refused(
        call(&app, &read, post("/api/streams")).await,
        "missing-scope",
        Some("streams:write"),
    );
    refused(
        call(&app, &videos, post(&format!("/api/streams/{sid}/key"))).await,
        "missing-scope",
        Some("streams:write"),
    );
    refused(
        call(&app, &streams, get(&format!("/api/streams/{sid}"))).await,
        "missing-scope",
        Some("read"),
    );
    refused(
        call(&app, &streams, get(&format!("/api/streams/{sid}/events"))).await,
        "missing-scope",
        Some("read"),
    );
    let (s, _) = call(&app, &read, get(&format!("/api/streams/{sid}"))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &app,
        &streams,
        test::TestRequest::delete().uri(&format!("/api/streams/{sid}")),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        &videos,
        test::TestRequest::delete().uri(&format!("/api/videos/{vid}")),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Admin only: signing keys and tokens, whatever the scopes.
    let all = token(
        &app,
        &[
            "read",
            "videos:write",
            "streams:write",
            "webhooks:write",
            "metrics:read",
        ],
    )
    .await;
    for req in [
        get("/api/signing-keys"),
        post("/api/signing-keys/rotate"),
        get("/api/tokens"),
        post("/api/tokens").set_payload(r#"{"name":"x","scopes":["read"]}"#),
    ] {
        refused(call(&app, &all, req).await, "admin-only", None);
    }

    // An upload ticket stays inside its own video: no streams, no other video.
    let (_, v) = call(&app, ADMIN, post("/api/videos").set_payload("{}")).await;
    let ticket = v["upload"]["ticket"].as_str().unwrap().to_string();
    refused(
        call(&app, &ticket, post("/api/streams")).await,
        "forbidden",
        None,
    );
    refused(
        call(&app, &ticket, get("/api/streams")).await,
        "forbidden",
        None,
    );
    refused(
        call(&app, &ticket, get("/api/videos")).await,
        "forbidden",
        None,
    );
}

/// The scopes whose endpoints live elsewhere (webhooks, metrics) map through the same table.
#[actix_web::test]
async fn webhooks_and_metrics_scopes() {
    let token = |scopes: Vec<Scope>| Caller::Token {
        id: "t".into(),
        scopes,
    };
    let w = token(vec![Scope::WebhooksWrite]);
    assert!(w.may(Action::Webhooks).is_ok());
    assert_eq!(w.may(Action::Metrics).unwrap_err().code(), "missing-scope");
    let m = token(vec![Scope::MetricsRead]);
    assert!(m.may(Action::Metrics).is_ok());
    assert_eq!(
        m.may(Action::Webhooks).unwrap_err().to_string(),
        "this token lacks the webhooks:write scope"
    );
    assert!(Caller::Admin.may(Action::Metrics).is_ok());
    assert_eq!(
        Caller::Ticket("v".into())
            .may(Action::Metrics)
            .unwrap_err()
            .code(),
        "forbidden"
    );
}
