//! `upcast segment --captions … --chapters …` end to end: the package passes `upcast validate` (the
//! subtitle rules included), ffmpeg's WebVTT reader reads every caption file it wrote, and a bad caption
//! file is refused with its line before anything is written. `upcast upload --captions` adds captions to
//! the published video through a real `upcast serve`, and `upcast validate` passes on what it serves.

#[path = "../../testkit/common/mod.rs"]
mod common;
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use common::{ffmpeg, fixture, require_ffmpeg, run, scratch_dir};
use std::process::Command;

fn upcast() -> Command {
    Command::new(env!("CARGO_BIN_EXE_upcast"))
}

#[test]
fn segment_with_captions_and_chapters_validates() {
    let dir = scratch_dir("cli_captions");
    std::fs::write(dir.join("en.srt"), "1\n00:00:00,500 --> 00:00:02,500\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\n<b>Bold</b>\n").unwrap();
    std::fs::write(
        dir.join("pt.vtt"),
        "WEBVTT\n\n00:01.000 --> 00:03.000 line:0\nOlá\n",
    )
    .unwrap();
    std::fs::write(dir.join("chapters.txt"), "0:00 Opening\n0:02 The rest\n").unwrap();
    let out = dir.join("pkg");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("h264_aac_bframes.mp4"))
        .arg(&out)
        .args([
            "--target-duration",
            "2",
            "--json",
            "--default-captions",
            "en",
            "--forced-captions",
            "pt-BR",
        ])
        .arg("--captions")
        .arg(format!("en:English={}", dir.join("en.srt").display()))
        .arg("--captions")
        .arg(format!("pt-BR={}", dir.join("pt.vtt").display()))
        .arg("--chapters")
        .arg(dir.join("chapters.txt")));
    assert!(r.clean(), "{}", r.stderr);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let caps = summary["captions"].as_array().unwrap();
    assert_eq!(caps.len(), 2, "{summary}");
    assert_eq!(
        (caps[0]["lang"].as_str(), caps[0]["default"].as_bool()),
        (Some("en"), Some(true))
    );
    assert_eq!(
        (caps[1]["lang"].as_str(), caps[1]["forced"].as_bool()),
        (Some("pt-BR"), Some(true))
    );
    assert_eq!(summary["chapters"].as_str(), Some("chapters.vtt"));
    let chapters = std::fs::read_to_string(out.join("chapters.vtt")).unwrap();
    assert!(
        chapters.contains("00:00:02.000 --> ") && chapters.contains("The rest"),
        "{chapters}"
    );

    let r = run(upcast().arg("validate").arg(&out));
    assert!(r.clean(), "validate: {}\n{}", r.stdout, r.stderr);

    // ffmpeg's WebVTT demuxer reads every caption file (an outside reader of what we wrote).
    require_ffmpeg();
    let en_dir = out.join(caps[0]["dir"].as_str().unwrap());
    let mut vtts: Vec<_> = std::fs::read_dir(&en_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    vtts.retain(|p| p.extension().is_some_and(|e| e == "vtt"));
    vtts.push(out.join("chapters.vtt"));
    assert!(vtts.len() >= 3, "{vtts:?}");
    for v in &vtts {
        let r = run(ffmpeg()
            .arg("-v")
            .arg("error")
            .arg("-i")
            .arg(v)
            .args(["-f", "srt", "-"]));
        assert!(r.clean(), "{}: {}", v.display(), r.stderr);
    }
    let r = run(ffmpeg()
        .arg("-v")
        .arg("error")
        .arg("-i")
        .arg(en_dir.join("all.vtt"))
        .args(["-f", "srt", "-"]));
    assert!(
        r.stdout.contains("00:00:03,000 --> 00:00:04,000") && r.stdout.contains("Bold"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_captions_write_nothing() {
    let dir = scratch_dir("cli_captions_bad");
    std::fs::write(
        dir.join("bad.vtt"),
        "WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\nnot a cue\n",
    )
    .unwrap();
    let out = dir.join("pkg");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("h264_aac_bframes.mp4"))
        .arg(&out)
        .arg("--captions")
        .arg(format!("en={}", dir.join("bad.vtt").display())));
    assert!(!r.clean());
    assert!(r.stderr.contains("captions \"en\": line 6"), "{}", r.stderr);
    assert!(!out.exists(), "a refused run wrote files");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("h264_aac_bframes.mp4"))
        .arg(&out)
        .args(["--captions", "en"]));
    assert!(r.stderr.contains("LANG[:NAME]=FILE"), "{}", r.stderr);
}

#[test]
fn upload_adds_captions_through_the_api() {
    let dir = scratch_dir("cli_captions_upload");
    let out = dir.join("pkg");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("h264_aac_bframes.mp4"))
        .arg(&out)
        .args(["--target-duration", "2"]));
    assert!(r.clean(), "{}", r.stderr);
    std::fs::write(
        dir.join("fr.srt"),
        "1\n00:00:00,200 --> 00:00:01,800\nBonjour\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let s = harness::Server::start(data.path(), &[]);
    let r = run(upcast()
        .arg("upload")
        .arg(&out)
        .args(["--to", &s.url(""), "--token", harness::ADMIN])
        .arg("--captions")
        .arg(format!("fr:Français={}", dir.join("fr.srt").display())));
    assert!(r.status.success(), "{}", r.stderr);
    assert!(r.stderr.contains("captions fr added"), "{}", r.stderr);
    let master_url = r.stdout.trim().to_string();
    let master = harness::agent()
        .get(&master_url)
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        master.contains("LANGUAGE=\"fr\",NAME=\"Français\""),
        "{master}"
    );
    let r = run(upcast().arg("validate").arg(&master_url));
    assert!(r.clean(), "validate: {}\n{}", r.stdout, r.stderr);
}

#[test]
fn segment_takes_the_source_chapters_unless_told_not_to() {
    let dir = scratch_dir("cli_source_chapters");
    let out = dir.join("pkg");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("chapters.mp4"))
        .arg(&out)
        .args(["--target-duration", "2"]));
    assert!(r.clean(), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("the source has 3 chapters (Opening, Café tour, Q&A and credits)"),
        "{}",
        r.stdout
    );
    // The chapter text track is read as the chapters, not reported as a track left out.
    assert!(!r.stdout.contains("left out"), "{}", r.stdout);
    let chapters = std::fs::read_to_string(out.join("chapters.vtt")).unwrap();
    assert!(
        chapters.starts_with("WEBVTT\n\nchapter-1\n00:00:00.000 --> 00:00:03.000\nOpening\n"),
        "{chapters}"
    );
    assert!(
        chapters.contains("00:00:06.000 --> 00:00:08."),
        "{chapters}"
    );
    let v = run(upcast().arg("validate").arg(&out));
    assert_eq!(v.status.code(), Some(0), "{}", v.stdout);

    let none = dir.join("none");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("chapters.mp4"))
        .arg(&none)
        .arg("--no-source-chapters"));
    assert!(r.clean(), "{}", r.stderr);
    assert!(!none.join("chapters.vtt").exists());

    std::fs::write(dir.join("typed.txt"), "0:00 Typed\n").unwrap();
    let typed = dir.join("typed");
    let r = run(upcast()
        .arg("segment")
        .arg(fixture("chapters.mp4"))
        .arg(&typed)
        .arg("--chapters")
        .arg(dir.join("typed.txt")));
    assert!(r.clean(), "{}", r.stderr);
    let chapters = std::fs::read_to_string(typed.join("chapters.vtt")).unwrap();
    assert!(
        chapters.contains("\nTyped\n") && !chapters.contains("Opening"),
        "{chapters}"
    );
}
