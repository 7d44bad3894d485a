//! The rules across two snapshots of one playlist (RFC 8216bis § 6.2.1–6.2.2, § 6.2.5.1): what a player
//! already holds must stay true on reload.

use super::model::{LivePart, LivePlaylist};
use super::SECOND_TOLERANCE;
use crate::check::{Location, Report, Severity};

fn at(line: usize) -> Location {
    Location::Line { line }
}

/// `prev` was fetched before `next`.
pub(super) fn check(prev: &LivePlaylist, next: &LivePlaylist, report: &mut Report) {
    if next.media_sequence < prev.media_sequence {
        report.push(
            Severity::Must,
            "live-media-sequence",
            "EXT-X-MEDIA-SEQUENCE never goes back (RFC 8216bis 6.2.1)",
            &next.path,
            Location::File,
            format!(
                "EXT-X-MEDIA-SEQUENCE went from {} to {}",
                prev.media_sequence, next.media_sequence
            ),
        );
    }
    same_segments(prev, next, "live-segment-changed", report);
    withdrawn(prev, next, report);
    discontinuity_sequence(prev, next, report);
    parts_kept(prev, next, report);
    hint_kept(prev, next, report);
}

/// A delta update (`_HLS_skip`) against a full playlist of the same stream: the same segments where both
/// list them, and the skipped count agrees with the full playlist's window.
pub(super) fn check_delta(full: &LivePlaylist, delta: &LivePlaylist, report: &mut Report) {
    const TITLE: &str = "a delta update matches the full playlist (RFC 8216bis 6.2.5.1)";
    same_segments(full, delta, "live-delta", report);
    if delta.skipped.is_none() {
        return;
    }
    if delta.media_sequence == full.media_sequence
        && delta.discontinuity_sequence != full.discontinuity_sequence
    {
        report.push(
            Severity::Must,
            "live-delta",
            TITLE,
            &delta.path,
            Location::File,
            format!(
                "EXT-X-DISCONTINUITY-SEQUENCE {} in the delta update, {} in the full playlist",
                delta.discontinuity_sequence, full.discontinuity_sequence
            ),
        );
    }
    if let (Some(first), Some((n, line))) = (delta.segments.first(), delta.skipped) {
        let full_first = full.segments.first().map(|s| s.msn);
        if delta.media_sequence == full.media_sequence && full_first.is_some_and(|f| first.msn < f)
        {
            report.push(Severity::Must, "live-delta", TITLE, &delta.path, at(line), format!(
                "skips {n} segments so its first listed segment is {}, before the full playlist's first ({})",
                first.msn, full_first.unwrap_or_default()));
        }
    }
}

/// Every MSN both snapshots list keeps its URI and EXTINF (§ 6.2.1: the server MUST NOT change a segment
/// once it is in the playlist).
fn same_segments(a: &LivePlaylist, b: &LivePlaylist, rule: &'static str, report: &mut Report) {
    for s in &b.segments {
        let Some(old) = a.segment(s.msn) else {
            continue;
        };
        if old.uri != s.uri || (old.duration - s.duration).abs() > SECOND_TOLERANCE {
            report.push(
                Severity::Must,
                rule,
                "a segment keeps its URI and duration across reloads (RFC 8216bis 6.2.1)",
                &b.path,
                at(s.line),
                format!(
                    "segment {} was {} ({:.6} s) and is now {} ({:.6} s)",
                    s.msn, old.uri, old.duration, s.uri, s.duration
                ),
            );
        }
    }
}

/// § 6.2.1: segments leave only from the start of the playlist: the last complete segment of the earlier
/// snapshot is still there (or complete) in the later one.
fn withdrawn(prev: &LivePlaylist, next: &LivePlaylist, report: &mut Report) {
    let (Some(p), n_end) = (prev.segments.last(), next.open_msn()) else {
        return;
    };
    if n_end <= p.msn {
        report.push(
            Severity::Must,
            "live-segment-withdrawn",
            "a segment once listed is not withdrawn from the live edge (RFC 8216bis 6.2.1)",
            &next.path,
            Location::File,
            format!(
                "segment {} ({}) was complete in the previous reload, but this one ends before it (last complete segment {})",
                p.msn,
                p.uri,
                n_end.checked_sub(1).map_or("none".into(), |m| m.to_string())
            ),
        );
    }
}

/// § 6.2.2: EXT-X-DISCONTINUITY-SEQUENCE grows by the number of discontinuities that left the playlist.
fn discontinuity_sequence(prev: &LivePlaylist, next: &LivePlaylist, report: &mut Report) {
    if prev.skipped.is_some() || next.skipped.is_some() {
        return; // a delta update does not list the skipped segments' discontinuities
    }
    // Only decidable when every segment that left was listed in `prev`.
    let Some(first) = prev.segments.first() else {
        return;
    };
    if first.msn > next.media_sequence {
        return;
    }
    let dropped = prev
        .segments
        .iter()
        .filter(|s| s.msn < next.media_sequence && s.discontinuity)
        .count();
    let want = prev
        .discontinuity_sequence
        .saturating_add(u64::try_from(dropped).unwrap_or(u64::MAX));
    if next.discontinuity_sequence != want {
        report.push(Severity::Must, "live-discontinuity-sequence",
            "EXT-X-DISCONTINUITY-SEQUENCE counts the discontinuities that left (RFC 8216bis 6.2.2)",
            &next.path, Location::File, format!(
                "EXT-X-DISCONTINUITY-SEQUENCE is {}; the previous reload had {} and {dropped} discontinuities left the playlist since, so {want}",
                next.discontinuity_sequence, prev.discontinuity_sequence));
    }
}

/// § 6.2.2: parts of the open segment are not withdrawn: while the later snapshot still lists parts for that
/// segment, it lists the earlier ones first, with the same URIs.
fn parts_kept(prev: &LivePlaylist, next: &LivePlaylist, report: &mut Report) {
    let msn = prev.open_msn();
    if prev.open_parts.is_empty() {
        return;
    }
    let now = match next.parts_of(msn) {
        Some(now) => now,
        // The later snapshot ends before the segment: every part of it is withdrawn.
        None if msn > next.open_msn() => &[],
        None => return, // the segment left the window
    };
    if now.is_empty() && next.segment(msn).is_some() {
        return; // complete, and its parts aged out of the playlist
    }
    for (i, p) in prev.open_parts.iter().enumerate() {
        let same = now
            .get(i)
            .is_some_and(|q| q.uri == p.uri && q.byte_range == p.byte_range);
        if !same {
            let line = now
                .get(i)
                .or(now.last())
                .map_or(Location::File, |q| at(q.line));
            report.push(
                Severity::Must,
                "live-part-withdrawn",
                "parts of the open segment are not withdrawn (RFC 8216bis 6.2.2)",
                &next.path,
                line,
                format!(
                    "part {i} of segment {msn} ({}) was listed and is {}",
                    p.uri,
                    describe(now.get(i))
                ),
            );
            return;
        }
    }
}

fn describe(p: Option<&LivePart>) -> String {
    p.map_or("gone".into(), |q| format!("now {}", q.uri))
}

/// The PART hint of the earlier snapshot is the part that follows its last listed part.
fn hint_kept(prev: &LivePlaylist, next: &LivePlaylist, report: &mut Report) {
    let Some(hint) = prev.hints.iter().find(|h| h.kind == "PART") else {
        return;
    };
    let (msn, idx) = match prev.all_parts().last() {
        Some((m, i, _)) if m == prev.open_msn() => (m, i + 1),
        Some(_) | None => (prev.open_msn(), 0),
    };
    let follower = next.parts_of(msn).and_then(|ps| ps.get(idx)).or_else(|| {
        // The segment completed with exactly the parts seen: the follower opens the next segment,
        // unless that segment starts after a discontinuity: a new publish. The hint was given while
        // the old publisher was still sending, and no server can foresee that it goes away.
        let done = next.segment(msn).is_some_and(|s| s.parts.len() == idx);
        let following = msn.checked_add(1)?;
        let new_publish = next.segment(following).is_some_and(|s| s.discontinuity)
            || (following == next.open_msn() && next.open_discontinuity);
        next.parts_of(following)
            .and_then(|ps| ps.first())
            .filter(|_| done && !new_publish)
    });
    if let Some(p) = follower.filter(|p| p.uri != hint.uri && p.byte_range.is_none()) {
        report.push(
            Severity::Should,
            "live-preload-hint",
            "EXT-X-PRELOAD-HINT is the next part (RFC 8216bis 4.4.5.3)",
            &next.path,
            at(p.line),
            format!(
                "the previous reload hinted {} but the part after its last one is {}",
                hint.uri, p.uri
            ),
        );
    }
}
