//! Helpers shared by the integration tests: find fixtures and scratch space, run outside tools (ffmpeg,
//! ffprobe) and read what they print, parse `framemd5`.
//!
//! Outside tools are required, not optional: a missing ffmpeg fails the test with a pointer to
//! `tests/setup.sh` instead of skipping it, so a green run always means the checks ran.

// Every test binary compiles this module and each uses a different part of it.
#![allow(dead_code)]

pub mod hls_package;
pub mod playlist;
pub mod probe;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// What a finished command printed.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit status 0 and nothing on stderr.
    pub fn clean(&self) -> bool {
        self.status.success() && self.stderr.trim().is_empty()
    }
}

/// Run a command to completion and capture its output. Panics if the program cannot be started at all.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {:?}: {e}. Outside tools are required; install them with tests/setup.sh",
            cmd.get_program()
        )
    });
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Panic loudly unless ffmpeg and ffprobe are installed and run.
pub fn require_ffmpeg() {
    for tool in ["ffmpeg", "ffprobe"] {
        let r = run(Command::new(tool).arg("-version"));
        assert!(
            r.status.success(),
            "`{tool} -version` failed ({}): {}; install with tests/setup.sh",
            r.status,
            r.stderr
        );
    }
}

/// `ffmpeg` with the flags every call wants: no stdin, no banner, errors only.
pub fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-v", "error"]);
    c
}

/// `ffprobe -v error`.
pub fn ffprobe() -> Command {
    let mut c = Command::new("ffprobe");
    c.args(["-hide_banner", "-v", "error"]);
    c
}

/// The repository root (the workspace holding origin/ and tests/), two levels above the crate that
/// includes this module (origin/server or origin/cli).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("origin/<crate> has a grandparent")
        .to_path_buf()
}

/// A committed fixture by file name, e.g. `fixture("co64.mp4")`.
pub fn fixture(name: &str) -> PathBuf {
    let p = repo_root().join("tests/fixtures").join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

/// An empty directory under `target/tmp/` for one test (wiped first, kept afterwards for inspection).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot clear {}: {e}", dir.display()));
    }
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The hash column of ffmpeg's `framemd5` output, one entry per frame or packet, in output order.
/// Lines are `stream_index, dts, pts, duration, size, hash`, then `S=n, size, hash` per side data (e.g.
/// AAC priming as skip-samples); `#` lines are headers. Only the payload hash is kept: timestamps, time
/// bases and side data may legitimately differ in a package (another timescale, priming in an edit list).
pub fn parse_framemd5(text: &str) -> Result<Vec<String>, String> {
    let mut hashes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let hash = fields.get(5).copied().unwrap_or_default();
        if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("framemd5 line {}: unexpected {line:?}", n + 1));
        }
        hashes.push(hash.to_owned());
    }
    Ok(hashes)
}

/// What to hash with framemd5.
#[derive(Clone, Copy)]
pub enum Hash {
    /// Decoded frames (raw pictures), without the display-matrix rotation applied.
    DecodedFrames,
    /// Compressed packets as stored (`-c copy`).
    Packets,
}

/// framemd5 hashes of one stream of `input` (`map` like `0:v:0`). Err carries ffmpeg's complaint.
pub fn framemd5(input: &Path, map: &str, what: Hash) -> Result<Vec<String>, String> {
    let mut cmd = ffmpeg();
    if input.extension().is_some_and(|e| e == "m3u8") {
        cmd.args(["-allowed_extensions", "ALL"]);
    }
    if matches!(what, Hash::DecodedFrames) {
        // Rotation is checked on its own; hash the pictures as coded.
        cmd.args(["-autorotate", "0"]);
    }
    cmd.arg("-i").arg(input).args(["-map", map]);
    match what {
        Hash::DecodedFrames => cmd.args(["-fps_mode", "passthrough"]),
        Hash::Packets => cmd.args(["-c", "copy"]),
    };
    cmd.args(["-f", "framemd5", "-"]);
    let r = run(&mut cmd);
    if !r.status.success() {
        return Err(format!(
            "ffmpeg framemd5 of {} ({map}) failed: {}",
            input.display(),
            r.stderr.trim()
        ));
    }
    parse_framemd5(&r.stdout)
}

/// Every file under `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::parse_framemd5;

    #[test]
    fn framemd5_keeps_only_hashes() {
        let text = "#format: frame checksums\n#tb 0: 1/25\n\
                    0,          0,          0,        1,    21600, 0123456789abcdef0123456789abcdef\n";
        assert_eq!(
            parse_framemd5(text).unwrap(),
            ["0123456789abcdef0123456789abcdef"]
        );
        let with_side_data =
            "0, -1024, -1024, 1024, 72, 04ae69ea4e148005e221374cf663f133, S=1, 10, \
                              f00904fd87b64e6bede38cfd77615dfc\n";
        assert_eq!(
            parse_framemd5(with_side_data).unwrap(),
            ["04ae69ea4e148005e221374cf663f133"]
        );
        assert!(parse_framemd5("0, 0, 0, 1, 5, nothex\n").is_err());
    }
}
