//! HLS conformance checking: the rules of Apple's HLS Authoring Specification (and RFC 8216) that can be
//! decided from the bytes of a package — playlists, init segments and media segments — and, when the package
//! has a `manifest.mpd` beside its multivariant playlist, the DASH rules on it (`dash.rs`, `dash_rules.rs`).
//!
//! I/O-free: the caller hands in a [`PackageReader`] (a folder, HTTP, an in-memory map, browser Blobs), so
//! the same code runs in the browser before upload, in the origin on publish and in `upcast validate`. The
//! input is untrusted: nothing here panics on it, every file is read with a size cap, and the number of
//! playlists, segments and I-frame entries looked at is bounded (see [`CheckLimits`]).

mod bitrate;
mod bitstream;
mod dash;
mod dash_images;
mod dash_rules;
mod iframes;
pub mod live;
mod load;
mod master;
mod media;
mod paths;
mod report;
mod segment;
mod storyboard;
mod subtitles;
mod timeline;
mod uris;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dash;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_subtitles;
#[cfg(test)]
mod tests_util;

pub use bitstream::is_key_frame;
pub use dash::mpd_path;
pub use paths::resolve;
pub use report::render_text;

use std::collections::BTreeMap;
use std::fmt;

/// How binding a rule is, as in the HLS Authoring Specification (RFC 2119 words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Must,
    Should,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Must => "MUST",
            Severity::Should => "SHOULD",
        })
    }
}

/// Where in a file a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Location {
    /// The file as a whole.
    File,
    /// A line of a playlist, 1-based.
    Line { line: usize },
    /// A byte offset in a file (a media segment's own offsets, counted from the start of the file).
    Byte { byte: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line { line } => write!(f, ":{line}"),
            Location::Byte { byte } => write!(f, " @ byte {byte}"),
        }
    }
}

/// One rule broken at one place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The section of the HLS Authoring Specification ("7.4"), or of another spec ("RFC8216 4.3.3.1").
    pub rule: &'static str,
    /// The rule in a few words.
    pub title: &'static str,
    /// The file at fault, relative to the package root as the playlists name it.
    pub file: String,
    pub location: Location,
    pub message: String,
}

/// Every finding of one check, in the order they were found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub master: String,
    pub findings: Vec<Finding>,
    /// Files read and bytes read, so a caller can see how much was looked at.
    pub files_read: usize,
    pub bytes_read: u64,
}

impl Report {
    /// True when no MUST rule failed.
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Must)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Findings of one rule (tests use this).
    pub fn of_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.rule == rule)
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        rule: &'static str,
        title: &'static str,
        file: &str,
        location: Location,
        message: impl Into<String>,
    ) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(Finding {
                severity,
                rule,
                title,
                file: file.to_string(),
                location,
                message: message.into(),
            });
        }
    }
}

/// A report longer than this says nothing more useful; a hostile package could otherwise make it huge.
pub const MAX_FINDINGS: usize = 1000;

/// Reads the files of a package. Paths are `/`-separated, relative to the package root, already resolved
/// against the playlist that names them (no `..`, no scheme).
pub trait PackageReader {
    /// The whole file. Must refuse (without reading it) a file longer than `max_len` bytes.
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, String>;
}

/// A package held in memory: path → bytes. Tests and the browser (after the ladder is built) use it.
#[derive(Debug, Clone, Default)]
pub struct MemReader {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl PackageReader for MemReader {
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, String> {
        let bytes = self.files.get(path).ok_or("no such file")?;
        if bytes.len() as u64 > max_len {
            return Err(format!(
                "{} bytes, over the limit of {max_len}",
                bytes.len()
            ));
        }
        Ok(bytes.clone())
    }
}

/// Bounds on the work and memory one check may take.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CheckLimits {
    pub max_playlist_bytes: u64,
    pub max_init_bytes: u64,
    pub max_segment_bytes: u64,
    /// Media and I-frame playlists read (the multivariant playlist not counted).
    pub max_playlists: usize,
    /// Media segments read over the whole package.
    pub max_segments: usize,
    /// I-frame playlist entries whose byte ranges are parsed, over the whole package.
    pub max_iframe_entries: usize,
}

impl Default for CheckLimits {
    fn default() -> Self {
        CheckLimits {
            max_playlist_bytes: 4 << 20,
            max_init_bytes: 1 << 20,
            max_segment_bytes: 256 << 20,
            max_playlists: 64,
            max_segments: 50_000,
            max_iframe_entries: 50_000,
        }
    }
}

/// Check the package whose multivariant playlist is at `master_path` with the default limits.
pub fn check_package(reader: &dyn PackageReader, master_path: &str) -> Report {
    check_package_with(reader, master_path, &CheckLimits::default())
}

pub fn check_package_with(
    reader: &dyn PackageReader,
    master_path: &str,
    limits: &CheckLimits,
) -> Report {
    let mut report = Report {
        master: master_path.to_string(),
        ..Report::default()
    };
    let pkg = load::load(reader, master_path, limits, &mut report);
    for m in &pkg.medias {
        media::check_media(m, &mut report);
    }
    timeline::check_renditions(&pkg, &mut report);
    master::check_master(&pkg, &mut report);
    iframes::check_iframes(reader, &pkg, limits, &mut report);
    dash::check_dash(reader, &mpd_path(master_path), &pkg, limits, &mut report);
    storyboard::check_storyboard(reader, &pkg, limits, &mut report);
    subtitles::check_subtitles(reader, &pkg, limits, &mut report);
    report
}
