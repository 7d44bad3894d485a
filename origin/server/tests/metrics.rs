//! `/metrics` in-process: who may read it, that every line is Prometheus text format 0.0.4, that requests
//! and body bytes are counted by route class, publish refusals by reason, and the live side's series.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::collections::HashMap;

use actix_web::{test, App};
use harness::service::*;
use harness::*;

async fn get(app: &impl TestApp, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = test::TestRequest::get().uri(path);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = test::read_body(resp).await;
    (status, ctype, String::from_utf8(body.to_vec()).unwrap())
}

/// Parse the text format strictly: `# HELP`/`# TYPE` lines, and samples `name{k="v",...} value` of a
/// declared family. Returns the samples by their full series text (`name{labels}`).
fn parse(text: &str) -> HashMap<String, f64> {
    assert!(text.ends_with('\n'), "the exposition ends with a line feed");
    let mut types = HashMap::new();
    let mut out = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            assert!(
                types.insert(name.to_string(), kind).is_none(),
                "family twice: {line}"
            );
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name {name:?}"
        );
        assert!(types.contains_key(name), "sample before its TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}'));
            for pair in inner
                .unwrap_or_else(|| panic!("labels of {line}"))
                .split("\",")
            {
                let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{line}"
                );
                assert!(!v.trim_end_matches('"').contains('\n'), "{line}");
            }
        }
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        assert!(
            out.insert(series.to_string(), v).is_none(),
            "series twice: {line}"
        );
    }
    out
}

#[actix_web::test]
async fn metrics_count_requests_and_live_series() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(config(dir.path()));
    let app = test::init_service(App::new().configure(upcast_origin::routes(state.clone()))).await;

    assert_eq!(get(&app, "/metrics", None).await.0, 401);
    let (code, _, list) = get(&app, "/api/videos", Some(ADMIN)).await;
    assert_eq!(code, 200);
    assert_eq!(get(&app, "/v/nope/master.m3u8", None).await.0, 404);
    // A refused publish: the video has no files.
    let created = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/videos")
            .insert_header(("Authorization", format!("Bearer {ADMIN}")))
            .set_payload(r#"{"title":"t"}"#)
            .to_request(),
    )
    .await;
    let v: serde_json::Value = test::read_body_json(created).await;
    let id = v["id"].as_str().unwrap();
    let refused = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(("Authorization", format!("Bearer {ADMIN}")))
            .to_request(),
    )
    .await;
    assert_eq!(refused.status(), 409);
    // The live side's calls.
    state.metrics.stream_live("st_1");
    state.metrics.ingest_bitrate("st_1", 3_000_000);
    state.metrics.viewers("st_1", 12);
    let waiting = state.metrics.blocked_wait_started();

    let (code, ctype, text) = get(&app, "/metrics", Some(ADMIN)).await;
    assert_eq!(code, 200);
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    let m = parse(&text);
    assert_eq!(
        m["upcast_http_requests_total{class=\"metrics\",status=\"401\"}"],
        1.0
    );
    assert_eq!(
        m["upcast_http_requests_total{class=\"api\",status=\"200\"}"],
        1.0
    );
    assert_eq!(
        m["upcast_http_requests_total{class=\"api\",status=\"201\"}"],
        1.0
    );
    assert_eq!(
        m["upcast_http_requests_total{class=\"api\",status=\"409\"}"],
        1.0
    );
    assert_eq!(
        m["upcast_http_requests_total{class=\"playback\",status=\"404\"}"],
        1.0
    );
    // The bytes of the bodies sent, the list's among them.
    assert!(m["upcast_http_response_bytes_total{class=\"api\"}"] >= list.len() as f64);
    assert_eq!(
        m["upcast_publish_refused_total{reason=\"missing-files\"}"],
        1.0
    );
    assert_eq!(m["upcast_live_streams"], 1.0);
    assert_eq!(m["upcast_ingest_bitrate_bits{stream=\"st_1\"}"], 3e6);
    assert_eq!(m["upcast_live_viewers{stream=\"st_1\"}"], 12.0);
    assert_eq!(m["upcast_blocked_reload_waits_total"], 1.0);
    assert_eq!(m["upcast_blocked_reload_waits_in_flight"], 1.0);

    drop(waiting);
    state.metrics.stream_ended("st_1");
    let (_, _, text) = get(&app, "/metrics", Some(ADMIN)).await;
    let m = parse(&text);
    // The first scrape is counted now.
    assert_eq!(
        m["upcast_http_requests_total{class=\"metrics\",status=\"200\"}"],
        1.0
    );
    assert_eq!(m["upcast_live_streams"], 0.0);
    assert!(!text.contains("st_1"), "{text}");
    assert_eq!(m["upcast_blocked_reload_waits_in_flight"], 0.0);
}

#[actix_web::test]
async fn metrics_public_needs_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.metrics_public = true;
    let app = test::init_service(App::new().configure(upcast_origin::routes(state(cfg)))).await;
    let (code, _, text) = get(&app, "/metrics", None).await;
    assert_eq!(code, 200);
    assert!(parse(&text).contains_key("upcast_live_streams"));
}
