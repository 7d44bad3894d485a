//! Corrupt, truncated, hostile and unsupported inputs: each gets a clear error naming the box and the byte
//! offset, and none panics or allocates from a declared count. Runs natively and on wasm32.
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
use common::*;
use upcast_core::Error;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const STBL_V: &str = "moov/trak[0]/mdia/minf/stbl";

fn stbl_box(name: &str) -> Found {
    find(FASTSTART, &format!("{STBL_V}/{name}"))
}

#[test]
fn the_fixture_itself_is_accepted() {
    let p = segment(FASTSTART).expect("fixture segments");
    assert_eq!(p.renditions.len(), 2);
}

#[test]
fn empty_file_is_not_mp4() {
    assert!(matches!(err(&[]), Error::NotMp4(m) if m.contains("empty")));
}

#[test]
fn html_is_not_mp4() {
    let e = err(b"<!DOCTYPE html><html><body>hello</body></html>");
    assert!(
        matches!(&e, Error::NotMp4(m) if m.contains("3c 21 44 4f")),
        "{e}"
    );
}

#[test]
fn size_zero_below_the_root_is_refused() {
    let mut f = FASTSTART.to_vec();
    let stts = stbl_box("stts");
    put_u32(&mut f, stts.start, 0);
    assert_at(&err(&f), stts.start as u64, "size 0");
}

#[test]
fn size_zero_at_top_level_is_only_for_mdat() {
    let mut f = FASTSTART.to_vec();
    let moov = find(FASTSTART, "moov");
    put_u32(&mut f, moov.start, 0);
    assert_at(
        &err(&f),
        moov.start as u64,
        "only accepted for a top-level mdat",
    );
}

#[test]
fn size_one_with_a_bogus_largesize_is_refused() {
    for large in [0u64, 7, 15, u64::MAX] {
        let stts = stbl_box("stts");
        let mut f = FASTSTART.to_vec();
        put_u32(&mut f, stts.start, 1);
        f[stts.start + 8..stts.start + 16].copy_from_slice(&large.to_be_bytes());
        let e = err(&f);
        assert_at(&e, stts.start as u64, "");
        let m = e.to_string();
        assert!(
            m.contains("largesize") || m.contains("larger than its parent"),
            "{m}"
        );
    }
}

#[test]
fn sizes_two_to_seven_are_refused() {
    for size in 2..8 {
        let mut f = FASTSTART.to_vec();
        let stts = stbl_box("stts");
        put_u32(&mut f, stts.start, size);
        assert_at(
            &err(&f),
            stts.start as u64,
            "smaller than the 8-byte box header",
        );
    }
}

#[test]
fn child_larger_than_parent_is_refused() {
    let mut f = FASTSTART.to_vec();
    let trak = find(FASTSTART, "moov/trak[0]");
    put_u32(&mut f, trak.start, 100_000);
    assert_at(&err(&f), trak.start as u64, "larger than its parent");
}

#[test]
fn box_past_the_end_of_the_file_is_a_truncation() {
    let mdat = find(FASTSTART, "mdat");
    let f = &FASTSTART[..mdat.start + 100];
    assert_at(&err(f), mdat.start as u64, "truncated");
}

fn count_of(name: &str, fixture: &[u8]) -> Vec<u8> {
    let b = find(fixture, &format!("{STBL_V}/{name}"));
    let mut f = fixture.to_vec();
    // stsz: version/flags, sample_size, sample_count; the others: version/flags, entry_count.
    let at = b.payload() + if name == "stsz" { 8 } else { 4 };
    put_u32(&mut f, at, 0xFFFF_FFFF);
    f
}

#[test]
fn table_counts_of_0xffffffff_are_refused() {
    for name in ["stts", "ctts", "stsc", "stco", "stss"] {
        let b = stbl_box(name);
        let e = err(&count_of(name, FASTSTART));
        assert_at(&e, (b.payload() + 4) as u64, "declares 4294967295 entries");
        assert!(e.to_string().contains(name), "{e}");
    }
    let co64 = find(CO64, &format!("{STBL_V}/co64"));
    assert_at(
        &err(&count_of("co64", CO64)),
        (co64.payload() + 4) as u64,
        "declares 4294967295",
    );
    let stsz = stbl_box("stsz");
    let e = err(&count_of("stsz", FASTSTART));
    assert!(matches!(e, Error::Limit { .. }), "{e}");
    assert_at(
        &e,
        (stsz.payload() + 8) as u64,
        "declares 4294967295 samples",
    );
    let elst = find(FASTSTART, "moov/trak[0]/edts/elst");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, elst.payload() + 4, 0xFFFF_FFFF);
    assert_at(
        &err(&f),
        (elst.payload() + 4) as u64,
        "declares 4294967295 entries",
    );
}

#[test]
fn stsc_first_chunk_zero_or_decreasing_is_refused() {
    let stsc = stbl_box("stsc");
    let entries = get_u32(FASTSTART, stsc.payload() + 4);
    let first = stsc.payload() + 8;
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, first, 0);
    assert_at(&err(&f), first as u64, "first_chunk 0");
    assert!(
        entries >= 2,
        "fixture's stsc has {entries} entries; the test needs two"
    );
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, first + 12, 1);
    assert_at(&err(&f), (first + 12) as u64, "must increase");
}

#[test]
fn stts_that_does_not_add_up_to_the_sample_count_is_refused() {
    let stts = stbl_box("stts");
    let mut f = FASTSTART.to_vec();
    let at = stts.payload() + 8;
    put_u32(&mut f, at, get_u32(FASTSTART, at) + 1);
    let e = err(&f);
    assert!(e.to_string().contains("stts covers"), "{e}");
}

#[test]
fn sync_sample_zero_is_refused() {
    let stss = stbl_box("stss");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, stss.payload() + 8, 0);
    assert_at(&err(&f), (stss.payload() + 8) as u64, "sync sample 0");
}

#[test]
fn timescale_zero_is_refused() {
    let mdhd = find(FASTSTART, "moov/trak[0]/mdia/mdhd");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, mdhd.payload() + 12, 0);
    assert_at(&err(&f), (mdhd.payload() + 12) as u64, "timescale is 0");
    let mvhd = find(FASTSTART, "moov/mvhd");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, mvhd.payload() + 12, 0);
    assert_at(&err(&f), (mvhd.payload() + 12) as u64, "timescale is 0");
}

#[test]
fn duplicate_stsd_is_refused() {
    let stsd = stbl_box("stsd");
    let stts = stbl_box("stts");
    let twice = [
        &FASTSTART[stsd.start..stsd.end()],
        &FASTSTART[stsd.start..stsd.end()],
    ]
    .concat();
    let f = replace_box(
        FASTSTART,
        stsd,
        &twice,
        &[
            "moov",
            "moov/trak[0]",
            "moov/trak[0]/mdia",
            "moov/trak[0]/mdia/minf",
            STBL_V,
        ],
    );
    // The copy sits where stts was; offsets after it moved by the stsd's size.
    let e = err(&f);
    assert_at(&e, stts.start as u64, "duplicate");
}

#[test]
fn duplicate_moov_is_refused() {
    let moov = find(FASTSTART, "moov");
    let mut f = FASTSTART.to_vec();
    f.extend_from_slice(&FASTSTART[moov.start..moov.end()]);
    assert_at(&err(&f), FASTSTART.len() as u64, "duplicate moov");
}

#[test]
fn avc1_without_avcc_is_refused() {
    let avc1 = find(FASTSTART, &format!("{STBL_V}/stsd/avc1"));
    let avcc = find(FASTSTART, &format!("{STBL_V}/stsd/avc1/avcC"));
    let mut f = FASTSTART.to_vec();
    f[avcc.start + 4..avcc.start + 8].copy_from_slice(b"xxxx");
    let e = err(&f);
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("avcC"), "{e}");
    let Error::Malformed { offset, .. } = e else {
        unreachable!()
    };
    assert!(
        (avc1.start as u64..avc1.end() as u64).contains(&offset),
        "offset {offset} not in avc1"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let mut inner = bx(b"free", &[]);
    for _ in 0..20 {
        inner = bx(b"udta", &inner);
    }
    let moov = find(FASTSTART, "moov");
    let mut new_moov = FASTSTART[moov.start..moov.end()].to_vec();
    new_moov.extend_from_slice(&inner);
    let f = replace_box(FASTSTART, moov, &bx(b"moov", &new_moov[8..]), &[]);
    assert!(matches!(err(&f), Error::Limit { msg, .. } if msg.contains("nested deeper than 16")));
}

#[test]
fn encrypted_sample_entries_are_refused() {
    for (entry, fourcc) in [
        ("moov/trak[0]/mdia/minf/stbl/stsd/avc1", b"encv"),
        ("moov/trak[1]/mdia/minf/stbl/stsd/mp4a", b"enca"),
    ] {
        let b = find(FASTSTART, entry);
        let mut f = FASTSTART.to_vec();
        f[b.start + 4..b.start + 8].copy_from_slice(fourcc);
        let e = err(&f);
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        assert_at(&e, b.start as u64, "encrypted");
    }
}

#[test]
fn protection_scheme_info_inside_a_sample_entry_is_refused() {
    let avc1 = find(FASTSTART, &format!("{STBL_V}/stsd/avc1"));
    let avcc = find(FASTSTART, &format!("{STBL_V}/stsd/avc1/avcC"));
    let mut f = FASTSTART.to_vec();
    // Turn the avcC into a sinf: a protected entry that forgot to say encv.
    f[avcc.start + 4..avcc.start + 8].copy_from_slice(b"sinf");
    let e = err(&f);
    assert!(
        matches!(e, Error::Unsupported { .. }) || matches!(e, Error::Malformed { .. }),
        "{e}"
    );
    let (Error::Unsupported { offset, .. } | Error::Malformed { offset, .. }) = e else {
        unreachable!()
    };
    assert!((avc1.start as u64..avc1.end() as u64).contains(&offset));
}

#[test]
fn external_data_references_are_refused() {
    let dref = find(FASTSTART, "moov/trak[0]/mdia/minf/dinf/dref");
    let mut f = FASTSTART.to_vec();
    // The url entry's flags: self-contained bit cleared.
    put_u32(&mut f, dref.payload() + 8 + 8, 0);
    let e = err(&f);
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert_at(&e, (dref.payload() + 8) as u64, "another file");
}

#[test]
fn compressed_moov_is_refused() {
    let udta = find(FASTSTART, "moov/udta");
    let mut f = FASTSTART.to_vec();
    f[udta.start + 4..udta.start + 8].copy_from_slice(b"cmov");
    let e = err(&f);
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert_at(&e, udta.start as u64, "compressed movie header");
}

#[test]
fn sample_past_the_end_of_the_file_is_refused() {
    let stco = stbl_box("stco");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, stco.payload() + 8, (FASTSTART.len() - 10) as u32);
    let e = err(&f);
    assert!(e.to_string().contains("past the end of the file"), "{e}");
}

#[test]
fn fragments_without_a_movie_extends_box_are_refused() {
    let mut f = FASTSTART.to_vec();
    f.extend_from_slice(&bx(b"moof", &[]));
    let e = err(&f);
    assert!(
        matches!(e, Error::Malformed { .. }) && e.to_string().contains("no mvex/trex"),
        "{e}"
    );
}

#[test]
fn truncation_at_every_box_boundary_fails_cleanly() {
    for fixture in [FASTSTART, MOOV_AT_END] {
        let mut cuts: Vec<usize> = all_boxes(fixture)
            .iter()
            .flat_map(|(_, b)| [b.start, b.start + 4, b.start + 8, b.end() - 1, b.end()])
            .filter(|&c| c < fixture.len())
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        assert!(cuts.len() > 40, "only {} cut points", cuts.len());
        for cut in cuts {
            match segment(&fixture[..cut]) {
                Err(_) => {}
                // A cut that only drops trailing boxes nothing depends on may still be a valid file.
                Ok(p) => assert!(
                    p.renditions.iter().all(|r| !r.segments.is_empty()),
                    "cut at {cut} accepted with an empty rendition"
                ),
            }
        }
    }
}

#[test]
fn a_broken_track_that_is_neither_video_nor_audio_is_left_out() {
    // Tables that fit their boxes but disagree (Σstts ≠ sample count): the guard passes them, the
    // expansion refuses them. Hostile counts are refused by the guard whatever the track.
    let hdlr = find(FASTSTART, "moov/trak[1]/mdia/hdlr");
    let stts = find(FASTSTART, "moov/trak[1]/mdia/minf/stbl/stts");
    let mut f = FASTSTART.to_vec();
    let at = stts.payload() + 8;
    put_u32(&mut f, at, get_u32(FASTSTART, at) + 1);
    assert!(
        segment(&f).is_err(),
        "in an audio track the damage refuses the file"
    );
    f[hdlr.payload() + 8..hdlr.payload() + 12].copy_from_slice(b"text");
    let p = segment(&f).expect("the video still packages");
    assert_eq!(p.renditions.len(), 1);
    let warnings = p.summary.warnings.join("\n");
    assert!(
        warnings.contains("track 2 is left out") && warnings.contains("stts covers"),
        "{warnings}"
    );
}
