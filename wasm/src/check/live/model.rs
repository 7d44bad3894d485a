//! One LL-HLS media playlist as the live rules see it: m3u8-rs parses the playlist (header tags, segments,
//! EXTINF, discontinuities) and a line scan reads the LL-HLS tags with their line numbers. The scan is needed
//! because m3u8-rs 6 knows none of the LL-HLS tags: it hands them over as unknown tags attached to the next
//! segment, and it drops the tags after the last segment URI (the open segment's EXT-X-PART lines, the
//! preload hint and the rendition reports), which are exactly the ones a live check needs most.

use crate::hls::attr_list::{self, Attr};

/// An `EXT-X-PART` (RFC 8216bis § 4.4.4.9).
#[derive(Debug, Clone, PartialEq)]
pub struct LivePart {
    pub uri: String,
    pub duration: f64,
    pub independent: bool,
    pub gap: bool,
    /// `BYTERANGE="len[@offset]"`.
    pub byte_range: Option<(u64, Option<u64>)>,
    /// 1-based line of the tag.
    pub line: usize,
}

/// A complete segment (an EXTINF and its URI) with the parts listed before it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSegment {
    /// Media sequence number: EXT-X-MEDIA-SEQUENCE + skipped segments + position.
    pub msn: u64,
    pub uri: String,
    pub duration: f64,
    pub discontinuity: bool,
    /// 1-based line of the URI.
    pub line: usize,
    pub parts: Vec<LivePart>,
}

/// `EXT-X-SERVER-CONTROL` (§ 4.4.3.8).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerControl {
    pub can_block_reload: bool,
    pub can_skip_until: Option<f64>,
    pub hold_back: Option<f64>,
    pub part_hold_back: Option<f64>,
    pub line: usize,
}

/// `EXT-X-PRELOAD-HINT` (§ 4.4.5.3).
#[derive(Debug, Clone, PartialEq)]
pub struct PreloadHint {
    pub kind: String,
    pub uri: String,
    pub line: usize,
}

/// `EXT-X-RENDITION-REPORT` (§ 4.4.5.4).
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionReport {
    pub uri: Option<String>,
    pub last_msn: Option<u64>,
    pub last_part: Option<u64>,
    pub line: usize,
}

/// One snapshot of a live media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct LivePlaylist {
    /// The playlist's name in the report (its URL or package path).
    pub path: String,
    pub target_duration: u64,
    pub media_sequence: u64,
    pub discontinuity_sequence: u64,
    pub end_list: bool,
    /// `EXT-X-PART-INF:PART-TARGET` and its line.
    pub part_target: Option<(f64, usize)>,
    pub server_control: Option<ServerControl>,
    /// `EXT-X-SKIP:SKIPPED-SEGMENTS` and its line.
    pub skipped: Option<(u64, usize)>,
    /// The URI of the first EXT-X-MAP.
    pub map: Option<String>,
    pub segments: Vec<LiveSegment>,
    /// Parts after the last complete segment: the open segment, MSN [`LivePlaylist::open_msn`].
    pub open_parts: Vec<LivePart>,
    /// An EXT-X-DISCONTINUITY after the last complete segment: the open segment starts a new publish.
    pub open_discontinuity: bool,
    pub hints: Vec<PreloadHint>,
    pub reports: Vec<RenditionReport>,
}

impl LivePlaylist {
    /// The MSN of the segment after the last complete one (the open segment when `open_parts` is not empty).
    pub fn open_msn(&self) -> u64 {
        let skipped = self.skipped.map_or(0, |(n, _)| n);
        let listed = u64::try_from(self.segments.len()).unwrap_or(u64::MAX);
        self.media_sequence
            .saturating_add(skipped)
            .saturating_add(listed)
    }

    /// Every part listed, with the MSN of its segment and its index in it.
    pub fn all_parts(&self) -> impl Iterator<Item = (u64, usize, &LivePart)> + '_ {
        let open = self.open_msn();
        self.segments
            .iter()
            .flat_map(|s| s.parts.iter().enumerate().map(move |(i, p)| (s.msn, i, p)))
            .chain(
                self.open_parts
                    .iter()
                    .enumerate()
                    .map(move |(i, p)| (open, i, p)),
            )
    }

    /// True when the playlist lists parts (an LL-HLS playlist).
    pub fn has_parts(&self) -> bool {
        self.all_parts().next().is_some()
    }

    pub fn segment(&self, msn: u64) -> Option<&LiveSegment> {
        self.segments.iter().find(|s| s.msn == msn)
    }

    /// The parts of segment `msn`, the open one included; `None` when the playlist does not list it.
    pub fn parts_of(&self, msn: u64) -> Option<&[LivePart]> {
        if msn == self.open_msn() {
            return Some(&self.open_parts);
        }
        self.segment(msn).map(|s| s.parts.as_slice())
    }
}

/// Why a playlist could not be read: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line, 0 for the playlist as a whole.
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Parse one media playlist snapshot.
pub fn parse(path: &str, text: &str) -> Result<LivePlaylist, ParseError> {
    let pl = m3u8_rs::parse_media_playlist_res(text.as_bytes())
        .map_err(|_| err(0, "does not parse as an HLS media playlist"))?;
    let mut out = LivePlaylist {
        path: path.to_string(),
        target_duration: pl.target_duration,
        media_sequence: pl.media_sequence,
        discontinuity_sequence: pl.discontinuity_sequence,
        end_list: pl.end_list,
        part_target: None,
        server_control: None,
        skipped: None,
        map: pl
            .segments
            .iter()
            .find_map(|s| s.map.as_ref())
            .map(|m| m.uri.clone()),
        segments: Vec::new(),
        open_parts: Vec::new(),
        open_discontinuity: false,
        hints: Vec::new(),
        reports: Vec::new(),
    };
    let mut pending: Vec<LivePart> = Vec::new();
    let mut k = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || (l.starts_with('#') && !l.starts_with("#EXT-X-")) {
            continue;
        }
        if !l.starts_with('#') {
            let s = pl
                .segments
                .get(k)
                .ok_or_else(|| err(line, "a URI line m3u8-rs did not read as a segment"))?;
            let before = out.skipped.map_or(0, |(n, _)| n);
            let msn = pl
                .media_sequence
                .checked_add(before)
                .and_then(|m| m.checked_add(u64::try_from(k).ok()?))
                .ok_or_else(|| err(line, "media sequence number overflows"))?;
            out.segments.push(LiveSegment {
                msn,
                uri: s.uri.clone(),
                duration: f64::from(s.duration),
                discontinuity: s.discontinuity,
                line,
                parts: std::mem::take(&mut pending),
            });
            out.open_discontinuity = false;
            k += 1;
            continue;
        }
        if l == "#EXT-X-DISCONTINUITY" {
            out.open_discontinuity = true;
            continue;
        }
        let Some((tag, list)) = l.split_once(':') else {
            continue;
        };
        let attrs = || attr_list::parse(list).map_err(|e| err(line, format!("{tag}: {e}")));
        match tag {
            "#EXT-X-PART" => pending.push(part(&attrs()?, line)?),
            "#EXT-X-PART-INF" => {
                let a = attrs()?;
                out.part_target = Some((
                    decimal(&a, "PART-TARGET", line)?
                        .ok_or_else(|| err(line, "EXT-X-PART-INF has no PART-TARGET"))?,
                    line,
                ));
            }
            "#EXT-X-SERVER-CONTROL" => {
                let a = attrs()?;
                out.server_control = Some(ServerControl {
                    can_block_reload: value(&a, "CAN-BLOCK-RELOAD") == Some("YES"),
                    can_skip_until: decimal(&a, "CAN-SKIP-UNTIL", line)?,
                    hold_back: decimal(&a, "HOLD-BACK", line)?,
                    part_hold_back: decimal(&a, "PART-HOLD-BACK", line)?,
                    line,
                });
            }
            "#EXT-X-SKIP" => {
                let a = attrs()?;
                let n = integer(&a, "SKIPPED-SEGMENTS", line)?
                    .ok_or_else(|| err(line, "EXT-X-SKIP has no SKIPPED-SEGMENTS"))?;
                out.skipped = Some((n, line));
            }
            "#EXT-X-PRELOAD-HINT" => {
                let a = attrs()?;
                out.hints.push(PreloadHint {
                    kind: value(&a, "TYPE").unwrap_or_default().to_string(),
                    uri: value(&a, "URI").unwrap_or_default().to_string(),
                    line,
                });
            }
            "#EXT-X-RENDITION-REPORT" => {
                let a = attrs()?;
                out.reports.push(RenditionReport {
                    uri: value(&a, "URI").map(str::to_string),
                    last_msn: integer(&a, "LAST-MSN", line)?,
                    last_part: integer(&a, "LAST-PART", line)?,
                    line,
                });
            }
            "#EXT-X-MAP" if out.map.is_none() => {
                out.map = value(&attrs()?, "URI").map(str::to_string);
            }
            _ => {}
        }
    }
    if k != pl.segments.len() {
        return Err(err(
            0,
            format!(
                "{} segments in m3u8-rs but {k} URI lines",
                pl.segments.len()
            ),
        ));
    }
    out.open_discontinuity &= !pending.is_empty();
    out.open_parts = pending;
    Ok(out)
}

fn value<'a>(attrs: &[Attr<'a>], name: &str) -> Option<&'a str> {
    attrs.iter().find(|a| a.name == name).map(|a| a.value)
}

fn decimal(attrs: &[Attr<'_>], name: &str, line: usize) -> Result<Option<f64>, ParseError> {
    value(attrs, name)
        .map(|v| match v.parse::<f64>() {
            Ok(d) if d.is_finite() && d >= 0.0 => Ok(d),
            _ => Err(err(
                line,
                format!("{name}={v:?} is not a decimal-floating-point"),
            )),
        })
        .transpose()
}

fn integer(attrs: &[Attr<'_>], name: &str, line: usize) -> Result<Option<u64>, ParseError> {
    value(attrs, name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| err(line, format!("{name}={v:?} is not a decimal-integer")))
        })
        .transpose()
}

fn part(a: &[Attr<'_>], line: usize) -> Result<LivePart, ParseError> {
    let uri = value(a, "URI").ok_or_else(|| err(line, "EXT-X-PART has no URI"))?;
    let duration =
        decimal(a, "DURATION", line)?.ok_or_else(|| err(line, "EXT-X-PART has no DURATION"))?;
    let byte_range = value(a, "BYTERANGE")
        .map(|r| {
            let (len, off) = r.split_once('@').map_or((r, None), |(l, o)| (l, Some(o)));
            let bad = || err(line, format!("BYTERANGE={r:?} is not <n>[@<o>]"));
            let len = len.parse::<u64>().map_err(|_| bad())?;
            let off = off
                .map(|o| o.parse::<u64>().map_err(|_| bad()))
                .transpose()?;
            Ok((len, off))
        })
        .transpose()?;
    Ok(LivePart {
        uri: uri.to_string(),
        duration,
        independent: value(a, "INDEPENDENT") == Some("YES"),
        gap: value(a, "GAP") == Some("YES"),
        byte_range,
        line,
    })
}
