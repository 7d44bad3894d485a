//! Expand the sample tables (stts, ctts, stsc, stsz, stco/co64, stss; ISO/IEC 14496-12 § 8.6–8.7) into one
//! checked entry per sample. The guard pass bounded every count by the moov's size, so the expansion's
//! memory is bounded by it too.

use super::movie::Sample;
use crate::error::{Error, Result};

/// Expand the tables of the single trak in `moov` (see [`super::tracks::Parsed`]).
pub fn expand(moov: &mp4::MoovBox, file_len: u64, path: &str, at: u64) -> Result<Vec<Sample>> {
    let err = |msg: String| Error::malformed(path, at, msg);
    check_table_counts(moov, err)?;
    let chunks = chunk_offsets(moov, err)?;
    let mut samples = place_samples(moov, &chunks, file_len, path, at)?;
    mark_sync_samples(moov, &mut samples, err)?;
    Ok(samples)
}

/// Sizes (stsz, § 8.7.3.2), durations (stts, § 8.6.1.2) and composition offsets (ctts): each table must
/// cover exactly the number of samples stsz declares.
fn check_table_counts(moov: &mp4::MoovBox, err: impl Fn(String) -> Error) -> Result<()> {
    let stbl = &moov.traks[0].mdia.minf.stbl;
    let count = stbl.stsz.sample_count as usize;
    if stbl.stsz.sample_size == 0 && stbl.stsz.sample_sizes.len() != count {
        return Err(err(format!(
            "stsz declares {count} samples but lists {} sizes",
            stbl.stsz.sample_sizes.len()
        )));
    }
    let stts_total: u64 = stbl
        .stts
        .entries
        .iter()
        .map(|e| u64::from(e.sample_count))
        .sum();
    if stts_total != count as u64 {
        return Err(err(format!(
            "stts covers {stts_total} samples but stsz declares {count}"
        )));
    }
    if let Some(ctts) = &stbl.ctts {
        let total: u64 = ctts.entries.iter().map(|e| u64::from(e.sample_count)).sum();
        if total != count as u64 {
            return Err(err(format!(
                "ctts covers {total} samples but stsz declares {count}"
            )));
        }
    }
    Ok(())
}

/// Chunk offsets (stco/co64, § 8.7.5).
fn chunk_offsets(moov: &mp4::MoovBox, err: impl Fn(String) -> Error) -> Result<Vec<u64>> {
    let stbl = &moov.traks[0].mdia.minf.stbl;
    match (&stbl.stco, &stbl.co64) {
        (Some(stco), _) => Ok(stco.entries.iter().map(|&o| u64::from(o)).collect()),
        (None, Some(co64)) => Ok(co64.entries.clone()),
        (None, None) => Err(err("no chunk offsets".into())),
    }
}

/// Chunks to samples (stsc, § 8.7.4): entry k covers chunks [first_chunk_k, first_chunk_{k+1}). Samples
/// follow each other inside a chunk; each must lie inside the file.
fn place_samples(
    moov: &mp4::MoovBox,
    chunks: &[u64],
    file_len: u64,
    path: &str,
    at: u64,
) -> Result<Vec<Sample>> {
    let stbl = &moov.traks[0].mdia.minf.stbl;
    let count = stbl.stsz.sample_count as usize;
    let mut placer = Placer {
        moov,
        file_len,
        path,
        at,
        count,
        durations: stbl
            .stts
            .entries
            .iter()
            .flat_map(|e| std::iter::repeat_n(e.sample_delta, e.sample_count as usize)),
        cts_offsets: stbl.ctts.iter().flat_map(|c| {
            c.entries
                .iter()
                .flat_map(|e| std::iter::repeat_n(e.sample_offset, e.sample_count as usize))
        }),
        dts: 0,
        samples: Vec::with_capacity(count),
    };
    let stsc = &stbl.stsc.entries;
    'chunks: for (k, e) in stsc.iter().enumerate() {
        if e.sample_description_index != 1 {
            return Err(Error::unsupported(
                path,
                at,
                format!(
                    "samples use sample description {} (the track changes format mid-stream)",
                    e.sample_description_index
                ),
            ));
        }
        let first = e.first_chunk as usize;
        let last = match stsc.get(k + 1) {
            Some(next) => next.first_chunk as usize - 1,
            None => chunks.len(),
        };
        if first > chunks.len() {
            return Err(placer.err(format!(
                "stsc entry {k} starts at chunk {first}, but there are only {} chunks",
                chunks.len()
            )));
        }
        for chunk in first..=last.min(chunks.len()) {
            if !placer.place_chunk(chunks[chunk - 1], e.samples_per_chunk)? {
                break 'chunks;
            }
        }
    }
    let sample = placer.samples.len();
    if sample != count {
        return Err(placer.err(format!(
            "stsc and the chunk offsets place only {sample} of the {count} samples"
        )));
    }
    Ok(placer.samples)
}

/// The running state of [`place_samples`]: the next decode time and the stts and ctts entries still unused.
struct Placer<'a, D, C> {
    moov: &'a mp4::MoovBox,
    file_len: u64,
    path: &'a str,
    at: u64,
    count: usize,
    durations: D,
    cts_offsets: C,
    dts: u64,
    samples: Vec<Sample>,
}

impl<D: Iterator<Item = u32>, C: Iterator<Item = i32>> Placer<'_, D, C> {
    fn err(&self, msg: String) -> Error {
        Error::malformed(self.path, self.at, msg)
    }

    /// Place up to `samples_per_chunk` samples from `offset` on; `false` once every sample is placed.
    fn place_chunk(&mut self, mut offset: u64, samples_per_chunk: u32) -> Result<bool> {
        let stsz = &self.moov.traks[0].mdia.minf.stbl.stsz;
        let sync = self.moov.traks[0].mdia.minf.stbl.stss.is_none();
        for _ in 0..samples_per_chunk {
            let sample = self.samples.len();
            if sample == self.count {
                return Ok(false);
            }
            let size = if stsz.sample_size != 0 {
                stsz.sample_size
            } else {
                stsz.sample_sizes[sample]
            };
            let file_len = self.file_len;
            let end = offset
                .checked_add(u64::from(size))
                .filter(|&end| end <= file_len)
                .ok_or_else(|| {
                    self.err(format!(
                        "sample {} ({} bytes at byte {offset}) lies past the end of the file ({file_len} bytes)",
                        sample + 1,
                        size
                    ))
                })?;
            let duration = self.durations.next().unwrap_or(0);
            self.samples.push(Sample {
                offset,
                size,
                dts: self.dts,
                duration,
                cts_offset: self.cts_offsets.next().unwrap_or(0),
                sync,
            });
            self.dts = self
                .dts
                .checked_add(u64::from(duration))
                .ok_or_else(|| self.err("decode times overflow 64 bits".into()))?;
            offset = end;
        }
        Ok(true)
    }
}

/// Sync samples (stss, § 8.6.2): absent means every sample is a sync sample.
fn mark_sync_samples(
    moov: &mp4::MoovBox,
    samples: &mut [Sample],
    err: impl Fn(String) -> Error,
) -> Result<()> {
    let Some(stss) = &moov.traks[0].mdia.minf.stbl.stss else {
        return Ok(());
    };
    let count = samples.len();
    for &n in &stss.entries {
        let s = (n as usize)
            .checked_sub(1)
            .and_then(|i| samples.get_mut(i))
            .ok_or_else(|| {
                err(format!(
                    "stss names sync sample {n}, but the track has {count} samples"
                ))
            })?;
        s.sync = true;
    }
    Ok(())
}
