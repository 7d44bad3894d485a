//! A media segment as a recipe: generated header bytes interleaved with byte ranges of the source file.
//! The browser turns it into `new Blob([bytes, file.slice(a, b), ...])`, so sample payload never passes
//! through wasm or JS memory; the CLI streams it from the file.

use crate::error::Result;
use crate::source::Source;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes made by the writer (styp, moof, mdat headers).
    Bytes(Vec<u8>),
    /// `len` bytes of the source starting at absolute `offset`.
    Source { offset: u64, len: u64 },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentData {
    pub chunks: Vec<Chunk>,
    len: u64,
}

impl SegmentData {
    pub fn new() -> Self {
        Self::default()
    }

    /// Total size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push_bytes(&mut self, bytes: Vec<u8>) {
        self.len += bytes.len() as u64;
        if let Some(Chunk::Bytes(last)) = self.chunks.last_mut() {
            last.extend_from_slice(&bytes);
        } else {
            self.chunks.push(Chunk::Bytes(bytes));
        }
    }

    /// Append a source range, merging it with the previous one when contiguous (samples of one chunk).
    pub fn push_source(&mut self, offset: u64, len: u64) {
        if len == 0 {
            return;
        }
        self.len += len;
        if let Some(Chunk::Source { offset: o, len: l }) = self.chunks.last_mut() {
            if *o + *l == offset {
                *l += len;
                return;
            }
        }
        self.chunks.push(Chunk::Source { offset, len });
    }

    /// The straightforward path: the whole segment in memory.
    pub fn assemble(&self, src: &dyn Source) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        for c in &self.chunks {
            match c {
                Chunk::Bytes(b) => out.extend_from_slice(b),
                Chunk::Source { offset, len } => {
                    out.extend_from_slice(&src.read_vec(*offset, *len)?)
                }
            }
        }
        Ok(out)
    }

    /// Stream the segment to a writer, one chunk at a time (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn write_to(&self, src: &dyn Source, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        const BUF: u64 = 1 << 20;
        for c in &self.chunks {
            match c {
                Chunk::Bytes(b) => w.write_all(b)?,
                Chunk::Source { offset, len } => {
                    let mut done = 0;
                    while done < *len {
                        let n = (*len - done).min(BUF);
                        let bytes = src
                            .read_vec(offset + done, n)
                            .map_err(|e| std::io::Error::other(e.to_string()))?;
                        w.write_all(&bytes)?;
                        done += n;
                    }
                }
            }
        }
        Ok(())
    }
}
