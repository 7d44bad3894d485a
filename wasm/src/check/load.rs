//! Read a package into a compact model: the playlists parsed, each init segment parsed, and per media
//! segment only the figures the rules need (timing, sizes, key frames) — segment bytes are dropped as soon as
//! they are measured, so memory stays at one segment at a time.

use super::paths::{resolve, uri_lines};
use super::segment::{measure, Seg};
use super::{CheckLimits, Location, PackageReader, Report, Severity};
use crate::cmaf::read::{read_init, InitInfo};
use crate::demux::TrackKind;
use m3u8_rs::{MasterPlaylist, MediaPlaylist, Playlist};
use std::collections::BTreeMap;

pub(crate) const RULE: &str = "files";
const TITLE: &str = "every file the playlists name can be read and parsed";

pub(crate) struct Pkg {
    pub master_path: String,
    pub master_text: String,
    pub master: Option<MasterPlaylist>,
    pub medias: Vec<Media>,
}

impl Pkg {
    pub fn media(&self, path: &str) -> Option<&Media> {
        self.medias.iter().find(|m| m.path == path)
    }
}

pub(crate) struct Media {
    pub path: String,
    pub text: String,
    pub pl: MediaPlaylist,
    /// The init segment named by the first EXT-X-MAP, parsed.
    pub init: Option<(String, InitInfo)>,
    /// One entry per playlist segment; `None` when it could not be read or parsed (already reported).
    pub segs: Vec<Option<Seg>>,
}

impl Media {
    pub fn kind(&self) -> Option<TrackKind> {
        self.init.as_ref().map(|(_, i)| i.kind)
    }

    pub fn timescale(&self) -> u32 {
        self.init.as_ref().map_or(0, |(_, i)| i.timescale)
    }

    /// 1-based line of segment `k`'s URI.
    pub fn line(&self, k: usize) -> Location {
        uri_lines(&self.text)
            .get(k)
            .map_or(Location::File, |&line| Location::Line { line })
    }
}

pub(crate) fn read_file(
    reader: &dyn PackageReader,
    path: &str,
    max: u64,
    report: &mut Report,
    what: &str,
) -> Option<Vec<u8>> {
    match reader.read(path, max) {
        Ok(b) => {
            report.files_read += 1;
            report.bytes_read += b.len() as u64;
            Some(b)
        }
        Err(e) => {
            report.push(
                Severity::Must,
                RULE,
                TITLE,
                path,
                Location::File,
                format!("cannot read the {what}: {e}"),
            );
            None
        }
    }
}

pub(crate) fn fail(report: &mut Report, path: &str, loc: Location, msg: String) {
    report.push(Severity::Must, RULE, TITLE, path, loc, msg);
}

pub(crate) fn load(
    reader: &dyn PackageReader,
    master_path: &str,
    limits: &CheckLimits,
    report: &mut Report,
) -> Pkg {
    let mut pkg = Pkg {
        master_path: master_path.to_string(),
        master_text: String::new(),
        master: None,
        medias: Vec::new(),
    };
    let Some(bytes) = read_file(
        reader,
        master_path,
        limits.max_playlist_bytes,
        report,
        "multivariant playlist",
    ) else {
        return pkg;
    };
    pkg.master_text = String::from_utf8_lossy(&bytes).into_owned();
    super::uris::check_uris(master_path, &pkg.master_text, report);
    let mut budget = limits.max_segments;
    let mut inits = BTreeMap::new();
    match m3u8_rs::parse_playlist_res(&bytes) {
        Ok(Playlist::MasterPlaylist(m)) => {
            let mut uris: Vec<&str> = m.variants.iter().map(|v| v.uri.as_str()).collect();
            // Subtitle renditions are WebVTT, not CMAF: `subtitles.rs` checks them.
            uris.extend(
                m.alternatives
                    .iter()
                    .filter(|a| a.media_type != m3u8_rs::AlternativeMediaType::Subtitles)
                    .filter_map(|a| a.uri.as_deref()),
            );
            let mut seen = Vec::new();
            for uri in uris {
                let Ok(path) = resolve(master_path, uri) else {
                    continue; // reported by `uris`
                };
                if seen.contains(&path) {
                    continue;
                }
                if seen.len() >= limits.max_playlists {
                    fail(
                        report,
                        master_path,
                        Location::File,
                        format!(
                            "names more than {} media playlists; the rest are not checked",
                            limits.max_playlists
                        ),
                    );
                    break;
                }
                seen.push(path.clone());
                if let Some(media) =
                    load_media(reader, &path, None, limits, &mut budget, &mut inits, report)
                {
                    pkg.medias.push(media);
                }
            }
            pkg.master = Some(m);
        }
        Ok(Playlist::MediaPlaylist(pl)) => {
            fail(
                report,
                master_path,
                Location::File,
                "is a media playlist, not a multivariant playlist (RFC 8216 § 4.3.4); checked on its own"
                    .into(),
            );
            let text = pkg.master_text.clone();
            if let Some(media) = load_media(
                reader,
                master_path,
                Some((pl, text)),
                limits,
                &mut budget,
                &mut inits,
                report,
            ) {
                pkg.medias.push(media);
            }
        }
        Err(_) => fail(
            report,
            master_path,
            Location::File,
            "is not an HLS playlist (m3u8 syntax, RFC 8216 § 4)".into(),
        ),
    }
    pkg
}

fn load_media(
    reader: &dyn PackageReader,
    path: &str,
    parsed: Option<(MediaPlaylist, String)>,
    limits: &CheckLimits,
    budget: &mut usize,
    inits: &mut BTreeMap<String, Option<InitInfo>>,
    report: &mut Report,
) -> Option<Media> {
    let (pl, text) = match parsed {
        Some(p) => p,
        None => read_media_playlist(reader, path, limits, report)?,
    };
    let mut media = Media {
        path: path.to_string(),
        text,
        pl,
        init: None,
        segs: Vec::new(),
    };
    let mut current: Option<String> = None;
    let mut prev_range_end: Option<(String, u64)> = None;
    for k in 0..media.pl.segments.len() {
        let s = &media.pl.segments[k];
        if let Some(map) = &s.map {
            // A URI that does not resolve is reported by `uris`.
            if let Ok(p) = resolve(path, &map.uri) {
                current = Some(p);
            }
        }
        let seg_uri = s.uri.clone();
        let seg_range = s.byte_range.clone();
        let extinf = f64::from(s.duration);
        let init = current
            .as_ref()
            .and_then(|p| cached_init(reader, p, limits, inits, report));
        if media.init.is_none() {
            media.init.clone_from(&init);
        }
        if media.pl.i_frames_only {
            continue; // entries are checked by `iframes`
        }
        let Some((_, init)) = init else {
            media.segs.push(None);
            continue; // 8.20 (no EXT-X-MAP) is reported by the media rules
        };
        let Ok(seg_path) = resolve(path, &seg_uri) else {
            media.segs.push(None);
            continue; // reported by `uris`
        };
        if !take_budget(budget, limits, &media, k, report) {
            break;
        }
        let seg = read_file(
            reader,
            &seg_path,
            limits.max_segment_bytes,
            report,
            "media segment",
        )
        .and_then(|bytes| {
            let range = seg_range.as_ref();
            let (lo, slice) = segment_slice(&bytes, range, &seg_path, &mut prev_range_end, report)?;
            measure(slice, lo, &init, &seg_path, extinf, report)
        });
        media.segs.push(seg);
    }
    Some(media)
}

/// Read and parse a media playlist the multivariant playlist names (its URIs checked on the way).
fn read_media_playlist(
    reader: &dyn PackageReader,
    path: &str,
    limits: &CheckLimits,
    report: &mut Report,
) -> Option<(MediaPlaylist, String)> {
    let bytes = read_file(
        reader,
        path,
        limits.max_playlist_bytes,
        report,
        "media playlist",
    )?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    super::uris::check_uris(path, &text, report);
    match m3u8_rs::parse_media_playlist_res(&bytes) {
        Ok(pl) => Some((pl, text)),
        Err(_) => {
            fail(
                report,
                path,
                Location::File,
                "is not a media playlist (RFC 8216 § 4.3.3)".into(),
            );
            None
        }
    }
}

/// The init segment at `p` with its path, read once per package however many playlists map it.
fn cached_init(
    reader: &dyn PackageReader,
    p: &str,
    limits: &CheckLimits,
    inits: &mut BTreeMap<String, Option<InitInfo>>,
    report: &mut Report,
) -> Option<(String, InitInfo)> {
    inits
        .entry(p.to_string())
        .or_insert_with(|| load_init(reader, p, limits, report))
        .clone()
        .map(|i| (p.to_string(), i))
}

/// Count segment `k` of `media` against the package's budget; `false` (reported) once it is spent.
fn take_budget(
    budget: &mut usize,
    limits: &CheckLimits,
    media: &Media,
    k: usize,
    report: &mut Report,
) -> bool {
    if *budget == 0 {
        fail(
            report,
            &media.path,
            media.line(k),
            format!(
                "more than {} media segments in the package; this one and the rest are not checked",
                limits.max_segments
            ),
        );
        return false;
    }
    *budget -= 1;
    true
}

/// The bytes of a segment its EXT-X-BYTERANGE names (all of the file without one) and where they start. A
/// range without an offset follows the previous range of the same file.
fn segment_slice<'a>(
    bytes: &'a [u8],
    range: Option<&m3u8_rs::ByteRange>,
    seg_path: &str,
    prev_range_end: &mut Option<(String, u64)>,
    report: &mut Report,
) -> Option<(u64, &'a [u8])> {
    let (lo, hi) = match range {
        None => (0, bytes.len() as u64),
        Some(r) => {
            let lo = r.offset.unwrap_or(match &*prev_range_end {
                Some((p, end)) if *p == seg_path => *end,
                _ => 0,
            });
            (lo, lo.saturating_add(r.length))
        }
    };
    *prev_range_end = Some((seg_path.to_string(), hi));
    let Some(slice) = usize::try_from(lo)
        .ok()
        .zip(usize::try_from(hi).ok())
        .and_then(|(a, b)| bytes.get(a..b))
    else {
        fail(
            report,
            seg_path,
            Location::File,
            format!(
                "byte range {lo}..{hi} lies outside the file ({} bytes)",
                bytes.len()
            ),
        );
        return None;
    };
    Some((lo, slice))
}

pub(super) fn load_init(
    reader: &dyn PackageReader,
    path: &str,
    limits: &CheckLimits,
    report: &mut Report,
) -> Option<InitInfo> {
    let bytes = read_file(reader, path, limits.max_init_bytes, report, "init segment")?;
    read_init(&bytes)
        .map_err(|e| {
            fail(
                report,
                path,
                Location::File,
                format!("not a CMAF init segment: {e}"),
            )
        })
        .ok()
}
