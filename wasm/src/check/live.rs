//! Live (LL-HLS) rules: on one snapshot of a media playlist, across two snapshots of it (reloads, delta
//! updates), and on the bytes of its INDEPENDENT parts. I/O-free like the rest of the checker: the caller
//! (`upcast validate --live`, the origin's own tests) fetches the snapshots and parts and hands them in.
//!
//! Rule ids (stable, in [`crate::check::Finding::rule`]): `live-playlist`, `live-part-inf`,
//! `live-part-duration`, `live-part-hold-back`, `live-hold-back`, `live-can-skip-until`,
//! `live-can-block-reload`, `live-parts-sum`, `live-preload-hint`, `live-rendition-report`, `live-skip`,
//! `live-media-sequence`, `live-segment-changed`, `live-segment-withdrawn`, `live-discontinuity-sequence`,
//! `live-part-withdrawn`, `live-delta`, `live-independent-key-frame`, and `live-fetch` (a playlist or part
//! the caller could not fetch, see [`fetch_failed`]).

mod model;
mod part;
mod reload;
mod rules;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pairs;

pub use model::{
    parse, LivePart, LivePlaylist, LiveSegment, ParseError, PreloadHint, RenditionReport,
    ServerControl,
};

use super::{Location, Report, Severity};

/// Slack between two decimals a writer rounded: 1 ms (playlists carry at least millisecond precision).
pub const SECOND_TOLERANCE: f64 = 0.001;

/// Whether a rendition report's URI (as written in the playlist, relative to it) names a media playlist of
/// the same presentation. The caller knows the presentation (its multivariant playlist, or a fetch).
pub trait RenditionResolver {
    fn exists(&self, uri: &str) -> bool;
}

impl<F: Fn(&str) -> bool> RenditionResolver for F {
    fn exists(&self, uri: &str) -> bool {
        self(uri)
    }
}

/// What the checker needs to know about how a snapshot was asked for.
pub struct Context<'a> {
    /// The request carried `_HLS_skip=YES|v2` (a delta update may answer it).
    pub asked_skip: bool,
    pub renditions: &'a dyn RenditionResolver,
}

/// Parse `text` (the playlist named `path` in the report) and check it; `None` (with a `live-playlist`
/// finding) when it cannot be read.
pub fn check_snapshot(
    path: &str,
    text: &str,
    ctx: &Context<'_>,
    report: &mut Report,
) -> Option<LivePlaylist> {
    report.files_read += 1;
    report.bytes_read = report
        .bytes_read
        .saturating_add(u64::try_from(text.len()).unwrap_or(u64::MAX));
    match parse(path, text) {
        Ok(pl) => {
            check_playlist(&pl, ctx, report);
            Some(pl)
        }
        Err(e) => {
            let loc = if e.line == 0 {
                Location::File
            } else {
                Location::Line { line: e.line }
            };
            report.push(
                Severity::Must,
                "live-playlist",
                "the live playlist parses",
                path,
                loc,
                e.message,
            );
            None
        }
    }
}

/// The single-snapshot rules on a parsed playlist.
pub fn check_playlist(pl: &LivePlaylist, ctx: &Context<'_>, report: &mut Report) {
    rules::check(pl, ctx, report);
}

/// The rules across a reload: `prev` was fetched before `next` (full playlists or delta updates).
pub fn check_reload(prev: &LivePlaylist, next: &LivePlaylist, report: &mut Report) {
    reload::check(prev, next, report);
}

/// A delta update (answer to `_HLS_skip`) against a full playlist fetched just before it.
pub fn check_delta(full: &LivePlaylist, delta: &LivePlaylist, report: &mut Report) {
    reload::check_delta(full, delta, report);
}

/// The bytes of a part marked INDEPENDENT (`file` names it in the report) begin with a key frame.
pub fn check_independent_part(init: &[u8], part: &[u8], file: &str, report: &mut Report) {
    part::check(init, part, file, report);
}

/// A playlist or part the caller could not fetch (HTTP error, deadline, size limit): a `live-fetch` MUST
/// finding — a live origin that cannot answer in time fails its viewers.
pub fn fetch_failed(report: &mut Report, file: &str, message: impl Into<String>) {
    report.push(
        Severity::Must,
        "live-fetch",
        "every live playlist and part can be fetched in time",
        file,
        Location::File,
        message,
    );
}

/// The blocking-reload target after `pl` (§ 6.2.5.2): `(_HLS_msn, Some(_HLS_part))` for the part after the
/// last one listed, or `(_HLS_msn, None)` for the segment after the last one when the playlist has no parts.
pub fn next_reload(pl: &LivePlaylist) -> (u64, Option<u64>) {
    let open = pl.open_msn();
    if pl.has_parts() {
        let n = u64::try_from(pl.open_parts.len()).unwrap_or(u64::MAX);
        (open, Some(n))
    } else {
        (open, None)
    }
}
