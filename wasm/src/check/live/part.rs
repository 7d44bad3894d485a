//! A part marked INDEPENDENT begins with a key frame: its first moof's first sample is a sync sample, and
//! for video its bitstream is a random access point. hls.js starts decoding at such a part
//! (video-dev/hls.js#7782: a mid-GOP part flagged INDEPENDENT gives a green or frozen picture).

use crate::check::bitstream::is_key_frame;
use crate::check::{Location, Report, Severity};
use crate::cmaf::read::{read_init, read_segment};
use crate::demux::TrackKind;

const RULE: &str = "live-independent-key-frame";
const TITLE: &str = "a part marked INDEPENDENT begins with a key frame (RFC 8216bis 4.4.4.9)";

/// Check the bytes of part `file` (whole CMAF chunks) against the init segment its playlist maps.
pub(super) fn check(init: &[u8], part: &[u8], file: &str, report: &mut Report) {
    report.files_read += 1;
    report.bytes_read = report
        .bytes_read
        .saturating_add(u64::try_from(part.len()).unwrap_or(u64::MAX));
    let mut fail = |severity: Severity, loc: Location, msg: String| {
        report.push(severity, RULE, TITLE, file, loc, msg);
    };
    let init = match read_init(init) {
        Ok(i) => i,
        Err(e) => {
            return fail(
                Severity::Must,
                Location::File,
                format!("its init segment cannot be read: {e}"),
            )
        }
    };
    let frags = match read_segment(part, &init) {
        Ok(f) => f,
        Err(e) => {
            return fail(
                Severity::Must,
                Location::File,
                format!("not CMAF chunks (moof + mdat): {e}"),
            )
        }
    };
    let Some((f, s)) = frags.first().and_then(|f| Some((f, f.samples.first()?))) else {
        return fail(
            Severity::Must,
            Location::File,
            "the first moof holds no sample".into(),
        );
    };
    let at = Location::Byte {
        byte: f.data_offset,
    };
    if !s.is_sync() {
        return fail(Severity::Must, at, format!(
            "marked INDEPENDENT=YES but its first sample's flags mark it non-sync (sample_flags {:#010x})",
            s.flags
        ));
    }
    if init.kind != TrackKind::Video {
        return;
    }
    let sample = usize::try_from(f.data_offset)
        .ok()
        .and_then(|lo| part.get(lo..lo.checked_add(usize::try_from(s.size).ok()?)?));
    match sample.and_then(|b| is_key_frame(&init.entry, b)) {
        Some(true) => {}
        Some(false) => fail(Severity::Must, at,
            "marked INDEPENDENT=YES and flagged sync, but the first sample's bitstream is not a random access point (no IDR / IRAP / key frame)".into()),
        None => fail(Severity::Should, at,
            "the first sample's bitstream could not be read to confirm a key frame".into()),
    }
}
