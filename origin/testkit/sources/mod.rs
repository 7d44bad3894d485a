//! Source movies for the ingest tests, made by ffmpeg at test time (x264 + AAC, synthetic picture and
//! tone): any length and GOP without committing large fixtures.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::Path;
use std::process::Command;

/// What to make.
pub struct Movie {
    pub seconds: u32,
    pub size: &'static str,
    pub fps: u32,
    /// Frames between key frames (a huge value gives one key frame for the whole movie).
    pub gop: u32,
    pub video_bitrate: &'static str,
    pub audio: bool,
}

impl Movie {
    /// Write the movie to `out` and return its bytes. Panics with ffmpeg's complaint when it fails: ffmpeg is
    /// required (tests/setup.sh installs it), never skipped.
    pub fn make(&self, out: &Path) -> Vec<u8> {
        let mut cmd = Command::new("ffmpeg");
        cmd.args([
            "-nostdin",
            "-hide_banner",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!(
            "testsrc2=size={}:rate={}:duration={}",
            self.size, self.fps, self.seconds
        ));
        if self.audio {
            cmd.args(["-f", "lavfi", "-i"]).arg(format!(
                "sine=frequency=440:sample_rate=22050:duration={}",
                self.seconds
            ));
        }
        let gop = self.gop.to_string();
        cmd.args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-b:v", self.video_bitrate, "-g", &gop, "-keyint_min", &gop])
        .args(["-sc_threshold", "0"]);
        if self.audio {
            cmd.args(["-c:a", "aac", "-b:a", "16k"]);
        }
        cmd.args(["-movflags", "+faststart", "-y"]).arg(out);
        let o = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run ffmpeg ({e}); install it with tests/setup.sh"));
        assert!(
            o.status.success(),
            "ffmpeg: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read(out).unwrap()
    }
}

/// Ten minutes at 160x90, 10 fps, a key frame every second, with audio: ~14 MB, and with a 1 s target
/// about 1,200 package files (600 video and 600 audio segments).
pub fn ten_minutes_1s_gops(out: &Path) -> Vec<u8> {
    Movie {
        seconds: 600,
        size: "160x90",
        fps: 10,
        gop: 10,
        video_bitrate: "150k",
        audio: true,
    }
    .make(out)
}
