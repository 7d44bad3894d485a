//! HLS playlists (RFC 8216) written with `m3u8-rs`: media playlists, I-frame playlists and the multivariant
//! playlist, with every figure measured from the segments actually written.

pub mod language;
pub mod master;
pub mod media;

/// EXT-X-VERSION 7: fMP4 segments with EXT-X-MAP in every playlist, I-frame playlists included (RFC 8216
/// § 7 lists version 6 for EXT-X-MAP in I-frame playlists; 7 adds nothing we write but is what Apple's
/// tools emit for fMP4).
pub const VERSION: usize = 7;

/// EXT-X-TARGETDURATION: each EXTINF rounded to the nearest integer must not exceed it (RFC 8216
/// § 4.3.3.1); never 0.
pub fn target_duration(durations_s: impl IntoIterator<Item = f64>) -> u64 {
    durations_s
        .into_iter()
        .map(|d| d.round() as u64)
        .max()
        .unwrap_or(1)
        .max(1)
}

pub(crate) fn to_string(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
