//! Demux: from a [`Source`] to a [`Movie`], reading only box headers and the moov.

pub mod chapters;
pub mod fragmented;
pub mod guard;
pub mod movie;
pub mod samples;
pub mod toplevel;
pub mod tracks;

pub use movie::{Edit, Movie, Sample, Track, TrackHeader, TrackKind};

use crate::boxes::fourcc_str;
use crate::codec::{parse_sample_entry, SampleEntry};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::source::Source;

/// Read the file's structure and sample tables. Payload bytes are never read.
pub fn demux(src: &dyn Source, limits: &Limits) -> Result<Movie> {
    let mut magic = [0u8; 4];
    if src.len() >= 4 {
        src.read_exact_at(0, &mut magic)?;
    }
    if magic == crate::webm::MAGIC {
        return crate::webm::demux(src, limits);
    }
    let top = toplevel::scan(src, limits)?;
    let moov_h = top.moov;
    let moov = src.read_vec(moov_h.start, moov_h.size)?;
    let index = guard::index_moov(&moov, &moov_h, limits)?;
    let mvhd = index
        .mvhd
        .as_ref()
        .ok_or_else(|| Error::malformed("moov", moov_h.start, "has no mvhd box"))?;
    let movie_timescale = read_u32_at(&moov, mvhd, 12, 20)?;
    let (major_brand, compatible_brands) = top
        .ftyp
        .as_ref()
        .map(|(_, b)| brands(b))
        .unwrap_or_default();

    let mut movie = Movie {
        file_len: src.len(),
        major_brand,
        compatible_brands,
        movie_timescale,
        tracks: Vec::new(),
        video: None,
        audio: None,
        warnings: Vec::new(),
        chapters: Vec::new(),
        chapter_tracks: Vec::new(),
    };
    let mut fragments = if top.moofs.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        if index.trex.is_empty() {
            return Err(Error::malformed(
                "moov",
                moov_h.start,
                "the file has movie fragments (moof) but the moov has no mvex/trex to describe them",
            ));
        }
        let trex = fragmented::read_trex(&moov, &index.trex)?;
        fragmented::read_fragments(src, &top.moofs, &trex, limits)?
    };
    let moov_ctx = MoovContext {
        moov: &moov,
        moov_start: moov_h.start,
        mvhd,
        movie_timescale,
        file_len: src.len(),
    };
    for (i, t) in index.traks.iter().enumerate() {
        if let Some(track) = read_track(&moov_ctx, t, i, &mut fragments, &mut movie.warnings)? {
            movie.tracks.push(track);
        }
    }
    // Optional metadata: a chapter list that cannot be read leaves the video without the source's chapters.
    match chapters::read(src, &moov, &index, &movie.tracks) {
        Ok(found) => {
            movie.chapters = found.chapters;
            movie.chapter_tracks = found.track_ids;
            movie.warnings.extend(found.warnings);
        }
        Err(e) => movie
            .warnings
            .push(format!("the source's chapters are left out: {e}")),
    }
    finish_movie(&mut movie, moov_h.start)?;
    Ok(movie)
}

/// The major brand and the compatible brands of an ftyp box (its minor version skipped).
fn brands(ftyp: &[u8]) -> (String, Vec<String>) {
    let brands: Vec<String> = ftyp
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(4)
        .enumerate()
        .filter(|(i, _)| *i != 1) // minor_version
        .map(|(_, b)| fourcc_str([b[0], b[1], b[2], b[3]]))
        .collect();
    match brands.split_first() {
        Some((major, rest)) => (major.clone(), rest.to_vec()),
        None => (String::new(), Vec::new()),
    }
}

/// What every track read needs from the movie: the moov bytes and where they are.
struct MoovContext<'a> {
    moov: &'a [u8],
    moov_start: u64,
    mvhd: &'a guard::Span,
    movie_timescale: u32,
    file_len: u64,
}

/// Read one trak: `None` when a track that is neither video nor audio cannot be read (a warning says so).
fn read_track(
    ctx: &MoovContext<'_>,
    t: &guard::TrakIndex,
    i: usize,
    fragments: &mut Fragments,
    warnings: &mut Vec<String>,
) -> Result<Option<Track>> {
    let path = format!("moov/trak[{i}]");
    let at = t.trak.as_ref().map_or(ctx.moov_start, |s| s.header.start);
    let av = match &t.hdlr {
        Some(h) => matches!(&tracks::handler_type(ctx.moov, h)?, b"vide" | b"soun"),
        None => true,
    };
    let read = tracks::parse_trak(ctx.moov, ctx.mvhd, t, i).and_then(|p| {
        let mut samples = samples::expand(&p.moov, ctx.file_len, &path, at)?;
        let id = p.moov.traks[0].tkhd.track_id;
        if let Some(more) = fragments.remove(&id) {
            append_fragments(&mut samples, more, &path, at)?;
        }
        Ok((samples, p))
    });
    let (samples, parsed) = match read {
        Ok(r) => r,
        // A broken timecode, text or metadata track does not stop the video and audio.
        Err(e) if !av => {
            warnings.push(format!("track {} is left out: {e}", i + 1));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let trak = &parsed.moov.traks[0];
    let kind = match &parsed.handler {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        _ => TrackKind::Other,
    };
    let timescale = trak.mdia.mdhd.timescale;
    let edit = edit_of(&parsed.moov, ctx.movie_timescale, timescale, &path, at)?;
    check_delay_fits(&samples, &edit, &path, at)?;
    let (entry, mut unusable) = if kind == TrackKind::Other {
        let why = format!(
            "{} track (only video and audio are packaged)",
            fourcc_str(parsed.handler)
        );
        (None, Some(why))
    } else {
        read_sample_entry(ctx.moov, t, trak.tkhd.track_id, warnings)?
    };
    if let Some(why) = entry.as_ref().and_then(|e| e.codec.no_cmaf_packaging()) {
        unusable = Some(crate::codec::decoded_only_note(why));
    }
    if samples.is_empty() && unusable.is_none() {
        unusable = Some("the track has no samples".into());
    }
    Ok(Some(Track {
        index: i,
        id: trak.tkhd.track_id,
        kind,
        handler: fourcc_str(parsed.handler),
        timescale,
        language: normalize_language(&trak.mdia.mdhd.language),
        enabled: trak.tkhd.flags & 1 != 0,
        entry,
        unusable,
        samples,
        edit,
        header: TrackHeader::from_mp4(&parsed.moov),
    }))
}

/// Each track's samples read from the movie fragments, by track ID.
type Fragments = std::collections::BTreeMap<u32, Vec<Sample>>;

/// Add the samples of the movie fragments after those of the moov's own tables. Fragments without a tfdt
/// count from 0: they continue where the moov's samples end.
fn append_fragments(
    samples: &mut Vec<Sample>,
    mut more: Vec<Sample>,
    path: &str,
    at: u64,
) -> Result<()> {
    let end = samples.last().map_or(0, |s| s.dts + u64::from(s.duration));
    if more.first().is_some_and(|f| f.dts < end) {
        for s in &mut more {
            s.dts = s.dts.checked_add(end).ok_or_else(|| {
                Error::malformed(path, at, "fragment decode times overflow 64 bits")
            })?;
        }
    }
    samples.append(&mut more);
    Ok(())
}

/// Output decode times are the media's shifted by the empty edits' delay: they must fit 64 bits too.
fn check_delay_fits(samples: &[Sample], edit: &Edit, path: &str, at: u64) -> Result<()> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Ok(());
    };
    let media = last.dts + u64::from(last.duration) - first.dts;
    if edit.delay.checked_add(media).is_none() {
        return Err(Error::malformed(
            format!("{path}/edts/elst"),
            at,
            format!(
                "empty edits delay the track by {} ticks; with its {media} ticks of media \
                 that overflows 64 bits",
                edit.delay
            ),
        ));
    }
    Ok(())
}

/// The first sample description of a video or audio track, or why the track cannot be used. An unsupported
/// codec leaves the track out; encryption refuses the whole file.
fn read_sample_entry(
    moov: &[u8],
    t: &guard::TrakIndex,
    track_id: u32,
    warnings: &mut Vec<String>,
) -> Result<(Option<SampleEntry>, Option<String>)> {
    // The guard pass guarantees at least one entry.
    let span = &t.entries[0];
    if t.entries.len() > 1 {
        warnings.push(format!(
            "track {} has {} sample descriptions; only the first is used",
            track_id,
            t.entries.len()
        ));
    }
    match parse_sample_entry(&moov[span.range.clone()], span.header.start) {
        Ok(e) => Ok((Some(e), None)),
        Err(e) => match &e {
            Error::Unsupported { msg, .. } if msg != crate::error::ENCRYPTED => {
                Ok((None, Some(e.to_string())))
            }
            _ => Err(e),
        },
    }
}

/// Pick the primary tracks (refusing a movie without any), warn about the tracks left out, and place the
/// tracks on one output timeline with the source's A/V sync ([`crate::sync::align`]).
pub(crate) fn finish_movie(movie: &mut Movie, at: u64) -> Result<()> {
    pick_primary_tracks(movie, at)?;
    warn_left_out_tracks(movie);
    // A video that is only decoded (VP8) is the timeline's reference all the same: the ladder, which
    // adopts it ([`adopt_decoded_video`]), keeps the source's A/V sync, and the copy package's sound keeps
    // its place after the video's start. (Aligning again later would count edit delays twice.)
    let primary = movie.video;
    movie.video = decoded_video(movie);
    let aligned = crate::sync::align(movie);
    movie.video = primary;
    aligned
}

/// Choose the primary video and audio tracks; a movie with neither is refused, saying why for each track,
/// unless it has a video track the ladder can decode ([`decoded_video`]): the copy package refuses it then
/// ([`refuse_nothing_to_copy`]), the ladder encodes it.
fn pick_primary_tracks(movie: &mut Movie, moov_start: u64) -> Result<()> {
    movie.video = pick(&movie.tracks, TrackKind::Video);
    movie.audio = pick(&movie.tracks, TrackKind::Audio);
    if decoded_video(movie).is_some() {
        return Ok(());
    }
    refuse_nothing_to_copy(movie, "moov", moov_start)
}

/// Refuse a movie with neither a video nor an audio track to copy, saying why for each track (at `path`,
/// byte `at`).
pub(crate) fn refuse_nothing_to_copy(movie: &Movie, path: &str, at: u64) -> Result<()> {
    if movie.video.is_some() || movie.audio.is_some() {
        return Ok(());
    }
    let why: Vec<String> = movie
        .tracks
        .iter()
        .filter_map(|t| Some(format!("track {}: {}", t.id, t.unusable.as_ref()?)))
        .collect();
    Err(Error::unsupported(
        path,
        at,
        if why.is_empty() {
            "the file has no tracks".to_string()
        } else {
            format!("no video or audio track can be copied ({})", why.join("; "))
        },
    ))
}

/// The video track the ladder encodes from: the primary one, else a video track that is read but never
/// copied (VP8: [`crate::codec::CodecKind::no_cmaf_packaging`]) and has samples.
pub fn decoded_video(movie: &Movie) -> Option<usize> {
    let decoded = |t: &&Track| {
        t.kind == TrackKind::Video
            && !t.samples.is_empty()
            && t.entry
                .as_ref()
                .is_some_and(|e| e.codec.no_cmaf_packaging().is_some())
    };
    movie.video.or_else(|| {
        let mut tracks = movie.tracks.iter().filter(decoded);
        let first = tracks.clone().next();
        tracks.find(|t| t.enabled).or(first).map(|t| t.index)
    })
}

/// For the ladder: make the video track that is read but not copied ([`decoded_video`]) the movie's
/// video, so that it is planned on its own key frames. It is on the output timeline already: demuxing
/// aligned every track with it as the reference ([`finish_movie`]). The copy rung is left out of such a
/// ladder ([`crate::ladder`]'s copy decision). Returns whether a track was adopted.
pub fn adopt_decoded_video(movie: &mut Movie) -> bool {
    if movie.video.is_some() {
        return false;
    }
    let Some(i) = decoded_video(movie) else {
        return false;
    };
    let t = &mut movie.tracks[i];
    t.unusable = None;
    let left_out = format!("track {} ({}) is left out: ", t.id, t.handler);
    movie.warnings.retain(|w| !w.starts_with(&left_out));
    movie.video = Some(i);
    true
}

/// One warning for each track that is left out of the package.
fn warn_left_out_tracks(movie: &mut Movie) {
    // A chapter text track is read as the chapters, not left out.
    for t in movie
        .tracks
        .iter()
        .filter(|t| !movie.chapter_tracks.contains(&t.id))
    {
        if let Some(why) = &t.unusable {
            movie
                .warnings
                .push(format!("track {} ({}) is left out: {why}", t.id, t.handler));
        }
    }
}

/// The primary track of a kind: usable, enabled tracks first, then the first in file order.
fn pick(tracks: &[Track], kind: TrackKind) -> Option<usize> {
    let usable = |t: &&Track| t.kind == kind && t.unusable.is_none();
    tracks
        .iter()
        .filter(usable)
        .find(|t| t.enabled)
        .or_else(|| tracks.iter().find(usable))
        .map(|t| t.index)
}

fn normalize_language(code: &str) -> String {
    let c = code.trim_matches(char::from(0)).trim();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase()) {
        c.to_string()
    } else {
        "und".to_string()
    }
}

/// Read the u32 timescale of mvhd (version 0 at `v0`, version 1 at `v1` bytes into the payload).
fn read_u32_at(moov: &[u8], span: &guard::Span, v0: usize, v1: usize) -> Result<u32> {
    let body = &moov[span.range.clone()][span.header.header_bytes()..];
    let at = if body.first() == Some(&1) { v1 } else { v0 };
    body.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| Error::malformed("moov/mvhd", span.header.start, "too short"))
}

/// Interpret the edit list: leading empty edits delay presentation; the first media edit says where in the
/// media presentation starts. Times in the edit list are in the movie timescale; the result is in media ticks.
fn edit_of(moov: &mp4::MoovBox, movie_ts: u32, media_ts: u32, path: &str, at: u64) -> Result<Edit> {
    let mut edit = Edit::default();
    let trak = &moov.traks[0];
    let Some(elst) = trak.edts.as_ref().and_then(|e| e.elst.as_ref()) else {
        return Ok(edit);
    };
    let empty = if elst.version == 1 {
        u64::MAX
    } else {
        u64::from(u32::MAX)
    };
    let mut media_edits = 0;
    for e in &elst.entries {
        if e.media_time == empty {
            if media_edits == 0 {
                let ticks = u128::from(e.segment_duration) * u128::from(media_ts)
                    / u128::from(movie_ts.max(1));
                edit.delay = u64::try_from(ticks)
                    .ok()
                    .and_then(|t| edit.delay.checked_add(t))
                    .ok_or_else(|| {
                        Error::malformed(format!("{path}/edts/elst"), at, "empty edit is too long")
                    })?;
            }
            continue;
        }
        media_edits += 1;
        if media_edits == 1 {
            edit.media_start = e.media_time;
            if e.media_rate != 1 || e.media_rate_fraction != 0 {
                edit.complex = true;
            }
        } else {
            edit.complex = true;
        }
    }
    Ok(edit)
}
