//! Measured bit rates against BANDWIDTH and AVERAGE-BANDWIDTH.

use super::load::{Media, Pkg};
use super::{Location, Report, Severity};
use m3u8_rs::VariantStream;

/// (bytes, EXTINF seconds) per segment, when every segment was measured.
fn sizes(m: &Media) -> Option<Vec<(u64, f64)>> {
    m.segs
        .iter()
        .map(|s| s.as_ref().map(|s| (s.bytes, s.extinf)))
        .collect()
}

/// Measured (peak, average) bits per second of a variant with its default audio rendition. A segment's bit
/// rate is its size over its EXTINF (RFC 8216 § 4.3.4.2); init segments are not counted. Peak: for each
/// video segment, its bytes plus the audio bytes that play during it (each audio segment's bytes shared
/// out by how much of its EXTINF interval overlaps), over the video segment's EXTINF — so the peak is per
/// segment of what a player downloads for that stretch, whether or not the audio cuts at the same instants.
/// Average: total bits over total EXTINF of each rendition, summed.
pub(crate) fn measure(video: &Media, audio: Option<&Media>) -> Option<(f64, f64)> {
    let bps = |b: f64, d: f64| if d > 0.0 { b * 8.0 / d } else { 0.0 };
    let avg = |s: &[(u64, f64)]| {
        bps(
            s.iter().map(|x| x.0 as f64).sum(),
            s.iter().map(|x| x.1).sum(),
        )
    };
    let v = sizes(video)?;
    let a = match audio {
        Some(a) => sizes(a)?,
        None => Vec::new(),
    };
    let intervals = |s: &[(u64, f64)]| {
        let mut t = 0.0;
        s.iter()
            .map(|&(b, d)| {
                t += d;
                (t - d, t, b)
            })
            .collect::<Vec<_>>()
    };
    let ai = intervals(&a);
    let peak = intervals(&v)
        .iter()
        .map(|&(t0, t1, b)| {
            let audio_bytes: f64 = ai
                .iter()
                .map(|&(a0, a1, ab)| {
                    let overlap = (t1.min(a1) - t0.max(a0)).max(0.0);
                    if a1 > a0 {
                        ab as f64 * overlap / (a1 - a0)
                    } else {
                        0.0
                    }
                })
                .sum();
            bps(b as f64 + audio_bytes, t1 - t0)
        })
        .fold(0.0, f64::max);
    Some((peak, avg(&v) + if a.is_empty() { 0.0 } else { avg(&a) }))
}

/// HLS Authoring Spec 9.14 (AVERAGE-BANDWIDTH present), 1.26 (measured peak within 10 % of BANDWIDTH) and
/// 1.27 (measured average within 10 % of AVERAGE-BANDWIDTH).
pub(crate) fn bitrates(
    pkg: &Pkg,
    v: &VariantStream,
    media: &Media,
    audio: Option<&Media>,
    loc: Location,
    report: &mut Report,
) {
    let measured = measure(media, audio);
    let with = if audio.is_some() {
        " with its default audio rendition"
    } else {
        ""
    };
    let off = |declared: u64, got: f64| (got - declared as f64).abs() > declared as f64 * 0.10;
    if let Some((peak, _)) = measured {
        if off(v.bandwidth, peak) {
            report.push(Severity::Must, "1.26", "measured peak bit rate within 10 % of BANDWIDTH", &pkg.master_path, loc,
                format!("variant {}: BANDWIDTH={} but the measured peak segment bit rate{with} is {peak:.0} b/s", v.uri, v.bandwidth));
        }
    }
    let Some(avg_declared) = v.average_bandwidth else {
        report.push(
            Severity::Must,
            "9.14",
            "AVERAGE-BANDWIDTH is present",
            &pkg.master_path,
            loc,
            format!("variant {} has no AVERAGE-BANDWIDTH", v.uri),
        );
        return;
    };
    if let Some((_, avg)) = measured {
        if off(avg_declared, avg) {
            report.push(Severity::Must, "1.27", "measured average bit rate within 10 % of AVERAGE-BANDWIDTH", &pkg.master_path, loc,
                format!("variant {}: AVERAGE-BANDWIDTH={avg_declared} but the measured average{with} is {avg:.0} b/s", v.uri));
        }
    }
}
