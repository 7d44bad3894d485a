//! The ladder planner: which renditions to encode from a source, in the spirit of the Apple HLS Authoring
//! Specification's bit rate table (16:9: 416x234 @ 145 kb/s, 640x360 @ 365 kb/s, 960x540 @ 2 Mb/s,
//! 1280x720 @ 3 Mb/s, 1920x1080 @ 6 Mb/s; one rung per height), never above the source, at the source's
//! display aspect ratio and frame rate, with CODECS strings whose level fits each rung. Each rung size is
//! offered in every codec family ([`super::codecs`]): H.264 at the table's rate, AV1 and VP9 at their
//! fraction of it; the browser says which of them it can encode.

use super::codecs::{av1_codec, vp9_codec, Family, FAMILIES};
use crate::num::{f64_to_u32, f64_to_u64};

/// One rung the browser may encode: its directory name, picture size (display orientation, square
/// pixels), target bit rate (bits per second), frame rate and RFC 6381 CODECS string.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub bitrate: u64,
    pub framerate: f64,
    pub codec: String,
}

impl Candidate {
    /// The rung's codec family (H.264 when the codec string names none the planner knows).
    pub fn family(&self) -> Family {
        Family::of(&self.codec).unwrap_or(Family::H264)
    }
}

/// What the planner needs to know of the source's video.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceShape {
    /// Display size: after pixel aspect ratio and rotation.
    pub display_width: u32,
    pub display_height: u32,
    pub frame_rate: f64,
    /// Average bits per second of the source video.
    pub bitrate: u64,
    /// The source cannot be the top rung (VP8, key frames too far apart): a rung of its own size is
    /// offered too, so the ladder's top keeps the source's picture.
    pub own_size_rung: bool,
}

/// The reference rungs for 16:9 at 30 fps: (short side, long side, bits per second).
const REFERENCE: [(u32, u32, u64); 5] = [
    (1080, 1920, 6_000_000),
    (720, 1280, 3_000_000),
    (540, 960, 2_000_000),
    (360, 640, 365_000),
    (234, 416, 145_000),
];

/// The rung listed first in the multivariant playlist: players start with the first variant, and Apple's
/// spec recommends a first variant of about 2 Mb/s.
pub const FIRST_VARIANT_BPS: f64 = 2_000_000.0;

/// Frame rates above this are capped (the highest the HLS Authoring Spec's table goes).
pub const MAX_FRAME_RATE: f64 = 60.0;

fn even(x: f64) -> u32 {
    f64_to_u32((x / 2.0).round()).max(1) * 2
}

/// Bit rate factor for frame rates above 30: half again as many bits at 60 fps (motion between frames
/// costs less than whole frames).
fn frame_rate_factor(fps: f64) -> f64 {
    if fps > 30.0 {
        1.0 + 0.5 * (fps / 30.0 - 1.0)
    } else {
        1.0
    }
}

/// H.264 levels (ISO/IEC 14496-10 Table A-1): level_idc, max frame size in macroblocks, max macroblocks
/// per second.
const LEVELS: [(u8, u64, u64); 8] = [
    (30, 1_620, 40_500),
    (31, 3_600, 108_000),
    (32, 5_120, 216_000),
    (40, 8_192, 245_760),
    (42, 8_704, 522_240),
    (50, 22_080, 589_824),
    (51, 36_864, 983_040),
    (52, 36_864, 2_073_600),
];

/// The CODECS string of an H.264 rung: Main profile for small pictures (every device decodes it), High
/// from 720 lines up, at the lowest level whose frame size, frame width and macroblock rate fit.
pub fn h264_codec(width: u32, height: u32, fps: f64) -> String {
    let (mw, mh) = (
        u64::from(width.div_ceil(16)),
        u64::from(height.div_ceil(16)),
    );
    let fs = mw * mh;
    let mbps = f64_to_u64((fs as f64 * fps.max(1.0)).ceil());
    let level = LEVELS
        .iter()
        // A frame's width and height in macroblocks are each at most sqrt(8 * MaxFS) (A.3.1 h, i).
        .find(|(_, max_fs, max_mbps)| {
            fs <= *max_fs && mbps <= *max_mbps && mw * mw <= 8 * max_fs && mh * mh <= 8 * max_fs
        })
        .map_or(52, |l| l.0);
    let profile = if width.min(height) >= 720 {
        "6400"
    } else {
        "4d40"
    };
    format!("avc1.{profile}{level:02x}")
}

/// The rungs for `source`: one per reference height not above the source's short side, at its aspect
/// ratio, frame rate (capped at 60) and never above its bit rate, in each codec family (H.264's first,
/// then AV1's and VP9's at their share of the bits). A source smaller than the smallest reference gets one
/// rung per family at its own size.
pub fn candidates(source: &SourceShape) -> Vec<Candidate> {
    FAMILIES
        .iter()
        .flat_map(|&f| family_candidates(source, f))
        .collect()
}

/// The rungs of one codec family. The source's bit rate caps each rung at the family's share of it (the
/// source is counted as H.264: the common case, and a safe bound for a more efficient source).
fn family_candidates(source: &SourceShape, family: Family) -> Vec<Candidate> {
    let (w, h) = (source.display_width.max(1), source.display_height.max(1));
    let portrait = h > w;
    let (short, long) = if portrait { (w, h) } else { (h, w) };
    let aspect = f64::from(long) / f64::from(short);
    let fps = if source.frame_rate.is_finite() && source.frame_rate > 0.0 {
        source.frame_rate.min(MAX_FRAME_RATE)
    } else {
        30.0
    };
    let fps = (fps * 1000.0).round() / 1000.0;
    let cap = if source.bitrate > 0 {
        f64_to_u64(family.bitrate(source.bitrate as f64).round())
    } else {
        u64::MAX
    };
    let rung = |s: u32, ref_area: f64, ref_bps: u64| {
        let (rs, rl) = (even(f64::from(s)), even(f64::from(s) * aspect));
        let (rw, rh) = if portrait { (rs, rl) } else { (rl, rs) };
        let area = f64::from(rw) * f64::from(rh);
        let h264_bps = ref_bps as f64 * area / ref_area * frame_rate_factor(fps);
        let bps = f64_to_u64(family.bitrate(h264_bps).round()).min(cap).max(1);
        Candidate {
            id: family.rung_id(rs),
            width: rw,
            height: rh,
            bitrate: bps,
            framerate: fps,
            codec: match family {
                Family::H264 => h264_codec(rw, rh, fps),
                Family::Av1 => av1_codec(rw, rh, fps, bps),
                Family::Vp9 => vp9_codec(rw, rh, fps, bps),
            },
        }
    };
    let mut out: Vec<Candidate> = REFERENCE
        .iter()
        .filter(|(s, _, _)| *s <= short)
        .map(|&(s, l, bps)| rung(s, f64::from(s) * f64::from(l), bps))
        .collect();
    if out.is_empty() {
        let (s, l, bps) = REFERENCE[REFERENCE.len() - 1];
        out.push(rung(short, f64::from(s) * f64::from(l), bps));
    } else if source.own_size_rung && out[0].width.min(out[0].height) != even(f64::from(short)) {
        // The source's own size, at the rate of the reference just above it (else the top one) scaled
        // by area: between two references, the larger one's bits per pixel.
        let (s, l, bps) = REFERENCE
            .iter()
            .rev()
            .find(|(s, _, _)| *s >= short)
            .copied()
            .unwrap_or(REFERENCE[0]);
        out.insert(0, rung(short, f64::from(s) * f64::from(l), bps));
    }
    // A low bit rate source caps several rungs at its own rate: keep the largest picture of those.
    out.dedup_by(|lower, higher| lower.bitrate >= higher.bitrate);
    out
}

/// Whether the source itself can be the top rung.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyDecision {
    pub copyable: bool,
    pub reason: Option<String>,
}

/// A rung this browser can encode (`VideoEncoder.isConfigSupported` said so), and whether with a hardware
/// encoder: supported with `hardwareAcceleration: "prefer-hardware"`. WebCodecs has three preferences
/// (no-preference, prefer-hardware, prefer-software; there is no "require"), and Chromium answers a
/// prefer-hardware query from its accelerated encoders only, so a configuration supported that way is
/// encoded in hardware; one supported only with prefer-software is encoded in software.
#[derive(Debug, Clone, PartialEq)]
pub struct Encodable {
    pub rung: Candidate,
    pub hardware: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Proposal {
    /// The rungs to encode, an H.264 one nearest 2 Mb/s first, then from the highest bit rate down: the
    /// H.264 set (it plays on every device), plus the AV1 set when this browser encodes AV1 in hardware
    /// ([`propose`]).
    pub rungs: Vec<Candidate>,
    pub copy: bool,
    pub copy_reason: Option<String>,
    /// Why AV1 is proposed, or why it is off by default; `None` when this browser cannot encode AV1.
    pub av1_note: Option<String>,
}

/// The proposal. The H.264 rungs the browser can encode are always in it: a player without AV1 (Safari
/// before the M3 / A17 chips, older TVs and phones) must still adapt across the whole range, so they are a
/// full fallback set, not a token one. AV1 rungs are added when AV1 is encoded in hardware at that size:
/// the same quality at about 60 % of the bits ([`super::codecs`]) for the players that have AV1, at an
/// encoding cost a hardware encoder makes small. Software-only AV1 stays off by default: it encodes at a
/// third of H.264's speed ([`super::codecs::AV1_SOFTWARE_FPS_720P`]), so it would triple the wait for a
/// saving most viewers' players cannot use yet; the person may still switch it on. VP9 is never proposed:
/// every player that decodes VP9 in MSE also decodes AV1 or H.264. A rung of the source's own size at
/// (or capped to) the source's bit rate adds nothing next to the copy rung and is dropped.
pub fn propose(supported: &[Encodable], source: &SourceShape, copy: &CopyDecision) -> Proposal {
    let av1_hardware = supported
        .iter()
        .any(|e| e.hardware && e.rung.family() == Family::Av1);
    let av1_software = supported
        .iter()
        .any(|e| !e.hardware && e.rung.family() == Family::Av1);
    let mut rungs: Vec<Candidate> = supported
        .iter()
        .filter(|e| match e.rung.family() {
            Family::H264 => true,
            Family::Av1 => e.hardware,
            Family::Vp9 => false,
        })
        .map(|e| &e.rung)
        .filter(|c| {
            !(copy.copyable
                && c.width == source.display_width
                && c.height == source.display_height
                && c.bitrate >= source.bitrate)
        })
        .cloned()
        .collect();
    order_first_near_2mbps_of(
        &mut rungs,
        |c| c.bitrate as f64,
        |c| c.family() == Family::H264,
    );
    let av1_note = if av1_hardware {
        Some(format!(
            "AV1 is proposed: this browser encodes it in hardware, and it needs about {:.0} % of \
             H.264's bits for the same picture; the H.264 set stays for players without AV1",
            Family::Av1.bitrate(100.0)
        ))
    } else if av1_software {
        Some(format!(
            "AV1 is off by default: this browser encodes it in software only, which ran at {:.0} fps at \
             720p against H.264's {:.0} fps in the codec benchmark (tests/bench/codecs.mjs); switch it on \
             to spend that time for about {:.0} % fewer bits",
            super::codecs::AV1_SOFTWARE_FPS_720P,
            super::codecs::H264_SOFTWARE_FPS_720P,
            100.0 - Family::Av1.bitrate(100.0)
        ))
    } else {
        None
    };
    Proposal {
        rungs,
        copy: copy.copyable,
        copy_reason: copy.reason.clone(),
        av1_note,
    }
}

/// Highest bit rate first, then the one nearest [`FIRST_VARIANT_BPS`] (on a log scale) moved to the front.
pub fn order_first_near_2mbps<T>(items: &mut Vec<T>, bps: impl Fn(&T) -> f64) {
    order_first_near_2mbps_of(items, bps, |_| true);
}

/// As [`order_first_near_2mbps`], the first item chosen among those `eligible` (all of them when none
/// is): a ladder that mixes codecs lists an H.264 variant first, since a player that does not look at
/// CODECS (or cannot decode the others) starts with the first variant.
pub fn order_first_near_2mbps_of<T>(
    items: &mut Vec<T>,
    bps: impl Fn(&T) -> f64,
    eligible: impl Fn(&T) -> bool,
) {
    items.sort_by(|a, b| bps(b).total_cmp(&bps(a)));
    let distance = |x: &T| (bps(x).max(1.0) / FIRST_VARIANT_BPS).ln().abs();
    let any = items.iter().any(&eligible);
    if let Some(best) = (0..items.len())
        .filter(|&i| !any || eligible(&items[i]))
        .min_by(|&a, &b| distance(&items[a]).total_cmp(&distance(&items[b])))
    {
        let first = items.remove(best);
        items.insert(0, first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(w: u32, h: u32, fps: f64, bitrate: u64) -> SourceShape {
        SourceShape {
            display_width: w,
            display_height: h,
            frame_rate: fps,
            bitrate,
            own_size_rung: false,
        }
    }

    fn h264(s: &SourceShape) -> Vec<Candidate> {
        candidates(s)
            .into_iter()
            .filter(|c| c.family() == Family::H264)
            .collect()
    }

    fn sizes(c: &[Candidate]) -> Vec<(u32, u32)> {
        c.iter().map(|c| (c.width, c.height)).collect()
    }

    #[test]
    fn full_hd_source_gets_the_apple_ladder() {
        let c = h264(&shape(1920, 1080, 30.0, 20_000_000));
        assert_eq!(
            sizes(&c),
            [
                (1920, 1080),
                (1280, 720),
                (960, 540),
                (640, 360),
                (416, 234)
            ]
        );
        let bps: Vec<u64> = c.iter().map(|c| c.bitrate).collect();
        assert_eq!(bps, [6_000_000, 3_000_000, 2_000_000, 365_000, 145_000]);
        let codecs: Vec<&str> = c.iter().map(|c| c.codec.as_str()).collect();
        assert_eq!(
            codecs,
            [
                "avc1.640028",
                "avc1.64001f",
                "avc1.4d401f",
                "avc1.4d401e",
                "avc1.4d401e"
            ]
        );
        assert_eq!(c[0].id, "v1080");
        assert!(c.iter().all(|c| c.framerate == 30.0));
    }

    #[test]
    fn never_above_the_source() {
        let c = h264(&shape(1280, 720, 25.0, 5_000_000));
        assert_eq!(sizes(&c), [(1280, 720), (960, 540), (640, 360), (416, 234)]);
    }

    #[test]
    fn portrait_keeps_its_orientation() {
        let c = h264(&shape(1080, 1920, 30.0, 10_000_000));
        assert_eq!(sizes(&c)[..3], [(1080, 1920), (720, 1280), (540, 960)]);
        assert_eq!(c[0].codec, "avc1.640028");
    }

    #[test]
    fn four_by_three_has_even_sizes_and_scaled_rates() {
        let c = h264(&shape(1440, 1080, 30.0, 50_000_000));
        assert_eq!(
            sizes(&c),
            [(1440, 1080), (960, 720), (720, 540), (480, 360), (312, 234)]
        );
        assert!(c.iter().all(|c| c.width % 2 == 0 && c.height % 2 == 0));
        assert_eq!(c[0].bitrate, 4_500_000);
    }

    #[test]
    fn odd_aspect_rounds_to_even() {
        let c = h264(&shape(853, 480, 24.0, 2_000_000));
        assert_eq!(sizes(&c), [(640, 360), (416, 234)]);
    }

    #[test]
    fn high_frame_rate_scales_bitrate_and_caps_at_60() {
        let c = h264(&shape(1920, 1080, 120.0, 100_000_000));
        assert_eq!(c[0].framerate, 60.0);
        assert_eq!(c[0].bitrate, 9_000_000);
        // 1080p60 needs level 4.2.
        assert_eq!(c[0].codec, "avc1.64002a");
        assert_eq!(c[1].codec, "avc1.640020");
    }

    #[test]
    fn low_bitrate_source_caps_and_drops_duplicates() {
        let c = h264(&shape(1280, 720, 30.0, 1_000_000));
        assert_eq!(sizes(&c), [(1280, 720), (640, 360), (416, 234)]);
        assert_eq!(c[0].bitrate, 1_000_000);
    }

    #[test]
    fn tiny_source_gets_one_rung_of_its_own_size() {
        let c = h264(&shape(160, 90, 25.0, 20_000));
        assert_eq!(sizes(&c), [(160, 90)]);
        assert_eq!(c[0].bitrate, 20_000);
        assert_eq!(c[0].id, "v90");
    }

    /// Every candidate, each encodable in hardware when `hardware(family)`.
    fn encodable(c: &[Candidate], hardware: impl Fn(Family) -> bool) -> Vec<Encodable> {
        c.iter()
            .map(|c| Encodable {
                rung: c.clone(),
                hardware: hardware(c.family()),
            })
            .collect()
    }

    fn software(c: &[Candidate]) -> Vec<Encodable> {
        encodable(c, |_| false)
    }

    #[test]
    fn propose_orders_2mbps_first_and_drops_a_rung_equal_to_the_copy() {
        let s = shape(1280, 720, 30.0, 3_000_000);
        let c = software(&candidates(&s));
        let copy = CopyDecision {
            copyable: true,
            reason: None,
        };
        let p = propose(&c, &s, &copy);
        assert!(p.copy);
        assert_eq!(sizes(&p.rungs), [(960, 540), (640, 360), (416, 234)]);
        let no_copy = CopyDecision {
            copyable: false,
            reason: Some("long GOP".into()),
        };
        let p = propose(&c, &s, &no_copy);
        assert_eq!(
            sizes(&p.rungs),
            [(960, 540), (1280, 720), (640, 360), (416, 234)]
        );
        assert_eq!(p.copy_reason.as_deref(), Some("long GOP"));
    }

    #[test]
    fn av1_and_vp9_rungs_at_their_share_of_the_bits() {
        let c = candidates(&shape(1920, 1080, 30.0, 20_000_000));
        assert_eq!(c.len(), 15);
        let av1: Vec<&Candidate> = c.iter().filter(|c| c.family() == Family::Av1).collect();
        let vp9: Vec<&Candidate> = c.iter().filter(|c| c.family() == Family::Vp9).collect();
        assert_eq!(av1[0].id, "av1_1080");
        assert_eq!(av1[0].codec, "av01.0.08M.08");
        assert_eq!(av1[0].bitrate, 3_600_000);
        assert_eq!(av1[3].bitrate, 219_000);
        assert_eq!(vp9[1].id, "vp9_720");
        assert_eq!(vp9[1].codec, "vp09.00.31.08");
        assert_eq!(vp9[1].bitrate, 2_010_000);
        // The source caps each family at its share of the source's rate.
        let low = candidates(&shape(1280, 720, 30.0, 1_000_000));
        let a = low.iter().find(|c| c.id == "av1_720").unwrap();
        assert_eq!(a.bitrate, 600_000);
        // The proposal keeps H.264 only, and the first variant of a mixed ladder is H.264.
        let s = shape(1920, 1080, 30.0, 20_000_000);
        let no_copy = CopyDecision {
            copyable: false,
            reason: None,
        };
        let p = propose(&software(&c), &s, &no_copy);
        assert!(p.rungs.iter().all(|r| r.family() == Family::H264));
        let mut mixed: Vec<&Candidate> = av1.iter().copied().chain([&c[3]]).collect();
        order_first_near_2mbps_of(
            &mut mixed,
            |c| c.bitrate as f64,
            |c| c.family() == Family::H264,
        );
        assert_eq!(mixed[0].id, "v360");
        assert_eq!(mixed[1].id, "av1_1080");
    }

    #[test]
    fn hardware_av1_is_proposed_beside_the_full_h264_set() {
        let s = shape(1920, 1080, 30.0, 20_000_000);
        let c = candidates(&s);
        let copy = CopyDecision {
            copyable: true,
            reason: None,
        };
        // AV1 and H.264 in hardware (VP9 too: it is never proposed).
        let p = propose(&encodable(&c, |_| true), &s, &copy);
        let ids: Vec<&str> = p.rungs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "v540", "v1080", "av1_1080", "v720", "av1_720", "av1_540", "v360", "av1_360",
                "v234", "av1_234"
            ]
        );
        assert_eq!(p.rungs[0].family(), Family::H264, "an H.264 variant first");
        assert!(p
            .av1_note
            .as_deref()
            .unwrap()
            .starts_with("AV1 is proposed"));
        // The same set when only the AV1 encoder is hardware (H.264 in software, as in Chromium on Linux).
        let p2 = propose(&encodable(&c, |f| f == Family::Av1), &s, &copy);
        assert_eq!(p2.rungs, p.rungs);
        // A hardware AV1 encoder that takes only some sizes: AV1 rungs at those sizes alone.
        let mut partial = encodable(&c, |f| f == Family::Av1);
        partial.retain(|e| e.rung.family() != Family::Av1 || e.rung.height <= 720);
        let p3 = propose(&partial, &s, &copy);
        let av1: Vec<&str> = p3
            .rungs
            .iter()
            .filter(|r| r.family() == Family::Av1)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(av1, ["av1_720", "av1_540", "av1_360", "av1_234"]);
    }

    #[test]
    fn software_av1_stays_off_and_says_why() {
        let s = shape(1920, 1080, 30.0, 20_000_000);
        let c = candidates(&s);
        let copy = CopyDecision {
            copyable: true,
            reason: None,
        };
        let p = propose(&software(&c), &s, &copy);
        assert_eq!(p.rungs.len(), 5);
        assert!(p.rungs.iter().all(|r| r.family() == Family::H264));
        let note = p.av1_note.unwrap();
        assert!(note.starts_with("AV1 is off by default"), "{note}");
        assert!(note.contains("20 fps at 720p"), "{note}");
        assert!(note.contains("58 fps"), "{note}");
        // Hardware VP9 alone changes nothing: VP9 is never proposed.
        let p = propose(&encodable(&c, |f| f == Family::Vp9), &s, &copy);
        assert!(p.rungs.iter().all(|r| r.family() == Family::H264));
        // No AV1 encoder at all: no note.
        let h264_only: Vec<Encodable> = software(&c)
            .into_iter()
            .filter(|e| e.rung.family() == Family::H264)
            .collect();
        assert_eq!(propose(&h264_only, &s, &copy).av1_note, None);
    }

    #[test]
    fn a_source_that_cannot_be_copied_gets_a_rung_of_its_own_size() {
        // 640x480 (a webcam recording): no reference rung has 480 lines.
        let mut s = shape(640, 480, 30.0, 2_500_000);
        assert_eq!(sizes(&h264(&s)), [(480, 360), (312, 234)]);
        s.own_size_rung = true;
        let c = h264(&s);
        assert_eq!(sizes(&c), [(640, 480), (480, 360), (312, 234)]);
        assert_eq!(c[0].id, "v480");
        // 960x540's 2 Mb/s scaled to 640x480's area.
        assert_eq!(c[0].bitrate, 1_185_185);
        assert_eq!(c[0].codec, "avc1.4d401e");
        let no_copy = CopyDecision {
            copyable: false,
            reason: Some("VP8".into()),
        };
        // The source's size (1.19 Mb/s) is also the rung nearest 2 Mb/s: first.
        let p = propose(&software(&candidates(&s)), &s, &no_copy);
        assert_eq!(sizes(&p.rungs), [(640, 480), (480, 360), (312, 234)]);
        // A source of a reference size gets nothing more; one above 1080 lines is scaled from 1080.
        let mut hd = shape(1280, 720, 30.0, 5_000_000);
        hd.own_size_rung = true;
        assert_eq!(h264(&hd).len(), 4);
        let mut qhd = shape(2560, 1440, 30.0, 50_000_000);
        qhd.own_size_rung = true;
        let c = h264(&qhd);
        assert_eq!(
            (c[0].width, c[0].height, c[0].bitrate),
            (2560, 1440, 10_666_667)
        );
    }
}
