//! A package's text renditions: the files of one caption track (segments, media playlist, whole file)
//! and the announcements of all of them in `master.m3u8` (`EXT-X-MEDIA:TYPE=SUBTITLES`, `SUBTITLES=` on
//! every variant; RFC 8216 § 4.3.4.1–2) and `manifest.mpd` (a `text/vtt` AdaptationSet per language whose
//! Representation's BaseURL is the whole file: the form Shaka Player and dash.js both read). Works on the
//! manifests' text, so the copy package, the ladder and the origin (adding captions to a published video)
//! all use it.
//!
//! Files other than playlists are served immutable, so a track's directory carries a hash of its content
//! (`subs_en_<16 hex>`): replacing captions writes new paths and never changes a file a player may hold.

use super::cue::Track;
use super::segment::{media_playlist, segment_name, segment_track, Timeline};
use super::{GROUP, WHOLE_FILE};
use crate::dash::model::{AdaptationSet, Descriptor, Mpd, Representation};
use m3u8_rs::{AlternativeMedia, AlternativeMediaType, MasterPlaylist};

/// One subtitle rendition as announced: what the viewer and the API list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaptionInfo {
    /// BCP 47 tag in its conventional case (`en`, `pt-BR`; [`super::language_tag`]).
    pub lang: String,
    /// What a player's menu shows.
    pub name: String,
    pub default: bool,
    pub forced: bool,
    /// The rendition's directory (`subs_en_0123456789abcdef`).
    pub dir: String,
}

impl CaptionInfo {
    pub fn playlist(&self) -> String {
        crate::layout::in_dir(&self.dir, crate::layout::PLAYLIST)
    }
    /// The whole-file WebVTT (the MPD's BaseURL, and what a page can hand a `<track>`).
    pub fn whole_file(&self) -> String {
        crate::layout::in_dir(&self.dir, WHOLE_FILE)
    }
}

/// The files of one caption rendition and how it is announced.
#[derive(Debug, Clone)]
pub struct CaptionFiles {
    pub info: CaptionInfo,
    /// Path → text: the segments, the media playlist and the whole file.
    pub files: Vec<(String, String)>,
}

/// FNV-1a, 64 bits: a version tag for a directory name, not a digest anyone relies on for integrity (the
/// upload's SHA-256 does that).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The files of `track` as language `lang` (already a [`super::language_tag`]) on `timeline`.
pub fn caption_files(
    track: &Track,
    timeline: &Timeline,
    lang: &str,
    name: &str,
    default: bool,
    forced: bool,
) -> CaptionFiles {
    let segments = segment_track(track, timeline);
    let playlist = media_playlist(timeline);
    let whole = track.to_vtt();
    let mut parts: Vec<&str> = vec![lang, name, &playlist, &whole];
    parts.extend(segments.iter().map(String::as_str));
    let dir = format!("subs_{}_{:016x}", lang.to_ascii_lowercase(), fnv1a(&parts));
    let info = CaptionInfo {
        lang: lang.to_string(),
        name: name.to_string(),
        default,
        forced,
        dir,
    };
    let mut files: Vec<(String, String)> = segments
        .into_iter()
        .enumerate()
        .map(|(k, s)| (crate::layout::in_dir(&info.dir, &segment_name(k)), s))
        .collect();
    files.push((info.playlist(), playlist));
    files.push((info.whole_file(), whole));
    CaptionFiles { info, files }
}

/// The subtitle renditions `master` announces (its `EXT-X-MEDIA:TYPE=SUBTITLES` of group [`GROUP`]
/// whose URI is `<dir>/playlist.m3u8`).
pub fn captions_in_master(master: &str) -> Result<Vec<CaptionInfo>, String> {
    let m = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| format!("the multivariant playlist does not parse: {e}"))?;
    Ok(m.alternatives
        .iter()
        .filter(|a| a.media_type == AlternativeMediaType::Subtitles && a.group_id == GROUP)
        .filter_map(|a| {
            let dir = a.uri.as_deref()?.strip_suffix("/playlist.m3u8")?;
            Some(CaptionInfo {
                lang: a.language.clone().unwrap_or_default(),
                name: a.name.clone(),
                default: a.default,
                forced: a.forced,
                dir: dir.to_string(),
            })
        })
        .collect())
}

/// The URI of the first (non-I-frame) variant's media playlist: the video whose boundaries captions
/// follow.
pub fn first_variant(master: &str) -> Result<String, String> {
    let m = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| format!("the multivariant playlist does not parse: {e}"))?;
    m.variants
        .iter()
        .find(|v| !v.is_i_frame)
        .map(|v| v.uri.clone())
        .ok_or_else(|| "the multivariant playlist has no variant".to_string())
}

/// `master` and `mpd` announcing exactly `captions` (earlier subtitle announcements replaced). At most
/// one is DEFAULT (the first marked so); FORCED renditions are never AUTOSELECT'ed over the user's
/// choice except as forced narrative.
pub fn attach(
    master: &str,
    mpd: Option<&str>,
    captions: &[CaptionInfo],
) -> Result<(String, Option<String>), String> {
    let mut m: MasterPlaylist = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| format!("the multivariant playlist does not parse: {e}"))?;
    m.alternatives
        .retain(|a| a.media_type != AlternativeMediaType::Subtitles);
    let default_at = captions.iter().position(|c| c.default);
    for (i, c) in captions.iter().enumerate() {
        m.alternatives.push(AlternativeMedia {
            media_type: AlternativeMediaType::Subtitles,
            uri: Some(c.playlist()),
            group_id: GROUP.into(),
            language: Some(c.lang.clone()),
            name: c.name.clone(),
            default: default_at == Some(i),
            // RFC 8216 § 4.3.4.1: AUTOSELECT must be YES when DEFAULT is.
            autoselect: true,
            forced: c.forced,
            ..AlternativeMedia::default()
        });
    }
    let group = (!captions.is_empty()).then(|| GROUP.to_string());
    for v in m.variants.iter_mut().filter(|v| !v.is_i_frame) {
        v.subtitles.clone_from(&group);
    }
    let master = crate::hls::to_string(|w| m.write_to(w));
    let mpd = mpd.map(|text| attach_mpd(text, captions)).transpose()?;
    Ok((master, mpd))
}

/// The Role of a text AdaptationSet (ISO/IEC 23009-1 § 5.8.5.5): `forced-subtitle` for forced
/// narrative, `subtitle` otherwise.
fn role(c: &CaptionInfo) -> Descriptor {
    Descriptor {
        scheme_id_uri: "urn:mpeg:dash:role:2011".into(),
        value: if c.forced {
            "forced-subtitle"
        } else {
            "subtitle"
        }
        .into(),
    }
}

fn attach_mpd(text: &str, captions: &[CaptionInfo]) -> Result<String, String> {
    let mut mpd = Mpd::parse(text).map_err(|e| format!("the MPD does not parse: {e}"))?;
    let period = mpd
        .periods
        .first_mut()
        .ok_or("the MPD has no Period".to_string())?;
    period.adaptation_sets.retain(|a| a.content_type != "text");
    for c in captions {
        let id = period.next_set_id();
        period.adaptation_sets.push(AdaptationSet {
            id,
            content_type: "text".into(),
            mime_type: "text/vtt".into(),
            lang: Some(c.lang.clone()),
            label: Some(c.name.clone()),
            role: Some(role(c)),
            representations: vec![Representation {
                id: c.dir.clone(),
                // A text track's bit rate is negligible; DASH requires the attribute.
                bandwidth: 256,
                base_url: Some(c.whole_file()),
                ..Representation::default()
            }],
            ..AdaptationSet::default()
        });
    }
    Ok(mpd.to_xml())
}
