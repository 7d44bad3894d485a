//! The caption and chapter flags `upcast segment` and `upcast upload` share: `--captions LANG[:NAME]=FILE`
//! (repeatable), `--default-captions LANG`, `--forced-captions LANG`, `--chapters FILE`.

use anyhow::Context;
use std::path::PathBuf;
use upcast_core::captions::{parse_chapter_list, CaptionInput, Chapter};

#[derive(clap::Args, Debug, Default, Clone)]
pub struct TextArgs {
    /// A caption/subtitle file (WebVTT or SRT) for a language, e.g. `en:English=en.srt` or
    /// `pt-BR=pt.vtt`; repeat for more languages.
    #[arg(long = "captions", value_name = "LANG[:NAME]=FILE")]
    pub captions: Vec<String>,
    /// The language players show without being asked (DEFAULT=YES); none when not given.
    #[arg(long, value_name = "LANG")]
    pub default_captions: Option<String>,
    /// Languages whose captions are forced narrative (FORCED=YES: shown when nothing else is chosen).
    #[arg(long, value_name = "LANG")]
    pub forced_captions: Vec<String>,
    /// Chapters: lines of `time title` (`0:00 Intro`, `1:02:03 End`) or a WebVTT chapters file.
    #[arg(long, value_name = "FILE")]
    pub chapters: Option<PathBuf>,
}

impl TextArgs {
    pub fn is_empty(&self) -> bool {
        self.captions.is_empty() && self.chapters.is_none()
    }

    /// The caption inputs, files read (each at most `max_bytes`: the parser's limit refuses it anyway,
    /// this keeps a huge file from being read whole).
    pub fn inputs(&self, max_bytes: usize) -> anyhow::Result<Vec<CaptionInput>> {
        self.captions
            .iter()
            .map(|spec| {
                let (head, file) = spec.split_once('=').with_context(|| {
                    format!("--captions {spec:?}: expected LANG[:NAME]=FILE")
                })?;
                let (lang, name) = head.split_once(':').unwrap_or((head, ""));
                let len = std::fs::metadata(file)
                    .with_context(|| format!("--captions {spec:?}: cannot read {file}"))?
                    .len();
                if len > u64::try_from(max_bytes).unwrap_or(u64::MAX) {
                    anyhow::bail!("--captions {spec:?}: {file} is {len} bytes; at most {max_bytes} are accepted");
                }
                let bytes = std::fs::read(file)
                    .with_context(|| format!("--captions {spec:?}: cannot read {file}"))?;
                let is = |l: &Option<String>| l.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(lang));
                Ok(CaptionInput {
                    lang: lang.to_string(),
                    name: name.to_string(),
                    default: is(&self.default_captions),
                    forced: self.forced_captions.iter().any(|f| f.eq_ignore_ascii_case(lang)),
                    bytes,
                })
            })
            .collect()
    }

    /// The chapters of `--chapters`, when given.
    pub fn chapters(&self) -> anyhow::Result<Option<Vec<Chapter>>> {
        let Some(path) = &self.chapters else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--chapters: cannot read {}", path.display()))?;
        parse_chapter_list(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("--chapters {}: {e}", path.display()))
    }
}
