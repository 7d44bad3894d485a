//! `upcast segment INPUT OUTDIR`: MP4/MOV in, CMAF HLS package on disk, and a one-screen summary.

use anyhow::Context;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use upcast_core::package::FileBody;
use upcast_core::source::FileSource;
use upcast_core::summary::Summary;
use upcast_core::{Package, SegmentOptions};

#[derive(clap::Args)]
pub struct Args {
    /// The MP4, MOV or M4A file to segment.
    pub input: PathBuf,
    /// Where to write master.m3u8 and the renditions (created if missing).
    pub outdir: PathBuf,
    /// Target segment duration in seconds.
    #[arg(long, default_value_t = 6.0)]
    pub target_duration: f64,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Leave out the chapters the source carries (a chapter track or a chpl box); without this, and
    /// without --chapters, they become the package's chapters track.
    #[arg(long)]
    pub no_source_chapters: bool,
    #[command(flatten)]
    pub text: crate::text_args::TextArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let src = FileSource::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let mut opts = SegmentOptions::default();
    opts.plan.target_duration_s = args.target_duration;
    let mut package = upcast_core::segment(&src, &opts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
    let limits = upcast_core::captions::TextLimits::default();
    let inputs = args.text.inputs(limits.max_bytes)?;
    // Typed chapters win over the source's.
    let chapters = upcast_core::captions::chapters::choose(
        args.text.chapters()?,
        package.source_chapters(),
        !args.no_source_chapters,
    );
    if !inputs.is_empty() || chapters.is_some() {
        package
            .add_text(&inputs, chapters.as_deref(), &limits)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    write_package(&package, &src, &args.outdir)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &package.summary)?;
        writeln!(out)?;
    } else {
        print_summary(&mut out, &package.summary, &args.outdir)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Write every file of the package under `outdir`; segments are streamed from the source.
pub fn write_package(package: &Package, src: &FileSource, outdir: &Path) -> anyhow::Result<()> {
    for (path, body) in package.files() {
        let dest = outdir.join(&path);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file =
            fs::File::create(&dest).with_context(|| format!("cannot write {}", dest.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        match body {
            FileBody::Bytes(b) => w.write_all(b)?,
            FileBody::Segment(s) => s.write_to(src, &mut w)?,
        }
        w.flush()
            .with_context(|| format!("cannot write {}", dest.display()))?;
    }
    Ok(())
}

fn mbps(bps: u64) -> String {
    format!("{:.2} Mb/s", bps as f64 / 1e6)
}

pub fn print_summary(out: &mut dyn Write, s: &Summary, outdir: &Path) -> std::io::Result<()> {
    writeln!(
        out,
        "{} · {:.3} s · {:.1} MB",
        s.container,
        s.duration_s,
        s.file_bytes as f64 / 1e6
    )?;
    writeln!(out, "tracks:")?;
    for t in &s.tracks {
        let mut line = format!(
            "  #{} {:?} {}",
            t.id,
            t.kind,
            t.codec.as_deref().unwrap_or(&t.handler)
        )
        .to_lowercase();
        if let (Some(w), Some(h)) = (t.width, t.height) {
            line += &format!(" {w}x{h}");
        }
        if let Some(f) = t.frame_rate {
            line += &format!(" {f:.3} fps");
        }
        if let Some(g) = t.max_gop_s {
            line += &format!(" GOP≤{g:.2}s");
        }
        if let Some(r) = t.rotation.filter(|&r| r != 0) {
            line += &format!(" rotated {r}°");
        }
        if let Some((h, v)) = t.pixel_aspect.filter(|(h, v)| h != v) {
            line += &format!(" PAR {h}:{v}");
        }
        if let (Some(c), Some(r)) = (t.channels, t.sample_rate) {
            line += &format!(" {c}ch {r} Hz");
        }
        line += &format!(
            " [{}] {} samples {}",
            t.language,
            t.samples,
            mbps(t.bitrate)
        );
        line += if t.packaged { "" } else { " (not packaged)" };
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "segments: {} (target {} s, EXT-X-TARGETDURATION {})",
        s.segments, s.target_duration_s, s.playlist_target_duration
    )?;
    for r in &s.renditions {
        writeln!(
            out,
            "  {:<8} {:<14} {:>4} segments {:>7.3}–{:.3} s  avg {}  peak {}",
            r.id,
            r.codec,
            r.segments,
            r.shortest_segment_s,
            r.longest_segment_s,
            mbps(r.average_bitrate),
            mbps(r.peak_bitrate)
        )?;
    }
    for c in &s.captions {
        let flags = [(c.default, " default"), (c.forced, " forced")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| *f)
            .collect::<String>();
        writeln!(
            out,
            "  captions [{}] {}{flags} in {}/",
            c.lang, c.name, c.dir
        )?;
    }
    if let Some(ch) = &s.chapters {
        writeln!(out, "  chapters in {ch}")?;
    }
    if !s.source_chapters.is_empty() {
        writeln!(
            out,
            "  the source has {} chapters ({})",
            s.source_chapters.len(),
            s.source_chapters
                .iter()
                .map(|c| c.title.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    for w in &s.warnings {
        writeln!(out, "warning: {w}")?;
    }
    writeln!(
        out,
        "wrote {}",
        outdir.join(upcast_core::package::MASTER).display()
    )
}
