//! `upcast segment INPUT OUTDIR`: MP4/MOV in, CMAF HLS package on disk.
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The MP4, MOV or M4A file to segment.
    pub input: PathBuf,
    /// Where to write master.m3u8 and the renditions (created if missing).
    pub outdir: PathBuf,
    /// Target segment duration in seconds.
    #[arg(long, default_value_t = 6.0)]
    pub target_duration: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "segmenting {} into {} is not wired up yet",
        args.input.display(),
        args.outdir.display()
    )
}
