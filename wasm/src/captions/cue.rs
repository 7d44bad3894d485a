//! The model every caption file is read into, and its WebVTT form.

use super::timestamp::format;

/// One cue: its identifier (WebVTT's optional line before the timing), span, settings (`line:0
/// align:start`, ...) and payload text, all kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub id: Option<String>,
    pub start_ms: u64,
    pub end_ms: u64,
    pub settings: String,
    pub text: String,
    /// Where the cue's timing line is in the source file (1-based), for messages.
    pub line: usize,
}

impl Cue {
    /// The cue as a WebVTT block (no trailing blank line).
    pub fn to_vtt(&self) -> String {
        let mut out = String::new();
        if let Some(id) = &self.id {
            out.push_str(id);
            out.push('\n');
        }
        out.push_str(&format(self.start_ms));
        out.push_str(" --> ");
        out.push_str(&format(self.end_ms));
        if !self.settings.is_empty() {
            out.push(' ');
            out.push_str(&self.settings);
        }
        out.push('\n');
        out.push_str(&self.text);
        out
    }
}

/// A caption file read and checked: STYLE and REGION blocks as written, cues in start order, and what
/// was noticed but not refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Track {
    /// `STYLE` and `REGION` blocks, in file order, each as written (they precede every cue).
    pub blocks: Vec<String>,
    pub cues: Vec<Cue>,
    pub warnings: Vec<String>,
}

/// At most this many warnings of one kind are listed; the rest are counted.
const MAX_LISTED: usize = 10;

fn push_bounded(out: &mut Vec<String>, listed: &mut usize, msg: String) {
    *listed += 1;
    if *listed <= MAX_LISTED {
        out.push(msg);
    }
}

impl Track {
    /// Sort the cues by start (stable: equal starts keep file order), reporting cues that were out of order
    /// and cues that overlap the one before. Both are kept: overlapping cues are legal WebVTT (shown
    /// together), and an out-of-order cue is most likely a typo the author should see.
    pub(crate) fn sort_and_report(&mut self) {
        let (mut late, mut overlap) = (0usize, 0usize);
        let mut warnings = Vec::new();
        for w in self.cues.windows(2) {
            if w[1].start_ms < w[0].start_ms {
                push_bounded(
                    &mut warnings,
                    &mut late,
                    format!(
                        "line {}: the cue starts at {}, before the cue at line {} ({}): kept, sorted into place",
                        w[1].line,
                        format(w[1].start_ms),
                        w[0].line,
                        format(w[0].start_ms)
                    ),
                );
            }
        }
        self.cues.sort_by_key(|c| c.start_ms);
        for w in self.cues.windows(2) {
            if w[1].start_ms < w[0].end_ms {
                push_bounded(
                    &mut warnings,
                    &mut overlap,
                    format!(
                        "line {}: the cue ({} --> {}) overlaps the cue at line {} (until {}): both are shown",
                        w[1].line,
                        format(w[1].start_ms),
                        format(w[1].end_ms),
                        w[0].line,
                        format(w[0].end_ms)
                    ),
                );
            }
        }
        for (n, what) in [(late, "out-of-order"), (overlap, "overlapping")] {
            if n > MAX_LISTED {
                warnings.push(format!("{} more {what} cues", n - MAX_LISTED));
            }
        }
        self.warnings.extend(warnings);
    }

    /// The header and blocks every WebVTT file made from this track starts with (`extra_header` goes on
    /// the lines after `WEBVTT`, e.g. the X-TIMESTAMP-MAP).
    pub fn header(&self, extra_header: Option<&str>) -> String {
        let mut out = String::from("WEBVTT\n");
        if let Some(h) = extra_header {
            out.push_str(h);
            out.push('\n');
        }
        for b in &self.blocks {
            out.push('\n');
            out.push_str(b);
            out.push('\n');
        }
        out
    }

    /// The whole track as one normalised WebVTT file.
    pub fn to_vtt(&self) -> String {
        let mut out = self.header(None);
        for c in &self.cues {
            out.push('\n');
            out.push_str(&c.to_vtt());
            out.push('\n');
        }
        out
    }

    /// Drop the cues that start at or after `end_ms` and end the ones that run past it there; a note of
    /// what was cut, or None when nothing was.
    pub fn trim_to(&mut self, end_ms: u64) -> Option<String> {
        let before = self.cues.len();
        self.cues.retain(|c| c.start_ms < end_ms);
        let dropped = before - self.cues.len();
        let mut shortened = 0usize;
        for c in &mut self.cues {
            if c.end_ms > end_ms {
                c.end_ms = end_ms;
                shortened += 1;
            }
        }
        (dropped + shortened > 0).then(|| {
            format!(
                "the video ends at {}: {dropped} cue(s) after it dropped, {shortened} cut at the end",
                format(end_ms)
            )
        })
    }
}
