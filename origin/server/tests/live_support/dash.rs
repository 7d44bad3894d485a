//! Reading the live MPD back in tests: its timelines expanded, its segment URLs, a fetch-and-parse, and
//! pushing parts stamped later than their media time (a publisher that was away).
use std::time::{Duration, UNIX_EPOCH};

use actix_web::dev::{Service, ServiceResponse};
use upcast_core::dash::model::{Mpd, Representation, SegmentTemplate};
use upcast_core::dash::template::{expand, Vars};
use upcast_origin::live::LiveStream;

use super::{get, text, Feed};

pub const BASE_S: u64 = 1_800_000_000;

/// `(number, t, d)` of every segment the template's timeline names.
pub fn timeline(t: &SegmentTemplate) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    let (mut n, mut at) = (t.start_number.unwrap_or(1), 0);
    for s in &t.segment_timeline.as_ref().unwrap().entries {
        at = s.t.unwrap_or(at);
        for _ in 0..=s.r.unwrap_or(0) {
            out.push((n, at, s.d));
            n += 1;
            at += s.d;
        }
    }
    out
}

pub fn url(rep: &Representation, number: u64) -> String {
    let t = rep.segment_template.as_ref().unwrap();
    let v = Vars {
        representation_id: &rep.id,
        number,
        bandwidth: rep.bandwidth,
        time: 0,
    };
    expand(&t.media, &v).unwrap()
}

pub async fn mpd<S>(app: &S, uri: &str) -> Mpd
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (code, h, body) = get(app, uri).await;
    assert_eq!(code, 200, "{uri}");
    assert_eq!(h["content-type"], "application/dash+xml");
    Mpd::parse(&text(&body)).unwrap()
}

/// Push `n` parts of `feed` stamped `gap` later than its media time says (a publisher that was away).
pub fn push_late(s: &LiveStream, feed: &mut Feed, n: u32, gap: Duration) {
    for _ in 0..n {
        let p = feed.next();
        let pdt = UNIX_EPOCH + Duration::from_secs(BASE_S) + Duration::from_millis(p.start) + gap;
        s.push(&feed.track, p, pdt).unwrap();
    }
}
