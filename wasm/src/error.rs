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
    /// A caller passed an option that cannot work (target duration 0, an unknown rendition, ...).
    #[error("invalid option: {0}")]
    InvalidOption(String),
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
