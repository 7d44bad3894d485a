//! The origin as an in-process actix-web service, for handler tests: the app on a data directory (or on a
//! state the test keeps), an `Authorization` header, and one request's answer as bytes or as JSON.

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use serde_json::Value;

use super::{config, state};

pub type Req = actix_http::Request;

/// What every helper here takes: the service `test::init_service` made from the origin's routes.
pub trait TestApp: Service<Req, Response = ServiceResponse, Error = actix_web::Error> {}
impl<S: Service<Req, Response = ServiceResponse, Error = actix_web::Error>> TestApp for S {}

/// The origin with the test configuration on `data`.
pub async fn app(data: &std::path::Path) -> impl TestApp {
    app_on(&state(config(data))).await
}

/// The origin on a state the test keeps (to read its stores or make streams directly).
pub async fn app_on(st: &web::Data<upcast_origin::AppState>) -> impl TestApp {
    test::init_service(App::new().configure(upcast_origin::routes(st.clone()))).await
}

pub fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

/// The answer's status, headers and body.
pub async fn send(app: &impl TestApp, req: test::TestRequest) -> (u16, HeaderMap, Vec<u8>) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, test::read_body(resp).await.to_vec())
}

/// The answer's status and JSON body (`Null` when the body is not JSON).
pub async fn call(app: &impl TestApp, req: test::TestRequest) -> (StatusCode, Value) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A header's value, or "" when it is absent.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}
