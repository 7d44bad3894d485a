//! The LL-HLS rules on one playlist snapshot (RFC 8216bis § 4.4.3.7–4.4.5.4, § 6.2.5; Apple's HLS
//! Authoring Specification, "Low-Latency HLS").

use super::model::LivePlaylist;
use super::{Context, SECOND_TOLERANCE};
use crate::check::{Location, Report, Severity};

fn at(line: usize) -> Location {
    if line == 0 {
        Location::File
    } else {
        Location::Line { line }
    }
}

pub(super) fn check(pl: &LivePlaylist, ctx: &Context<'_>, report: &mut Report) {
    part_inf(pl, report);
    part_durations(pl, report);
    server_control(pl, report);
    parts_add_up(pl, report);
    preload_hints(pl, report);
    rendition_reports(pl, ctx, report);
    skip(pl, ctx, report);
}

/// § 4.4.3.7: EXT-X-PART-INF is REQUIRED when the playlist holds EXT-X-PART tags; PART-TARGET > 0.
fn part_inf(pl: &LivePlaylist, report: &mut Report) {
    const TITLE: &str = "EXT-X-PART-INF present with the parts (RFC 8216bis 4.4.3.7)";
    match pl.part_target {
        None if pl.has_parts() => {
            let line = pl.all_parts().next().map_or(0, |(_, _, p)| p.line);
            report.push(Severity::Must, "live-part-inf", TITLE, &pl.path, at(line),
                "the playlist lists EXT-X-PART tags but has no EXT-X-PART-INF: a player cannot tell the part target");
        }
        Some((t, line)) if t <= 0.0 => report.push(
            Severity::Must,
            "live-part-inf",
            TITLE,
            &pl.path,
            at(line),
            format!("PART-TARGET is {t}; it must be positive"),
        ),
        _ => {}
    }
}

/// § 4.4.4.9: every part lasts at most PART-TARGET. Tolerance [`SECOND_TOLERANCE`]: both figures are
/// decimals a writer rounds (to the millisecond at least), so up to 1 ms between them is the writing, not
/// the stream.
fn part_durations(pl: &LivePlaylist, report: &mut Report) {
    let Some((target, _)) = pl.part_target else {
        return;
    };
    for (msn, i, p) in pl.all_parts() {
        if p.duration > target + SECOND_TOLERANCE {
            report.push(
                Severity::Must,
                "live-part-duration",
                "every part at most PART-TARGET long (RFC 8216bis 4.4.4.9)",
                &pl.path,
                at(p.line),
                format!(
                    "part {i} of segment {msn} ({}) lasts {:.6} s, over PART-TARGET {target} (tolerance {SECOND_TOLERANCE} s)",
                    p.uri, p.duration
                ),
            );
        }
    }
}

/// § 4.4.3.8: PART-HOLD-BACK at least 2 × PART-TARGET (Apple's LL-HLS authoring requirement: 3 ×), HOLD-BACK
/// at least 3 × the target duration, CAN-SKIP-UNTIL at least 6 × the target duration; § 6.2.5.2: a server
/// that writes parts supports blocking reload (CAN-BLOCK-RELOAD=YES).
fn server_control(pl: &LivePlaylist, report: &mut Report) {
    let sc = pl.server_control.clone().unwrap_or_default();
    let td = pl.target_duration as f64;
    let line = at(sc.line);
    if let Some((pt, pt_line)) = pl.part_target {
        const TITLE: &str = "PART-HOLD-BACK at least 3 × PART-TARGET";
        match sc.part_hold_back {
            None => report.push(Severity::Must, "live-part-hold-back", TITLE, &pl.path, at(pt_line),
                "EXT-X-PART-INF without EXT-X-SERVER-CONTROL:PART-HOLD-BACK (REQUIRED with parts, RFC 8216bis 4.4.3.8)"),
            Some(h) if h + SECOND_TOLERANCE < 2.0 * pt => report.push(Severity::Must, "live-part-hold-back", TITLE,
                &pl.path, line, format!("PART-HOLD-BACK {h} is under 2 × PART-TARGET {pt} (RFC 8216bis 4.4.3.8 MUST)")),
            Some(h) if h + SECOND_TOLERANCE < 3.0 * pt => report.push(Severity::Should, "live-part-hold-back", TITLE,
                &pl.path, line, format!("PART-HOLD-BACK {h} is under 3 × PART-TARGET {pt}: Apple's HLS Authoring Specification requires 3 × for LL-HLS; players stall at the live edge")),
            _ => {}
        }
        if !sc.can_block_reload {
            report.push(Severity::Must, "live-can-block-reload",
                "CAN-BLOCK-RELOAD=YES with parts (RFC 8216bis 6.2.5.2)", &pl.path, line,
                "the playlist lists parts but EXT-X-SERVER-CONTROL has no CAN-BLOCK-RELOAD=YES: a server that writes parts must support blocking reload");
        }
    }
    if let Some(h) = sc.hold_back {
        if h + SECOND_TOLERANCE < 3.0 * td {
            report.push(
                Severity::Must,
                "live-hold-back",
                "HOLD-BACK at least 3 × the target duration (RFC 8216bis 4.4.3.8)",
                &pl.path,
                line,
                format!("HOLD-BACK {h} is under 3 × EXT-X-TARGETDURATION {td}"),
            );
        }
    }
    if let Some(s) = sc.can_skip_until {
        if s + SECOND_TOLERANCE < 6.0 * td {
            report.push(
                Severity::Must,
                "live-can-skip-until",
                "CAN-SKIP-UNTIL at least 6 × the target duration (RFC 8216bis 4.4.3.8)",
                &pl.path,
                line,
                format!("CAN-SKIP-UNTIL {s} is under 6 × EXT-X-TARGETDURATION {td}"),
            );
        }
    }
}

/// § 4.4.4.9: a segment is the concatenation of its parts, so the parts of a complete segment add up to its
/// EXTINF — within 1 ms per part and 1 ms for EXTINF (each decimal rounded by its writer).
fn parts_add_up(pl: &LivePlaylist, report: &mut Report) {
    for s in pl.segments.iter().filter(|s| !s.parts.is_empty()) {
        let sum: f64 = s.parts.iter().map(|p| p.duration).sum();
        let n = s.parts.len() as f64;
        let tolerance = SECOND_TOLERANCE * (n + 1.0);
        if (sum - s.duration).abs() > tolerance {
            report.push(
                Severity::Must,
                "live-parts-sum",
                "the parts of a segment add up to its EXTINF (RFC 8216bis 4.4.4.9)",
                &pl.path,
                at(s.line),
                format!(
                    "segment {} ({}) has EXTINF {:.6} but its {} parts last {sum:.6} s (tolerance {tolerance:.3} s)",
                    s.msn, s.uri, s.duration, s.parts.len()
                ),
            );
        }
    }
}

/// § 4.4.5.3: at most one EXT-X-PRELOAD-HINT per TYPE, TYPE PART or MAP, and a PART hint names the part after
/// the last one listed, never one already listed.
fn preload_hints(pl: &LivePlaylist, report: &mut Report) {
    const TITLE: &str = "EXT-X-PRELOAD-HINT is the next part (RFC 8216bis 4.4.5.3)";
    for (k, h) in pl.hints.iter().enumerate() {
        let mut fail = |msg: String| {
            report.push(
                Severity::Must,
                "live-preload-hint",
                TITLE,
                &pl.path,
                at(h.line),
                msg,
            )
        };
        if h.kind != "PART" && h.kind != "MAP" {
            fail(format!("TYPE={:?}; it must be PART or MAP", h.kind));
        }
        if h.uri.is_empty() {
            fail("the hint has no URI".into());
        }
        if pl.hints[..k].iter().any(|o| o.kind == h.kind) {
            fail(format!("a second hint of TYPE={}", h.kind));
        }
        if h.kind == "PART" {
            let listed = pl
                .all_parts()
                .find(|(_, _, p)| p.uri == h.uri && p.byte_range.is_none());
            if let Some((msn, i, _)) = listed {
                fail(format!(
                    "hints {}, which is already listed as part {i} of segment {msn}: the hint must be the next part",
                    h.uri
                ));
            }
        }
    }
}

/// § 4.4.5.4: each EXT-X-RENDITION-REPORT names, by URI, a media playlist of the same presentation.
fn rendition_reports(pl: &LivePlaylist, ctx: &Context<'_>, report: &mut Report) {
    const TITLE: &str = "rendition reports name playlists that exist (RFC 8216bis 4.4.5.4)";
    for r in &pl.reports {
        let msg = match &r.uri {
            None => "EXT-X-RENDITION-REPORT has no URI".to_string(),
            Some(u) if !ctx.renditions.exists(u) => {
                format!("reports on {u}, which is not a media playlist of this presentation")
            }
            Some(_) if r.last_msn.is_none() => "EXT-X-RENDITION-REPORT has no LAST-MSN".into(),
            Some(_) => continue,
        };
        report.push(
            Severity::Must,
            "live-rendition-report",
            TITLE,
            &pl.path,
            at(r.line),
            msg,
        );
    }
}

/// § 6.2.5.1: EXT-X-SKIP appears only in an answer to `_HLS_skip=YES|v2`, from a server that advertises
/// CAN-SKIP-UNTIL, and never skips segments inside the skip boundary (CAN-SKIP-UNTIL seconds from the end;
/// the boundary falls inside a segment, so the longest segment allowed of slack: an EXTINF rounds to at
/// most the target duration (RFC 8216 4.3.3.1), so it may last up to half a second more).
fn skip(pl: &LivePlaylist, ctx: &Context<'_>, report: &mut Report) {
    const TITLE: &str = "EXT-X-SKIP only in delta updates (RFC 8216bis 6.2.5.1)";
    let Some((n, line)) = pl.skipped else { return };
    let mut fail =
        |msg: String| report.push(Severity::Must, "live-skip", TITLE, &pl.path, at(line), msg);
    if !ctx.asked_skip {
        fail(format!(
            "skips {n} segments in an answer to a request without _HLS_skip"
        ));
        return;
    }
    let Some(until) = pl.server_control.as_ref().and_then(|s| s.can_skip_until) else {
        fail("a delta update from a playlist without CAN-SKIP-UNTIL".into());
        return;
    };
    let listed: f64 = pl.segments.iter().map(|s| s.duration).sum::<f64>()
        + pl.open_parts.iter().map(|p| p.duration).sum::<f64>();
    let longest = pl.target_duration as f64 + 0.5;
    if n > 0 && listed + longest + SECOND_TOLERANCE < until {
        fail(format!("skips {n} segments but lists only {listed:.3} s, less than CAN-SKIP-UNTIL {until} from the end"));
    }
}
