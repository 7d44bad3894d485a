//! Fragmented MP4 / CMAF input (ISO/IEC 14496-12 § 8.8): the sample tables of a file whose moov holds an
//! `mvex` and whose samples are described by `moof`/`traf`/`trun` boxes spread through the file.
//!
//! Gap in the `mp4` crate that this fills: its `MoofBox` reader trusts `trun` sample counts (it allocates
//! from them) and sizes (a 64-bit moof once sent it round forever, see the fuzz regressions), resolves no
//! data offsets and knows nothing of `trex` defaults. Here every moof is read with a bounded size, every
//! count is checked against the bytes that hold it or against [`Limits::max_fragment_samples`], and every
//! sample is checked to lie inside the file before it is kept.

use std::collections::BTreeMap;

use super::guard::Span;
use super::movie::Sample;
use crate::boxes::{children, BoxHeader, Cursor};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::source::Source;

/// Track extends defaults (moov/mvex/trex, § 8.8.3).
#[derive(Debug, Clone, Copy, Default)]
pub struct Trex {
    pub description: u32,
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

/// `sample_is_non_sync_sample` in the sample flags (§ 8.8.3.1).
const NON_SYNC: u32 = 0x0001_0000;

/// Read the trex boxes the guard pass found: track ID to defaults.
pub fn read_trex(moov: &[u8], spans: &[Span]) -> Result<BTreeMap<u32, Trex>> {
    let mut out = BTreeMap::new();
    for s in spans {
        let body = &moov[s.range.clone()][s.header.header_bytes()..];
        let path = "moov/mvex/trex";
        let mut c = Cursor::new(body, s.header.payload_start(), path);
        c.version_flags()?;
        let id = c.u32("track_ID")?;
        let t = Trex {
            description: c.u32("default_sample_description_index")?,
            duration: c.u32("default_sample_duration")?,
            size: c.u32("default_sample_size")?,
            flags: c.u32("default_sample_flags")?,
        };
        if out.insert(id, t).is_some() {
            return Err(Error::malformed(
                path,
                s.header.start,
                format!("a second trex for track {id}"),
            ));
        }
    }
    Ok(out)
}

/// The samples of every track, by track ID, read from the moofs in file order.
pub fn read_fragments(
    src: &dyn Source,
    moofs: &[BoxHeader],
    trex: &BTreeMap<u32, Trex>,
    limits: &Limits,
) -> Result<BTreeMap<u32, Vec<Sample>>> {
    let mut r = Reader {
        file_len: src.len(),
        trex,
        limits,
        tracks: BTreeMap::new(),
        total: 0,
    };
    let mut moof_bytes = 0u64;
    for (i, h) in moofs.iter().enumerate() {
        let path = format!("file/moof[{i}]");
        if h.size > limits.max_moof_bytes {
            return Err(Error::limit(
                &path,
                h.start,
                format!(
                    "moof is {} bytes; the limit is {}",
                    h.size, limits.max_moof_bytes
                ),
            ));
        }
        moof_bytes += h.size;
        if moof_bytes > limits.max_moov_bytes {
            return Err(Error::limit(
                &path,
                h.start,
                format!(
                    "the moofs add up to more than {} bytes of sample tables",
                    limits.max_moov_bytes
                ),
            ));
        }
        let bytes = src.read_vec(h.start, h.size)?;
        r.moof(&bytes[h.header_bytes()..], h, &path)?;
    }
    Ok(r.tracks
        .into_iter()
        .map(|(id, t)| (id, t.samples))
        .collect())
}

/// One track's samples so far and the decode time the next fragment continues from.
#[derive(Default)]
struct TrackState {
    samples: Vec<Sample>,
    next_dts: u64,
}

struct Reader<'a> {
    file_len: u64,
    trex: &'a BTreeMap<u32, Trex>,
    limits: &'a Limits,
    tracks: BTreeMap<u32, TrackState>,
    total: u64,
}

/// What a tfhd (§ 8.8.7) says for one traf, with the trex defaults filled in.
struct Defaults {
    track_id: u32,
    base: u64,
    duration: u32,
    size: u32,
    flags: u32,
}

impl Reader<'_> {
    fn moof(&mut self, payload: &[u8], h: &BoxHeader, path: &str) -> Result<()> {
        // Without base-data-offset, the first traf's data is relative to the moof and each later traf's
        // continues where the previous one's ended (§ 8.8.7.1).
        let mut data_end = h.start;
        let mut n = 0usize;
        for child in children(payload, h.payload_start(), path) {
            let (th, body) = child?;
            if &th.kind != b"traf" {
                continue;
            }
            let tpath = format!("{path}/traf[{n}]");
            n += 1;
            data_end = self.traf(body, &th, &tpath, h.start, data_end)?;
        }
        Ok(())
    }

    /// Read one traf; returns where its last sample's data ends.
    fn traf(
        &mut self,
        body: &[u8],
        h: &BoxHeader,
        path: &str,
        moof: u64,
        prev_end: u64,
    ) -> Result<u64> {
        let mut tfhd = None;
        let mut tfdt = None;
        let mut truns = Vec::new();
        for child in children(body, h.payload_start(), path) {
            let (bh, b) = child?;
            let bpath = format!("{path}/{}", bh.name());
            match &bh.kind {
                b"tfhd" if tfhd.is_some() => return Err(super::guard::dup_error(path, &bh)),
                b"tfhd" => tfhd = Some(self.tfhd(b, &bh, &bpath, moof, prev_end)?),
                b"tfdt" if tfdt.is_some() => return Err(super::guard::dup_error(path, &bh)),
                b"tfdt" => tfdt = Some(read_tfdt(b, &bh, &bpath)?),
                b"trun" => truns.push((bh, b, bpath)),
                b"senc" | b"saiz" | b"saio" => {
                    return Err(Error::unsupported(
                        &bpath,
                        bh.start,
                        crate::error::ENCRYPTED,
                    ))
                }
                _ => {}
            }
        }
        let d = tfhd.ok_or_else(|| Error::malformed(path, h.start, "has no tfhd box"))?;
        let state = self.tracks.entry(d.track_id).or_default();
        if let Some(t) = tfdt {
            continue_at(state, t, path, h.start)?;
        }
        let mut data = d.base;
        for (bh, b, bpath) in truns {
            data = self.trun(b, &bh, &bpath, &d, data)?;
        }
        Ok(data)
    }

    fn tfhd(
        &self,
        body: &[u8],
        h: &BoxHeader,
        path: &str,
        moof: u64,
        prev_end: u64,
    ) -> Result<Defaults> {
        let mut c = Cursor::new(body, h.payload_start(), path);
        let (_, flags) = c.version_flags()?;
        let track_id = c.u32("track_ID")?;
        let trex = self.trex.get(&track_id).ok_or_else(|| {
            Error::malformed(
                path,
                h.start,
                format!("names track {track_id}, which has no trex in moov/mvex"),
            )
        })?;
        let base = if flags & 0x01 != 0 {
            c.u64("base_data_offset")?
        } else if flags & 0x02_0000 != 0 {
            moof
        } else {
            prev_end
        };
        let description = if flags & 0x02 != 0 {
            c.u32("sample_description_index")?
        } else {
            trex.description
        };
        if description != 1 {
            return Err(Error::unsupported(
                path,
                h.start,
                format!(
                    "samples use sample description {description} (the track changes format mid-stream)"
                ),
            ));
        }
        let mut field = |bit: u32, what: &str, default: u32| {
            if flags & bit != 0 {
                c.u32(what)
            } else {
                Ok(default)
            }
        };
        Ok(Defaults {
            track_id,
            base,
            duration: field(0x08, "default_sample_duration", trex.duration)?,
            size: field(0x10, "default_sample_size", trex.size)?,
            flags: field(0x20, "default_sample_flags", trex.flags)?,
        })
    }

    /// Read one trun (§ 8.8.8) whose data starts at `data` unless it gives its own offset; returns the end.
    fn trun(
        &mut self,
        body: &[u8],
        h: &BoxHeader,
        path: &str,
        d: &Defaults,
        data: u64,
    ) -> Result<u64> {
        let mut c = Cursor::new(body, h.payload_start(), path);
        let (version, flags) = c.version_flags()?;
        let count_at = c.offset();
        let count = c.u32("sample_count")?;
        let mut offset = data;
        if flags & 0x01 != 0 {
            let rel = c.i32("data_offset")?;
            offset = d
                .base
                .checked_add_signed(i64::from(rel))
                .ok_or_else(|| c.malformed(format!("data_offset {rel} points before the file")))?;
        }
        let first_flags = if flags & 0x04 != 0 {
            Some(c.u32("first_sample_flags")?)
        } else {
            None
        };
        let per_sample = [0x100u32, 0x200, 0x400, 0x800]
            .iter()
            .filter(|&&b| flags & b != 0)
            .count() as u64
            * 4;
        // Without per-sample fields the count is bounded by max_fragment_samples below.
        let fit = (c.remaining() as u64)
            .checked_div(per_sample)
            .unwrap_or(u64::MAX);
        self.total += u64::from(count);
        if u64::from(count) > fit {
            return Err(Error::malformed(
                path,
                count_at,
                format!("declares {count} samples; only {fit} fit in the box"),
            ));
        }
        if self.total > self.limits.max_fragment_samples {
            return Err(Error::limit(
                path,
                count_at,
                format!(
                    "the fragments declare more than {} samples",
                    self.limits.max_fragment_samples
                ),
            ));
        }
        let file_len = self.file_len;
        let state = self.tracks.entry(d.track_id).or_default();
        for i in 0..count {
            let at = c.offset();
            let duration = opt(&mut c, flags, 0x100, "sample_duration")?.unwrap_or(d.duration);
            let size = opt(&mut c, flags, 0x200, "sample_size")?.unwrap_or(d.size);
            let sflags = match opt(&mut c, flags, 0x400, "sample_flags")? {
                Some(f) => f,
                None if i == 0 => first_flags.unwrap_or(d.flags),
                None => d.flags,
            };
            let cts = match opt(&mut c, flags, 0x800, "sample_composition_time_offset")? {
                None => 0,
                Some(v) if version == 0 => i32::try_from(v).map_err(|_| {
                    Error::malformed(
                        path,
                        at,
                        format!("composition offset {v} does not fit 31 bits"),
                    )
                })?,
                Some(v) => i32::from_be_bytes(v.to_be_bytes()),
            };
            let end = offset
                .checked_add(u64::from(size))
                .filter(|&e| e <= file_len)
                .ok_or_else(|| {
                    Error::malformed(
                        path,
                        at,
                        format!(
                            "sample {} ({size} bytes at byte {offset}) lies past the end of the file \
                             ({file_len} bytes)",
                            i + 1
                        ),
                    )
                })?;
            state.samples.push(Sample {
                offset,
                size,
                dts: state.next_dts,
                duration,
                cts_offset: cts,
                sync: sflags & NON_SYNC == 0,
            });
            state.next_dts = state
                .next_dts
                .checked_add(u64::from(duration))
                .ok_or_else(|| Error::malformed(path, at, "decode times overflow 64 bits"))?;
            offset = end;
        }
        Ok(offset)
    }
}

/// A per-sample field of a trun, present when its flag is set.
fn opt(c: &mut Cursor<'_>, flags: u32, bit: u32, what: &str) -> Result<Option<u32>> {
    if flags & bit != 0 {
        c.u32(what).map(Some)
    } else {
        Ok(None)
    }
}

/// tfdt (§ 8.8.12): the decode time of the fragment's first sample.
fn read_tfdt(body: &[u8], h: &BoxHeader, path: &str) -> Result<u64> {
    let mut c = Cursor::new(body, h.payload_start(), path);
    let (version, _) = c.version_flags()?;
    if version == 1 {
        c.u64("baseMediaDecodeTime")
    } else {
        c.u32("baseMediaDecodeTime").map(u64::from)
    }
}

/// Continue the track at decode time `t`: a gap after the previous fragment lengthens its last sample (the
/// sample table has no gaps), a step back is refused.
fn continue_at(state: &mut TrackState, t: u64, path: &str, at: u64) -> Result<()> {
    let Some(last) = state.samples.last_mut() else {
        state.next_dts = t;
        return Ok(());
    };
    if t < state.next_dts {
        return Err(Error::malformed(
            format!("{path}/tfdt"),
            at,
            format!(
                "decode time {t} goes back before the end of the previous fragment ({})",
                state.next_dts
            ),
        ));
    }
    let longer = u64::from(last.duration) + (t - state.next_dts);
    last.duration = u32::try_from(longer).map_err(|_| {
        Error::malformed(
            format!("{path}/tfdt"),
            at,
            format!("decode time {t} leaves a gap of more than 2^32 ticks"),
        )
    })?;
    state.next_dts = t;
    Ok(())
}
