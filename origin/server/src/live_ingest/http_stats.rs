//! The status figures of an HTTP publish (bitrate, frame rate, renditions), from what its parts carried
//! since the publish began; refreshed at most once a second.
use std::time::{Duration, Instant};

use upcast_core::demux::TrackKind;

use super::sink::lock;
use super::tickets::Publish;
use crate::streams::status::{IngestStats, Rendition};
use crate::AppState;

const EVERY: Duration = Duration::from_secs(1);

/// Rendition order: video, video_2, …, then audio, audio_2, ….
fn order(name: &str) -> (bool, usize, String) {
    (name.starts_with("audio"), name.len(), name.to_string())
}

pub fn refresh(state: &AppState, id: &str, p: &mut Publish) {
    if p.stats_at.is_some_and(|t| t.elapsed() < EVERY) {
        return;
    }
    p.stats_at = Some(Instant::now());
    let mut names: Vec<&String> = p.rungs.keys().collect();
    names.sort_by_key(|n| order(n));
    let mut st = IngestStats::default();
    for (i, name) in names.into_iter().enumerate() {
        let r = &p.rungs[name];
        let secs = r.totals.1 as f64 / f64::from(r.init.timescale.max(1));
        let video = r.info.kind == TrackKind::Video;
        let bitrate = if secs > 0.0 {
            r.totals.0 as f64 * 8.0 / secs
        } else {
            0.0
        };
        let fps = (video && secs > 0.0).then(|| (r.totals.2 as f64 / secs * 100.0).round() / 100.0);
        st.bitrate_bps += upcast_core::num::f64_to_u64(bitrate);
        st.codecs.push(r.info.codec.clone());
        st.b_frames |= r.b_frames;
        if video && st.width.is_none() {
            st.width = Some(r.info.width);
            st.height = Some(r.info.height);
            st.frame_rate = fps;
            st.keyframe_interval_ms = r
                .keys
                .1
                .map(|t| t * 1000 / u64::from(r.init.timescale.max(1)));
        }
        st.renditions.push(Rendition {
            track: u32::try_from(i).unwrap_or(u32::MAX),
            codec: r.info.codec.clone(),
            width: video.then_some(r.info.width),
            height: video.then_some(r.info.height),
            bitrate_bps: upcast_core::num::f64_to_u64(bitrate),
            frame_rate: fps,
        });
    }
    let viewers = lock(&p.feed.session).live.viewers() as u64;
    state.metrics.ingest_bitrate(id, st.bitrate_bps);
    state.metrics.viewers(id, viewers);
    state.streams.ingest_stats(id, st);
    state.streams.set_viewers(id, viewers);
}
