//! Rules on the multivariant playlist, each attribute compared with what the files say.

use super::load::{Media, Pkg};
use super::paths::{line_containing, resolve};
use super::{Location, Report, Severity};
use crate::demux::TrackKind;
use m3u8_rs::{AlternativeMediaType, MasterPlaylist, VariantStream};

pub(crate) fn check_master(pkg: &Pkg, report: &mut Report) {
    let Some(m) = &pkg.master else { return };
    independent_segments(pkg, m, report);
    audio_languages(pkg, m, report);
    iframe_playlists_present(pkg, m, report);
    for v in &m.variants {
        let loc = variant_line(pkg, v);
        let Some(media) = resolve(&pkg.master_path, &v.uri)
            .ok()
            .and_then(|p| pkg.media(&p))
        else {
            continue; // unreadable: reported while loading
        };
        let audio = if v.is_i_frame {
            Vec::new()
        } else {
            audio_group(pkg, m, v, loc, report)
        };
        codecs_match(pkg, v, media, &audio, loc, report);
        if media.kind() == Some(TrackKind::Video) {
            resolution(pkg, v, media, loc, report);
            if !v.is_i_frame {
                frame_rate(pkg, v, media, loc, report);
            }
        }
        if !v.is_i_frame {
            // An audio-only variant may name its own group; its audio is then already counted.
            let extra = audio.first().copied().filter(|a| a.path != media.path);
            super::bitrate::bitrates(pkg, v, media, extra, loc, report);
        }
    }
}

fn variant_line(pkg: &Pkg, v: &VariantStream) -> Location {
    let mut lines = pkg.master_text.lines().enumerate();
    let found = if v.is_i_frame {
        let needle = format!("URI=\"{}\"", v.uri);
        lines.find(|(_, l)| l.starts_with("#EXT-X-I-FRAME-STREAM-INF") && l.contains(&needle))
    } else {
        // A variant's attributes are on the EXT-X-STREAM-INF line before its URI line.
        let uri_line = lines.find(|(_, l)| l.trim() == v.uri).map(|(i, _)| i);
        uri_line.and_then(|u| {
            pkg.master_text
                .lines()
                .enumerate()
                .take(u)
                .filter(|(_, l)| l.starts_with("#EXT-X-STREAM-INF"))
                .last()
        })
    };
    found.map_or(Location::File, |(i, _)| Location::Line { line: i + 1 })
}

/// HLS Authoring Spec 9.11: EXT-X-INDEPENDENT-SEGMENTS in the multivariant playlist.
fn independent_segments(pkg: &Pkg, m: &MasterPlaylist, report: &mut Report) {
    if !m.independent_segments {
        report.push(
            Severity::Should,
            "9.11",
            "EXT-X-INDEPENDENT-SEGMENTS is present",
            &pkg.master_path,
            Location::File,
            "no EXT-X-INDEPENDENT-SEGMENTS: players cannot assume each segment decodes on its own",
        );
    }
}

/// HLS Authoring Spec 8.10: audio renditions carry LANGUAGE.
fn audio_languages(pkg: &Pkg, m: &MasterPlaylist, report: &mut Report) {
    for a in &m.alternatives {
        if a.media_type == AlternativeMediaType::Audio
            && a.language.as_deref().is_none_or(str::is_empty)
        {
            let loc = line_containing(&pkg.master_text, &format!("NAME=\"{}\"", a.name))
                .map_or(Location::File, |line| Location::Line { line });
            report.push(
                Severity::Should,
                "8.10",
                "audio renditions have LANGUAGE",
                &pkg.master_path,
                loc,
                format!("EXT-X-MEDIA audio rendition {:?} has no LANGUAGE", a.name),
            );
        }
    }
}

/// HLS Authoring Spec 6.1: I-frame playlists are provided (for scrubbing and trick play).
fn iframe_playlists_present(pkg: &Pkg, m: &MasterPlaylist, report: &mut Report) {
    let has_video = m.variants.iter().filter(|v| !v.is_i_frame).any(|v| {
        resolve(&pkg.master_path, &v.uri)
            .ok()
            .and_then(|p| pkg.media(&p))
            .is_some_and(|x| x.kind() == Some(TrackKind::Video))
    });
    if has_video && !m.variants.iter().any(|v| v.is_i_frame) {
        report.push(
            Severity::Must,
            "6.1",
            "I-frame playlists are present",
            &pkg.master_path,
            Location::File,
            "video variants but no EXT-X-I-FRAME-STREAM-INF",
        );
    }
}

/// HLS Authoring Spec 8.9: audio comes as EXT-X-MEDIA renditions referenced by the variant's AUDIO group.
/// Returns the group's renditions that could be read, the DEFAULT one first.
fn audio_group<'a>(
    pkg: &'a Pkg,
    m: &MasterPlaylist,
    v: &VariantStream,
    loc: Location,
    report: &mut Report,
) -> Vec<&'a Media> {
    const TITLE: &str = "audio via EXT-X-MEDIA";
    let Some(group) = &v.audio else {
        if m.alternatives
            .iter()
            .any(|a| a.media_type == AlternativeMediaType::Audio)
        {
            report.push(
                Severity::Must,
                "8.9",
                TITLE,
                &pkg.master_path,
                loc,
                format!(
                    "variant {} has no AUDIO group although the playlist has audio renditions",
                    v.uri
                ),
            );
        }
        return Vec::new();
    };
    let mut members: Vec<_> = m
        .alternatives
        .iter()
        .filter(|a| a.media_type == AlternativeMediaType::Audio && &a.group_id == group)
        .collect();
    members.sort_by_key(|a| !a.default);
    if members.is_empty() {
        report.push(
            Severity::Must,
            "8.9",
            TITLE,
            &pkg.master_path,
            loc,
            format!(
                "variant {} names AUDIO group {group:?}, which no EXT-X-MEDIA defines",
                v.uri
            ),
        );
    }
    members
        .iter()
        .filter_map(|a| a.uri.as_deref())
        .filter_map(|u| resolve(&pkg.master_path, u).ok())
        .filter_map(|p| pkg.media(&p))
        .collect()
}

fn codec_of(m: &Media) -> Option<&str> {
    m.init.as_ref().map(|(_, i)| i.entry.codec_string.as_str())
}

/// HLS Authoring Spec 9.1: CODECS is present and names exactly the codecs the init segments declare.
fn codecs_match(
    pkg: &Pkg,
    v: &VariantStream,
    media: &Media,
    audio: &[&Media],
    loc: Location,
    report: &mut Report,
) {
    const TITLE: &str = "CODECS present and equal to the init segments";
    let Some(declared) = v.codecs.as_deref() else {
        report.push(
            Severity::Must,
            "9.1",
            TITLE,
            &pkg.master_path,
            loc,
            format!("variant {} has no CODECS", v.uri),
        );
        return;
    };
    // Without every init segment the expected list is unknown (the unreadable init is reported already).
    let Some(mut expected) = codec_of(media).map(|c| vec![c.to_string()]) else {
        return;
    };
    for a in audio {
        let Some(c) = codec_of(a) else { return };
        if !expected.iter().any(|e| e == c) {
            expected.push(c.to_string());
        }
    }
    let declared: Vec<String> = declared.split(',').map(|c| c.trim().to_string()).collect();
    let same = |a: &String, b: &String| a.eq_ignore_ascii_case(b);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|e| !declared.iter().any(|d| same(d, e)))
        .collect();
    let extra: Vec<&String> = declared
        .iter()
        .filter(|d| !expected.iter().any(|e| same(d, e)))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        report.push(
            Severity::Must,
            "9.1",
            TITLE,
            &pkg.master_path,
            loc,
            format!(
                "variant {}: CODECS=\"{}\" but the init segments say \"{}\"",
                v.uri,
                declared.join(","),
                expected.join(",")
            ),
        );
    }
}

/// HLS Authoring Spec 9.2: RESOLUTION on video variants, equal to the picture (coded size, or the display
/// size after pixel aspect ratio, either way round for rotation).
fn resolution(pkg: &Pkg, v: &VariantStream, media: &Media, loc: Location, report: &mut Report) {
    const TITLE: &str = "RESOLUTION present and right";
    let Some(r) = &v.resolution else {
        report.push(
            Severity::Must,
            "9.2",
            TITLE,
            &pkg.master_path,
            loc,
            format!("video variant {} has no RESOLUTION", v.uri),
        );
        return;
    };
    let Some(pic) = media.init.as_ref().and_then(|(_, i)| i.entry.video.clone()) else {
        return;
    };
    let (w, h) = (u64::from(pic.width), u64::from(pic.height));
    let dw = pic
        .pasp
        .map_or(w, |(hs, vs)| w * u64::from(hs) / u64::from(vs.max(1)));
    let ok = [(w, h), (dw, h), (h, w), (h, dw)].contains(&(r.width, r.height));
    if !ok {
        report.push(Severity::Must, "9.2", TITLE, &pkg.master_path, loc, format!(
            "variant {}: RESOLUTION={}x{} but the init segment's picture is {w}x{h} (display {dw}x{h})", v.uri, r.width, r.height));
    }
}

/// Frames per second over the whole rendition.
fn measured_fps(media: &Media) -> Option<f64> {
    let (mut frames, mut ticks) = (0usize, 0u64);
    for s in &media.segs {
        let s = s.as_ref()?;
        frames += s.samples;
        ticks += s.ticks;
    }
    (ticks > 0).then(|| frames as f64 * f64::from(media.timescale()) / ticks as f64)
}

/// HLS Authoring Spec 9.15: FRAME-RATE on video variants, within 1 % of the measured rate.
fn frame_rate(pkg: &Pkg, v: &VariantStream, media: &Media, loc: Location, report: &mut Report) {
    const TITLE: &str = "FRAME-RATE present and right";
    let Some(declared) = v.frame_rate else {
        report.push(
            Severity::Must,
            "9.15",
            TITLE,
            &pkg.master_path,
            loc,
            format!("video variant {} has no FRAME-RATE", v.uri),
        );
        return;
    };
    if let Some(fps) = measured_fps(media) {
        if (declared - fps).abs() > fps * 0.01 {
            report.push(Severity::Must, "9.15", TITLE, &pkg.master_path, loc,
                format!("variant {}: FRAME-RATE={declared} but the segments hold {fps:.3} frames per second", v.uri));
        }
    }
}
