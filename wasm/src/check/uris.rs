//! Every URI a playlist holds stays inside the package: URI lines and every URI attribute of every tag,
//! quoted or not ([`crate::hls::uris`]), resolved with [`super::paths::resolve`]. A URI that is absolute,
//! has a scheme or climbs out would make a player fetch from elsewhere (a key server, a steering server, a
//! tracker), and a line whose URIs cannot be told for sure is refused as well.

use super::paths::resolve;
use super::{Location, Report, Severity};
use crate::hls::uris::playlist_uris;

pub(crate) const RULE: &str = "uris";
const TITLE: &str =
    "every URI in a playlist (URI lines and URI attributes) is a relative path inside the package";

/// Report each URI of the playlist at package path `path` that leaves the package, and each line whose
/// URIs cannot be told.
pub(crate) fn check_uris(path: &str, text: &str, report: &mut Report) {
    let found = playlist_uris(text);
    for e in &found.errors {
        report.push(
            Severity::Must,
            RULE,
            TITLE,
            path,
            Location::Line { line: e.line },
            e.message.clone(),
        );
    }
    for u in &found.uris {
        if let Err(e) = resolve(path, u.uri) {
            report.push(
                Severity::Must,
                RULE,
                TITLE,
                path,
                Location::Line { line: u.line },
                format!("{}: {e}", u.source),
            );
        }
    }
}
