//! Writing boxes: sizes are always derived from what was written (patched when a box closes), never set
//! separately, so a box's declared size cannot disagree with its contents.

use super::FourCC;
use crate::error::{Error, Result};

#[derive(Default)]
pub struct BoxWriter {
    buf: Vec<u8>,
}

impl BoxWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Write a box whose body `f` writes; the 32-bit size is patched afterwards.
    pub fn boxed(&mut self, kind: &FourCC, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let start = self.open(kind);
        f(self)?;
        self.close(kind, start)
    }

    // `boxed` and `mp4_box` are instantiated once per closure or box type; what does not depend on the
    // type lives in these (not inlined), once.

    #[inline(never)]
    fn open(&mut self, kind: &FourCC) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.extend_from_slice(kind);
        start
    }

    #[inline(never)]
    fn close(&mut self, kind: &FourCC, start: usize) -> Result<()> {
        let size = u32::try_from(self.buf.len() - start).map_err(|_| {
            Error::limit(
                super::fourcc_str(*kind),
                0,
                "a written box would exceed 4 GiB",
            )
        })?;
        self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
        Ok(())
    }

    /// A FullBox (§ 4.2): version and 24-bit flags, then the body.
    pub fn full(
        &mut self,
        kind: &FourCC,
        version: u8,
        flags: u32,
        f: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.boxed(kind, |w| {
            w.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
            f(w)
        })
    }

    /// Write one of the `mp4` crate's boxes (the crate computes its size from its fields).
    pub fn mp4_box<B>(&mut self, b: &B) -> Result<()>
    where
        B: mp4::Mp4Box + for<'w> mp4::WriteBox<&'w mut Vec<u8>>,
    {
        let before = self.buf.len();
        // The size the crate wrote into the header (its write_box return value is not reliable: MoofBox
        // and MoovBox return 0).
        let declared = b.box_size();
        let wrote = b.write_box(&mut self.buf).err();
        self.check_mp4_box(before, declared, wrote)
    }

    #[inline(never)]
    fn check_mp4_box(&self, before: usize, declared: u64, err: Option<mp4::Error>) -> Result<()> {
        if let Some(e) = err {
            return Err(Error::malformed("writer", 0, format!("mp4 crate: {e}")));
        }
        let written = (self.buf.len() - before) as u64;
        if declared != written {
            // The crate sizes a box from its flags but writes whatever fields are set; catch a mismatch
            // here rather than ship a silently corrupt segment.
            return Err(Error::malformed(
                "writer",
                0,
                format!("mp4 crate declared {declared} bytes but wrote {written}"),
            ));
        }
        Ok(())
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.bytes(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }
}
