//! Just enough HLS playlist reading (RFC 8216) for the outside checks: which playlists, init segments and
//! media segments a package names. Deliberately independent of the product's own playlist code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Attributes of a tag such as `#EXT-X-MEDIA:TYPE=AUDIO,URI="a.m3u8"` (RFC 8216 section 4.2), quotes removed.
pub type Attrs = BTreeMap<String, String>;

/// A multivariant playlist.
#[derive(Debug, Default)]
pub struct Master {
    /// EXT-X-STREAM-INF attributes and the URI on the next line.
    pub variants: Vec<(Attrs, String)>,
    /// EXT-X-I-FRAME-STREAM-INF attributes (the URI is an attribute).
    pub iframe_variants: Vec<Attrs>,
    /// EXT-X-MEDIA attributes.
    pub media: Vec<Attrs>,
}

impl Master {
    pub fn audio_media(&self) -> Vec<&Attrs> {
        self.media
            .iter()
            .filter(|m| m.get("TYPE").map(String::as_str) == Some("AUDIO"))
            .collect()
    }
}

/// A media playlist: the init segment and media segments it names, resolved against its directory.
#[derive(Debug, Default)]
pub struct Media {
    /// EXT-X-MAP URIs in order (a playlist may switch init segment at a discontinuity).
    pub inits: Vec<PathBuf>,
    /// Each segment URI with the EXT-X-MAP in force for it (index into `inits`).
    pub segments: Vec<(PathBuf, Option<usize>)>,
    pub target_duration_s: Option<u64>,
    pub extinf_sum_s: f64,
    pub iframes_only: bool,
    pub ends: bool,
}

/// Split a tag's attribute list; commas inside quoted strings do not split.
pub fn parse_attrs(list: &str) -> Attrs {
    let mut attrs = Attrs::new();
    let mut rest = list;
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let (value, after) = match after.strip_prefix('"') {
            Some(q) => match q.split_once('"') {
                Some((v, a)) => (v, a.strip_prefix(',').unwrap_or(a)),
                None => (q, ""),
            },
            None => after.split_once(',').unwrap_or((after, "")),
        };
        attrs.insert(key.trim().to_owned(), value.to_owned());
        rest = after;
    }
    attrs
}

pub fn parse_master(text: &str) -> Master {
    let mut m = Master::default();
    let mut pending: Option<Attrs> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(a) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            pending = Some(parse_attrs(a));
        } else if let Some(a) = line.strip_prefix("#EXT-X-I-FRAME-STREAM-INF:") {
            m.iframe_variants.push(parse_attrs(a));
        } else if let Some(a) = line.strip_prefix("#EXT-X-MEDIA:") {
            m.media.push(parse_attrs(a));
        } else if !line.starts_with('#') {
            if let Some(attrs) = pending.take() {
                m.variants.push((attrs, line.to_owned()));
            }
        }
    }
    m
}

/// Parse a media playlist that lives in `dir`. Err names a URI that is not a local relative path.
pub fn parse_media(text: &str, dir: &Path) -> Result<Media, String> {
    let mut m = Media::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(a) = line.strip_prefix("#EXT-X-MAP:") {
            let uri = parse_attrs(a)
                .remove("URI")
                .ok_or("EXT-X-MAP without URI")?;
            m.inits.push(resolve(dir, &uri)?);
        } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            m.target_duration_s = v.parse().ok();
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            let secs = v.split(',').next().unwrap_or_default();
            m.extinf_sum_s += secs.parse::<f64>().map_err(|_| format!("bad {line}"))?;
        } else if line == "#EXT-X-I-FRAMES-ONLY" {
            m.iframes_only = true;
        } else if line == "#EXT-X-ENDLIST" {
            m.ends = true;
        } else if !line.starts_with('#') {
            let init = m.inits.len().checked_sub(1);
            m.segments.push((resolve(dir, line)?, init));
        }
    }
    Ok(m)
}

/// A playlist URI as a path under `dir`; absolute URLs and paths leaving the package are refused.
pub fn resolve(dir: &Path, uri: &str) -> Result<PathBuf, String> {
    let local = !uri.contains("://") && !uri.starts_with('/') && !uri.split('/').any(|p| p == "..");
    if !local {
        return Err(format!(
            "URI {uri:?} is not a relative path inside the package"
        ));
    }
    Ok(dir.join(uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_keep_quoted_commas() {
        let a = parse_attrs(r#"BANDWIDTH=1000,CODECS="avc1.64000d,mp4a.40.2",AUDIO="aud""#);
        assert_eq!(a["BANDWIDTH"], "1000");
        assert_eq!(a["CODECS"], "avc1.64000d,mp4a.40.2");
        assert_eq!(a["AUDIO"], "aud");
    }

    #[test]
    fn media_playlist_pairs_segments_with_their_map() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n\
                    #EXTINF:2.0,\ns1.m4s\n#EXTINF:1.5,\ns2.m4s\n#EXT-X-ENDLIST\n";
        let m = parse_media(text, Path::new("out")).unwrap();
        assert_eq!(m.inits, [Path::new("out/init.mp4")]);
        assert_eq!(m.segments.len(), 2);
        assert_eq!(m.segments[1], (PathBuf::from("out/s2.m4s"), Some(0)));
        assert!((m.extinf_sum_s - 3.5).abs() < 1e-9);
        assert!(m.ends);
        assert!(parse_media("http://x/a.m4s\n", Path::new(".")).is_err());
    }
}
