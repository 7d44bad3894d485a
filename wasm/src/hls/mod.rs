//! HLS playlists (RFC 8216) written with `m3u8-rs`: media playlists, I-frame playlists and the multivariant
//! playlist, with every figure measured from the segments actually written ([`playlists`] adds the DASH MPD
//! of `crate::dash` beside them).

pub mod attr_list;
pub mod hlsjs_model;
pub mod language;
pub mod live;
pub mod master;
pub mod media;
pub mod resolve;
pub mod uris;

use crate::cmaf::Rendition;

/// EXT-X-VERSION 7: fMP4 segments with EXT-X-MAP in every playlist, I-frame playlists included (RFC 8216
/// § 7 lists version 6 for EXT-X-MAP in I-frame playlists; 7 adds nothing we write but is what Apple's
/// tools emit for fMP4).
pub const VERSION: usize = 7;

/// EXT-X-TARGETDURATION: each EXTINF rounded to the nearest integer must not exceed it (RFC 8216
/// § 4.3.3.1); never 0.
pub fn target_duration(durations_s: impl IntoIterator<Item = f64>) -> u64 {
    durations_s
        .into_iter()
        .map(|d| crate::num::f64_to_u64(d.round()))
        .max()
        .unwrap_or(1)
        .max(1)
}

/// Every manifest of a package, the multivariant playlist (`master.m3u8`) first: a media playlist per
/// rendition and an I-frame playlist per video rendition, all with one EXT-X-TARGETDURATION, which is
/// returned too; then the DASH MPD ([`crate::layout::MANIFEST`], [`crate::dash::mpd`]) over the same
/// renditions, so that every writer of a package (the copy package, the ladder, the origin's recordings)
/// writes both. Variants are listed in the order of `videos`.
pub fn playlists(videos: &[&Rendition], audios: &[&Rendition]) -> (u64, Vec<(String, String)>) {
    let target = target_duration(
        videos
            .iter()
            .chain(audios)
            .flat_map(|r| r.segments.iter().map(|s| s.duration_s(r.timescale))),
    );
    let mut out = vec![(
        crate::layout::MASTER.to_string(),
        master::master_playlist(videos, audios),
    )];
    for r in videos {
        out.push((
            master::playlist_uri(r),
            media::media_playlist(r, target, r.segments.len()),
        ));
        out.push((master::iframes_uri(r), media::iframe_playlist(r, target)));
    }
    for r in audios {
        out.push((
            master::playlist_uri(r),
            media::media_playlist(r, target, r.segments.len()),
        ));
    }
    out.push((
        crate::layout::MANIFEST.to_string(),
        crate::dash::mpd(videos, audios),
    ));
    (target, out)
}

pub(crate) fn to_string(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
