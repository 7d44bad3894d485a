//! The guard pass: walk every box of the moov and check every table count against the bytes that hold it,
//! before anything is allocated from a declared count and before the `mp4` crate sees a byte.
//!
//! Gap in the `mp4` crate that this fills: it trusts box sizes and entry counts (it panics or allocates from
//! them on hostile input, as fuzzing found), knows nothing of encryption, external data references or
//! compressed movie headers, and reads only the first sample description. The walk also records where each
//! box of interest is, so the caller hands the crate only boxes that passed these checks.

use crate::boxes::{children, fourcc_str, BoxHeader, Cursor, FourCC};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// A box inside the moov buffer: its header (absolute offsets) and where its bytes sit in the buffer.
#[derive(Debug, Clone)]
pub struct Span {
    pub header: BoxHeader,
    pub range: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct TrakIndex {
    pub trak: Option<Span>,
    pub tkhd: Option<Span>,
    pub elst: Option<Span>,
    pub mdhd: Option<Span>,
    pub hdlr: Option<Span>,
    pub stsd: Option<Span>,
    pub entries: Vec<Span>,
    pub stts: Option<Span>,
    pub ctts: Option<Span>,
    pub stss: Option<Span>,
    pub stsc: Option<Span>,
    pub stsz: Option<Span>,
    pub stco: Option<Span>,
    pub co64: Option<Span>,
    /// tref/chap: the track IDs of this track's chapter tracks (QuickTime chapters).
    pub chap: Option<Span>,
}

#[derive(Debug, Clone, Default)]
pub struct MoovIndex {
    pub mvhd: Option<Span>,
    /// Track extends boxes (moov/mvex/trex), present in fragmented files' init segments.
    pub trex: Vec<Span>,
    pub traks: Vec<TrakIndex>,
    /// moov/udta/chpl: Nero chapters.
    pub chpl: Option<Span>,
}

/// Boxes whose payload is a sequence of boxes (plus `meta`, a FullBox container). Everything else is a leaf.
const CONTAINERS: [&FourCC; 12] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"udta", b"tref",
    b"sinf", b"schi",
];

struct Walker<'a> {
    /// Absolute offset of `moov[0]`.
    base: u64,
    limits: &'a Limits,
    index: MoovIndex,
    max_samples: u64,
}

/// Walk the moov held in `moov` (the whole box, header included) whose first byte is at absolute `base`.
pub fn index_moov(moov: &[u8], header: &BoxHeader, limits: &Limits) -> Result<MoovIndex> {
    let mut w = Walker {
        base: header.start,
        limits,
        index: MoovIndex::default(),
        max_samples: limits.max_samples(header.size),
    };
    let hl = header.header_bytes();
    w.walk(&moov[hl..], header.payload_start(), "moov", 1, None)?;
    Ok(w.index)
}

/// A second box of a kind that may appear once in its parent.
pub(crate) fn dup_error(path: &str, h: &BoxHeader) -> Error {
    Error::malformed(
        format!("{path}/{}", h.name()),
        h.start,
        "duplicate box: only one is allowed here",
    )
}

fn set_once(slot: &mut Option<Span>, span: Span, path: &str) -> Result<()> {
    if slot.is_some() {
        return Err(dup_error(path, &span.header));
    }
    *slot = Some(span);
    Ok(())
}

impl Walker<'_> {
    fn span(&self, h: &BoxHeader) -> Span {
        // Both are inside the moov held in memory (the walk checked every size against its parent).
        let start = crate::boxes::index(h.start - self.base);
        Span {
            header: *h,
            range: start..start + crate::boxes::index(h.size),
        }
    }

    fn walk(
        &mut self,
        payload: &[u8],
        base: u64,
        path: &str,
        depth: usize,
        mut trak: Option<&mut TrakIndex>,
    ) -> Result<()> {
        if depth > self.limits.max_depth {
            return Err(Error::limit(
                path,
                base,
                format!("boxes nested deeper than {} levels", self.limits.max_depth),
            ));
        }
        for child in children(payload, base, path) {
            let (h, body) = child?;
            let name = h.name();
            let here = format!("{path}/{name}");
            match &h.kind {
                b"cmov" => {
                    return Err(Error::unsupported(
                        &here,
                        h.start,
                        "compressed movie header (cmov); re-save the file without moov compression",
                    ))
                }
                b"trak" if path == "moov" => {
                    if self.index.traks.len() >= self.limits.max_tracks {
                        return Err(Error::limit(
                            &here,
                            h.start,
                            format!("more than {} tracks", self.limits.max_tracks),
                        ));
                    }
                    let mut t = TrakIndex {
                        trak: Some(self.span(&h)),
                        ..TrakIndex::default()
                    };
                    let tpath = format!("moov/trak[{}]", self.index.traks.len());
                    self.walk(body, h.payload_start(), &tpath, depth + 1, Some(&mut t))?;
                    self.index.traks.push(t);
                }
                b"mvhd" if path == "moov" => {
                    check_timescale(body, &h, &here, 12, 20)?;
                    let s = self.span(&h);
                    set_once(&mut self.index.mvhd, s, path)?;
                }
                b"meta" => {
                    // FullBox container (§ 8.11.1): version/flags, then boxes. QuickTime writes it as a plain
                    // container; tell them apart by whether the first four bytes look like a box size.
                    let skip = if body.len() >= 8 && body[0..4] == [0, 0, 0, 0] {
                        4
                    } else {
                        0
                    };
                    self.walk(
                        &body[skip..],
                        h.payload_start() + skip as u64,
                        &here,
                        depth + 1,
                        None,
                    )?;
                }
                k if CONTAINERS.contains(&k) => {
                    self.walk(
                        body,
                        h.payload_start(),
                        &here,
                        depth + 1,
                        trak.as_deref_mut(),
                    )?;
                }
                _ => self.leaf(&h, body, &here, trak.as_deref_mut())?,
            }
        }
        Ok(())
    }

    fn leaf(
        &mut self,
        h: &BoxHeader,
        body: &[u8],
        path: &str,
        trak: Option<&mut TrakIndex>,
    ) -> Result<()> {
        let kind = &h.kind;
        // Per-entry sizes of the sample tables (ISO/IEC 14496-12 § 8.6 and § 8.7).
        let entry_len: Option<u64> = match kind {
            b"stts" | b"ctts" => Some(8),
            b"stsc" => Some(12),
            b"stco" | b"stss" => Some(4),
            b"co64" => Some(8),
            _ => None,
        };
        if let Some(len) = entry_len {
            let count = table_count(body, h, path, len)?;
            match kind {
                b"stsc" => check_stsc(body, h, path, count)?,
                b"stss" => check_stss(body, h, path, count)?,
                _ => {}
            }
        }
        match kind {
            b"stsz" => self.check_stsz(body, h, path)?,
            b"stz2" => {
                return Err(Error::unsupported(
                    path,
                    h.start,
                    "compact sample sizes (stz2)",
                ));
            }
            b"elst" => {
                let mut c = Cursor::new(body, h.payload_start(), path);
                let (version, _) = c.version_flags()?;
                let len = if version == 1 { 20 } else { 12 };
                table_count(body, h, path, len)?;
            }
            b"mdhd" => check_timescale(body, h, path, 12, 20)?,
            b"dref" => check_dref(body, h, path)?,
            b"stsd" => {
                let entries = self.check_stsd(body, h, path)?;
                if let Some(t) = trak {
                    if t.stsd.is_some() {
                        return Err(dup_error(path.rsplit_once('/').map_or(path, |p| p.0), h));
                    }
                    t.stsd = Some(self.span(h));
                    t.entries = entries;
                }
                return Ok(());
            }
            _ => {}
        }
        // Chapters are optional metadata: a second chpl or chap is ignored rather than refusing the file.
        if kind == b"chpl" && path == "moov/udta/chpl" {
            if self.index.chpl.is_none() {
                self.index.chpl = Some(self.span(h));
            }
            return Ok(());
        }
        if kind == b"trex" && path.ends_with("moov/mvex/trex") {
            let s = self.span(h);
            self.index.trex.push(s);
            return Ok(());
        }
        let Some(t) = trak else { return Ok(()) };
        let parent = path.rsplit_once('/').map_or(path, |p| p.0);
        if kind == b"chap" && parent.ends_with("/tref") {
            if t.chap.is_none() {
                t.chap = Some(self.span(h));
            }
            return Ok(());
        }
        let slot = match kind {
            b"tkhd" => &mut t.tkhd,
            b"elst" => &mut t.elst,
            b"mdhd" => &mut t.mdhd,
            b"hdlr" if parent.ends_with("/mdia") => &mut t.hdlr,
            b"stts" => &mut t.stts,
            b"ctts" => &mut t.ctts,
            b"stss" => &mut t.stss,
            b"stsc" => &mut t.stsc,
            b"stsz" => &mut t.stsz,
            b"stco" => &mut t.stco,
            b"co64" => &mut t.co64,
            _ => return Ok(()),
        };
        set_once(slot, self.span(h), parent)
    }

    fn check_stsz(&self, body: &[u8], h: &BoxHeader, path: &str) -> Result<()> {
        let mut c = Cursor::new(body, h.payload_start(), path);
        c.version_flags()?;
        let sample_size = c.u32("sample_size")?;
        let at = c.offset();
        let count = u64::from(c.u32("sample_count")?);
        if count > self.max_samples {
            return Err(Error::limit(
                path,
                at,
                format!(
                    "declares {count} samples; a moov of this size may hold at most {}",
                    self.max_samples
                ),
            ));
        }
        if sample_size == 0 && count * 4 > c.remaining() as u64 {
            return Err(Error::malformed(
                path,
                at,
                format!(
                    "declares {count} samples; only {} fit in the box",
                    c.remaining() / 4
                ),
            ));
        }
        Ok(())
    }

    fn check_stsd(&self, body: &[u8], h: &BoxHeader, path: &str) -> Result<Vec<Span>> {
        let mut c = Cursor::new(body, h.payload_start(), path);
        c.version_flags()?;
        let at = c.offset();
        let count = c.u32("entry_count")?;
        if count == 0 {
            return Err(Error::malformed(path, at, "has no sample description"));
        }
        if count > self.limits.max_stsd_entries {
            return Err(Error::limit(
                path,
                at,
                format!(
                    "declares {count} sample descriptions; the limit is {}",
                    self.limits.max_stsd_entries
                ),
            ));
        }
        let fit = c.remaining() as u64 / 8;
        if u64::from(count) > fit {
            return Err(Error::malformed(
                path,
                at,
                format!("declares {count} sample descriptions; only {fit} fit in the box"),
            ));
        }
        let mut entries = Vec::new();
        let rest = &body[8..];
        for child in children(rest, h.payload_start() + 8, path) {
            let (eh, _) = child?;
            if entries.len() == count as usize {
                break;
            }
            if matches!(&eh.kind, b"encv" | b"enca") {
                return Err(Error::unsupported(
                    format!("{path}/{}", eh.name()),
                    eh.start,
                    crate::error::ENCRYPTED,
                ));
            }
            entries.push(self.span(&eh));
        }
        if entries.len() != count as usize {
            return Err(Error::malformed(
                path,
                at,
                format!(
                    "declares {count} sample descriptions but holds {}",
                    entries.len()
                ),
            ));
        }
        Ok(entries)
    }
}

/// Read a FullBox table's entry count and check that that many entries of `entry_len` bytes fit.
fn table_count(body: &[u8], h: &BoxHeader, path: &str, entry_len: u64) -> Result<u64> {
    let mut c = Cursor::new(body, h.payload_start(), path);
    c.version_flags()?;
    let at = c.offset();
    let count = u64::from(c.u32("entry_count")?);
    let fit = c.remaining() as u64 / entry_len;
    if count > fit {
        return Err(Error::malformed(
            path,
            at,
            format!("declares {count} entries; only {fit} fit in the box"),
        ));
    }
    Ok(count)
}

/// stsc (§ 8.7.4): first_chunk starts at 1 and strictly increases; samples_per_chunk is not 0.
fn check_stsc(body: &[u8], h: &BoxHeader, path: &str, count: u64) -> Result<()> {
    let mut c = Cursor::new(body, h.payload_start(), path);
    c.skip(8, "version, flags and entry_count")?;
    let mut prev = 0u32;
    for i in 0..count {
        let at = c.offset();
        let first_chunk = c.u32("first_chunk")?;
        let per_chunk = c.u32("samples_per_chunk")?;
        c.skip(4, "sample_description_index")?;
        if first_chunk == 0 || first_chunk <= prev {
            return Err(Error::malformed(
                path,
                at,
                format!(
                    "entry {i} has first_chunk {first_chunk}; chunks are numbered from 1 and must increase (previous {prev})"
                ),
            ));
        }
        if i == 0 && first_chunk != 1 {
            return Err(Error::malformed(
                path,
                at,
                format!("first entry starts at chunk {first_chunk}, not 1"),
            ));
        }
        if per_chunk == 0 {
            return Err(Error::malformed(
                path,
                at,
                format!("entry {i} has 0 samples per chunk"),
            ));
        }
        prev = first_chunk;
    }
    Ok(())
}

/// stss (§ 8.6.2): sample numbers start at 1 and strictly increase.
fn check_stss(body: &[u8], h: &BoxHeader, path: &str, count: u64) -> Result<()> {
    let mut c = Cursor::new(body, h.payload_start(), path);
    c.skip(8, "version, flags and entry_count")?;
    let mut prev = 0u32;
    for i in 0..count {
        let at = c.offset();
        let n = c.u32("sample_number")?;
        if n == 0 || n <= prev {
            return Err(Error::malformed(
                path,
                at,
                format!("entry {i} names sync sample {n}; samples are numbered from 1 and must increase (previous {prev})"),
            ));
        }
        prev = n;
    }
    Ok(())
}

/// mvhd/mdhd: the timescale sits at `v0_at` (version 0) or `v1_at` (version 1) bytes into the payload.
fn check_timescale(
    body: &[u8],
    h: &BoxHeader,
    path: &str,
    v0_at: usize,
    v1_at: usize,
) -> Result<()> {
    let mut c = Cursor::new(body, h.payload_start(), path);
    let (version, _) = c.version_flags()?;
    if version > 1 {
        return Err(Error::unsupported(
            path,
            h.start,
            format!("version {version}"),
        ));
    }
    c.skip(
        if version == 1 { v1_at } else { v0_at } - 4,
        "the fields before timescale",
    )?;
    let at = c.offset();
    if c.u32("timescale")? == 0 {
        return Err(Error::malformed(path, at, "timescale is 0"));
    }
    Ok(())
}

/// dref (§ 8.7.2): media in this file only. A 'url ' or 'urn ' entry without the self-contained flag points
/// at another file, which a browser upload can never have.
fn check_dref(body: &[u8], h: &BoxHeader, path: &str) -> Result<()> {
    let mut c = Cursor::new(body, h.payload_start(), path);
    c.version_flags()?;
    let count = c.u32("entry_count")?;
    for (i, child) in children(&body[8..], h.payload_start() + 8, path).enumerate() {
        if i as u64 >= u64::from(count) {
            break;
        }
        let (eh, eb) = child?;
        let flags = Cursor::new(eb, eh.payload_start(), path)
            .version_flags()
            .map(|v| v.1)
            .unwrap_or(0);
        let external = match &eh.kind {
            b"url " | b"alis" => flags & 1 == 0,
            b"urn " => true,
            _ => false,
        };
        if external {
            return Err(Error::unsupported(
                format!("{path}/{}", fourcc_str(eh.kind)),
                eh.start,
                "external data reference: the media samples are stored in another file",
            ));
        }
    }
    Ok(())
}
