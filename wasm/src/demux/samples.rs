//! Expand the sample tables (stts, ctts, stsc, stsz, stco/co64, stss; ISO/IEC 14496-12 § 8.6–8.7) into one
//! checked entry per sample. The guard pass bounded every count by the moov's size, so the expansion's
//! memory is bounded by it too.

use super::movie::Sample;
use crate::error::{Error, Result};

/// Expand the tables of the single trak in `moov` (see [`super::tracks::Parsed`]).
pub fn expand(moov: &mp4::MoovBox, file_len: u64, path: &str, at: u64) -> Result<Vec<Sample>> {
    let stbl = &moov.traks[0].mdia.minf.stbl;
    let err = |msg: String| Error::malformed(path, at, msg);
    let count = stbl.stsz.sample_count as usize;
    let mut samples = Vec::with_capacity(count);

    // Sizes (stsz, § 8.7.3.2).
    let size_of = |i: usize| -> u32 {
        if stbl.stsz.sample_size != 0 {
            stbl.stsz.sample_size
        } else {
            stbl.stsz.sample_sizes[i]
        }
    };
    if stbl.stsz.sample_size == 0 && stbl.stsz.sample_sizes.len() != count {
        return Err(err(format!(
            "stsz declares {count} samples but lists {} sizes",
            stbl.stsz.sample_sizes.len()
        )));
    }

    // Durations (stts, § 8.6.1.2): the counts must add up to the number of samples.
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

    // Chunk offsets (stco/co64, § 8.7.5).
    let chunks: Vec<u64> = match (&stbl.stco, &stbl.co64) {
        (Some(stco), _) => stco.entries.iter().map(|&o| u64::from(o)).collect(),
        (None, Some(co64)) => co64.entries.clone(),
        (None, None) => return Err(err("no chunk offsets".into())),
    };

    let mut stts = stbl
        .stts
        .entries
        .iter()
        .flat_map(|e| std::iter::repeat_n(e.sample_delta, e.sample_count as usize));
    let mut ctts = stbl.ctts.iter().flat_map(|c| {
        c.entries
            .iter()
            .flat_map(|e| std::iter::repeat_n(e.sample_offset, e.sample_count as usize))
    });

    // Chunks to samples (stsc, § 8.7.4): entry k covers chunks [first_chunk_k, first_chunk_{k+1}).
    let stsc = &stbl.stsc.entries;
    let mut dts = 0u64;
    let mut sample = 0usize;
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
            return Err(err(format!(
                "stsc entry {k} starts at chunk {first}, but there are only {} chunks",
                chunks.len()
            )));
        }
        for chunk in first..=last.min(chunks.len()) {
            let mut offset = chunks[chunk - 1];
            for _ in 0..e.samples_per_chunk {
                if sample == count {
                    break 'chunks;
                }
                let size = size_of(sample);
                let end = offset
                    .checked_add(u64::from(size))
                    .filter(|&end| end <= file_len)
                    .ok_or_else(|| {
                        err(format!(
                            "sample {} ({} bytes at byte {offset}) lies past the end of the file ({file_len} bytes)",
                            sample + 1,
                            size
                        ))
                    })?;
                let duration = stts.next().unwrap_or(0);
                samples.push(Sample {
                    offset,
                    size,
                    dts,
                    duration,
                    cts_offset: ctts.next().unwrap_or(0),
                    sync: stbl.stss.is_none(),
                });
                dts = dts
                    .checked_add(u64::from(duration))
                    .ok_or_else(|| err("decode times overflow 64 bits".into()))?;
                offset = end;
                sample += 1;
            }
        }
    }
    if sample != count {
        return Err(err(format!(
            "stsc and the chunk offsets place only {sample} of the {count} samples"
        )));
    }

    // Sync samples (stss, § 8.6.2): absent means every sample is a sync sample.
    if let Some(stss) = &stbl.stss {
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
    }
    Ok(samples)
}
