//! Every input in tests/fuzz_regressions/<target>/ runs through the same check as its fuzz target
//! (wasm/fuzz/fuzz_targets/<target>.rs): each crash the fuzzers found, minimized, plus a few seeds so no
//! folder is ever empty. Native only: the folders are read at test time.
#![cfg(not(target_arch = "wasm32"))]
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use upcast_core::cmaf::read::{read_init, InitInfo};
use upcast_core::invariants::{
    check_cmaf_bytes, check_file, check_fmp4_fragments, check_playlist_bytes, check_sample_entry,
    file_with_moov, movie_end, Violation,
};

fn dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Run `check` on every file of tests/fuzz_regressions/`target`, and fail naming each file that panics or
/// breaks an invariant.
fn run(target: &str, check: &dyn Fn(&[u8]) -> Result<(), Violation>) {
    let folder = dir("tests/fuzz_regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", folder.display());
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        match catch_unwind(AssertUnwindSafe(|| check(&bytes))) {
            Ok(Ok(())) => {}
            Ok(Err(v)) => failures.push(format!("{}: {v}", path.display())),
            Err(_) => failures.push(format!("{}: panicked", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The init segment the read_cmaf target reads media segments against: the video-only fixture's.
fn fixture_init() -> InitInfo {
    let src = std::fs::read(dir("../tests/fixtures/video_only.mp4")).unwrap();
    let pkg = upcast_core::segment(&src, &Default::default()).unwrap();
    read_init(&pkg.renditions[0].init).unwrap()
}

#[test]
fn segment_roundtrip() {
    run("segment_roundtrip", &check_file);
}

#[test]
fn moov_roundtrip() {
    run("moov_roundtrip", &|moov| check_file(&file_with_moov(moov)));
}

#[test]
fn read_fmp4() {
    let head = std::fs::read(dir("../tests/fixtures/h264_aac_fragmented.mp4")).unwrap();
    run("read_fmp4", &|b| check_fmp4_fragments(&head, b));
}

#[test]
fn read_webm() {
    run("read_webm", &check_file);
}

#[test]
fn read_cmaf() {
    let init = fixture_init();
    run("read_cmaf", &|b| check_cmaf_bytes(b, &init));
}

#[test]
fn flv_tag() {
    run("flv_tag", &upcast_core::live::fuzz_run::check_tag_run);
}

#[test]
fn sample_entry() {
    run("sample_entry", &check_sample_entry);
}

#[test]
fn check_playlist() {
    run("check_playlist", &check_playlist_bytes);
}

/// Every committed fixture holds the invariants the segment_roundtrip target checks.
#[test]
fn fixtures_hold_the_roundtrip_invariants() {
    for e in std::fs::read_dir(dir("../tests/fixtures")).unwrap() {
        let path = e.unwrap().path();
        if matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("mp4" | "mov" | "m4a" | "webm" | "mkv")
        ) {
            // VP8 + Vorbis has no CMAF packaging: the core refuses it (tests/outside_checks.rs).
            if path.file_name().is_some_and(|n| n == "vp8_vorbis.webm") {
                continue;
            }
            let src = std::fs::read(&path).unwrap();
            let opts = upcast_core::SegmentOptions {
                plan: upcast_core::plan::PlanOptions {
                    target_duration_s: upcast_core::invariants::FUZZ_TARGET_DURATION_S,
                },
                ..Default::default()
            };
            let pkg = upcast_core::segment(&src, &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            upcast_core::invariants::check_package(&src, &pkg)
                .unwrap_or_else(|v| panic!("{}: {v}", path.display()));
            // The moov_roundtrip target's seed: the moov alone after a zero mdat packages too (a fragmented
            // file's moov holds no samples).
            if top_level_box(&src, b"moof").is_some() || top_level_box(&src, b"moov").is_none() {
                continue;
            }
            let moved = file_with_moov(top_level_box(&src, b"moov").unwrap());
            let pkg = upcast_core::segment(&moved, &opts)
                .unwrap_or_else(|e| panic!("{} moov alone: {e}", path.display()));
            upcast_core::invariants::check_package(&moved, &pkg)
                .unwrap_or_else(|v| panic!("{} moov alone: {v}", path.display()));
        }
    }
}

/// Write the fuzzers' seed corpus: `UPCAST_FUZZ_CORPUS=fuzz/corpus cargo test --test fuzz_regressions --
/// --ignored write_seed_corpus` (from wasm/). segment_roundtrip starts from the fixtures, moov_roundtrip
/// from their moov boxes, read_cmaf from
/// their init and media segments and I-frame ranges, sample_entry from tests/fixtures/stsd, check_playlist
/// from the origin's fixture package playlists and tests/fuzz_regressions/check_playlist.
#[test]
#[ignore = "writes files; run by hand before fuzzing"]
fn write_seed_corpus() {
    let out = PathBuf::from(std::env::var("UPCAST_FUZZ_CORPUS").expect("set UPCAST_FUZZ_CORPUS"));
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let d = out.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), bytes).unwrap();
    };
    for e in std::fs::read_dir(dir("../tests/fixtures")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("mp4" | "mov" | "m4a" | "webm" | "mkv")
        ) {
            continue;
        }
        let src = std::fs::read(&path).unwrap();
        if src.starts_with(&upcast_core::webm::MAGIC) {
            write("read_webm", &name, &src);
        }
        write("segment_roundtrip", &name, &src);
        if let Some(moov) = top_level_box(&src, b"moov") {
            write("moov_roundtrip", &format!("{name}.moov"), moov);
        }
        if top_level_box(&src, b"moof").is_some() {
            write(
                "read_fmp4",
                &format!("{name}.fragments"),
                &src[movie_end(&src)..],
            );
        }
        let Ok(pkg) = upcast_core::segment(&src, &Default::default()) else {
            continue;
        };
        for r in &pkg.renditions {
            write("read_cmaf", &format!("{name}.{}.init", r.id), &r.init);
            for (k, s) in r.segments.iter().take(2).enumerate() {
                let bytes = r.data[k].assemble(&src).unwrap();
                write("read_cmaf", &format!("{name}.{}.{k}.m4s", r.id), &bytes);
                if let Some(f) = s.iframes.first() {
                    let range = &bytes[f.offset as usize..(f.offset + f.len) as usize];
                    write("read_cmaf", &format!("{name}.{}.{k}.iframe", r.id), range);
                }
            }
        }
    }
    // check_playlist starts from the origin's fixture package playlists and the committed inputs.
    for rel in [
        "master.m3u8",
        "video/playlist.m3u8",
        "video/iframes.m3u8",
        "audio/playlist.m3u8",
    ] {
        let bytes = std::fs::read(dir("../origin/testkit/fixtures/pkg").join(rel)).unwrap();
        write("check_playlist", &rel.replace('/', "-"), &bytes);
    }
    for e in std::fs::read_dir(dir("tests/fuzz_regressions/check_playlist")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        write("check_playlist", &name, &std::fs::read(&path).unwrap());
    }
    for e in std::fs::read_dir(dir("tests/fixtures/stsd")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("md") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            write("sample_entry", &name, &std::fs::read(&path).unwrap());
        }
    }
}

/// The first top-level box of type `kind`, header included (32-bit and 64-bit sizes).
fn top_level_box<'a>(file: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 0usize;
    while at + 8 <= file.len() {
        let size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let size = match size {
            1 => u64::from_be_bytes(file.get(at + 8..at + 16)?.try_into().unwrap()) as usize,
            0 => file.len() - at,
            n => n,
        };
        if size < 8 || at + size > file.len() {
            return None;
        }
        if &file[at + 4..at + 8] == kind {
            return Some(&file[at..at + size]);
        }
        at += size;
    }
    None
}

/// A moof with a 64-bit size once sent the `mp4` crate round one child box forever; it reads back, and a
/// 64-bit size inside a moof is refused, naming the box.
#[test]
fn moof_64_bit_sizes() {
    let init = fixture_init();
    let read = |name: &str| {
        let bytes = std::fs::read(dir("tests/fuzz_regressions/read_cmaf").join(name)).unwrap();
        upcast_core::cmaf::read::read_segment(&bytes, &init)
    };
    let frags = read("moof-64bit-size-hang.bin").unwrap();
    assert_eq!(frags.len(), 1);
    assert_eq!(frags[0].samples.len(), 1);
    assert!(frags[0].samples[0].is_sync());
    let e = read("trun-64bit-size.bin").unwrap_err().to_string();
    assert!(e.contains("segment/moof/traf/trun at byte 68"), "{e}");
}

/// Fragments whose truns take every field from the defaults cost 104 bytes each and declare a million
/// samples: the segment's samples are bounded as a whole, and the error names the fragment that went over.
#[test]
fn defaults_only_truns_are_bounded_per_segment() {
    let init = fixture_init();
    let bytes =
        std::fs::read(dir("tests/fuzz_regressions/read_cmaf").join("defaults-only-truns.bin"))
            .unwrap();
    let e = upcast_core::cmaf::read::read_segment(&bytes, &init)
        .unwrap_err()
        .to_string();
    assert!(e.contains("segment/moof/traf/trun at byte 104"), "{e}");
    assert!(e.contains("over 1048576 samples"), "{e}");
}
