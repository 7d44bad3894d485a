//! What ffprobe says about a file: its streams and its duration, read from `-print_format json`.

use std::path::Path;

use serde_json::Value;

use super::{ffprobe, run};

/// The facts about one stream that the package checks compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// "video", "audio", ...
    pub kind: String,
    pub codec: String,
    pub width: Option<u64>,
    pub height: Option<u64>,
    /// Sample aspect ratio as ffprobe prints it ("4:3"); `None` when unset ("0:1" or "N/A").
    pub sar: Option<String>,
    /// Seconds per frame from `avg_frame_rate`, for video.
    pub frame_duration_s: Option<f64>,
    /// Rotation in degrees from a display matrix, if there is one.
    pub rotation_deg: Option<f64>,
    /// ISO 639-2 language from the `language` tag, unless "und".
    pub language: Option<String>,
}

/// The streams and format duration of a file (for a playlist: what ffmpeg's hls demuxer exposes).
pub struct Probe {
    pub streams: Vec<Stream>,
    pub duration_s: Option<f64>,
}

impl Probe {
    pub fn of_kind(&self, kind: &str) -> Vec<&Stream> {
        self.streams.iter().filter(|s| s.kind == kind).collect()
    }
}

pub fn probe(path: &Path) -> Result<Probe, String> {
    let mut cmd = ffprobe();
    if path.extension().is_some_and(|e| e == "m3u8") {
        cmd.args(["-allowed_extensions", "ALL"]);
    }
    cmd.args(["-print_format", "json", "-show_streams", "-show_format"])
        .arg(path);
    let r = run(&mut cmd);
    if !r.status.success() {
        return Err(format!(
            "ffprobe {} failed: {}",
            path.display(),
            r.stderr.trim()
        ));
    }
    let json: Value = serde_json::from_str(&r.stdout)
        .map_err(|e| format!("ffprobe {} printed bad JSON: {e}", path.display()))?;
    let streams = json["streams"]
        .as_array()
        .map(|a| a.iter().map(stream).collect())
        .unwrap_or_default();
    let duration_s = json["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok());
    Ok(Probe {
        streams,
        duration_s,
    })
}

/// Duration of the first packet of the first stream of `kind`, in seconds (an audio frame's length).
pub fn first_packet_duration_s(path: &Path, kind: &str) -> Option<f64> {
    let selector = match kind {
        "video" => "v:0",
        _ => "a:0",
    };
    let r = run(ffprobe()
        .args(["-select_streams", selector, "-read_intervals", "%+#1"])
        .args(["-show_entries", "packet=duration_time", "-of", "csv=p=0"])
        .arg(path));
    // csv lines may end in a comma (an empty side-data section), so take the first field.
    let line = r.stdout.lines().next()?;
    line.split(',').next()?.trim().parse().ok()
}

/// The time from the earliest packet's presentation to the latest packet's end, over every stream, in
/// seconds: what a file spans when its container states no duration (a MediaRecorder WebM).
pub fn packet_span_s(path: &Path) -> Option<f64> {
    let mut cmd = ffprobe();
    if path.extension().is_some_and(|e| e == "m3u8") {
        cmd.args(["-allowed_extensions", "ALL"]);
    }
    let r = run(cmd
        .args([
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
    for line in r.stdout.lines() {
        let mut f = line.split(',').map(|x| x.trim().parse::<f64>().ok());
        let (Some(Some(pts)), Some(dur)) = (f.next(), f.next()) else {
            continue;
        };
        first = first.min(pts);
        last = last.max(pts + dur.unwrap_or(0.0));
    }
    (last > first).then_some(last - first)
}

/// How many of the first packets of the `k`-th audio stream end at or before the source's presentation
/// starts (its time 0, after its edit list): the encoder priming, or the sound before a `-ss` cut. A
/// package drops them (the one straddling 0 stays), so its packets are the source's after these.
pub fn audio_packets_before_start(path: &Path, k: usize) -> usize {
    let r = run(ffprobe()
        .args(["-select_streams", &format!("a:{k}")])
        .args([
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    // One line a packet; csv also prints empty lines for empty side-data sections, which are skipped.
    r.stdout
        .lines()
        .filter_map(|line| {
            let mut f = line.split(',').map(|x| x.trim().parse::<f64>().ok());
            Some(f.next()?? + f.next()??)
        })
        .take_while(|&end| end <= 1e-6)
        .count()
}

fn stream(s: &Value) -> Stream {
    let text = |k: &str| s[k].as_str().map(str::to_owned);
    let sar = text("sample_aspect_ratio").filter(|r| r != "0:1" && r != "N/A");
    let frame_duration_s = text("avg_frame_rate").and_then(|r| {
        let (n, d) = r.split_once('/')?;
        let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
        (n > 0.0).then(|| d / n)
    });
    let rotation_deg = s["side_data_list"].as_array().and_then(|list| {
        list.iter()
            .find(|sd| sd["side_data_type"] == "Display Matrix")
            .and_then(|sd| sd["rotation"].as_f64())
    });
    let language = s["tags"]["language"]
        .as_str()
        .filter(|l| *l != "und")
        .map(str::to_owned);
    Stream {
        kind: text("codec_type").unwrap_or_default(),
        codec: text("codec_name").unwrap_or_default(),
        width: s["width"].as_u64(),
        height: s["height"].as_u64(),
        sar,
        frame_duration_s,
        rotation_deg,
        language,
    }
}
