//! The HTTP side of the metrics: a middleware that counts every response by route class and status and
//! the body bytes as they stream out, and the `/metrics` handler.
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::{text, Class, Metrics};
use crate::error::ApiResult;
use crate::AppState;

/// A response body that adds what it yields to its class's byte counter (so streamed files count the bytes
/// actually produced, and a HEAD response counts none).
pub struct Counted {
    inner: BoxBody,
    metrics: Arc<Metrics>,
    class: Class,
}

impl MessageBody for Counted {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        let got = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(b))) = &got {
            let n = u64::try_from(b.len()).unwrap_or(u64::MAX);
            this.metrics.response_bytes(this.class, n);
        }
        got
    }
}

/// Count the response of every request (mounted around all routes by [`crate::routes`]).
pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Counted>, actix_web::Error> {
    let class = Class::of(req.path());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone())
        .unwrap_or_default();
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // An error from a middleware below: count the response it becomes here.
            metrics.request(class, e.as_response_error().status_code().as_u16());
            return Err(e);
        }
    };
    metrics.request(class, res.status().as_u16());
    Ok(res.map_body(|_, inner| Counted {
        inner,
        metrics,
        class,
    }))
}

/// `GET /metrics`: the text format, to an authorized caller (or anyone with `--metrics-public`).
pub async fn scrape(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    if !state.cfg.metrics_public {
        may_read_metrics(&state, &req).await?;
    }
    Ok(HttpResponse::Ok()
        .content_type(text::CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(state.metrics.render()))
}

/// Who may read `/metrics`: the admin token, or a token with the `metrics:read` scope.
pub async fn may_read_metrics(state: &AppState, req: &HttpRequest) -> ApiResult<()> {
    state
        .require(req, crate::auth::Action::Metrics)
        .await
        .map(drop)
}
