//! One error type for the core. Every variant that comes from reading a file says where: the box path and
//! the absolute byte offset in the source, so a user can find the damage with a hex editor.

use thiserror::Error;

/// The message of every refusal of encrypted content: a file with any encrypted track is refused whole.
pub const ENCRYPTED: &str = "encrypted (Common Encryption) content";

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The bytes do not follow ISO/IEC 14496-12: a box or table is inconsistent or cut short.
    #[error("{path} at byte {offset}: {msg}")]
    Malformed {
        path: String,
        offset: u64,
        msg: String,
    },
    /// Well-formed, but a feature this product does not handle (encryption, external data, a codec).
    #[error("{path} at byte {offset}: not supported: {msg}")]
    Unsupported {
        path: String,
        offset: u64,
        msg: String,
    },
    /// Well-formed, but larger than a configured limit (see [`crate::Limits`]).
    #[error("{path} at byte {offset}: over the limit: {msg}")]
    Limit {
        path: String,
        offset: u64,
        msg: String,
    },
    /// The input is not an ISO BMFF (MP4/MOV/M4A) file at all.
    #[error("not an MP4 or MOV file: {0}")]
    NotMp4(String),
    /// The source could not be read (I/O error, or the browser's File went away).
    #[error("could not read the source at byte {offset}: {msg}")]
    Read { offset: u64, msg: String },
    /// A caller passed an option that cannot work (target duration 0, a rung of size 0, an unknown codec
    /// string, a rung index that was never added, ...).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The file has no video a ladder can be made of (an audio-only file, a video track without frames):
    /// not a fault in the file, which can still be packaged as it is.
    #[error("no video: {0}")]
    NoVideo(String),
    /// What an encoder handed the ladder's muxers cannot be muxed: a missing or changed decoder
    /// configuration, a chunk that crosses a segment boundary without a key frame, a timestamp that is not
    /// a source frame's, a bad OpusHead.
    #[error("encoder output refused: {0}")]
    EncoderOutput(String),
    /// A call out of order: pushing to a finished ladder, audio before its encoding is set, finishing a
    /// ladder that received nothing.
    #[error("out of order: {0}")]
    CallOrder(String),
    /// A value too large for the field the format gives it (a moof over 2 GiB, a chunk over 4 GiB, a frame
    /// longer than 2^32 ticks).
    #[error("too large to write: {0}")]
    TooLarge(String),
    /// A live publisher's timestamps go backwards, stand still or jump forward past the limit; the message
    /// says by how much.
    #[error("bad live timestamps: {0}")]
    Timestamps(String),
    /// A live video track went longer than the limit without a key frame (or never sent one).
    #[error("no key frame: {0}")]
    NoKeyFrame(String),
    /// A live input over one of the muxer's limits (a frame larger than the limit).
    #[error("over a live limit: {0}")]
    LiveLimit(String),
    /// A broken promise inside upcast (a bug), reported instead of a panic.
    #[error("internal error (a bug in upcast): {0}")]
    Internal(String),
}

impl Error {
    pub fn malformed(path: impl Into<String>, offset: u64, msg: impl Into<String>) -> Self {
        Error::Malformed {
            path: path.into(),
            offset,
            msg: msg.into(),
        }
    }

    pub fn unsupported(path: impl Into<String>, offset: u64, msg: impl Into<String>) -> Self {
        Error::Unsupported {
            path: path.into(),
            offset,
            msg: msg.into(),
        }
    }

    pub fn limit(path: impl Into<String>, offset: u64, msg: impl Into<String>) -> Self {
        Error::Limit {
            path: path.into(),
            offset,
            msg: msg.into(),
        }
    }

    /// A stable kebab-case code for machines (the origin's JSON errors, the page's messages).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed { .. } => "malformed-mp4",
            Error::Unsupported { .. } => "unsupported-mp4",
            Error::Limit { .. } => "mp4-over-limit",
            Error::NotMp4(_) => "not-mp4",
            Error::Read { .. } => "read-failed",
            Error::InvalidOption(_) => "invalid-option",
            Error::NoVideo(_) => "no-video",
            Error::EncoderOutput(_) => "encoder-output",
            Error::CallOrder(_) => "call-order",
            Error::TooLarge(_) => "too-large",
            Error::Timestamps(_) => "bad-timestamps",
            Error::NoKeyFrame(_) => "no-key-frame",
            Error::LiveLimit(_) => "live-over-limit",
            Error::Internal(_) => "internal",
        }
    }

    /// The box path the error names, when it names a place in the file.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Malformed { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Limit { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The absolute byte offset in the source the error names, when it names one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Malformed { offset, .. }
            | Error::Unsupported { offset, .. }
            | Error::Limit { offset, .. }
            | Error::Read { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}
