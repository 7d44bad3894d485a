//! The browser bindings in a real browser's dedicated Worker (`wasm-pack test --headless --chrome` and
//! `--firefox`, feature `browser-tests`): every file's recipe (what `segmentFile` returns) gathers to
//! exactly the bytes the core assembles from the same file and carries the package contract's MIME type,
//! the conformance checker finds nothing when it runs in the browser on the Blob-backed source, only
//! headers and the moov are read, a broken file throws an `UpcastError` with the core's code, box path
//! and byte offset as fields, and the summary (built as a JS value without serde_json) is what its JSON
//! parses to, with struct fields in camelCase; `class Ladder` and the Go live page's `class LiveRung` work
//! through their JS-facing methods.
#![cfg(all(target_arch = "wasm32", feature = "browser-tests"))]
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use js_sys::{Array, Uint8Array};
use upcast_core::package::segment;
use upcast_core::web::{segment_file, BlobSource};
use upcast_core::{SegmentOptions, Source};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::Blob;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const FIXTURES: &[(&str, &[u8])] = &[
    (
        "h264_aac_bframes.mp4",
        include_bytes!("../../tests/fixtures/h264_aac_bframes.mp4"),
    ),
    (
        "h264_aac_faststart.mp4",
        include_bytes!("../../tests/fixtures/h264_aac_faststart.mp4"),
    ),
    (
        "h264_aac.mov",
        include_bytes!("../../tests/fixtures/h264_aac.mov"),
    ),
    ("co64.mp4", include_bytes!("../../tests/fixtures/co64.mp4")),
    (
        "hevc_hvc1_aac.mp4",
        include_bytes!("../../tests/fixtures/hevc_hvc1_aac.mp4"),
    ),
    (
        "av1_opus.mp4",
        include_bytes!("../../tests/fixtures/av1_opus.mp4"),
    ),
    (
        "two_audio_langs.mp4",
        include_bytes!("../../tests/fixtures/two_audio_langs.mp4"),
    ),
    (
        "audio_only.m4a",
        include_bytes!("../../tests/fixtures/audio_only.m4a"),
    ),
];

fn blob_of(bytes: &[u8]) -> Blob {
    let parts = Array::new();
    parts.push(&Uint8Array::from(bytes));
    Blob::new_with_u8_array_sequence(&parts).unwrap()
}

/// `segmentFile` in the browser, with the conformance checker (the full build's `check: true`): it runs on
/// the Blob-backed source and finds nothing in what the core made.
#[wasm_bindgen_test]
fn checked_in_the_browser() {
    for (name, bytes) in FIXTURES {
        let out = segment_file(&blob_of(bytes), JsValue::UNDEFINED, true)
            .unwrap_or_else(|_| panic!("{name}"));
        let findings: Array = get(&get(&out, "report"), "findings").into();
        assert_eq!(findings.length(), 0, "{name}: {}", json(&findings));
        let read = get(&out, "bytesRead").as_f64().unwrap();
        assert!(read <= bytes.len() as f64, "{name}");
    }
}

fn get(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap()
}

/// Gather a recipe the way www/package-file.js does: head bytes and source ranges, in layout order.
fn gather(recipe: &JsValue, source: &[u8]) -> Vec<u8> {
    let head = Uint8Array::new(&get(recipe, "head")).to_vec();
    let layout = get(recipe, "layout");
    if layout.is_null() {
        return head;
    }
    let layout = js_sys::Float64Array::new(&layout).to_vec();
    let mut out = Vec::new();
    for t in layout.chunks(3) {
        let (at, len) = (t[1] as usize, t[2] as usize);
        match t[0] as u8 {
            0 => out.extend_from_slice(&head[at..at + len]),
            1 => out.extend_from_slice(&source[at..at + len]),
            other => panic!("unknown layout source {other}"),
        }
    }
    out
}

#[wasm_bindgen_test]
fn recipes_gather_to_the_cores_bytes() {
    for (name, bytes) in FIXTURES {
        let out = segment_file(&blob_of(bytes), JsValue::UNDEFINED, false)
            .unwrap_or_else(|_| panic!("{name}"));
        assert!(
            get(&out, "report").is_null(),
            "{name}: no check was asked for"
        );
        let files: Array = get(&out, "files").into();
        let core = segment(&bytes.to_vec(), &SegmentOptions::default()).unwrap();
        let expected = core.files();
        assert_eq!(files.length() as usize, expected.len(), "{name}");
        for (recipe, (path, body)) in files.iter().zip(&expected) {
            assert_eq!(get(&recipe, "path").as_string().unwrap(), *path, "{name}");
            let want = body.to_vec(&bytes.to_vec()).unwrap();
            assert_eq!(
                get(&recipe, "size").as_f64().unwrap() as usize,
                want.len(),
                "{name} {path}"
            );
            assert!(
                gather(&recipe, bytes) == want,
                "{name} {path}: bytes differ"
            );
            assert_eq!(
                get(&recipe, "type").as_string().unwrap(),
                upcast_core::layout::mime(path),
                "{name} {path}"
            );
        }
    }
}

/// `JSON.stringify` of a JS value, to compare values by content.
fn json(v: &JsValue) -> String {
    js_sys::JSON::stringify(v).unwrap().as_string().unwrap()
}

/// A JS value as serde_json reads its JSON, to compare values by content (object keys in any order).
fn value(v: &JsValue) -> serde_json::Value {
    serde_json::from_str(&json(v)).unwrap()
}

/// What serde_json writes, with object keys in camelCase: the value `to_js` must build (for values whose
/// map keys have no `_`: `to_js` keeps map keys as they are).
fn parsed<T: serde::Serialize>(v: &T) -> serde_json::Value {
    fn camel_keys(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (upcast_core::web::js::camel(&k), camel_keys(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(camel_keys).collect()),
            other => other,
        }
    }
    // Through the browser's JSON, as the page would read it (8.0 and 8 are the same number there).
    let text = camel_keys(serde_json::to_value(v).unwrap()).to_string();
    value(&js_sys::JSON::parse(&text).unwrap())
}

#[wasm_bindgen_test]
fn summaries_are_what_their_json_parses_to() {
    for (name, bytes) in FIXTURES {
        let out = segment_file(&blob_of(bytes), JsValue::UNDEFINED, false).unwrap();
        let core = segment(&bytes.to_vec(), &SegmentOptions::default()).unwrap();
        assert_eq!(
            value(&get(&out, "summary")),
            parsed(&core.summary),
            "{name}"
        );
    }
}

#[wasm_bindgen_test]
fn serde_values_become_what_their_json_parses_to() {
    use std::collections::BTreeMap;
    #[derive(serde::Serialize)]
    enum Kind {
        Unit,
        Newtype(u8),
        Tuple(i32, f32),
        Struct { a: Option<String> },
    }
    #[derive(serde::Serialize)]
    struct All {
        b: bool,
        i: i64,
        u: u64,
        f: f64,
        nan: f64,
        inf: f32,
        c: char,
        s: &'static str,
        none: Option<u8>,
        some: Option<u8>,
        unit: (),
        pair: (u32, u32),
        list: Vec<Kind>,
        by_name: BTreeMap<String, u16>,
        by_number: BTreeMap<u32, bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }
    let v = All {
        b: true,
        i: -3,
        u: 1 << 40,
        f: 0.1,
        nan: f64::NAN,
        inf: f32::INFINITY,
        c: 'é',
        s: "a \"quoted\" line\n",
        none: None,
        some: Some(7),
        unit: (),
        pair: (16, 9),
        list: vec![
            Kind::Unit,
            Kind::Newtype(1),
            Kind::Tuple(-1, 2.5),
            Kind::Struct { a: None },
        ],
        by_name: [("x".to_string(), 1)].into(),
        by_number: [(2, false)].into(),
        skipped: None,
    };
    assert_eq!(value(&upcast_core::web::js::to_js(&v).unwrap()), parsed(&v));
    // Struct fields are camelCase; map keys are data, kept as they are.
    #[derive(serde::Serialize)]
    struct Named {
        long_gop_s: u8,
        by_name: BTreeMap<String, u8>,
    }
    let named = Named {
        long_gop_s: 1,
        by_name: [("a_b".to_string(), 2)].into(),
    };
    assert_eq!(
        json(&upcast_core::web::js::to_js(&named).unwrap()),
        r#"{"longGopS":1,"byName":{"a_b":2}}"#
    );
}

#[wasm_bindgen_test]
fn options_are_read_from_the_page_object() {
    let (_, bytes) = FIXTURES[1];
    let files = |options: &str| -> Result<u32, String> {
        let options = js_sys::JSON::parse(options).unwrap();
        segment_file(&blob_of(bytes), options, false)
            .map(|out| Array::from(&get(&out, "files")).length())
            .map_err(|e| upcast_core::web::js_text(&JsValue::from(e)))
    };
    let six = files(r#"{"plan": {"targetDurationS": 6}}"#).unwrap();
    let one = files(r#"{"plan": {"targetDurationS": 1}}"#).unwrap();
    assert!(
        one > six,
        "1 s segments make more files than 6 s ones: {one} vs {six}"
    );
    let err = files(r#"{"plan": {"targetDurationS": "six"}}"#).unwrap_err();
    assert!(
        err.contains("plan.targetDurationS must be a number"),
        "{err}"
    );
    let err = files(r#"{"limits": {"maxTracks": 1.5}}"#).unwrap_err();
    assert!(
        err.contains("limits.maxTracks must be a whole number"),
        "{err}"
    );
    // A limit reaches the core: a 100-byte moov limit refuses the file.
    let err = files(r#"{"limits": {"maxMoovBytes": 100}}"#).unwrap_err();
    assert!(err.contains("moov"), "{err}");
}

#[wasm_bindgen_test]
fn only_headers_and_the_moov_are_read() {
    // A fixture followed by 8 MiB of a top-level 'free' box: the reads stay far below the file's size.
    let (_, bytes) = FIXTURES[1];
    let pad = 8 << 20;
    let mut file = bytes.to_vec();
    file.extend_from_slice(&((pad + 8) as u32).to_be_bytes());
    file.extend_from_slice(b"free");
    file.resize(file.len() + pad, 0);
    let out = segment_file(&blob_of(&file), JsValue::UNDEFINED, false).unwrap();
    let read = get(&out, "bytesRead").as_f64().unwrap();
    assert!(read < 512.0 * 1024.0, "read {read} of {} bytes", file.len());
}

#[wasm_bindgen_test]
fn blob_source_reads_ranges() {
    // Not a multiple of the 64 KiB cache block; reads across block edges, cached and direct.
    let n = 300_007;
    let bytes: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
    let src = BlobSource::new(blob_of(&bytes)).unwrap();
    assert_eq!(src.len(), n as u64);
    for (at, len) in [
        (0, 16),
        (65_530, 12),
        (n - 16, 16),
        (1000, 70_000),
        (3, 290_000),
    ] {
        let mut buf = vec![0u8; len];
        src.read_exact_at(at as u64, &mut buf).unwrap();
        assert!(buf == bytes[at..at + len], "{at}+{len}");
    }
    let mut buf = [0u8; 16];
    assert!(src.read_exact_at(n as u64 - 10, &mut buf).is_err());
    // Small reads in order (what the checker does): misses read ahead, and every byte is still right.
    let fresh = BlobSource::new(blob_of(&bytes)).unwrap();
    let mut at = 5;
    while at + 9_999 <= n {
        let mut buf = vec![0u8; 9_999];
        fresh.read_exact_at(at as u64, &mut buf).unwrap();
        assert!(buf == bytes[at..at + 9_999], "in order at {at}");
        at += 9_999 + 1_234;
    }
    assert!(
        fresh.bytes_read() <= n as u64 + 64 * 1024,
        "read ahead past the end"
    );
}

#[wasm_bindgen_test]
fn a_broken_file_fails_with_the_cores_message() {
    let (_, bytes) = FIXTURES[0];
    let mut broken = bytes.to_vec();
    // Cut the file inside its moov: the core names the box and the byte offset.
    let moov = broken.windows(4).position(|w| w == b"moov").unwrap();
    broken.truncate(moov + 200);
    let core = segment(&broken, &SegmentOptions::default()).err().unwrap();
    // Through `segmentFile`: its place and kind are fields, not text to parse.
    let thrown = match segment_file(&blob_of(&broken), JsValue::UNDEFINED, false) {
        Ok(_) => panic!("a truncated moov was accepted"),
        Err(e) => JsValue::from(e),
    };
    assert_eq!(get(&thrown, "name").as_string().unwrap(), "UpcastError");
    assert_eq!(get(&thrown, "code").as_string().unwrap(), core.code());
    assert_eq!(get(&thrown, "path").as_string().as_deref(), core.path());
    assert_eq!(
        get(&thrown, "offset").as_f64(),
        core.offset().map(|o| o as f64)
    );
    assert!(core.path().is_some(), "{core}");
    let (path, offset) = (core.path().unwrap(), core.offset().unwrap());
    assert_eq!(
        format!(
            "{path} at byte {offset}: {}",
            get(&thrown, "reason").as_string().unwrap()
        ),
        core.to_string()
    );
    assert_eq!(
        get(&thrown, "message").as_string().unwrap(),
        core.to_string()
    );
}

/// `class Ladder` through its JS-facing methods: the source's own H.264 samples pushed as one rung, the
/// copy rung as recipes, and `finish` writing a master with both.
#[wasm_bindgen_test]
fn ladder_binding_round_trip() {
    use js_sys::{Float64Array, Object, Reflect};
    use upcast_core::web::ladder::Ladder;
    use wasm_bindgen::JsCast;
    let (_, bytes) = FIXTURES[1];
    let mut job = Ladder::new(&blob_of(bytes), JsValue::UNDEFINED).unwrap();
    let source = job.source().unwrap();
    let video = get(&source, "video");
    let desc = get(&video, "description");
    assert!(desc.is_instance_of::<Uint8Array>());
    assert_eq!(get(&source, "copyable"), JsValue::TRUE);
    let rung = Object::new();
    for (k, v) in [
        ("id", JsValue::from_str("v90")),
        ("width", JsValue::from(160)),
        ("height", JsValue::from(90)),
        ("bitrate", JsValue::from(20_000)),
        ("framerate", JsValue::from(25)),
        ("codec", JsValue::from_str("avc1.64000c")),
    ] {
        Reflect::set(&rung, &JsValue::from_str(k), &v).unwrap();
    }
    let r = job.add_rung(rung.into()).unwrap();
    let samples = job.video_samples().unwrap();
    let col = |k: &str| Float64Array::new(&get(&samples, k)).to_vec();
    let (offset, ts) = (col("offset"), col("timestampUs"));
    let size = js_sys::Uint32Array::new(&get(&samples, "size")).to_vec();
    let key = Uint8Array::new(&get(&samples, "key")).to_vec();
    // The init the rung writes for this encoder output, asked before any chunk (the resume's check).
    let first = Uint8Array::from(&bytes[offset[0] as usize..][..size[0] as usize]);
    let checked = job.rung_init(r, desc.clone(), &first).unwrap().to_vec();
    assert!(job.rung_init(r, JsValue::NULL, &first).is_err(), "no avcC");
    let mut paths = Vec::new();
    let mut init = None;
    for i in 0..size.len() {
        let at = offset[i] as usize;
        let chunk = Uint8Array::from(&bytes[at..at + size[i] as usize]);
        let out = job
            .push_video(r, &chunk, ts[i].round(), key[i] == 1, desc.clone())
            .unwrap();
        for f in out.iter() {
            let path = get(&f, "path").as_string().unwrap();
            if path == "v90/init.mp4" {
                init = Some(Uint8Array::new(&get(&f, "bytes")).to_vec());
            }
            paths.push(path);
        }
    }
    assert_eq!(paths.first().map(String::as_str), Some("v90/init.mp4"));
    assert!(init == Some(checked), "rungInit is the init the rung wrote");
    assert!(job.boundaries_us().length() as usize >= 2);
    let copies = job.copy_files(true).unwrap();
    let core = segment(&bytes.to_vec(), &SegmentOptions::default()).unwrap();
    let expected: std::collections::HashMap<String, Vec<u8>> = core
        .files()
        .into_iter()
        .map(|(p, b)| (p, b.to_vec(&bytes.to_vec()).unwrap()))
        .collect();
    for f in copies.iter() {
        // The copy rung's recipes gather to the copy package's bytes.
        let path = get(&f, "path").as_string().unwrap();
        let got = gather(&f, bytes);
        assert_eq!(
            got.len() as f64,
            get(&f, "size").as_f64().unwrap(),
            "{path}"
        );
        assert!(Some(&got) == expected.get(&path), "{path}: bytes differ");
    }
    assert!(copies.length() > 2);
    let done = job.finish().unwrap();
    let master = done
        .iter()
        .find(|f| get(f, "path").as_string().as_deref() == Some("master.m3u8"))
        .unwrap();
    let text = String::from_utf8(Uint8Array::new(&get(&master, "bytes")).to_vec()).unwrap();
    assert_eq!(text.matches("#EXT-X-STREAM-INF").count(), 2, "{text}");
    let summary = job.summary().unwrap();
    assert_eq!(
        get(&get(&summary, "ladder"), "audio")
            .as_string()
            .as_deref(),
        Some("copy")
    );
    assert!(job.finish().is_err(), "a finished job is spent");
}

/// `class LiveRung` (the Go live page's muxer) through its JS-facing methods: a fixture's own H.264
/// samples as one live rung leading its cuts; the init is an ftyp + moov with the encoder's avcC, the first
/// part starts a segment with a key frame, parts are whole moof + mdat chunks with continuous times, and
/// bad input (a codec, a role, a time going back) throws an `UpcastError` rather than trapping.
#[wasm_bindgen_test]
fn live_rung_binding_round_trip() {
    use js_sys::Float64Array;
    use upcast_core::web::ladder::Ladder;
    use upcast_core::web::live::LiveRung;
    let (_, bytes) = FIXTURES[1];
    let job = Ladder::new(&blob_of(bytes), JsValue::UNDEFINED).unwrap();
    let desc = Uint8Array::new(&get(&get(&job.source().unwrap(), "video"), "description"));
    let samples = job.video_samples().unwrap();
    let col = |k: &str| Float64Array::new(&get(&samples, k)).to_vec();
    let offset = col("offset");
    let size = js_sys::Uint32Array::new(&get(&samples, "size")).to_vec();
    let key = Uint8Array::new(&get(&samples, "key")).to_vec();

    let mut rung = LiveRung::new(
        "video",
        "h264",
        Some(desc.clone()),
        "leader",
        500_000.0,
        1e6,
    )
    .unwrap();
    let init = rung.init().to_vec();
    assert_eq!(&init[4..8], b"ftyp");
    assert!(rung.codec().starts_with("avc1."), "{}", rung.codec());
    let mut parts = Vec::new();
    // Decode order at 25 fps (the fixture's timestamps are presentation times, B-frames reordered; a
    // WebCodecs realtime encoder's chunks have none, so decode and presentation times are one).
    for i in 0..size.len() {
        let at = offset[i] as usize;
        let chunk = Uint8Array::from(&bytes[at..at + size[i] as usize]);
        let out = rung
            .push(
                &chunk,
                f64::from(u32::try_from(i).unwrap()) * 40_000.0,
                key[i] == 1,
            )
            .unwrap();
        parts.extend(Array::from(&get(&out, "parts")).iter());
    }
    parts.extend(rung.finish().unwrap().iter());
    assert!(parts.len() > 2, "{} parts", parts.len());
    assert_eq!(get(&parts[0], "startsSegment"), JsValue::TRUE);
    assert_eq!(get(&parts[0], "independent"), JsValue::TRUE);
    let mut end = 0.0;
    for p in &parts {
        let b = Uint8Array::new(&get(p, "bytes")).to_vec();
        assert_eq!(&b[4..8], b"moof", "a part is whole chunks");
        let start = get(p, "startUs").as_f64().unwrap();
        assert!(
            (start - end).abs() < 1.0,
            "part at {start} µs after {end} µs"
        );
        end = start + get(p, "durationUs").as_f64().unwrap();
        assert!(get(p, "durationUs").as_f64().unwrap() <= 1_000_000.0);
    }

    let code = |e: JsValue| get(&e, "code").as_string().unwrap_or_default();
    let bad = LiveRung::new("video", "mpeg2", None, "leader", 5e5, 1e6)
        .err()
        .unwrap();
    assert!(!code(bad.into_js()).is_empty());
    let bad = LiveRung::new("video", "h264", Some(desc.clone()), "boss", 5e5, 1e6)
        .err()
        .unwrap();
    assert!(!code(bad.into_js()).is_empty());
    let mut r = LiveRung::new("video", "h264", Some(desc), "follower", 5e5, 0.0).unwrap();
    r.cut_at(0.0).unwrap();
    let k = Uint8Array::from(&bytes[offset[0] as usize..(offset[0] as usize + size[0] as usize)]);
    r.push(&k, 40_000.0, true).unwrap();
    let e = r.push(&k, 20_000.0, true).err().unwrap().into_js();
    assert!(
        get(&e, "message")
            .as_string()
            .unwrap()
            .contains("goes back"),
        "{e:?}"
    );
}
