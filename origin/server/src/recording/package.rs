//! The recording's package: its tracks as the core's [`Rendition`]s (sizes and timing, no bytes), and the
//! VOD playlists the core writes for them.
use upcast_core::cmaf::read::read_init;
use upcast_core::cmaf::{IFrameRef, MediaSegment, Rendition};
use upcast_core::demux::TrackKind;
use upcast_core::live::TrackInfo;

use crate::error::{ApiError, ApiResult};

/// One recorded track: where it lives in the package and what the playlists need of its segments.
pub struct RecTrack {
    pub dir: String,
    pub init: Vec<u8>,
    rendition: Rendition,
    /// Samples in the recorded segments (video: frames), for FRAME-RATE as the VOD path measures it.
    samples: u64,
    /// Its publisher paused it: it is not in the published package, and what was stored of it is deleted
    /// ([`super::Recording::leave_out`]).
    pub left_out: bool,
}

impl RecTrack {
    pub fn new(dir: &str, info: &TrackInfo) -> ApiResult<RecTrack> {
        let parsed =
            read_init(&info.init).map_err(|e| ApiError::NotCmaf(format!("{dir}/init.mp4: {e}")))?;
        let display = (info.kind == TrackKind::Video).then_some((info.width, info.height));
        Ok(RecTrack {
            dir: dir.to_string(),
            init: info.init.clone(),
            rendition: Rendition {
                id: dir.to_string(),
                kind: parsed.kind,
                timescale: parsed.timescale,
                language: parsed.language,
                entry: parsed.entry,
                init: info.init.clone(),
                segments: Vec::new(),
                data: Vec::new(),
                display,
                frame_rate: None,
            },
            samples: 0,
            left_out: false,
        })
    }

    pub fn kind(&self) -> TrackKind {
        self.rendition.kind
    }

    pub fn timescale(&self) -> u32 {
        self.rendition.timescale
    }

    pub fn segments(&self) -> usize {
        self.rendition.segments.len()
    }

    /// The package path of the next segment.
    pub fn next_segment_path(&self) -> String {
        upcast_core::layout::in_dir(
            &self.dir,
            &upcast_core::layout::segment_name(self.rendition.segments.len()),
        )
    }

    /// A recorded segment of `samples` samples.
    pub fn push_segment(
        &mut self,
        len: u64,
        start: u64,
        duration: u64,
        samples: u64,
        iframes: Vec<IFrameRef>,
    ) {
        self.samples += samples;
        self.rendition.segments.push(MediaSegment {
            len,
            start,
            duration,
            iframes,
        });
    }

    /// The track as the playlist writers take it; a video's frame rate is frames over recorded time, as
    /// [`Rendition::copy`] measures it.
    fn rendition(&self) -> Rendition {
        let mut r = self.rendition.clone();
        let ticks: u64 = r.segments.iter().map(|s| s.duration).sum();
        if r.kind == TrackKind::Video && ticks > 0 {
            r.frame_rate = Some(self.samples as f64 * f64::from(r.timescale) / ticks as f64);
        }
        r
    }
}

/// Every playlist of the recorded package. Tracks with no segment, or left out, are not in it; a recording
/// with no video segment at all is not a video.
pub fn playlists(tracks: &[RecTrack]) -> ApiResult<Vec<(String, String)>> {
    let renditions: Vec<Rendition> = tracks
        .iter()
        .filter(|t| t.segments() > 0 && !t.left_out)
        .map(RecTrack::rendition)
        .collect();
    let videos: Vec<&Rendition> = renditions
        .iter()
        .filter(|r| r.kind == TrackKind::Video)
        .collect();
    let audios: Vec<&Rendition> = renditions
        .iter()
        .filter(|r| r.kind == TrackKind::Audio)
        .collect();
    if videos.is_empty() {
        return Err(ApiError::UnsupportedMedia(
            "the recording holds no video segment".into(),
        ));
    }
    Ok(upcast_core::hls::playlists(&videos, &audios).1)
}
