//! The checks an uploaded init segment and part pass before they reach the window, as VOD uploads are
//! checked: CMAF parse against the rendition's init, a key frame (by its own bitstream) where the part
//! claims INDEPENDENT, decode times continuous with the previous part, size and duration bounds. What the
//! bytes say (start, duration, sync flags) is read from them; the `X-Upcast-Part` header only says what
//! they cannot: whether the part is INDEPENDENT and whether it starts a segment.
use upcast_core::check::is_key_frame;
use upcast_core::cmaf::read::{read_init, read_segment, InitInfo};
use upcast_core::demux::TrackKind;
use upcast_core::live::{Part, TrackInfo};

/// Why an upload was refused: HTTP status, kebab-case code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: &'static str,
    pub msg: String,
    /// `part-gap`: the part number expected.
    pub expected: Option<u64>,
}

pub fn refused(status: u16, code: &'static str, msg: impl ToString) -> Refused {
    Refused {
        status,
        code,
        msg: msg.to_string(),
        expected: None,
    }
}

/// One rendition of an HTTP publish: its init segment and where its parts stand.
pub struct Rung {
    pub info: TrackInfo,
    pub init: InitInfo,
    /// The `n` the next part must have.
    pub next_n: u64,
    /// The last part accepted: its body's SHA-256 (a retry with the same bytes is a no-op) and its answer.
    pub last: Option<([u8; 32], serde_json::Value)>,
    /// Where the last part ended (decode time, the init's timescale).
    pub end: Option<u64>,
    /// Bytes, ticks and samples accepted (for the status's bitrate and frame rate).
    pub totals: (u64, u64, u64),
    /// A sample's composition time differed from its decode time (the encoder makes B-frames).
    pub b_frames: bool,
    /// Decode time of the last part that started a segment, and the time since the one before (ticks).
    pub keys: (Option<u64>, Option<u64>),
    /// The publisher paused the rendition (`POST …/pause`): its next part starts a segment, at or after
    /// where the last one ended.
    pub paused: bool,
}

impl Rung {
    pub fn new(info: TrackInfo, init: InitInfo) -> Rung {
        Rung {
            info,
            init,
            next_n: 0,
            last: None,
            end: None,
            totals: (0, 0, 0),
            b_frames: false,
            keys: (None, None),
            paused: false,
        }
    }

    /// Count an accepted part into the status figures: its `(start, duration)`, size, whether it starts
    /// a segment, and `(samples, B-frames seen)`.
    pub fn count(&mut self, span: (u64, u64), size: usize, starts: bool, seen: (u64, bool)) {
        let (start, duration) = span;
        self.totals.0 += size as u64;
        self.totals.1 += duration;
        self.totals.2 += seen.0;
        self.b_frames |= seen.1;
        self.end = Some(start + duration);
        if starts {
            self.keys = (Some(start), self.keys.0.map(|k| start.saturating_sub(k)));
        }
    }
}

/// The rendition names an HTTP publisher may use: `video`, `video_2` … `video_8`, `audio`, `audio_2` ….
pub fn rendition_kind(name: &str) -> Option<TrackKind> {
    let (base, kind) = if let Some(r) = name.strip_prefix("video") {
        (r, TrackKind::Video)
    } else {
        (name.strip_prefix("audio")?, TrackKind::Audio)
    };
    match base {
        "" => Some(kind),
        r => {
            let n: u8 = r.strip_prefix('_')?.parse().ok()?;
            ((2..=8).contains(&n) && r.len() == 2).then_some(kind)
        }
    }
}

/// An init segment for rendition `name`: one track of the rendition's kind.
pub fn check_init(name: &str, bytes: &[u8]) -> Result<(TrackInfo, InitInfo), Refused> {
    let kind = rendition_kind(name).ok_or_else(|| {
        refused(
            404,
            "bad-rendition",
            format!("{name:?}: renditions are video, video_2 … video_8, audio, audio_2 … audio_8"),
        )
    })?;
    let init = read_init(bytes).map_err(|e| refused(422, "not-cmaf", e))?;
    if init.kind != kind {
        return Err(refused(
            422,
            "wrong-kind",
            format!(
                "rendition {name} takes a {kind:?} track, the init has {:?}",
                init.kind
            ),
        ));
    }
    let e = &init.entry;
    let info = TrackInfo {
        kind,
        codec: e.codec_string.clone(),
        width: e.video.as_ref().map_or(0, |v| u32::from(v.width)),
        height: e.video.as_ref().map_or(0, |v| u32::from(v.height)),
        sample_rate: e.audio.as_ref().map_or(0, |a| a.sample_rate),
        channels: e.audio.as_ref().map_or(0, |a| a.channels),
        init: bytes.to_vec(),
    };
    Ok((info, init))
}

/// What the `X-Upcast-Part` header claims: `independent=0|1; segment=0|1` (both default to 0), and
/// optionally `capture=MS`: the wall clock (ms since 1970) at which the publish's media time 0 was
/// captured, the anchor of its program date-times (read from the ticket's first part only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Claim {
    pub independent: bool,
    pub segment: bool,
    pub capture_ms: Option<u64>,
}

pub fn parse_claim(header: Option<&str>) -> Result<Claim, Refused> {
    let mut c = Claim::default();
    let bad = |m: &str| refused(400, "bad-part-header", format!("X-Upcast-Part: {m}"));
    for item in header.unwrap_or("").split(';').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let (k, v) = item.split_once('=').ok_or_else(|| bad(item))?;
        if k.trim() == "capture" {
            c.capture_ms = Some(v.trim().parse().map_err(|_| bad(item))?);
            continue;
        }
        let v = match v.trim() {
            "1" => true,
            "0" => false,
            _ => return Err(bad(item)),
        };
        match k.trim() {
            "independent" => c.independent = v,
            "segment" => c.segment = v,
            _ => return Err(bad(item)),
        }
    }
    if c.segment && !c.independent {
        return Err(bad("segment=1 needs independent=1"));
    }
    Ok(c)
}

/// Check one part of `rung` (body `bytes`, longest duration allowed `max_ticks`) and make it a [`Part`].
/// Also returns the part's sample count and whether any sample has a composition offset (B-frames).
pub fn check_part(
    rung: &Rung,
    bytes: Vec<u8>,
    claim: Claim,
    max_ticks: u64,
) -> Result<(Part, u64, bool), Refused> {
    let init = &rung.init;
    let frags = read_segment(&bytes, init).map_err(|e| refused(422, "not-cmaf", e))?;
    let mut at = frags[0].base_decode_time;
    if let Some(end) = rung.end {
        // Coming back from a pause, the media resumes later: the gap is the origin's GAP segments.
        if at != end && !(rung.paused && at > end) {
            return Err(refused(
                422,
                "timestamp-gap",
                format!("the part starts at decode time {at}, the previous one ended at {end}"),
            ));
        }
    }
    for f in &frags {
        if f.track_id != init.track_id || f.base_decode_time != at || f.samples.is_empty() {
            return Err(refused(
                422,
                "not-continuous",
                "every chunk must be of the init's track, non-empty, and start where the last ended",
            ));
        }
        at += f.duration();
    }
    let (start, duration) = (frags[0].base_decode_time, at - frags[0].base_decode_time);
    if duration == 0 || duration > max_ticks {
        return Err(refused(
            422,
            "bad-part-duration",
            format!("the part lasts {duration} ticks; 1 to {max_ticks} are allowed"),
        ));
    }
    let first = &frags[0];
    let video = init.kind == TrackKind::Video;
    let sync = first.samples[0].is_sync();
    if claim.independent {
        let size = usize::try_from(first.samples[0].size).unwrap_or(usize::MAX);
        let off = usize::try_from(first.data_offset).unwrap_or(usize::MAX);
        let sample = bytes.get(off..off.saturating_add(size)).unwrap_or(&[]);
        let key = !video || is_key_frame(&init.entry, sample) == Some(true);
        if !sync || !key {
            return Err(refused(
                422,
                "not-independent",
                "the part claims INDEPENDENT but its first sample is not a key frame (by its flags or its bitstream)",
            ));
        }
    }
    if (rung.end.is_none() || rung.paused) && !claim.segment {
        return Err(refused(
            422,
            "no-key-frame",
            "a rendition's first part, and its first after a pause, must start a segment (independent=1; segment=1)",
        ));
    }
    let key_chunk = (claim.independent && video).then(|| {
        let end = frags.get(1).map_or(bytes.len() as u64, |f| f.moof_offset);
        (0, end)
    });
    let samples = frags.iter().map(|f| f.samples.len() as u64).sum();
    let b_frames = frags
        .iter()
        .any(|f| f.samples.iter().any(|s| s.cts_offset != 0));
    let part = Part {
        bytes,
        start,
        duration,
        timescale: init.timescale,
        independent: claim.independent,
        starts_segment: claim.segment,
        key_chunk,
    };
    Ok((part, samples, b_frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendition_names() {
        assert_eq!(rendition_kind("video"), Some(TrackKind::Video));
        assert_eq!(rendition_kind("video_2"), Some(TrackKind::Video));
        assert_eq!(rendition_kind("audio_8"), Some(TrackKind::Audio));
        for bad in [
            "video_1", "video_9", "video_02", "video2", "subs", "", "audio_x",
        ] {
            assert_eq!(rendition_kind(bad), None, "{bad}");
        }
    }

    #[test]
    fn part_header() {
        assert_eq!(parse_claim(None).unwrap(), Claim::default());
        let c = parse_claim(Some("independent=1; segment=1")).unwrap();
        assert!(c.independent && c.segment);
        let c = parse_claim(Some("independent=1")).unwrap();
        assert!(c.independent && !c.segment && c.capture_ms.is_none());
        let c = parse_claim(Some("independent=1; segment=1; capture=1764686400123")).unwrap();
        assert_eq!(c.capture_ms, Some(1_764_686_400_123));
        for bad in [
            "segment=1",
            "independent=yes",
            "key=1",
            "independent",
            "capture=-1",
            "capture=soon",
        ] {
            assert_eq!(
                parse_claim(Some(bad)).unwrap_err().code,
                "bad-part-header",
                "{bad}"
            );
        }
    }

    #[test]
    fn an_init_must_be_cmaf_of_the_rendition_kind() {
        assert_eq!(check_init("video", b"junk").unwrap_err().code, "not-cmaf");
        assert_eq!(
            check_init("subs", b"junk").unwrap_err().code,
            "bad-rendition"
        );
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod fixture_tests;
