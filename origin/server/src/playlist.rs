//! Playlist and MPD checks: UTF-8, parses (m3u8-rs, or the core's MPD model), and every URI it holds is a relative
//! path inside this video.
//! Also the growing EVENT view of a media playlist served while its package is still uploading.
use m3u8_rs::{MediaPlaylistType, Playlist};
use upcast_core::hls::uris::package_references;

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
/// video: the core's check ([`upcast_core::hls::uris::package_references`]) reads every URI line and every
/// URI attribute of every tag, quoted or not, and names the line, tag and attribute of a refused one.
pub fn references(path: &str, bytes: &[u8]) -> Result<Vec<String>, ApiError> {
    package_references(path, bytes).map_err(bad)
}

/// The package paths the DASH MPD at `path` references ([`upcast_core::dash::package_references`]): only
/// SegmentTemplate/SegmentTimeline addressing, no BaseURL, Location or xlink, every URL relative and inside
/// the video under the package path rules. A refusal is `422 bad-playlist` like a playlist's.
pub fn mpd_references(path: &str, bytes: &[u8]) -> Result<Vec<String>, ApiError> {
    upcast_core::dash::package_references(path, bytes).map_err(bad)
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
                "video/init.mp4",
                "video/seg_00001.m4s",
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
