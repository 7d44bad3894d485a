//! A [`Recording`] on its own thread: the live side hands it tracks and closed segments through a bounded
//! queue and never waits for the disk. If the disk falls behind by more than the queue holds, the
//! recording fails (and is deleted) rather than the live stream stalling or memory growing.
use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use actix_web::web::Bytes;
use upcast_core::live::TrackInfo;

use super::{KeyFrame, RecCtx, RecSegment, Recording};
use crate::api_types::Visibility;
use crate::error::ApiError;

/// Closed segments waiting for the disk, all tracks together (a few seconds of a ladder).
const QUEUE: usize = 64;

enum Cmd {
    Track(String, Box<TrackInfo>),
    Segment {
        dir: String,
        bytes: Bytes,
        start: u64,
        duration: u64,
        key_frames: Vec<KeyFrame>,
    },
    /// Leave a track out of the package (its publisher paused it), deleting what was stored of it.
    Forget(String),
    Finish,
}

/// How a recording ended: the published video's id, or why there is none.
pub type Outcome = Result<String, ApiError>;

/// The live side's handle on a recording thread. Dropping it without [`RecordingWriter::finish`]
/// abandons the recording (its video and objects are deleted).
pub struct RecordingWriter {
    tx: Option<SyncSender<Cmd>>,
    pub video_id: String,
}

/// The recording could not keep up or failed; it is gone and takes nothing more.
#[derive(Debug)]
pub struct Stopped;

impl RecordingWriter {
    /// Start recording live stream `stream_id` into a new video; `done` runs on the recording thread
    /// once it ends, published or not.
    pub fn spawn(
        ctx: RecCtx,
        stream_id: &str,
        title: &str,
        visibility: Visibility,
        done: impl FnOnce(Outcome) + Send + 'static,
    ) -> Result<RecordingWriter, ApiError> {
        let rec = Recording::start(ctx, stream_id, title, visibility)?;
        let video_id = rec.video_id.clone();
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name(format!("record-{video_id}"))
            .spawn(move || done(run(rec, &rx)))
            .map_err(ApiError::from_io)?;
        Ok(RecordingWriter {
            tx: Some(tx),
            video_id,
        })
    }

    fn send(&mut self, cmd: Cmd) -> Result<(), Stopped> {
        let Some(tx) = &self.tx else {
            return Err(Stopped);
        };
        match tx.try_send(cmd) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                // Dropping the sender ends the thread's loop without Finish: it abandons the recording.
                self.tx = None;
                Err(Stopped)
            }
        }
    }

    pub fn track(&mut self, dir: &str, info: &TrackInfo) -> Result<(), Stopped> {
        self.send(Cmd::Track(dir.to_string(), Box::new(info.clone())))
    }

    pub fn segment(
        &mut self,
        dir: &str,
        bytes: Bytes,
        start: u64,
        duration: u64,
        key_frames: Vec<KeyFrame>,
    ) -> Result<(), Stopped> {
        self.send(Cmd::Segment {
            dir: dir.to_string(),
            bytes,
            start,
            duration,
            key_frames,
        })
    }

    /// Leave track `dir` out of the recording: what it holds of it is deleted and not published.
    pub fn forget(&mut self, dir: &str) -> Result<(), Stopped> {
        self.send(Cmd::Forget(dir.to_string()))
    }

    /// Publish what was recorded (the queue drains first). Never blocks.
    pub fn finish(mut self) {
        if let Some(tx) = self.tx.take() {
            // A full queue here means the disk is behind: wait for room rather than lose the end, on a
            // thread of its own so the caller still never blocks.
            std::thread::spawn(move || {
                let _ = tx.send(Cmd::Finish);
            });
        }
    }
}

/// A closed segment held back until the next one of its track arrives (or the end): the last segment of
/// each track may still have its tail cut so that the tracks end together ([`Recording::align_ends`]).
pub(super) struct Held {
    pub bytes: Bytes,
    pub start: u64,
    pub duration: u64,
    pub key_frames: Vec<KeyFrame>,
}

impl Held {
    fn commit(self, rec: &mut Recording, track: usize) -> Result<(), ApiError> {
        rec.add_segment(
            track,
            &RecSegment {
                bytes: &self.bytes,
                start: self.start,
                duration: self.duration,
                key_frames: self.key_frames,
            },
        )
    }
}

fn run(mut rec: Recording, rx: &Receiver<Cmd>) -> Outcome {
    let mut held: BTreeMap<usize, Held> = BTreeMap::new();
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Cmd::Track(dir, info) => {
                rec.add_track(&dir, &info)?;
            }
            Cmd::Segment {
                dir,
                bytes,
                start,
                duration,
                key_frames,
            } => {
                let k = rec
                    .tracks
                    .iter()
                    .position(|t| t.dir == dir)
                    .ok_or_else(|| ApiError::Internal(format!("recording: no track {dir}")))?;
                let next = Held {
                    bytes,
                    start,
                    duration,
                    key_frames,
                };
                if rec.tracks[k].left_out {
                    continue;
                }
                if let Some(prev) = held.insert(k, next) {
                    prev.commit(&mut rec, k)?;
                }
            }
            Cmd::Forget(dir) => {
                if let Some(k) = rec.tracks.iter().position(|t| t.dir == dir) {
                    // Its segment held back is never stored; what was stored of it is deleted.
                    held.remove(&k);
                    rec.leave_out(k)?;
                }
            }
            Cmd::Finish => {
                rec.align_ends(&mut held)?;
                for (k, h) in std::mem::take(&mut held) {
                    h.commit(&mut rec, k)?;
                }
                if rec.segments() == 0 {
                    return Err(ApiError::UnsupportedMedia(
                        "the stream ended before a whole segment was recorded".into(),
                    ));
                }
                return rec.finish();
            }
        }
    }
    Err(ApiError::Busy)
}
