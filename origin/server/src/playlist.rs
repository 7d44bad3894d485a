//! Playlist checks: UTF-8, parses with m3u8-rs, and every URI it holds is a relative path inside this video.
//! Also the growing EVENT view of a media playlist served while its package is still uploading.
use std::collections::HashSet;

use m3u8_rs::{MediaPlaylistType, Playlist, SessionDataField};

use super::error::ApiError;
use super::paths;

fn bad(msg: String) -> ApiError {
    ApiError::BadPlaylist(msg)
}

fn parse(path: &str, bytes: &[u8]) -> Result<Playlist, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("{path} is not UTF-8: {e}")))?;
    if !text.starts_with("#EXTM3U") {
        return Err(bad(format!("{path} does not start with #EXTM3U")));
    }
    if text.contains('\0') {
        return Err(bad(format!("{path} holds a NUL byte")));
    }
    m3u8_rs::parse_playlist_res(bytes).map_err(|_| bad(format!("{path} does not parse as HLS")))
}

/// The package paths that the playlist at `path` references, after checking each URI stays inside the
/// video. Scans raw `URI="..."` attributes too, so tags the parser does not model cannot smuggle an address.
pub fn references(path: &str, bytes: &[u8]) -> Result<Vec<String>, ApiError> {
    let pl = parse(path, bytes)?;
    let mut uris: Vec<String> = Vec::new();
    match &pl {
        Playlist::MasterPlaylist(m) => {
            uris.extend(m.variants.iter().map(|v| v.uri.clone()));
            uris.extend(m.alternatives.iter().filter_map(|a| a.uri.clone()));
            uris.extend(m.session_key.iter().filter_map(|k| k.0.uri.clone()));
            for d in &m.session_data {
                if let SessionDataField::Uri(u) = &d.field {
                    uris.push(u.clone());
                }
            }
        }
        Playlist::MediaPlaylist(m) => {
            for s in &m.segments {
                uris.push(s.uri.clone());
                if let Some(map) = &s.map {
                    uris.push(map.uri.clone());
                }
                if let Some(k) = &s.key {
                    uris.extend(k.uri.clone());
                }
            }
        }
    }
    let text = String::from_utf8_lossy(bytes);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            let mut rest = line;
            while let Some(i) = rest.find("URI=\"") {
                let after = &rest[i + 5..];
                let end = after.find('"').unwrap_or(after.len());
                uris.push(after[..end].to_string());
                rest = &after[end..];
            }
        } else if !line.is_empty() {
            uris.push(line.to_string());
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for u in uris {
        let p = paths::resolve(path, &u).map_err(|e| bad(format!("{path}: {e}")))?;
        if seen.insert(p.clone()) {
            out.push(p);
        }
    }
    Ok(out)
}

/// While a package uploads, serve each media playlist as a growing EVENT playlist: only the leading
/// segments whose files (and init segment) are already stored, no ENDLIST. Master playlists pass unchanged.
pub fn event_view(path: &str, bytes: &[u8], present: &dyn Fn(&str) -> bool) -> Option<Vec<u8>> {
    let Ok(Playlist::MediaPlaylist(mut m)) = parse(path, bytes) else {
        return None;
    };
    let mut keep = 0;
    for s in &m.segments {
        let ok_uri = paths::resolve(path, &s.uri).is_ok_and(|p| present(&p));
        let ok_map = s
            .map
            .as_ref()
            .is_none_or(|map| paths::resolve(path, &map.uri).is_ok_and(|p| present(&p)));
        if !(ok_uri && ok_map) {
            break;
        }
        keep += 1;
    }
    m.segments.truncate(keep);
    m.end_list = false;
    m.playlist_type = Some(MediaPlaylistType::Event);
    let mut out = Vec::new();
    m.write_to(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEDIA: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n\
        #EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:6.0,\nseg_00001.m4s\n#EXTINF:6.0,\nseg_00002.m4s\n#EXT-X-ENDLIST\n";

    #[test]
    fn media_playlist_references_resolve_under_its_directory() {
        let refs = references("video/playlist.m3u8", MEDIA.as_bytes()).unwrap();
        assert_eq!(
            refs,
            [
                "video/seg_00001.m4s",
                "video/init.mp4",
                "video/seg_00002.m4s"
            ]
        );
    }

    #[test]
    fn refuses_uris_leaving_the_video() {
        for bad in [
            MEDIA.replace("seg_00002.m4s", "https://evil.example/seg.m4s"),
            MEDIA.replace("seg_00002.m4s", "../../abcdefabcdefabcd/video/seg_00002.m4s"),
            MEDIA.replace("init.mp4", "/v/abcdefabcdefabcd/video/init.mp4"),
            MEDIA.replace("#EXTINF:6.0,\nseg_00001.m4s", "#EXT-X-KEY:METHOD=AES-128,URI=\"https://k.example/k\"\n#EXTINF:6.0,\nseg_00001.m4s"),
            MEDIA.replace("#EXT-X-ENDLIST", "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"http://x.example/p.m4s\""),
            "<html><body>hi</body></html>".to_string(),
            "#EXTM3U\n\u{0}".to_string(),
        ] {
            assert!(references("video/playlist.m3u8", bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(references("video/playlist.m3u8", b"#EXTM3U\n\xff\xfe").is_err());
    }

    #[test]
    fn event_view_keeps_the_stored_prefix() {
        let have = |p: &str| p == "video/init.mp4" || p == "video/seg_00001.m4s";
        let out = event_view("video/playlist.m3u8", MEDIA.as_bytes(), &have).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{s}");
        assert!(
            s.contains("seg_00001.m4s") && !s.contains("seg_00002.m4s"),
            "{s}"
        );
        assert!(!s.contains("ENDLIST"), "{s}");
    }
}
