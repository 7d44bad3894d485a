//! A live stream's recording, made into an ordinary upcast video as it happens: each track's init segment
//! and every closed segment are checked and committed to the store the way an upload is (so a crash
//! leaves at most orphans, collected at the next start), and when the stream ends the playlists are
//! written by the core's VOD writers (media playlists with ENDLIST, I-frame playlists, the multivariant
//! playlist) and the package is published through the same completeness and conformance checks as
//! `POST /api/videos/{id}/publish`.
//!
//! Everything here blocks (disk, SQLite): the live side drives a [`Recording`] from its own thread
//! ([`writer::RecordingWriter`]), never from the runtime.
mod package;
pub mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use upcast_core::cmaf::read::read_init;
use upcast_core::cmaf::trim::cut_before;
use upcast_core::cmaf::IFrameRef;
use upcast_core::demux::TrackKind;
use upcast_core::live::TrackInfo;

use crate::api_types::Visibility;
use crate::check;
use crate::db::{self, Db, Quota, StoredFile};
use crate::error::{ApiError, ApiResult};
use crate::paths;
use crate::store::{ObjectKey, Store};

pub use package::RecTrack;

/// What a recording needs of the origin.
#[derive(Clone)]
pub struct RecCtx {
    pub db: Db,
    pub store: Arc<dyn Store>,
    pub quota: Arc<Quota>,
}

/// One closed live segment, as the recording takes it.
pub struct RecSegment<'a> {
    pub bytes: &'a [u8],
    /// Decode time of its first sample and its length, in the track's timescale.
    pub start: u64,
    pub duration: u64,
    /// Its key frames' own chunks, in order.
    pub key_frames: Vec<KeyFrame>,
}

/// Where a key frame's chunk (moof + mdat) lies in a segment, and when it is decoded (track ticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFrame {
    pub offset: u64,
    pub len: u64,
    pub time: u64,
}

/// A recording in progress: a video in state `uploading` that only this recording writes to.
pub struct Recording {
    ctx: RecCtx,
    pub video_id: String,
    tracks: Vec<RecTrack>,
    /// Objects committed so far, deleted again if the recording is abandoned.
    committed: Vec<ObjectKey>,
    files: HashMap<String, StoredFile>,
}

impl Recording {
    /// Create the video the recording of live stream `stream_id` becomes (its title names the stream
    /// and the start; its row names the stream).
    pub fn start(
        ctx: RecCtx,
        stream_id: &str,
        title: &str,
        visibility: Visibility,
    ) -> ApiResult<Recording> {
        let id = crate::videos::new_id()?;
        ctx.db
            .run_now(|c| db::create_recording(c, &id, title, visibility, Some(stream_id)))?;
        Ok(Recording {
            ctx,
            video_id: id,
            tracks: Vec::new(),
            committed: Vec::new(),
            files: HashMap::new(),
        })
    }

    /// A track of the stream, stored in the package directory `dir` (a rung id, or `audio`). Returns its
    /// index for [`Recording::add_segment`]. A track whose init segment is the one already recorded under
    /// `dir` (a publisher that reconnected with the same settings) continues it.
    pub fn add_track(&mut self, dir: &str, info: &TrackInfo) -> ApiResult<usize> {
        if let Some(k) = self.tracks.iter().position(|t| t.dir == dir) {
            if self.tracks[k].init == info.init {
                return Ok(k);
            }
            return Err(ApiError::BadRequest(format!(
                "{dir}: the publisher changed the track's settings; a recording keeps one init segment per rendition"
            )));
        }
        let track = RecTrack::new(dir, info)?;
        let path = upcast_core::layout::in_dir(dir, upcast_core::layout::INIT);
        self.put(&path, &info.init, None)?;
        self.tracks.push(track);
        Ok(self.tracks.len() - 1)
    }

    /// A closed segment of track `track`, checked against its init segment and committed.
    pub fn add_segment(&mut self, track: usize, seg: &RecSegment<'_>) -> ApiResult<()> {
        let t = self
            .tracks
            .get(track)
            .ok_or_else(|| ApiError::Internal(format!("recording: no track {track}")))?;
        let path = t.next_segment_path();
        let init = t.init.clone();
        let len = u64::try_from(seg.bytes.len())
            .map_err(|_| ApiError::TooLarge("a segment larger than 2^64 bytes".into()))?;
        let samples = self.put(&path, seg.bytes, Some(&init))?;
        let iframes = iframe_refs(seg);
        self.tracks[track].push_segment(len, seg.start, seg.duration, samples, iframes);
        Ok(())
    }

    /// The tracks' last segments (held back for this) end together: a sound track that runs past the
    /// end of the video (an RTMP publisher stopped with its audio a few frames ahead) loses the samples
    /// decoded after the video's end, so that the package covers one time range (HLS Authoring Spec 8.7).
    fn align_ends(&self, held: &mut BTreeMap<usize, writer::Held>) -> ApiResult<()> {
        let videos: Vec<(u64, u32)> = held
            .iter()
            .filter(|(k, _)| self.tracks[**k].kind() == TrackKind::Video)
            .map(|(k, h)| (h.start + h.duration, self.tracks[*k].timescale().max(1)))
            .collect();
        for (k, h) in held.iter_mut() {
            let t = &self.tracks[*k];
            if t.kind() != TrackKind::Audio {
                continue;
            }
            // The video's end in this track's ticks, rounded up (the latest of the video tracks).
            let ts = u128::from(t.timescale());
            let Some(end) = videos
                .iter()
                .map(|&(v, vts)| (u128::from(v) * ts).div_ceil(u128::from(vts)))
                .max()
                .and_then(|e| u64::try_from(e).ok())
            else {
                continue;
            };
            if h.start + h.duration <= end {
                continue;
            }
            let info = read_init(&t.init)
                .map_err(|e| ApiError::NotCmaf(format!("{}/init.mp4: {e}", t.dir)))?;
            let cut = cut_before(&h.bytes, &info, end)
                .map_err(|e| ApiError::NotCmaf(format!("{}: the last segment: {e}", t.dir)))?;
            if let Some(c) = cut {
                h.bytes = c.bytes.into();
                h.duration = c.duration;
            }
        }
        Ok(())
    }

    /// Write the playlists and publish. The video is `ready` when this returns Ok.
    pub fn finish(mut self) -> ApiResult<String> {
        let playlists = package::playlists(&self.tracks)?;
        for (path, text) in playlists {
            self.put(&path, text.as_bytes(), None)?;
        }
        let store = self.ctx.store.clone();
        crate::publish::check_complete(store.as_ref(), &self.video_id, &self.files)?;
        crate::publish::check_conformant(store.as_ref(), &self.video_id, &self.files)?;
        let vid = self.video_id.clone();
        self.ctx.db.run_now(|c| db::mark_ready(c, &vid))?;
        if let Err(e) = crate::manifest::write(store.as_ref(), &self.ctx.db, &vid) {
            // Written at the next start (manifest::reconcile).
            eprintln!("upcast: manifest of {vid}: {e}");
        }
        self.committed.clear();
        Ok(std::mem::take(&mut self.video_id))
    }

    /// Nothing was recorded worth keeping (or it failed): drop the video's rows, then its objects.
    pub fn abandon(mut self) {
        self.delete_all();
    }

    fn delete_all(&mut self) {
        if self.video_id.is_empty() {
            return;
        }
        let vid = self.video_id.clone();
        if let Err(e) = self.ctx.db.run_now(|c| db::delete_video(c, &vid)) {
            eprintln!("upcast: recording {vid}: could not delete its rows: {e}");
        }
        for key in self.committed.drain(..) {
            if let Err(e) = self.ctx.store.delete(&key) {
                eprintln!("upcast: recording {vid}: could not delete {key:?}: {e}");
            }
        }
    }

    /// How many segments the recording will publish (all tracks but those left out).
    pub fn segments(&self) -> usize {
        self.tracks
            .iter()
            .filter(|t| !t.left_out)
            .map(RecTrack::segments)
            .sum()
    }

    /// Leave track `track` out of the package (its publisher paused it: its rendition cannot cover the
    /// same time as the others). What was stored of it goes, rows first, then the objects no other file
    /// of the video uses, so what is stored (and counted against the quotas) is what gets published.
    pub fn leave_out(&mut self, track: usize) -> ApiResult<()> {
        let t = self
            .tracks
            .get_mut(track)
            .ok_or_else(|| ApiError::Internal(format!("recording: no track {track}")))?;
        if std::mem::replace(&mut t.left_out, true) {
            return Ok(());
        }
        let dir = t.dir.clone();
        let vid = self.video_id.clone();
        let orphans = self.ctx.db.run_now(|c| db::delete_dir(c, &vid, &dir))?;
        let prefix = format!("{dir}/");
        self.files.retain(|path, _| !path.starts_with(&prefix));
        for sha256 in orphans {
            let key = ObjectKey {
                video_id: vid.clone(),
                sha256,
            };
            self.committed.retain(|k| *k != key);
            if let Err(e) = self.ctx.store.delete(&key) {
                // No row names it any more: the orphan collection at the next start takes it.
                eprintln!("upcast: recording {vid}: could not delete {key:?}: {e}");
            }
        }
        Ok(())
    }

    /// Check `bytes` as an upload of `path` is checked, commit them, record the row (with the quotas).
    /// Returns how many samples a media segment holds (0 for other files).
    fn put(&mut self, path: &str, bytes: &[u8], init: Option<&[u8]>) -> ApiResult<u64> {
        let kind = paths::check(path)?;
        check::check_bytes(path, kind, bytes, init)?;
        let samples = match init {
            Some(init) => count_samples(bytes, init),
            None => 0,
        };
        let sha256 = hex::encode(Sha256::digest(bytes));
        let key = ObjectKey {
            video_id: self.video_id.clone(),
            sha256: sha256.clone(),
        };
        let mut spool = self.ctx.store.spool().map_err(ApiError::from_io)?;
        std::io::Write::write_all(&mut spool.file, bytes).map_err(ApiError::from_io)?;
        if !self.committed.contains(&key) {
            self.committed.push(key.clone());
        }
        self.ctx
            .store
            .commit(spool, &key)
            .map_err(ApiError::from_io)?;
        let row = StoredFile {
            path: path.to_string(),
            sha256,
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        };
        let (vid, quota) = (self.video_id.clone(), self.ctx.quota.clone());
        self.ctx
            .db
            .run_now(|c| db::put_file(c, &vid, &row, &quota).map(drop))?;
        self.files.insert(path.to_string(), row);
        Ok(samples)
    }
}

impl Drop for Recording {
    /// A recording dropped without [`Recording::finish`] leaves nothing behind.
    fn drop(&mut self) {
        self.delete_all();
    }
}

/// Samples in a segment that [`check::check_bytes`] has just read successfully against `init`.
fn count_samples(bytes: &[u8], init: &[u8]) -> u64 {
    use upcast_core::cmaf::read::{read_init, read_segment};
    read_init(init)
        .and_then(|info| read_segment(bytes, &info))
        .map_or(0, |frags| {
            frags.iter().map(|f| f.samples.len() as u64).sum()
        })
}

/// The I-frame playlist entries of a segment: each key frame's chunk, lasting until the next key frame
/// (or the segment's end).
fn iframe_refs(seg: &RecSegment<'_>) -> Vec<IFrameRef> {
    let end = seg.start + seg.duration;
    let len = u64::try_from(seg.bytes.len()).unwrap_or(u64::MAX);
    seg.key_frames
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let next = seg.key_frames.get(k + 1).map_or(end, |n| n.time);
            IFrameRef {
                offset: f.offset,
                len: f.len.min(len.saturating_sub(f.offset)),
                duration: next.saturating_sub(f.time),
            }
        })
        .collect()
}
