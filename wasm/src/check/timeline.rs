//! Rules across renditions: audio and video start together, cover the same time range (8.7) and cut at the
//! same instants (8.22). Times are presentation times (decode time + composition offset) without edit
//! lists, because hls.js ignores `elst` in fMP4: what it plays is what the fragments say.

use super::load::{Media, Pkg};
use super::segment::Seg;
use super::{Location, Report, Severity};
use crate::demux::TrackKind;

/// A rendition's timeline in seconds, when every segment could be measured.
struct Timeline<'a> {
    media: &'a Media,
    kind: TrackKind,
    /// Earliest presentation time, the presentation time of each segment's first sample, and the end.
    start: f64,
    cuts: Vec<f64>,
    end: f64,
    /// Longest sample, seconds: how finely this rendition can cut.
    frame: f64,
}

fn timeline(m: &Media) -> Option<Timeline<'_>> {
    let kind = m.kind()?;
    if m.pl.i_frames_only || !matches!(kind, TrackKind::Video | TrackKind::Audio) {
        return None;
    }
    let ts = f64::from(m.timescale()).max(1.0);
    let segs: Vec<&Seg> = m
        .segs
        .iter()
        .map(Option::as_ref)
        .collect::<Option<Vec<_>>>()?;
    let first = segs.first()?;
    let last = segs.last()?;
    // The composition shift of the first segment applies to the end too (a constant B-frame delay).
    let shift = first.pts_min as f64 - first.start as f64;
    Some(Timeline {
        media: m,
        kind,
        start: first.pts_min as f64 / ts,
        cuts: segs.iter().map(|s| s.first_pts as f64 / ts).collect(),
        end: (last.start.saturating_add(last.ticks) as f64 + shift) / ts,
        frame: segs.iter().map(|s| s.max_sample_ticks).max().unwrap_or(0) as f64 / ts,
    })
}

pub(crate) fn check_renditions(pkg: &Pkg, report: &mut Report) {
    let lines: Vec<Timeline<'_>> = pkg.medias.iter().filter_map(timeline).collect();
    let Some(reference) = lines
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .or(lines.first())
    else {
        return;
    };
    for other in &lines {
        if std::ptr::eq(other, reference) {
            continue;
        }
        if other.kind == TrackKind::Audio && reference.kind == TrackKind::Video {
            av_start_aligned(reference, other, report);
        }
        same_time_range(reference, other, report);
        same_cuts(reference, other, report);
    }
}

/// Audio and video start together (HLS Authoring Spec 8.22's aligned cuts start at the first one): within
/// one audio frame, the finest an AAC or Opus track can be cut.
fn av_start_aligned(video: &Timeline<'_>, audio: &Timeline<'_>, report: &mut Report) {
    let (v, a) = (video.start, audio.start);
    if (v - a).abs() > audio.frame + 0.001 {
        report.push(Severity::Should, "A/V start", "audio and video start aligned", &audio.media.path,
            Location::File, format!(
                "audio starts at {a:.3} s and video ({}) at {v:.3} s without edit lists, {:.0} ms apart (more than one audio frame); hls.js ignores elst",
                video.media.path, (v - a).abs() * 1000.0));
    }
}

/// HLS Authoring Spec 8.7: all renditions cover the same time range, within one frame of either.
fn same_time_range(r: &Timeline<'_>, o: &Timeline<'_>, report: &mut Report) {
    let tol = r.frame.max(o.frame) + 0.001;
    let (rs, os) = (r.start, o.start);
    if (rs - os).abs() > tol || (r.end - o.end).abs() > tol {
        report.push(
            Severity::Must,
            "8.7",
            "renditions cover the same time range",
            &o.media.path,
            Location::File,
            format!(
                "covers {os:.3}–{:.3} s but {} covers {rs:.3}–{:.3} s (tolerance {tol:.3} s)",
                o.end, r.media.path, r.end
            ),
        );
    }
}

/// HLS Authoring Spec 8.22: all renditions cut segments at the same instants, within one frame of either.
fn same_cuts(r: &Timeline<'_>, o: &Timeline<'_>, report: &mut Report) {
    const TITLE: &str = "renditions cut at the same instants";
    if r.cuts.len() != o.cuts.len() {
        report.push(
            Severity::Must,
            "8.22",
            TITLE,
            &o.media.path,
            Location::File,
            format!(
                "has {} segments but {} has {}",
                o.cuts.len(),
                r.media.path,
                r.cuts.len()
            ),
        );
        return;
    }
    let tol = r.frame.max(o.frame) + 0.001;
    for (k, (a, b)) in r.cuts.iter().zip(&o.cuts).enumerate().skip(1) {
        if (a - b).abs() > tol {
            report.push(Severity::Must, "8.22", TITLE, &o.media.path, o.media.line(k), format!(
                "segment {} starts at {b:.3} s but segment {} of {} at {a:.3} s (tolerance {tol:.3} s)",
                k + 1, k + 1, r.media.path));
            return; // one is enough: the rest usually follow
        }
    }
}
