//! Rules on one media playlist and its segments.

use super::load::Media;
use super::paths::tag_line;
use super::segment::Seg;
use super::{Location, Report, Severity};
use crate::demux::TrackKind;
use m3u8_rs::MediaPlaylistType;

pub(crate) fn check_media(m: &Media, report: &mut Report) {
    map_present(m, report);
    vod_and_endlist(m, report);
    target_duration(m, report);
    if m.pl.i_frames_only {
        return;
    }
    no_long_segment(m, report);
    extinf_matches_samples(m, report);
    if m.kind() == Some(TrackKind::Video) {
        starts_with_idr(m, report);
        flags_match_bitstream(m, report);
    }
    tfdt_continuous(m, report);
}

fn segs(m: &Media) -> impl Iterator<Item = (usize, &Seg)> {
    m.segs
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s.as_ref().map(|s| (k, s)))
}

fn secs(ticks: u64, timescale: u32) -> f64 {
    if timescale == 0 {
        0.0
    } else {
        ticks as f64 / f64::from(timescale)
    }
}

/// HLS Authoring Spec 8.20: fMP4 segments need EXT-X-MAP (RFC 8216 § 4.3.2.5) before the first segment.
fn map_present(m: &Media, report: &mut Report) {
    if m.pl.segments.first().is_some_and(|s| s.map.is_none()) {
        report.push(
            Severity::Must,
            "8.20",
            "EXT-X-MAP names the init segment",
            &m.path,
            m.line(0),
            "the first segment has no EXT-X-MAP before it; fMP4 segments cannot be decoded without their init segment",
        );
    }
}

/// HLS Authoring Spec 8.6: VOD playlists carry EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST.
fn vod_and_endlist(m: &Media, report: &mut Report) {
    const TITLE: &str = "VOD playlists have PLAYLIST-TYPE:VOD and ENDLIST";
    if !m.pl.end_list {
        report.push(
            Severity::Must,
            "8.6",
            TITLE,
            &m.path,
            Location::File,
            "no EXT-X-ENDLIST: players treat the playlist as live and keep reloading it",
        );
    }
    if m.pl.playlist_type != Some(MediaPlaylistType::Vod) {
        let loc = tag_line(&m.text, "#EXT-X-PLAYLIST-TYPE")
            .map_or(Location::File, |line| Location::Line { line });
        report.push(
            Severity::Must,
            "8.6",
            TITLE,
            &m.path,
            loc,
            match &m.pl.playlist_type {
                None => "no EXT-X-PLAYLIST-TYPE; a VOD playlist declares EXT-X-PLAYLIST-TYPE:VOD"
                    .to_string(),
                Some(t) => format!("EXT-X-PLAYLIST-TYPE is {t}, not VOD"),
            },
        );
    }
}

/// RFC 8216 § 4.3.3.1: every EXTINF rounded to the nearest integer is at most EXT-X-TARGETDURATION.
fn target_duration(m: &Media, report: &mut Report) {
    let td = m.pl.target_duration;
    for (k, s) in m.pl.segments.iter().enumerate() {
        let rounded = f64::from(s.duration).round();
        if rounded > td as f64 {
            report.push(
                Severity::Must,
                "RFC8216 4.3.3.1",
                "EXT-X-TARGETDURATION is right",
                &m.path,
                m.line(k),
                format!(
                    "EXTINF {:.6} of {} rounds to {rounded}, over EXT-X-TARGETDURATION {td}",
                    s.duration, s.uri
                ),
            );
        }
    }
}

/// HLS Authoring Spec 7.7: no segment lasts longer than the target duration + 0.5 s (measured from the
/// samples, not from EXTINF).
fn no_long_segment(m: &Media, report: &mut Report) {
    let limit = m.pl.target_duration as f64 + 0.5;
    for (_, s) in segs(m) {
        let d = secs(s.ticks, m.timescale());
        if d > limit {
            report.push(
                Severity::Must,
                "7.7",
                "no segment longer than the target duration + 0.5 s",
                &s.path,
                Location::File,
                format!(
                    "lasts {d:.3} s (its samples), over EXT-X-TARGETDURATION {} + 0.5 s",
                    m.pl.target_duration
                ),
            );
        }
    }
}

/// HLS Authoring Spec 8.1: EXTINF is the segment's duration — within one frame (the segment's longest
/// sample) plus 1 ms of rounding in the playlist's decimal.
fn extinf_matches_samples(m: &Media, report: &mut Report) {
    let ts = m.timescale();
    for (k, s) in segs(m) {
        let measured = secs(s.ticks, ts);
        let tolerance = secs(u64::from(s.max_sample_ticks), ts) + 0.001;
        if (s.extinf - measured).abs() > tolerance {
            report.push(Severity::Must, "8.1", "EXTINF agrees with the segment's samples", &m.path, m.line(k),
                format!("EXTINF {:.6} for {}, whose samples last {measured:.6} s (tolerance {tolerance:.3} s)", s.extinf, s.path));
        }
    }
}

/// HLS Authoring Spec 7.4: every video segment starts with an IDR — its first sample is flagged sync and its
/// bitstream is a random access point (H.264 IDR, HEVC IRAP, AV1 key frame with sequence header, VP9 key
/// frame).
fn starts_with_idr(m: &Media, report: &mut Report) {
    const TITLE: &str = "every video segment starts with an IDR";
    for (_, s) in segs(m) {
        let at = Location::Byte { byte: s.first_data };
        if !s.first_sync {
            report.push(
                Severity::Must,
                "7.4",
                TITLE,
                &s.path,
                at,
                "the first sample's flags mark it non-sync (sample_is_non_sync_sample = 1)",
            );
        }
        match s.first_key {
            Some(false) => report.push(Severity::Must, "7.4", TITLE, &s.path, at,
                "the first sample's bitstream is not a random access point (no IDR / IRAP / key frame)"),
            None => report.push(Severity::Should, "7.4", TITLE, &s.path, at,
                "the first sample's bitstream could not be read to confirm an IDR"),
            Some(true) => {}
        }
    }
}

/// Sample flags consistent with the bitstream (HLS Authoring Spec 7.4; ISO/IEC 14496-12 § 8.8.3.1): a
/// sample flagged sync must be a random access point, and one that is a random access point should be
/// flagged sync (players seek by the flags).
fn flags_match_bitstream(m: &Media, report: &mut Report) {
    for (_, s) in segs(m) {
        if let Some((i, byte, flagged)) = s.flag_mismatch {
            let what = if flagged {
                "is flagged sync but its bitstream is not a random access point"
            } else {
                "is a random access point in its bitstream but flagged non-sync"
            };
            report.push(
                Severity::Must,
                "7.4",
                "sample flags consistent with the bitstream",
                &s.path,
                Location::Byte { byte },
                format!(
                    "sample {} {what} ({} such samples in the segment)",
                    i + 1,
                    s.mismatches
                ),
            );
        }
    }
}

/// HLS Authoring Spec 7.3: tfdt is continuous — each fragment's baseMediaDecodeTime is the previous one's plus
/// its sample durations, across segments too.
fn tfdt_continuous(m: &Media, report: &mut Report) {
    const TITLE: &str = "tfdt continuous with the previous segment";
    let mut prev: Option<&Seg> = None;
    for (k, s) in m.segs.iter().enumerate() {
        let Some(s) = s else {
            prev = None;
            continue;
        };
        if let Some((byte, want, got)) = s.inner_gap {
            report.push(
                Severity::Must,
                "7.3",
                TITLE,
                &s.path,
                Location::Byte { byte },
                format!(
                    "fragment tfdt {got}, expected {want} after the previous fragment's samples"
                ),
            );
        }
        if let Some(p) = prev {
            let want = p.start.saturating_add(p.ticks);
            if s.start != want {
                report.push(Severity::Must, "7.3", TITLE, &s.path, Location::Byte { byte: s.first_moof },
                    format!("segment {} starts at tfdt {} but {} ends at {want} ({:+} ticks of {} per second)",
                        k + 1, s.start, p.path, i128::from(s.start) - i128::from(want), m.timescale()));
            }
        }
        prev = Some(s);
    }
}
