//! Subtitle renditions (`EXT-X-MEDIA:TYPE=SUBTITLES`, RFC 8216 § 3.5 and § 4.3.4.1–2): every variant
//! names an announced group; each rendition's playlist has the video's segments (same count, same EXTINF);
//! each segment is WebVTT with an `X-TIMESTAMP-MAP` that maps cue time zero to the video's first
//! presentation time, and holds only cues that overlap its span (a cue across a boundary is repeated in
//! the next segment, and must be); the MPD's text Representations name files that are WebVTT.

use super::load::{read_file, Pkg};
use super::{CheckLimits, Location, PackageReader, Report, Severity};
use crate::captions::{parse, TextLimits, Timeline};
use m3u8_rs::AlternativeMediaType;

const RULE: &str = "RFC8216 3.5";
const TITLE: &str = "subtitle segments follow the video and carry the timestamp map";
const GROUP_RULE: &str = "RFC8216 4.3.4.2";
const GROUP_TITLE: &str = "SUBTITLES names an EXT-X-MEDIA group";
/// EXTINFs of the subtitle and video playlists may differ by this much (both are written with
/// microseconds; a tool rounding to milliseconds stays inside it).
const TOLERANCE_US: u64 = 1000;

fn must(report: &mut Report, path: &str, loc: Location, msg: String) {
    report.push(Severity::Must, RULE, TITLE, path, loc, msg);
}

pub(crate) fn check_subtitles(
    reader: &dyn PackageReader,
    pkg: &Pkg,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let Some(m) = &pkg.master else { return };
    let subs: Vec<_> = m
        .alternatives
        .iter()
        .filter(|a| a.media_type == AlternativeMediaType::Subtitles)
        .collect();
    for v in m.variants.iter().filter(|v| !v.is_i_frame) {
        if let Some(g) = &v.subtitles {
            if !subs.iter().any(|a| &a.group_id == g) {
                report.push(
                    Severity::Must,
                    GROUP_RULE,
                    GROUP_TITLE,
                    &pkg.master_path,
                    Location::File,
                    format!(
                        "variant {} names SUBTITLES group {g:?}, which no EXT-X-MEDIA has",
                        v.uri
                    ),
                );
            }
        } else if !subs.is_empty() {
            report.push(
                Severity::Should,
                GROUP_RULE,
                GROUP_TITLE,
                &pkg.master_path,
                Location::File,
                format!("variant {} has no SUBTITLES attribute: its players will not offer the subtitles", v.uri),
            );
        }
    }
    let video = m
        .variants
        .iter()
        .find(|v| !v.is_i_frame)
        .and_then(|v| super::resolve(&pkg.master_path, &v.uri).ok())
        .and_then(|p| pkg.media(&p));
    let Some(video) = video else { return };
    let durations: Vec<f64> = video
        .pl
        .segments
        .iter()
        .map(|s| f64::from(s.duration))
        .collect();
    let mut timeline = Timeline::from_durations(video.pl.target_duration, &durations);
    if let (Some(Some(first)), ts) = (video.segs.first(), video.timescale()) {
        if ts > 0 {
            timeline.start_90k = u64::try_from(u128::from(first.start) * 90_000 / u128::from(ts))
                .unwrap_or(u64::MAX);
        }
    }
    for a in &subs {
        let Some(path) = a
            .uri
            .as_deref()
            .and_then(|u| super::resolve(&pkg.master_path, u).ok())
        else {
            must(
                report,
                &pkg.master_path,
                Location::File,
                format!("SUBTITLES {:?} has no URI", a.name),
            );
            continue;
        };
        check_rendition(reader, &path, &timeline, limits, report);
    }
    check_mpd_texts(reader, &super::mpd_path(&pkg.master_path), limits, report);
}

fn check_rendition(
    reader: &dyn PackageReader,
    path: &str,
    video: &Timeline,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let Some(bytes) = read_file(
        reader,
        path,
        limits.max_playlist_bytes,
        report,
        "subtitle playlist",
    ) else {
        return;
    };
    let pl = match m3u8_rs::parse_media_playlist_res(&bytes) {
        Ok(pl) => pl,
        Err(e) => {
            return must(
                report,
                path,
                Location::File,
                format!("not a media playlist: {e}"),
            )
        }
    };
    if pl.segments.len() != video.segments_us.len() {
        must(
            report,
            path,
            Location::File,
            format!(
                "{} segments; the video has {}: subtitle segments must cover the video's",
                pl.segments.len(),
                video.segments_us.len()
            ),
        );
    }
    let mut carried: Vec<String> = Vec::new();
    for (k, (s, &(start_us, dur_us))) in pl.segments.iter().zip(&video.segments_us).enumerate() {
        let extinf_us = crate::num::f64_to_u64((f64::from(s.duration) * 1e6).round());
        if extinf_us.abs_diff(dur_us) > TOLERANCE_US {
            must(
                report,
                path,
                Location::File,
                format!(
                    "segment {}: EXTINF {:.6} s; the video's segment lasts {:.6} s",
                    k + 1,
                    f64::from(s.duration),
                    dur_us as f64 / 1e6
                ),
            );
        }
        let Ok(seg_path) = super::resolve(path, &s.uri) else {
            must(
                report,
                path,
                Location::File,
                format!("segment URI {:?} does not resolve", s.uri),
            );
            continue;
        };
        let Some(body) = read_file(reader, &seg_path, 1 << 20, report, "subtitle segment") else {
            continue;
        };
        carried = check_segment(
            &seg_path,
            &body,
            video,
            (start_us, start_us + dur_us),
            &carried,
            report,
        );
    }
}

/// Check one segment spanning `span_us`; returns the cues (as text) that run past its end, which the next
/// segment must repeat.
fn check_segment(
    path: &str,
    body: &[u8],
    video: &Timeline,
    span_us: (u64, u64),
    carried: &[String],
    report: &mut Report,
) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let header: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    let expected = crate::captions::segment::timestamp_map(video);
    match header
        .iter()
        .position(|l| l.starts_with("X-TIMESTAMP-MAP="))
    {
        None => must(
            report,
            path,
            Location::File,
            "no X-TIMESTAMP-MAP in the header (RFC 8216 § 3.5)".into(),
        ),
        Some(i) if header[i] != expected => must(
            report,
            path,
            Location::Line { line: i + 1 },
            format!("{:?}; the video starts at {expected:?}", header[i]),
        ),
        Some(_) => {}
    }
    let track = match parse(body, &TextLimits::default()) {
        Ok(t) => t,
        Err(e) => {
            must(
                report,
                path,
                Location::Line {
                    line: e.line().unwrap_or(1),
                },
                format!("not WebVTT: {e}"),
            );
            return Vec::new();
        }
    };
    let (start_us, end_us) = span_us;
    let mut out = Vec::new();
    for c in &track.cues {
        let (s, e) = (
            c.start_ms.saturating_mul(1000),
            c.end_ms.saturating_mul(1000),
        );
        if s >= end_us || e <= start_us {
            must(
                report,
                path,
                Location::Line { line: c.line },
                format!(
                    "the cue {} lies outside the segment's span {:.3}–{:.3} s",
                    c.to_vtt()
                        .lines()
                        .find(|l| l.contains("-->"))
                        .unwrap_or_default(),
                    start_us as f64 / 1e6,
                    end_us as f64 / 1e6
                ),
            );
        }
        if e > end_us {
            out.push(c.to_vtt());
        }
    }
    for missing in carried
        .iter()
        .filter(|c| !track.cues.iter().any(|t| &&t.to_vtt() == c))
    {
        must(
            report,
            path,
            Location::File,
            format!(
                "the cue {:?} runs into this segment from the previous one but is not repeated here",
                missing.lines().find(|l| l.contains("-->")).unwrap_or_default()
            ),
        );
    }
    out
}

fn check_mpd_texts(
    reader: &dyn PackageReader,
    mpd_path: &str,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let Ok(bytes) = reader.read(mpd_path, limits.max_playlist_bytes) else {
        return;
    };
    let Ok(mpd) = crate::dash::Mpd::parse(&String::from_utf8_lossy(&bytes)) else {
        return;
    };
    let texts = match crate::dash::refs::text_files(
        mpd_path,
        &mpd,
        crate::hls::resolve::Strictness::Relative,
    ) {
        Ok(t) => t,
        Err(e) => return must(report, mpd_path, Location::File, e),
    };
    for t in texts {
        let Some(body) = read_file(
            reader,
            &t.path,
            8 << 20,
            report,
            "text Representation's file",
        ) else {
            continue;
        };
        if let Err(e) = parse(
            &body,
            &TextLimits {
                max_bytes: 8 << 20,
                ..TextLimits::default()
            },
        ) {
            must(
                report,
                &t.path,
                Location::File,
                format!("Representation {}: not WebVTT: {e}", t.id),
            );
        }
    }
}
