//! `upcast`: one binary for the whole product. Each subcommand lives in its own module of the library.
#![forbid(unsafe_code)]
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "upcast",
    version,
    about = "Turn a video file into an adaptive HLS stream"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Segment an MP4/MOV into a CMAF HLS package (no re-encoding).
    Segment(upcast::segment::Args),
    /// Run the origin: upload API, playback, live ingest.
    // Boxed: the origin's flags make this variant several times the size of the others.
    Serve(Box<upcast::serve::Args>),
    /// Upload a package to an origin, resuming where a previous run stopped, then publish it.
    Upload(upcast::upload::Args),
    /// Check an HLS package (folder, playlist or loopback URL) against the HLS Authoring Spec.
    Validate(upcast::validate::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Segment(args) => upcast::segment::run(args),
        Command::Serve(args) => upcast::serve::run(*args),
        Command::Upload(args) => upcast::upload::run(args),
        Command::Validate(args) => upcast::validate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("upcast: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
