//! The outside checks on an HLS package made from a source file: ffprobe finds nothing wrong with any
//! playlist, init or media segment; ffmpeg decodes the whole package without a complaint; the copy rung is
//! frame-exact (video frames and audio packets hash the same as the source's); the duration agrees; and
//! the multivariant playlist has the variants, I-frame variants and audio renditions the source calls for.
//!
//! Each check records every failure it finds instead of stopping at the first, so one run shows the whole
//! picture (and so the checker itself can be tried on packages made by other tools).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::playlist::{parse_master, parse_media, resolve, Master, Media};
use super::probe::{
    audio_packets_before_start, first_packet_duration_s, packet_span_s, probe, Probe,
};
use super::{ffmpeg, ffprobe, files_with_suffix, framemd5, run, Hash};

/// Outcome per named check; an empty list means the check passed.
pub struct Report {
    pub checks: Vec<(&'static str, Vec<String>)>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|(_, f)| f.is_empty())
    }

    fn record(&mut self, name: &'static str, failures: Vec<String>) {
        self.checks.push((name, failures));
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, failures) in &self.checks {
            if failures.is_empty() {
                writeln!(f, "  ok    {name}")?;
            }
            for msg in failures {
                writeln!(f, "  FAIL  {name}: {msg}")?;
            }
        }
        Ok(())
    }
}

/// The package's playlists, read once.
struct Package {
    master: Master,
    /// Every media playlist the master names (variants, I-frame variants, renditions), parsed.
    media: Vec<(PathBuf, Media)>,
}

/// Run every outside check on the package in `outdir` (with `outdir/master.m3u8`) made from `source`.
pub fn check_package(source: &Path, outdir: &Path) -> Report {
    let mut report = Report { checks: Vec::new() };
    let src = probe(source).unwrap_or_else(|e| panic!("the source must probe cleanly: {e}"));
    let (pkg, read_failures) = match read_package(outdir) {
        Ok(read) => read,
        Err(e) => {
            report.record("structure", vec![e]);
            return report;
        }
    };
    let mut structure = read_failures;
    structure.extend(check_structure(&src, &pkg));
    report.record("structure", structure);
    report.record("ffprobe playlists", probe_playlists(outdir, &pkg));
    report.record("ffprobe init segments", probe_inits(outdir, &pkg));
    report.record("ffprobe media segments", probe_segments(outdir, &pkg));
    report.record("ffmpeg decodes master", decode_master(outdir));
    report.record(
        "frame-exact video",
        frame_exact_video(source, &src, outdir, &pkg),
    );
    report.record(
        "packet-exact audio",
        packet_exact_audio(source, &src, outdir, &pkg),
    );
    report.record("duration", duration(source, &src, outdir));
    report.record("rotation and aspect", display_props(&src, outdir, &pkg));
    report
}

fn read_package(outdir: &Path) -> Result<(Package, Vec<String>), String> {
    let master_path = outdir.join("master.m3u8");
    let text = std::fs::read_to_string(&master_path)
        .map_err(|e| format!("cannot read {}: {e}", master_path.display()))?;
    let mut failures = Vec::new();
    if !text.starts_with("#EXTM3U") {
        failures.push("master.m3u8 does not start with #EXTM3U".to_owned());
    }
    let master = parse_master(&text);
    let mut uris: Vec<String> = master.variants.iter().map(|(_, u)| u.clone()).collect();
    uris.extend(
        master
            .iframe_variants
            .iter()
            .filter_map(|a| a.get("URI").cloned()),
    );
    uris.extend(master.media.iter().filter_map(|a| a.get("URI").cloned()));
    let mut media = Vec::new();
    let mut seen = BTreeSet::new();
    for uri in uris {
        if !seen.insert(uri.clone()) {
            continue;
        }
        let parsed = resolve(outdir, &uri).and_then(|path| {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let dir = path.parent().unwrap_or(outdir).to_path_buf();
            Ok((path, parse_media(&text, &dir)?))
        });
        match parsed {
            Ok(p) => media.push(p),
            Err(e) => failures.push(format!("playlist {uri}: {e}")),
        }
    }
    Ok((Package { master, media }, failures))
}

fn check_structure(src: &Probe, pkg: &Package) -> Vec<String> {
    let mut f = Vec::new();
    let m = &pkg.master;
    let has_video = !src.of_kind("video").is_empty();
    let audio = src.of_kind("audio");
    if m.variants.is_empty() {
        f.push("no EXT-X-STREAM-INF".to_owned());
    }
    let with_resolution = m
        .variants
        .iter()
        .filter(|(a, _)| a.contains_key("RESOLUTION"));
    if has_video {
        if m.iframe_variants.is_empty() {
            f.push("source has video but there is no EXT-X-I-FRAME-STREAM-INF".to_owned());
        }
        if with_resolution.count() == 0 {
            f.push("source has video but no EXT-X-STREAM-INF has RESOLUTION".to_owned());
        }
    } else {
        if !m.iframe_variants.is_empty() {
            f.push("audio-only source, yet an EXT-X-I-FRAME-STREAM-INF".to_owned());
        }
        if with_resolution.count() > 0 {
            f.push("audio-only source, yet a variant with RESOLUTION (a video variant)".to_owned());
        }
    }
    let renditions = m.audio_media();
    if audio.is_empty() && !renditions.is_empty() {
        f.push("source has no audio, yet there is an EXT-X-MEDIA TYPE=AUDIO".to_owned());
    }
    if has_video && renditions.len() < audio.len() {
        f.push(format!(
            "source has {} audio track(s) but there are {} EXT-X-MEDIA TYPE=AUDIO",
            audio.len(),
            renditions.len()
        ));
    }
    for lang in audio.iter().filter_map(|s| s.language.as_deref()) {
        if !renditions
            .iter()
            .any(|r| r.get("LANGUAGE").is_some_and(|l| same_language(lang, l)))
        {
            f.push(format!(
                "no EXT-X-MEDIA TYPE=AUDIO with the source's LANGUAGE {lang}"
            ));
        }
    }
    for (path, media) in &pkg.media {
        let name = path.display();
        if media.inits.is_empty() {
            f.push(format!("{name}: no EXT-X-MAP (fMP4 needs an init segment)"));
        }
        if media.segments.is_empty() {
            f.push(format!("{name}: no segments"));
        }
        if !media.ends {
            f.push(format!("{name}: no EXT-X-ENDLIST"));
        }
    }
    for a in &m.iframe_variants {
        let listed = a
            .get("URI")
            .and_then(|u| pkg.media.iter().find(|(p, _)| p.ends_with(u)));
        if listed.is_some_and(|(_, media)| !media.iframes_only) {
            f.push(format!(
                "{}: I-frame playlist without EXT-X-I-FRAMES-ONLY",
                a["URI"]
            ));
        }
    }
    f
}

/// ISO 639-2 (MP4 `mdhd`) against an RFC 5646 tag (HLS LANGUAGE), for the languages the fixtures use.
fn same_language(iso639_2: &str, tag: &str) -> bool {
    let primary = tag
        .split('-')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let two = match iso639_2 {
        "eng" => "en",
        "fra" | "fre" => "fr",
        "deu" | "ger" => "de",
        "spa" => "es",
        other => other,
    };
    primary == iso639_2 || primary == two
}

/// `ffprobe -v error` on `path` prints nothing and exits 0; otherwise one failure line.
/// With `read_packets`, ffprobe also reads every packet (`-show_packets`, output ignored): by itself it
/// stops after the headers and does not notice a truncated mdat.
fn probe_clean(path: &Path, read_packets: bool) -> Option<String> {
    let mut cmd = ffprobe();
    if path.extension().is_some_and(|e| e == "m3u8") {
        cmd.args(["-allowed_extensions", "ALL"]);
    }
    if read_packets {
        cmd.args(["-show_packets", "-of", "compact"]);
    }
    let r = run(cmd.arg(path));
    (!r.clean()).then(|| format!("{} ({}): {}", path.display(), r.status, r.stderr.trim()))
}

fn probe_playlists(outdir: &Path, pkg: &Package) -> Vec<String> {
    let mut paths: BTreeSet<PathBuf> = files_with_suffix(outdir, ".m3u8").into_iter().collect();
    paths.extend(pkg.media.iter().map(|(p, _)| p.clone()));
    paths.iter().filter_map(|p| probe_clean(p, false)).collect()
}

fn probe_inits(outdir: &Path, pkg: &Package) -> Vec<String> {
    let mut paths: BTreeSet<PathBuf> = files_with_suffix(outdir, ".mp4").into_iter().collect();
    paths.extend(pkg.media.iter().flat_map(|(_, m)| m.inits.iter().cloned()));
    paths.iter().filter_map(|p| probe_clean(p, true)).collect()
}

/// A bare .m4s has no moov, so each is probed as its init segment followed by the segment.
fn probe_segments(outdir: &Path, pkg: &Package) -> Vec<String> {
    let mut f = Vec::new();
    let scratch = outdir.with_extension("probe");
    std::fs::create_dir_all(&scratch).expect("scratch directory for probing segments");
    let mut pairs = BTreeSet::new();
    for (_, media) in &pkg.media {
        for (seg, init) in &media.segments {
            pairs.insert((seg.clone(), init.and_then(|i| media.inits.get(i).cloned())));
        }
    }
    let listed: BTreeSet<&PathBuf> = pairs.iter().map(|(s, _)| s).collect();
    for orphan in files_with_suffix(outdir, ".m4s")
        .iter()
        .filter(|p| !listed.contains(p))
    {
        f.push(format!("{} is in no playlist", orphan.display()));
    }
    for (n, (seg, init)) in pairs.iter().enumerate() {
        let Some(init) = init else {
            f.push(format!("{}: no EXT-X-MAP in force", seg.display()));
            continue;
        };
        let joined = scratch.join(format!("{n}.mp4"));
        let bytes = std::fs::read(init).and_then(|mut b| {
            b.extend(std::fs::read(seg)?);
            std::fs::write(&joined, b)
        });
        match bytes {
            Err(e) => f.push(format!("{} + {}: {e}", init.display(), seg.display())),
            Ok(()) => {
                if let Some(msg) = probe_clean(&joined, true) {
                    f.push(format!(
                        "{} (as init + {}) {msg}",
                        seg.display(),
                        init.display()
                    ));
                }
            }
        }
    }
    f
}

fn decode_master(outdir: &Path) -> Vec<String> {
    let master = outdir.join("master.m3u8");
    let r = run(ffmpeg()
        .args(["-allowed_extensions", "ALL", "-i"])
        .arg(&master)
        .args(["-map", "0", "-f", "null", "-"]));
    if r.clean() {
        Vec::new()
    } else {
        vec![format!(
            "{} ({}): {}",
            master.display(),
            r.status,
            r.stderr.trim()
        )]
    }
}

/// The variant carrying the source's video: the one whose RESOLUTION is the source's, else the first.
fn video_variant(src: &Probe, outdir: &Path, pkg: &Package) -> Option<PathBuf> {
    let v = src.of_kind("video").first().copied()?;
    let res = format!("{}x{}", v.width.unwrap_or(0), v.height.unwrap_or(0));
    let vs = &pkg.master.variants;
    let pick = vs
        .iter()
        .find(|(a, _)| a.get("RESOLUTION") == Some(&res))
        .or(vs.first())?;
    resolve(outdir, &pick.1).ok()
}

fn frame_exact_video(source: &Path, src: &Probe, outdir: &Path, pkg: &Package) -> Vec<String> {
    if src.of_kind("video").is_empty() {
        return Vec::new();
    }
    let Some(variant) = video_variant(src, outdir, pkg) else {
        return vec!["no variant playlist to compare the video with".to_owned()];
    };
    compare(
        "video frames",
        framemd5(source, "0:v:0", Hash::DecodedFrames),
        framemd5(&variant, "0:v:0", Hash::DecodedFrames),
    )
}

fn packet_exact_audio(source: &Path, src: &Probe, outdir: &Path, pkg: &Package) -> Vec<String> {
    let mut f = Vec::new();
    let renditions = pkg.master.audio_media();
    for (k, track) in src.of_kind("audio").iter().enumerate() {
        // Match a rendition by language when the source names one, else by order. Without any
        // EXT-X-MEDIA the audio must be muxed into the (first) variant.
        let by_lang = track.language.as_deref().and_then(|lang| {
            renditions
                .iter()
                .find(|r| r.get("LANGUAGE").is_some_and(|l| same_language(lang, l)))
        });
        let target = match by_lang.or(renditions.get(k)) {
            Some(r) => r.get("URI").map(|u| (u.clone(), "0:a:0".to_owned())),
            None => pkg
                .master
                .variants
                .first()
                .map(|(_, u)| (u.clone(), format!("0:a:{k}"))),
        };
        let Some((uri, map)) = target else {
            f.push(format!("no playlist carries source audio track {k}"));
            continue;
        };
        let Ok(playlist) = resolve(outdir, &uri) else {
            f.push(format!("audio track {k}: bad URI {uri}"));
            continue;
        };
        // The priming (packets that end before the source's start) is dropped by design.
        let skip = audio_packets_before_start(source, k);
        f.extend(compare(
            &format!("audio track {k} packets"),
            framemd5(source, &format!("0:a:{k}"), Hash::Packets)
                .map(|h| h.get(skip..).unwrap_or_default().to_vec()),
            framemd5(&playlist, &map, Hash::Packets),
        ));
    }
    f
}

fn compare(
    what: &str,
    source: Result<Vec<String>, String>,
    package: Result<Vec<String>, String>,
) -> Vec<String> {
    let (s, p) = match (source, package) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) => return vec![format!("{what}: source: {e}")],
        (_, Err(e)) => return vec![format!("{what}: package: {e}")],
    };
    let mut f = Vec::new();
    if s.len() != p.len() {
        f.push(format!(
            "{what}: source has {}, package has {}",
            s.len(),
            p.len()
        ));
    }
    if let Some(i) = s.iter().zip(&p).position(|(a, b)| a != b) {
        let differing = s.iter().zip(&p).filter(|(a, b)| a != b).count();
        f.push(format!(
            "{what}: {differing} differ, the first at index {i}"
        ));
    }
    f
}

fn duration(source: &Path, src: &Probe, outdir: &Path) -> Vec<String> {
    let master = outdir.join("master.m3u8");
    let pkg_duration = match probe(&master) {
        Ok(p) => p.duration_s,
        Err(e) => return vec![e],
    };
    // A MediaRecorder WebM states no duration: take what its packets span.
    let source_duration = src.duration_s.or_else(|| packet_span_s(source));
    let (Some(a), Some(b)) = (source_duration, pkg_duration) else {
        return vec![format!(
            "no duration: source {source_duration:?}, package {pkg_duration:?}"
        )];
    };
    // One frame: a video frame, or an audio frame when that is longer (or there is no video).
    let video_frame = src
        .of_kind("video")
        .first()
        .and_then(|v| v.frame_duration_s);
    let audio_frame = first_packet_duration_s(source, "audio");
    let frame = video_frame
        .into_iter()
        .chain(audio_frame)
        .fold(0.0, f64::max);
    if (a - b).abs() > frame + 1e-6 {
        vec![format!(
            "source lasts {a:.6} s, package {b:.6} s; more than one frame ({frame:.6} s) apart"
        )]
    } else {
        Vec::new()
    }
}

/// The init segment of the video variant keeps the source's display matrix and pixel aspect ratio.
fn display_props(src: &Probe, outdir: &Path, pkg: &Package) -> Vec<String> {
    let Some(v) = src.of_kind("video").first().copied() else {
        return Vec::new();
    };
    let variant = video_variant(src, outdir, pkg);
    let init = pkg
        .media
        .iter()
        .find(|(p, _)| Some(p) == variant.as_ref())
        .and_then(|(_, m)| m.inits.first());
    let Some(init) = init else {
        return vec!["no init segment for the video variant".to_owned()];
    };
    let out = match probe(init) {
        Ok(p) => p,
        Err(e) => return vec![e],
    };
    let Some(w) = out.of_kind("video").first().copied() else {
        return vec![format!("{} has no video stream", init.display())];
    };
    let mut f = Vec::new();
    if v.rotation_deg.unwrap_or(0.0) != w.rotation_deg.unwrap_or(0.0) {
        f.push(format!(
            "rotation: source {:?}, package {:?}",
            v.rotation_deg, w.rotation_deg
        ));
    }
    let square = |s: &Option<String>| s.clone().unwrap_or_else(|| "1:1".to_owned());
    if square(&v.sar) != square(&w.sar) {
        f.push(format!(
            "pixel aspect: source {}, package {}",
            square(&v.sar),
            square(&w.sar)
        ));
    }
    if (v.width, v.height) != (w.width, w.height) {
        f.push(format!(
            "size: source {:?}, package {:?}",
            (v.width, v.height),
            (w.width, w.height)
        ));
    }
    f
}
