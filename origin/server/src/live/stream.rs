//! One live stream: its renditions' windows behind one lock, a `watch` channel that ticks on every
//! change (what blocked requests wait on), and the addresses of recent viewers.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use actix_web::web::Bytes;
use tokio::sync::watch;
use upcast_core::live::{Part, TrackInfo};

use super::window::{ClosedSegment, RenditionWindow};
use super::{HubLimits, LiveError, LiveOptions};

pub(super) struct State {
    pub opts: LiveOptions,
    pub renditions: Vec<RenditionWindow>,
    pub ended: bool,
    /// When [`LiveStream::end`] ended it (cleared by a resume).
    pub ended_at: Option<Instant>,
    /// Dropped from the hub: blocked requests stop waiting.
    pub removed: bool,
    /// Bumped by every change, under the lock: names one state of the window (the playlist cache's key).
    pub version: u64,
    /// Bumped by every reconnect and changed init segment: segments of one epoch are one Period of the
    /// live MPD.
    pub epoch: u32,
    /// The earliest program date-time pushed: the live MPD's availabilityStartTime.
    pub first_pdt: Option<SystemTime>,
}

/// A playlist or MPD rendered for one state of the window, and its gzip form once asked for.
pub(super) struct Rendered {
    pub version: u64,
    pub identity: Bytes,
    pub gzip: Option<Bytes>,
}

pub struct LiveStream {
    pub id: String,
    limits: HubLimits,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    viewers: super::viewers::Viewers,
    /// By (rendition, delta update): viewers released together by one part share one rendering.
    rendered: Mutex<HashMap<(usize, bool), Rendered>>,
    /// The live MPD for one state of the window and one clock URL (see `dash::cached_mpd`).
    pub(super) mpd: Mutex<Option<(String, Rendered)>>,
}

impl LiveStream {
    pub(super) fn new(id: &str, opts: LiveOptions, limits: HubLimits) -> Self {
        LiveStream {
            id: id.to_string(),
            limits,
            state: Mutex::new(State {
                opts,
                renditions: Vec::new(),
                ended: false,
                ended_at: None,
                removed: false,
                version: 0,
                epoch: 0,
                first_pdt: None,
            }),
            changed: watch::channel(0).0,
            viewers: Default::default(),
            rendered: Mutex::default(),
            mpd: Mutex::default(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A receiver that sees every later change of the window.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub(super) fn resume(&self, opts: LiveOptions) {
        let closed = {
            let mut st = self.lock();
            st.opts = opts;
            st.ended = false;
            st.ended_at = None;
            st.version += 1;
            st.epoch += 1;
            let mut n = 0;
            for r in &mut st.renditions {
                n += usize::from(r.close().is_some());
                let info = r.info.clone();
                r.resume(info);
            }
            n
        };
        if closed > 0 {
            eprintln!(
                "upcast: live {}: resumed without end(); {closed} open segment(s) closed unrecorded",
                self.id
            );
        }
        self.notify();
    }

    pub(super) fn close_for_viewers(&self) {
        let mut st = self.lock();
        st.removed = true;
        st.version += 1;
        drop(st);
        self.notify();
    }

    pub fn is_public(&self) -> bool {
        self.lock().opts.public
    }

    pub fn is_ended(&self) -> bool {
        self.lock().ended
    }

    /// How long ago the stream ended; None while it is live.
    pub fn ended_for(&self) -> Option<Duration> {
        self.lock().ended_at.map(|t| t.elapsed())
    }

    /// Add a track (a rendition named `name`), or give a known one its new configuration after a
    /// reconnect (a new init segment starts a new EXT-X-MAP after a discontinuity).
    pub fn add_track(&self, name: &str, info: TrackInfo) -> Result<(), LiveError> {
        let ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
        if !ok {
            return Err(LiveError::BadName(name.chars().take(40).collect()));
        }
        let mut st = self.lock();
        let epoch = st.epoch + 1;
        if let Some(r) = st.renditions.iter_mut().find(|r| r.name == name) {
            if r.info != info {
                r.resume(info);
                // A new init segment: a new Period in the MPD.
                st.epoch = epoch;
            }
        } else if st.renditions.len() >= self.limits.max_renditions {
            return Err(LiveError::TooManyRenditions(self.limits.max_renditions));
        } else {
            st.renditions
                .push(RenditionWindow::new(name.to_string(), info));
        }
        drop(st);
        self.notify();
        Ok(())
    }

    /// Add one whole part of `track`, taken at wall-clock `pdt` (its first sample's program date-time).
    /// Returns the segment this part closed (it starts a new one), for recording. Older segments leave
    /// the window by the DVR window and the stream's byte bound.
    pub fn push(
        &self,
        track: &str,
        part: Part,
        pdt: SystemTime,
    ) -> Result<Option<ClosedSegment>, LiveError> {
        let mut st = self.lock();
        if st.ended {
            return Err(LiveError::Ended);
        }
        let max = self.limits.max_stream_bytes;
        let dvr = st.opts.dvr_window.as_secs_f64();
        let i = st
            .renditions
            .iter()
            .position(|r| r.name == track)
            .ok_or_else(|| LiveError::NoTrack(track.chars().take(40).collect()))?;
        let epoch = st.epoch;
        let r = &mut st.renditions[i];
        // A segment grows until the next key frame: one that would outgrow the byte bound or the DVR
        // window is refused part by part (what was published stays) until a key frame starts a new one.
        let open_bytes = r.bytes() - r.segments.iter().map(|s| s.bytes.len()).sum::<usize>();
        let grown = if part.starts_segment { 0 } else { open_bytes } + part.bytes.len();
        if grown > max {
            return Err(LiveError::SegmentTooLarge(grown));
        }
        let open_secs: f64 = r.open_parts().iter().map(|p| p.0).sum();
        if !part.starts_segment && open_secs + part.duration_secs() > dvr {
            return Err(LiveError::NoKeyFrame(dvr));
        }
        let closed = r.push(part, pdt, epoch)?;
        r.slide(dvr);
        catch_up_gaps(&mut st.renditions, epoch, dvr);
        st.first_pdt = Some(st.first_pdt.map_or(pdt, |f| f.min(pdt)));
        trim_bytes(&mut st.renditions, max);
        st.version += 1;
        drop(st);
        self.notify();
        Ok(closed)
    }

    /// The publisher paused `track` (a rung dropped for its uplink): its open segment turns GAP and its
    /// playlist gets GAP parts and segments, in step with the rendition that leads ([`gap_leader`]),
    /// until [`LiveStream::push`] brings its media back at a segment start. Nothing of it is recorded
    /// from then on (see the ingest's `Session::pause_track`).
    pub fn pause_track(&self, track: &str) -> Result<(), LiveError> {
        let mut st = self.lock();
        if st.ended {
            return Err(LiveError::Ended);
        }
        let r = st
            .renditions
            .iter_mut()
            .find(|r| r.name == track)
            .ok_or_else(|| LiveError::NoTrack(track.chars().take(40).collect()))?;
        r.pause_media();
        let (epoch, dvr) = (st.epoch, st.opts.dvr_window.as_secs_f64());
        catch_up_gaps(&mut st.renditions, epoch, dvr);
        st.version += 1;
        drop(st);
        self.notify();
        Ok(())
    }

    /// Where a paused rendition's window has got to (its GAP parts included), in its ticks; None when
    /// it is not paused. A publisher that brings it back continues from there.
    pub fn paused_end(&self, track: &str) -> Option<u64> {
        let st = self.lock();
        let r = st.renditions.iter().find(|r| r.name == track && r.paused)?;
        r.open
            .as_ref()
            .map(|o| o.end)
            .or_else(|| r.segments.back().map(|s| s.start.saturating_add(s.ticks)))
    }

    /// The publisher went away and may come back ([`super::Hub::open`] resumes the stream): close every
    /// open segment (returned, for recording) so viewers get it whole, without ending the stream.
    pub fn pause(&self) -> Vec<ClosedSegment> {
        let mut st = self.lock();
        st.version += 1;
        let closed = st.renditions.iter_mut().filter_map(|r| r.close()).collect();
        drop(st);
        self.notify();
        closed
    }

    /// The publisher stopped: close every open segment (returned, for recording) and mark the window
    /// ended (ENDLIST). Viewers keep the window until the hub drops the stream; [`super::Hub::open`]
    /// resumes it.
    pub fn end(&self) -> Vec<ClosedSegment> {
        let mut st = self.lock();
        st.ended = true;
        st.ended_at.get_or_insert_with(Instant::now);
        st.version += 1;
        let closed = st.renditions.iter_mut().filter_map(|r| r.close()).collect();
        drop(st);
        self.notify();
        closed
    }

    /// Rendition `i`'s media playlist (a delta update when `skip`), rendered once per state of the window;
    /// gzipped (then `true`) when `gzip` and compressing works (it fails only when memory does).
    pub(super) fn media_playlist(&self, i: usize, skip: bool, gzip: bool) -> Option<(Bytes, bool)> {
        let st = self.lock();
        let mut cache = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = cache
            .get(&(i, skip))
            .is_some_and(|r| r.version == st.version);
        if !fresh {
            let text = super::playlists::media(&st, i, skip)?;
            let r = Rendered {
                version: st.version,
                identity: Bytes::from(text),
                gzip: None,
            };
            cache.insert((i, skip), r);
        }
        drop(st);
        let r = cache.get_mut(&(i, skip))?;
        if gzip && r.gzip.is_none() {
            r.gzip = crate::rendered::gzip(&r.identity).ok().map(Bytes::from);
        }
        match (&r.gzip, gzip) {
            (Some(z), true) => Some((z.clone(), true)),
            _ => Some((r.identity.clone(), false)),
        }
    }

    /// Remember that `ip` fetched a playlist now.
    pub fn saw_viewer(&self, ip: IpAddr) {
        self.viewers.saw(ip, self.viewer_horizon());
    }

    /// Approximate current viewers: distinct addresses that fetched a playlist within the last two
    /// target durations.
    pub fn viewers(&self) -> usize {
        self.viewers.count(self.viewer_horizon())
    }

    fn viewer_horizon(&self) -> Duration {
        Duration::from_secs(2 * super::playlists::target_duration(&self.lock()).max(1))
    }

    /// Bytes the window holds now.
    pub fn bytes(&self) -> usize {
        self.lock()
            .renditions
            .iter()
            .map(RenditionWindow::bytes)
            .sum()
    }

    /// `(name, first MSN in the window, edge MSN, parts of the open segment)` per rendition.
    pub fn windows(&self) -> Vec<(String, Option<u64>, u64, usize)> {
        let st = self.lock();
        st.renditions
            .iter()
            .map(|r| {
                let (edge, parts) = r.edge();
                (
                    r.name.clone(),
                    r.segments.front().map(|s| s.msn),
                    edge,
                    parts,
                )
            })
            .collect()
    }
}

/// The rendition whose parts paused ones mirror as GAP parts: the first video rendition not paused, else
/// the first rendition not paused. Every rendition's segments start at the same instants (the publisher
/// cuts them together), so its segment starts are theirs.
fn gap_leader(renditions: &[RenditionWindow]) -> Option<usize> {
    let live = |k: Option<upcast_core::demux::TrackKind>| {
        renditions
            .iter()
            .position(|r| !r.paused && k.is_none_or(|k| r.info.kind == k))
    };
    live(Some(upcast_core::demux::TrackKind::Video)).or_else(|| live(None))
}

/// Bring every paused rendition's GAP parts up to the leader's ([`gap_leader`]) live edge: part `k` of
/// segment `msn` of the leader is a GAP part `k` of segment `msn` of each paused one (the same duration
/// and program date-time). A rendition paused while its uploads were behind the others' catches up by
/// several segments at once; one that was ahead waits for the leader.
fn catch_up_gaps(renditions: &mut [RenditionWindow], epoch: u32, dvr: f64) {
    let Some(l) = gap_leader(renditions) else {
        return;
    };
    let (leader, rest) = match renditions.split_at_mut(l) {
        (before, [leader, after @ ..]) => (leader as &RenditionWindow, (before, after)),
        _ => return,
    };
    for p in rest
        .0
        .iter_mut()
        .chain(rest.1.iter_mut())
        .filter(|r| r.paused)
    {
        // Bounded by the leader's parts: each round adds one GAP part or stops.
        loop {
            let (msn, have) = p.edge();
            let (at, k) = match leader.part_at(msn, have) {
                Some(x) => (x, have),
                None => match leader.part_at(msn + 1, 0) {
                    Some(x) if p.open.is_some() => (x, 0),
                    _ => break,
                },
            };
            let (secs, pdt) = at;
            let ticks =
                upcast_core::num::f64_to_u64((secs * f64::from(p.timescale.max(1))).round());
            p.push_gap(secs, ticks, k == 0, pdt, epoch);
        }
        p.slide(dvr);
    }
}

/// Drop the oldest complete segments (oldest first across renditions) until the stream is within `max`
/// bytes or only open segments are left.
fn trim_bytes(renditions: &mut [RenditionWindow], max: usize) {
    while renditions.iter().map(RenditionWindow::bytes).sum::<usize>() > max {
        let oldest = renditions
            .iter_mut()
            .filter_map(|r| r.segments.front().map(|s| s.pdt).zip(Some(r)))
            .min_by_key(|(pdt, _)| *pdt);
        match oldest {
            Some((_, r)) => {
                r.pop_oldest();
            }
            None => break,
        }
    }
}
