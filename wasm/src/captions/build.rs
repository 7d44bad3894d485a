//! Captions and chapters added to a package's manifests in one step: every input read and checked (a bad
//! one refuses the whole call, naming its language and line), trimmed to the video's end, segmented, and
//! announced together with the renditions kept from before. What the CLI, the browser and the origin call.

use super::attach::{attach, caption_files, CaptionInfo};
use super::chapters::{chapters_vtt, Chapter};
use super::segment::Timeline;
use super::{language_tag, parse, TextError, TextLimits, CHAPTERS};

/// One caption file to add, as a user gave it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CaptionInput {
    /// A language tag (`en`, `pt-BR`); put in BCP 47's conventional case.
    pub lang: String,
    /// The menu name; the language tag when empty.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub forced: bool,
    /// WebVTT or SRT bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// What a caller asks to add: caption files, typed chapters, and whether the source's own chapters are
/// the chapters track when none are typed (the default).
#[derive(Debug, Clone)]
pub struct TextRequest {
    pub inputs: Vec<CaptionInput>,
    pub chapters: Option<Vec<Chapter>>,
    pub use_source_chapters: bool,
}

impl Default for TextRequest {
    fn default() -> Self {
        TextRequest {
            inputs: Vec::new(),
            chapters: None,
            use_source_chapters: true,
        }
    }
}

impl TextRequest {
    /// Read every caption input now (language tag, WebVTT/SRT syntax, limits), so a bad file is refused
    /// before a long job rather than at its end.
    pub fn validate(&self, limits: &TextLimits) -> Result<(), InputError> {
        for input in &self.inputs {
            let lang = language_tag(&input.lang).map_err(InputError::Option)?;
            parse(&input.bytes, limits).map_err(|error| InputError::Captions { lang, error })?;
        }
        if let Some(list) = &self.chapters {
            if list.is_empty() || list.len() > super::chapters::MAX_CHAPTERS {
                return Err(InputError::Chapters(format!(
                    "{} chapters: 1 to {} expected",
                    list.len(),
                    super::chapters::MAX_CHAPTERS
                )));
            }
        }
        Ok(())
    }
}

/// Why an input was refused: which one, and the parser's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("captions {lang:?}: {error}")]
    Captions { lang: String, error: TextError },
    #[error("{0}")]
    Option(String),
    #[error("chapters: {0}")]
    Chapters(String),
}

impl InputError {
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Captions { error, .. } => error.code(),
            InputError::Option(_) => "bad-captions",
            InputError::Chapters(_) => "bad-chapters",
        }
    }
}

/// What [`add_text`] made.
#[derive(Debug, Clone, Default)]
pub struct TextOutcome {
    /// Path → text of every new file, the rewritten `master.m3u8` and `manifest.mpd` among them.
    pub files: Vec<(String, String)>,
    /// Every subtitle rendition now announced, the kept ones first.
    pub captions: Vec<CaptionInfo>,
    /// [`CHAPTERS`] when chapters were given.
    pub chapters: Option<String>,
    /// Out-of-order or overlapping cues, cues trimmed at the video's end, per language.
    pub warnings: Vec<String>,
}

/// The manifests of a package at `master_path`/`mpd_path`, their texts, and the video's timeline.
pub struct Manifests<'a> {
    pub master_path: &'a str,
    pub master: &'a str,
    pub mpd_path: &'a str,
    pub mpd: Option<&'a str>,
    pub timeline: &'a Timeline,
}

/// Add `inputs` (replacing kept renditions of the same language) and `chapters` to a package: `keep` are
/// the renditions announced before that stay (their files are not rewritten).
pub fn add_text(
    m: &Manifests<'_>,
    keep: &[CaptionInfo],
    inputs: &[CaptionInput],
    chapters: Option<&[Chapter]>,
    limits: &TextLimits,
) -> Result<TextOutcome, InputError> {
    let mut out = TextOutcome::default();
    let mut made = Vec::new();
    let end_ms = m.timeline.end_ms();
    for (i, input) in inputs.iter().enumerate() {
        let lang = language_tag(&input.lang).map_err(InputError::Option)?;
        if inputs[..i]
            .iter()
            .any(|o| o.lang.eq_ignore_ascii_case(&lang))
        {
            return Err(InputError::Option(format!(
                "two caption files for {lang:?}"
            )));
        }
        let fail = |error| InputError::Captions {
            lang: lang.clone(),
            error,
        };
        let mut track = parse(&input.bytes, limits).map_err(fail)?;
        out.warnings.extend(
            track
                .warnings
                .iter()
                .map(|w| format!("captions {lang:?}: {w}")),
        );
        if let Some(note) = track.trim_to(end_ms) {
            out.warnings.push(format!("captions {lang:?}: {note}"));
        }
        let name = match input.name.trim() {
            "" => lang.clone(),
            n if n.chars().count() > 100 || n.contains(['"', '\n', '\r']) => {
                return Err(InputError::Option(format!(
                    "captions {lang:?}: a name is up to 100 characters without quotes or line breaks"
                )))
            }
            n => n.to_string(),
        };
        let files = caption_files(
            &track,
            m.timeline,
            &lang,
            &name,
            input.default,
            input.forced,
        );
        out.files.extend(files.files);
        made.push(files.info);
    }
    out.captions = keep
        .iter()
        .filter(|k| !made.iter().any(|n| n.lang.eq_ignore_ascii_case(&k.lang)))
        .cloned()
        .collect();
    if made.iter().any(|c| c.default) {
        // One DEFAULT: a new default takes over.
        out.captions.iter_mut().for_each(|c| c.default = false);
    }
    out.captions.extend(made);
    let (master, mpd) = attach(m.master, m.mpd, &out.captions).map_err(InputError::Option)?;
    out.files.push((m.master_path.to_string(), master));
    if let Some(mpd) = mpd {
        out.files.push((m.mpd_path.to_string(), mpd));
    }
    if let Some(list) = chapters {
        let vtt = chapters_vtt(list, end_ms).map_err(InputError::Chapters)?;
        out.files.push((CHAPTERS.to_string(), vtt));
        out.chapters = Some(CHAPTERS.to_string());
    }
    Ok(out)
}
