//! The DASH MPD of a package (`manifest.mpd` beside the multivariant playlist), checked against the files:
//! it parses back into the writer's model, every Representation's init and media segments exist and parse,
//! its SegmentTimeline is the segments' tfdt and durations to the tick, `codecs` is what the init segment
//! says, `bandwidth` is within 10 % of the measured peak, every segment starts with a SAP of type 1 or 2.
//! Across Representations ([`super::dash_rules`]): video segment boundaries are shared (DASH-IF IOP
//! alignment) and HLS and DASH describe the same segments.
//!
//! Segments the HLS check already measured are not read again: the MPD names the same files.

use super::load::{read_file, Pkg};
use super::paths::{line_containing, resolve};
use super::segment::{measure, Seg};
use super::{CheckLimits, Location, PackageReader, Report, Severity};
use crate::cmaf::read::InitInfo;
use crate::dash::refs::{representations, RepFiles};
use crate::dash::Mpd;
use crate::hls::resolve::Strictness;
use std::collections::BTreeMap;

pub(crate) const MPD_RULE: &str = "DASH mpd";
const MPD_TITLE: &str = "the MPD parses and names its files";
pub(crate) const FILES_RULE: &str = "DASH files";
const FILES_TITLE: &str = "every file the MPD names can be read and parsed";

/// A Representation with what its files measured.
pub(crate) struct DashRep {
    pub files: RepFiles,
    pub codecs: String,
    pub bandwidth: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sampling_rate: Option<u32>,
    pub init: Option<InitInfo>,
    /// One per timeline entry; `None` when unreadable (reported).
    pub segs: Vec<Option<Seg>>,
    pub loc: Location,
}

pub(crate) struct DashPkg {
    pub path: String,
    pub reps: Vec<DashRep>,
}

/// The MPD's path: [`crate::layout::MANIFEST`] in the multivariant playlist's directory.
pub fn mpd_path(master_path: &str) -> String {
    match master_path.rfind('/') {
        Some(i) => format!("{}/{}", &master_path[..i], crate::layout::MANIFEST),
        None => crate::layout::MANIFEST.to_string(),
    }
}

/// Read and check the MPD at `path` when the package has one (`None` when the reader has no such file).
pub(crate) fn check_dash(
    reader: &dyn PackageReader,
    path: &str,
    hls: &Pkg,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let Ok(bytes) = reader.read(path, limits.max_playlist_bytes) else {
        return; // no MPD: an HLS-only package
    };
    report.files_read += 1;
    report.bytes_read += bytes.len() as u64;
    let Some(dash) = load(reader, path, &bytes, hls, limits, report) else {
        return;
    };
    for r in &dash.reps {
        super::dash_rules::check_rep(&dash, r, report);
    }
    super::dash_rules::check_alignment(&dash, report);
    super::dash_rules::check_same_as_hls(&dash, hls, report);
}

fn mpd_fail(report: &mut Report, path: &str, msg: String) {
    report.push(
        Severity::Must,
        MPD_RULE,
        MPD_TITLE,
        path,
        Location::File,
        msg,
    );
}

fn load(
    reader: &dyn PackageReader,
    path: &str,
    bytes: &[u8],
    hls: &Pkg,
    limits: &CheckLimits,
    report: &mut Report,
) -> Option<DashPkg> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        mpd_fail(report, path, "is not UTF-8".into());
        return None;
    };
    let parsed = Mpd::parse(text).and_then(|mpd| {
        representations(path, &mpd, limits.max_segments, Strictness::Relative)
            .map(|files| (mpd, files))
    });
    let (mpd, files) = match parsed {
        Ok(p) => p,
        Err(e) => {
            mpd_fail(report, path, e);
            return None;
        }
    };
    if mpd.mpd_type != "static" {
        mpd_fail(
            report,
            path,
            format!("MPD@type is {:?}; a package is static", mpd.mpd_type),
        );
    }
    // What the HLS check measured, by path: the same files are not read twice.
    let measured: BTreeMap<&str, &Seg> = hls
        .medias
        .iter()
        .flat_map(|m| m.segs.iter().flatten())
        .map(|s| (s.path.as_str(), s))
        .collect();
    // Every segment the HLS check tried to read: one it could not read is reported already.
    let hls_paths: std::collections::BTreeSet<String> = hls
        .medias
        .iter()
        .filter(|m| !m.pl.i_frames_only)
        .flat_map(|m| {
            m.pl.segments
                .iter()
                .filter_map(|s| resolve(&m.path, &s.uri).ok())
        })
        .collect();
    let hls_maps: std::collections::BTreeSet<String> = hls
        .medias
        .iter()
        .flat_map(|m| {
            m.pl.segments
                .iter()
                .filter_map(|s| s.map.as_ref())
                .filter_map(|map| resolve(&m.path, &map.uri).ok())
        })
        .collect();
    let hls_inits: BTreeMap<&str, &InitInfo> = hls
        .medias
        .iter()
        .filter_map(|m| m.init.as_ref().map(|(p, i)| (p.as_str(), i)))
        .collect();
    super::dash_images::check_images(reader, path, text, &mpd, limits, report);
    let sets = mpd.periods.first().map_or(&[][..], |p| &p.adaptation_sets);
    // Text Representations (a whole WebVTT file each) are checked with the subtitle renditions, image
    // ones (the storyboard) by `dash_images`.
    let all_reps = sets
        .iter()
        .filter(|a| a.content_type != crate::dash::refs::IMAGE)
        .flat_map(|a| &a.representations)
        .filter(|r| r.base_url.is_none());
    let mut budget = limits.max_segments;
    let mut reps = Vec::new();
    for (files, r) in files.into_iter().zip(all_reps) {
        let init = match hls_inits.get(files.init.as_str()) {
            Some(i) => Some((*i).clone()),
            None if hls_maps.contains(&files.init) => None, // unreadable: reported already
            None => super::load::load_init(reader, &files.init, limits, report),
        };
        let mut segs = Vec::with_capacity(files.segments.len());
        for s in &files.segments {
            let extinf = s.duration as f64 / f64::from(files.timescale);
            let seg = match (measured.get(s.path.as_str()), &init) {
                (Some(m), _) => Some((*m).clone()),
                (None, _) if hls_paths.contains(&s.path) => None,
                (None, None) => None,
                (None, Some(_)) if budget == 0 => {
                    files_fail(
                        report,
                        &s.path,
                        "over the segment budget: not checked".into(),
                    );
                    None
                }
                (None, Some(init)) => {
                    budget -= 1;
                    let seg = read_file(
                        reader,
                        &s.path,
                        limits.max_segment_bytes,
                        report,
                        "media segment",
                    )
                    .and_then(|b| measure(&b, 0, init, &s.path, extinf, report));
                    if seg.is_none() {
                        let id = &files.id;
                        files_fail(
                            report,
                            &s.path,
                            format!("named by Representation {id}: unreadable"),
                        );
                    }
                    seg
                }
            };
            segs.push(seg);
        }
        let loc = line_containing(text, &format!("id=\"{}\"", files.id))
            .map_or(Location::File, |line| Location::Line { line });
        reps.push(DashRep {
            codecs: r.codecs.clone(),
            bandwidth: r.bandwidth,
            width: r.width,
            height: r.height,
            sampling_rate: r.audio_sampling_rate,
            files,
            init,
            segs,
            loc,
        });
    }
    Some(DashPkg {
        path: path.to_string(),
        reps,
    })
}

fn files_fail(report: &mut Report, path: &str, msg: String) {
    report.push(
        Severity::Must,
        FILES_RULE,
        FILES_TITLE,
        path,
        Location::File,
        msg,
    );
}
