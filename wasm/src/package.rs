//! From a source file to a complete package: demux, plan, CMAF renditions, HLS playlists, the DASH MPD
//! and a summary.

use crate::cmaf::{Rendition, SegmentData};
use crate::demux::{demux, Movie, TrackKind};
use crate::error::Result;
use crate::hls::playlists;
use crate::layout;
use crate::limits::Limits;
use crate::plan::{plan, Plan, PlanOptions};
use crate::source::Source;
use crate::summary::Summary;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SegmentOptions {
    pub plan: PlanOptions,
    pub limits: Limits,
}

/// The content of one file of the package.
pub enum FileBody<'a> {
    Bytes(&'a [u8]),
    /// A media segment: header bytes plus source ranges.
    Segment(&'a SegmentData),
}

impl FileBody<'_> {
    pub fn len(&self) -> u64 {
        match self {
            FileBody::Bytes(b) => b.len() as u64,
            FileBody::Segment(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_vec(&self, src: &dyn Source) -> Result<Vec<u8>> {
        match self {
            FileBody::Bytes(b) => Ok(b.to_vec()),
            FileBody::Segment(s) => s.assemble(src),
        }
    }
}

pub struct Package {
    pub plan: Plan,
    pub renditions: Vec<Rendition>,
    /// Path → text of every manifest: the multivariant playlist first, the media and I-frame playlists,
    /// then the MPD ([`layout::MANIFEST`]).
    pub playlists: Vec<(String, String)>,
    /// Path → text of the caption renditions and the chapters track ([`Package::add_text`]).
    pub texts: Vec<(String, String)>,
    pub summary: Summary,
}

/// The multivariant playlist's path ([`crate::layout::MASTER`]).
pub use crate::layout::MASTER;

impl Package {
    /// Every file of the package with its path relative to the package root.
    pub fn files(&self) -> Vec<(String, FileBody<'_>)> {
        let mut out: Vec<(String, FileBody<'_>)> = self
            .playlists
            .iter()
            .chain(&self.texts)
            .map(|(p, t)| (p.clone(), FileBody::Bytes(t.as_bytes())))
            .collect();
        for r in &self.renditions {
            out.push((
                layout::in_dir(&r.id, layout::INIT),
                FileBody::Bytes(&r.init),
            ));
            for (k, s) in r.data.iter().enumerate() {
                out.push((
                    layout::in_dir(&r.id, &layout::segment_name(k)),
                    FileBody::Segment(s),
                ));
            }
        }
        out
    }

    /// Add caption renditions and a chapters track ([`crate::captions::add_text`]) on the boundaries of
    /// the first video rendition (the first audio one in an audio-only package): rewrites `master.m3u8`
    /// and `manifest.mpd`, lists them in the summary, and returns the warnings (also in the summary).
    pub fn add_text(
        &mut self,
        inputs: &[crate::captions::CaptionInput],
        chapters: Option<&[crate::captions::Chapter]>,
        limits: &crate::captions::TextLimits,
    ) -> std::result::Result<Vec<String>, crate::captions::InputError> {
        use crate::captions::{add_text, InputError, Manifests, Timeline};
        let lead = self.video().into_iter().chain(self.audio()).next();
        let lead = lead.ok_or_else(|| InputError::Option("the package has no rendition".into()))?;
        let text_of = |path: &str| {
            self.playlists
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, t)| t.as_str())
        };
        let timeline = Timeline::from_rendition(lead, self.summary.playlist_target_duration);
        let master = text_of(MASTER).ok_or_else(|| InputError::Option("no master.m3u8".into()))?;
        let keep = crate::captions::captions_in_master(master).map_err(InputError::Option)?;
        let out = add_text(
            &Manifests {
                master_path: MASTER,
                master,
                mpd_path: layout::MANIFEST,
                mpd: text_of(layout::MANIFEST),
                timeline: &timeline,
            },
            &keep,
            inputs,
            chapters,
            limits,
        )?;
        for (path, text) in out.files {
            match self.playlists.iter_mut().find(|(p, _)| *p == path) {
                Some(slot) => slot.1 = text,
                None => self.texts.push((path, text)),
            }
        }
        self.summary.captions = out.captions;
        self.summary.chapters = out.chapters.or(self.summary.chapters.take());
        self.summary.warnings.extend(out.warnings.iter().cloned());
        Ok(out.warnings)
    }

    /// The source's chapters that start before the package's end (the first video rendition's, else the
    /// first audio one's): what [`Package::add_text`] takes when the caller typed none.
    pub fn source_chapters(&self) -> Vec<crate::captions::Chapter> {
        let end_ms = self
            .video()
            .into_iter()
            .chain(self.audio())
            .next()
            .map(|r| {
                crate::captions::Timeline::from_rendition(r, self.summary.playlist_target_duration)
                    .end_ms()
            })
            .unwrap_or(0);
        crate::captions::chapters::before_end(&self.summary.source_chapters, end_ms)
    }

    pub fn video(&self) -> Vec<&Rendition> {
        self.renditions
            .iter()
            .filter(|r| r.kind == TrackKind::Video)
            .collect()
    }

    pub fn audio(&self) -> Vec<&Rendition> {
        self.renditions
            .iter()
            .filter(|r| r.kind == TrackKind::Audio)
            .collect()
    }
}

/// Demux `src` and build the copy package.
pub fn segment(src: &dyn Source, opts: &SegmentOptions) -> Result<Package> {
    let movie = demux(src, &opts.limits)?;
    package(&movie, opts)
}

pub fn package(movie: &Movie, opts: &SegmentOptions) -> Result<Package> {
    // A movie whose only video is VP8 (read for the ladder) and that has no audio: nothing to copy.
    crate::demux::refuse_nothing_to_copy(movie, "file", 0)?;
    package_planned(movie, plan(movie, &opts.plan)?)
}

/// The copy package of an existing plan (the ladder re-cuts the audio of a plan before packaging it).
pub fn package_planned(movie: &Movie, plan: Plan) -> Result<Package> {
    let mut renditions = Vec::new();
    if let Some(v) = &plan.video {
        renditions.push(Rendition::copy(movie, v, layout::VIDEO_DIR)?);
    }
    for (i, a) in plan.audio.iter().enumerate() {
        renditions.push(Rendition::copy(movie, a, &layout::audio_dir(i))?);
    }
    let videos: Vec<&Rendition> = renditions
        .iter()
        .filter(|r| r.kind == TrackKind::Video)
        .collect();
    let audios: Vec<&Rendition> = renditions
        .iter()
        .filter(|r| r.kind == TrackKind::Audio)
        .collect();
    let (target, playlists) = playlists(&videos, &audios);
    let summary = Summary::new(movie, &plan, &renditions, target);
    Ok(Package {
        plan,
        renditions,
        playlists,
        texts: Vec::new(),
        summary,
    })
}

#[cfg(feature = "check")]
/// A package still in memory, read as the conformance checker reads files: playlists and init segments
/// as they are, media segments assembled from the source. Lets the browser check what it made before it
/// uploads anything.
pub struct PackageFiles<'a> {
    /// Path → body, built once: the checker reads every file, so a lookup must not rebuild the list.
    files: std::collections::HashMap<String, FileBody<'a>>,
    src: &'a dyn Source,
}

#[cfg(feature = "check")]
impl<'a> PackageFiles<'a> {
    pub fn new(package: &'a Package, src: &'a dyn Source) -> Self {
        PackageFiles {
            files: package.files().into_iter().collect(),
            src,
        }
    }
}

#[cfg(feature = "check")]
impl crate::check::PackageReader for PackageFiles<'_> {
    fn read(&self, path: &str, max_len: u64) -> std::result::Result<Vec<u8>, String> {
        let body = self
            .files
            .get(path)
            .ok_or_else(|| format!("{path} is not part of the package"))?;
        if body.len() > max_len {
            return Err(format!(
                "{path} is {} bytes; at most {max_len} are read",
                body.len()
            ));
        }
        body.to_vec(self.src).map_err(|e| e.to_string())
    }
}

#[cfg(feature = "check")]
impl Package {
    /// Run the conformance checker (HLS Authoring Spec rules) on this package.
    pub fn check(&self, src: &dyn Source) -> crate::check::Report {
        crate::check::check_package(&PackageFiles::new(self, src), MASTER)
    }
}
