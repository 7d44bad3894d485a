//! The rules on a DASH MPD, over what [`super::dash`] read: per Representation (timeline, codecs,
//! bandwidth, SAP, attributes) and across them (video alignment, the same segments as HLS). Rule ids start
//! with `DASH`; the titles say what ISO/IEC 23009-1 or DASH-IF IOP asks.

use super::dash::{DashPkg, DashRep};
use super::load::Pkg;
use super::paths::resolve;
use super::{Location, Report, Severity};
use crate::demux::TrackKind;

const TIMELINE: &str = "DASH timeline";
const CODECS: &str = "DASH codecs";
const BANDWIDTH: &str = "DASH bandwidth";
const SAP: &str = "DASH SAP";
const ATTRIBUTES: &str = "DASH attributes";
const ALIGNMENT: &str = "DASH alignment";
const SAME_AS_HLS: &str = "DASH = HLS";

fn must(
    report: &mut Report,
    rule: &'static str,
    title: &'static str,
    d: &DashPkg,
    r: &DashRep,
    msg: String,
) {
    report.push(Severity::Must, rule, title, &d.path, r.loc, msg);
}

pub(crate) fn check_rep(d: &DashPkg, r: &DashRep, report: &mut Report) {
    let Some(init) = &r.init else { return };
    let id = &r.files.id;
    if r.files.timescale != init.timescale {
        must(
            report,
            TIMELINE,
            "SegmentTimeline in the track's timescale",
            d,
            r,
            format!(
                "Representation {id}: SegmentTemplate@timescale {} but {} says {}",
                r.files.timescale, r.files.init, init.timescale
            ),
        );
    } else {
        timeline(d, r, report);
    }
    if r.codecs != init.entry.codec_string {
        must(
            report,
            CODECS,
            "@codecs equals the init segment's sample entry",
            d,
            r,
            format!(
                "Representation {id}: codecs {:?} but {} says {:?}",
                r.codecs, r.files.init, init.entry.codec_string
            ),
        );
    }
    bandwidth(d, r, report);
    let video = init.kind == TrackKind::Video;
    for s in r.segs.iter().flatten() {
        let key = s.first_sync && !(video && s.first_key == Some(false));
        if !key {
            must(
                report,
                SAP,
                "every segment starts with a SAP of type 1 or 2",
                d,
                r,
                format!(
                    "Representation {id}: {} does not start with a sync sample{}",
                    s.path,
                    if s.first_sync {
                        " (flagged sync, but the bitstream is no key frame)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    attributes(d, r, report);
}

/// Each segment's tfdt and duration are its timeline entry's, to the tick.
fn timeline(d: &DashPkg, r: &DashRep, report: &mut Report) {
    let mut wrong = r
        .files
        .segments
        .iter()
        .zip(&r.segs)
        .filter_map(|(want, got)| got.as_ref().map(|g| (want, g)))
        .filter(|(want, got)| want.start != got.start || want.duration != got.ticks);
    if let Some((want, got)) = wrong.next() {
        let more = wrong.count();
        must(
            report,
            TIMELINE,
            "SegmentTimeline equals the segments' tfdt and durations",
            d,
            r,
            format!(
            "Representation {}: {} is t={} d={} in the MPD but tfdt {} and {} ticks in the file{}",
            r.files.id,
            want.path,
            want.start,
            want.duration,
            got.start,
            got.ticks,
            if more > 0 { format!(" ({more} more segments differ)") } else { String::new() }
        ),
        );
    }
}

/// @bandwidth within 10 % of the measured peak: each segment's bits over its timeline duration.
fn bandwidth(d: &DashPkg, r: &DashRep, report: &mut Report) {
    let ts = f64::from(r.files.timescale.max(1));
    let peak = r
        .files
        .segments
        .iter()
        .zip(&r.segs)
        .filter_map(|(s, m)| m.as_ref().map(|m| (s.duration, m.bytes)))
        .filter(|(d, _)| *d > 0)
        .map(|(d, b)| b as f64 * 8.0 * ts / d as f64)
        .fold(0.0, f64::max);
    if peak > 0.0 && (r.bandwidth as f64 - peak).abs() > peak * 0.1 {
        must(
            report,
            BANDWIDTH,
            "@bandwidth within 10 % of the measured peak bit rate",
            d,
            r,
            format!(
                "Representation {}: bandwidth {} but the measured peak is {:.0} b/s",
                r.files.id, r.bandwidth, peak
            ),
        );
    }
}

/// @width/@height are the coded size, @audioSamplingRate the sample rate of the sample entry.
fn attributes(d: &DashPkg, r: &DashRep, report: &mut Report) {
    let Some(init) = &r.init else { return };
    let id = &r.files.id;
    if let Some(v) = &init.entry.video {
        let want = (u32::from(v.width), u32::from(v.height));
        if (r.width, r.height) != (Some(want.0), Some(want.1)) {
            must(report, ATTRIBUTES, "@width, @height and @audioSamplingRate as the init segment says", d, r,
                format!("Representation {id}: width x height {:?} x {:?} but the sample entry is {} x {}",
                    r.width, r.height, want.0, want.1));
        }
    }
    if let Some(a) = &init.entry.audio {
        if r.sampling_rate != Some(a.sample_rate) {
            must(
                report,
                ATTRIBUTES,
                "@width, @height and @audioSamplingRate as the init segment says",
                d,
                r,
                format!(
                    "Representation {id}: audioSamplingRate {:?} but the sample entry says {}",
                    r.sampling_rate, a.sample_rate
                ),
            );
        }
    }
}

/// DASH-IF IOP 3.2.2: the video Representations of a package switch at the same instants, so every one
/// has the same segment start times (compared exactly, across timescales).
pub(crate) fn check_alignment(d: &DashPkg, report: &mut Report) {
    let videos: Vec<&DashRep> = d
        .reps
        .iter()
        .filter(|r| r.init.as_ref().is_some_and(|i| i.kind == TrackKind::Video))
        .collect();
    let Some((first, rest)) = videos.split_first() else {
        return;
    };
    let starts = |r: &DashRep| -> Vec<u64> { r.files.segments.iter().map(|s| s.start).collect() };
    let (a, ta) = (starts(first), u128::from(first.files.timescale));
    for r in rest {
        let (b, tb) = (starts(r), u128::from(r.files.timescale));
        let same = a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| u128::from(*x) * tb == u128::from(*y) * ta);
        if !same {
            must(
                report,
                ALIGNMENT,
                "video Representations share segment boundaries",
                d,
                r,
                format!(
                "Representation {} ({} segments) does not cut at the instants of {} ({} segments)",
                r.files.id,
                b.len(),
                first.files.id,
                a.len()
            ),
            );
        }
    }
}

/// HLS and DASH describe the same segments: each Representation has the media playlist that maps the same
/// init segment, naming the same files in the same order with the same durations (EXTINF to 1 ms), and
/// every media playlist has its Representation.
pub(crate) fn check_same_as_hls(d: &DashPkg, hls: &Pkg, report: &mut Report) {
    const TITLE: &str = "HLS and DASH describe the same segments";
    let medias: Vec<_> = hls.medias.iter().filter(|m| !m.pl.i_frames_only).collect();
    // A Representation or playlist whose init segment could not be read is reported already.
    for r in d.reps.iter().filter(|r| r.init.is_some()) {
        let id = &r.files.id;
        let Some(m) = medias
            .iter()
            .find(|m| m.init.as_ref().is_some_and(|(p, _)| *p == r.files.init))
        else {
            must(
                report,
                SAME_AS_HLS,
                TITLE,
                d,
                r,
                format!(
                    "Representation {id}: no media playlist maps {}",
                    r.files.init
                ),
            );
            continue;
        };
        let hls_segs: Vec<(Option<String>, f64)> =
            m.pl.segments
                .iter()
                .map(|s| (resolve(&m.path, &s.uri).ok(), f64::from(s.duration)))
                .collect();
        let ts = f64::from(r.files.timescale.max(1));
        let differ = hls_segs.len() != r.files.segments.len()
            || hls_segs
                .iter()
                .zip(&r.files.segments)
                .any(|((p, extinf), s)| {
                    p.as_deref() != Some(s.path.as_str())
                        || (extinf - s.duration as f64 / ts).abs() > 0.001
                });
        if differ {
            must(
                report,
                SAME_AS_HLS,
                TITLE,
                d,
                r,
                format!(
                "Representation {id} names {} segments; {} names {} (files or durations differ)",
                r.files.segments.len(), m.path, hls_segs.len()),
            );
        }
    }
    for m in medias.into_iter().filter(|m| m.init.is_some()) {
        let described = d
            .reps
            .iter()
            .any(|r| m.init.as_ref().is_some_and(|(p, _)| *p == r.files.init));
        if !described {
            report.push(
                Severity::Must,
                SAME_AS_HLS,
                TITLE,
                &d.path,
                Location::File,
                format!("no Representation describes {}", m.path),
            );
        }
    }
}
