//! The codec families an encoded rung can be: H.264, AV1 and VP9. Per family: the bit rate it needs for
//! the quality H.264 reaches at the reference rate, the CODECS string of a rung (profile, level and bit
//! depth that fit its size, frame rate and bit rate), and the rung's directory name.
//!
//! ## Bit rates per codec
//!
//! The reference table ([`super::plan`]) is Apple's H.264 ladder. The other families get a fraction of it
//! for about the same quality:
//!
//! | family | factor | why |
//! |--------|--------|-----|
//! | H.264  | 1.00   | the reference (Apple HLS Authoring Spec's bit rate table) |
//! | AV1    | 0.60   | libaom/SVT-AV1 reach H.264's VMAF at 45–55 % of x264's bits in offline tests (Netflix, AOM CTC, Facebook's 2018 study); a browser encodes in real-time mode (Chromium: libaom at a high cpu-used, or the GPU's encoder), which gives back part of it: 60 % is the common rule |
//! | VP9    | 0.67   | libvpx reaches x264's quality at 60–70 % of its bits (YouTube's and Netflix's VP9 ladders); real-time settings again: two thirds |
//!
//! `tests/bench/codecs.mjs` prints the sizes and PSNR each browser encoder reaches with these rates, so the
//! table can be checked against what the encoders actually do (figures in tests/bench/README.md).

use crate::num::f64_to_u64;

/// Frames per second of Chromium's software AV1 encoder on a 720p rung from a 1080p source, measured by
/// `node tests/bench/codecs.mjs` (tests/bench/README.md, "Codecs of a rung"): why software AV1 is not
/// proposed by default ([`super::plan::propose`]).
pub const AV1_SOFTWARE_FPS_720P: f64 = 20.1;
/// The same benchmark's H.264 (OpenH264, software) rung.
pub const H264_SOFTWARE_FPS_720P: f64 = 57.7;

/// The codec family of an encoded rung, from its CODECS string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    H264,
    Av1,
    Vp9,
}

/// Every family the planner offers, in the order the page lists them: H.264 first (it plays everywhere).
pub const FAMILIES: [Family; 3] = [Family::H264, Family::Av1, Family::Vp9];

impl Family {
    /// The family of a WebCodecs / RFC 6381 codec string; `None` for anything else (HEVC, audio...).
    pub fn of(codec: &str) -> Option<Family> {
        match codec.split('.').next().unwrap_or_default() {
            "avc1" | "avc3" => Some(Family::H264),
            "av01" => Some(Family::Av1),
            "vp09" => Some(Family::Vp9),
            _ => None,
        }
    }

    /// Bits this family needs for H.264's quality at `h264_bps` (the table above).
    pub fn bitrate(self, h264_bps: f64) -> f64 {
        h264_bps
            * match self {
                Family::H264 => 1.0,
                Family::Av1 => 0.60,
                Family::Vp9 => 0.67,
            }
    }

    /// The directory name of this family's rung of short side `short`: `v720` (H.264, as before AV1 and
    /// VP9 were offered), `av1_720`, `vp9_720`.
    pub fn rung_id(self, short: u32) -> String {
        match self {
            Family::H264 => format!("v{short}"),
            Family::Av1 => format!("av1_{short}"),
            Family::Vp9 => format!("vp9_{short}"),
        }
    }

    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Family::H264 => "H.264",
            Family::Av1 => "AV1",
            Family::Vp9 => "VP9",
        }
    }
}

/// AV1 levels (AV1 Bitstream & Decoding Process Specification, Annex A.3, Table A.3.1 and A.3.2, Main
/// tier): seq_level_idx, MaxPicSize, MaxHSize, MaxVSize, MaxDisplayRate (samples/s), MaxBitrate (Mb/s).
const AV1_LEVELS: [(u8, u64, u32, u32, u64, f64); 13] = [
    (0, 147_456, 2048, 1152, 4_423_680, 1.5),
    (1, 278_784, 2816, 1584, 8_363_520, 3.0),
    (4, 665_856, 4352, 2448, 19_975_680, 6.0),
    (5, 1_065_024, 5504, 3096, 31_950_720, 10.0),
    (8, 2_359_296, 6144, 3456, 70_778_880, 12.0),
    (9, 2_359_296, 6144, 3456, 141_557_760, 20.0),
    (12, 8_912_896, 8192, 4352, 267_386_880, 30.0),
    (13, 8_912_896, 8192, 4352, 534_773_760, 40.0),
    (14, 8_912_896, 8192, 4352, 1_069_547_520, 60.0),
    (15, 8_912_896, 8192, 4352, 1_069_547_520, 60.0),
    (16, 35_651_584, 16384, 8704, 1_069_547_520, 60.0),
    (17, 35_651_584, 16384, 8704, 2_139_095_040, 100.0),
    (18, 35_651_584, 16384, 8704, 4_278_190_080, 160.0),
];

/// VP9 levels (webmproject.org "VP9 Levels and Decoder Testing"): level × 10, MaxLumaPictureSize,
/// MaxLumaSampleRate, MaxBitrate (kb/s), max dimension.
const VP9_LEVELS: [(u8, u64, u64, f64, u32); 14] = [
    (10, 36_864, 829_440, 200.0, 512),
    (11, 73_728, 2_764_800, 800.0, 768),
    (20, 122_880, 4_608_000, 1_800.0, 960),
    (21, 245_760, 9_216_000, 3_600.0, 1344),
    (30, 552_960, 20_736_000, 7_200.0, 2048),
    (31, 983_040, 36_864_000, 12_000.0, 2752),
    (40, 2_228_224, 83_558_400, 18_000.0, 4160),
    (41, 2_228_224, 160_432_128, 30_000.0, 4160),
    (50, 8_912_896, 311_951_360, 60_000.0, 8384),
    (51, 8_912_896, 588_251_136, 120_000.0, 8384),
    (52, 8_912_896, 1_176_502_272, 180_000.0, 8384),
    (60, 35_651_584, 1_176_502_272, 180_000.0, 16832),
    (61, 35_651_584, 2_353_004_544, 240_000.0, 16832),
    (62, 35_651_584, 4_706_009_088, 480_000.0, 16832),
];

fn samples_per_s(width: u32, height: u32, fps: f64) -> u64 {
    f64_to_u64((f64::from(width) * f64::from(height) * fps.max(1.0)).ceil())
}

/// "av01.0.LLM.08": Main profile (0: 4:2:0, 8 or 10 bit, what every browser encoder makes), 8-bit, Main
/// tier, at the lowest level whose picture size, dimensions, display rate and bit rate fit.
pub fn av1_codec(width: u32, height: u32, fps: f64, bps: u64) -> String {
    let pic = u64::from(width) * u64::from(height);
    let rate = samples_per_s(width, height, fps);
    let level = AV1_LEVELS
        .iter()
        .find(|(_, max_pic, max_h, max_v, max_rate, max_mbps)| {
            pic <= *max_pic
                && width <= *max_h
                && height <= *max_v
                && rate <= *max_rate
                && bps as f64 <= max_mbps * 1e6
        })
        .map_or(31, |l| l.0); // 31: "no level constraint" (AV1 § 6.4.1), past every level's limits
    format!("av01.0.{level:02}M.08")
}

/// "vp09.00.LL.08": profile 0 (4:2:0, 8 bit), at the lowest level whose picture size, sample rate, bit
/// rate and longest side fit.
pub fn vp9_codec(width: u32, height: u32, fps: f64, bps: u64) -> String {
    let pic = u64::from(width) * u64::from(height);
    let rate = samples_per_s(width, height, fps);
    let level = VP9_LEVELS
        .iter()
        .find(|(_, max_pic, max_rate, max_kbps, max_dim)| {
            pic <= *max_pic
                && rate <= *max_rate
                && bps as f64 <= max_kbps * 1e3
                && width.max(height) <= *max_dim
        })
        .map_or(62, |l| l.0);
    format!("vp09.00.{level:02}.08")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_codec_strings() {
        assert_eq!(Family::of("avc1.640028"), Some(Family::H264));
        assert_eq!(Family::of("av01.0.08M.08"), Some(Family::Av1));
        assert_eq!(Family::of("vp09.00.40.08"), Some(Family::Vp9));
        assert_eq!(Family::of("hvc1.1.6.L93.B0"), None);
        assert_eq!(Family::Av1.rung_id(720), "av1_720");
        assert_eq!(Family::H264.rung_id(720), "v720");
    }

    #[test]
    fn av1_levels_fit_the_rung() {
        assert_eq!(av1_codec(1920, 1080, 30.0, 3_600_000), "av01.0.08M.08");
        assert_eq!(av1_codec(1920, 1080, 60.0, 5_400_000), "av01.0.09M.08");
        assert_eq!(av1_codec(1280, 720, 30.0, 1_800_000), "av01.0.05M.08");
        assert_eq!(av1_codec(960, 540, 30.0, 1_200_000), "av01.0.04M.08");
        assert_eq!(av1_codec(640, 360, 30.0, 219_000), "av01.0.01M.08");
        assert_eq!(av1_codec(416, 234, 30.0, 87_000), "av01.0.00M.08");
        // A bit rate above level 2.0's 1.5 Mb/s moves a small picture up.
        assert_eq!(av1_codec(416, 234, 30.0, 2_000_000), "av01.0.01M.08");
        assert_eq!(av1_codec(20000, 100, 30.0, 1), "av01.0.31M.08");
    }

    #[test]
    fn vp9_levels_fit_the_rung() {
        assert_eq!(vp9_codec(1920, 1080, 30.0, 4_000_000), "vp09.00.40.08");
        assert_eq!(vp9_codec(1280, 720, 30.0, 2_000_000), "vp09.00.31.08");
        assert_eq!(vp9_codec(960, 540, 30.0, 1_340_000), "vp09.00.30.08");
        assert_eq!(vp9_codec(640, 360, 30.0, 245_000), "vp09.00.21.08");
        assert_eq!(vp9_codec(416, 234, 30.0, 97_000), "vp09.00.20.08");
        // 1080p at 60 fps needs level 4.1's sample rate.
        assert_eq!(vp9_codec(1920, 1080, 60.0, 6_000_000), "vp09.00.41.08");
    }

    #[test]
    fn bitrate_factors() {
        assert_eq!(Family::H264.bitrate(1000.0), 1000.0);
        assert_eq!(Family::Av1.bitrate(1000.0), 600.0);
        assert!((Family::Vp9.bitrate(1000.0) - 670.0).abs() < 1e-9);
    }
}
