//! Codec configuration records of AV1 and VP9 rungs built from the encoder's first key frame, for
//! encoders that hand out no `decoderConfig.description` (WebCodecs registers none for VP9, and AV1's is
//! optional): `av1C` from the sequence header OBU, `vpcC`'s fields from the VP9 uncompressed header plus
//! the level of the rung's codec string (a VP9 bitstream carries no level).
//!
//! The `mp4` crate (0.14) has no AV1 box at all (no av01, no av1C), so av1C is written here; it has a
//! VpccBox, which [`super::entry`] fills from [`VpccFields`].

use crate::error::{Error, Result};

/// A key frame that does not describe its stream as the record needs.
fn bad(msg: impl std::fmt::Display) -> Error {
    Error::EncoderOutput(format!("the encoder's first key frame: {msg}"))
}

/// MSB-first bit reader over a bitstream header (AV1 § 4.10.2 f(n), VP9 § 4.9 f(n)).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    fn f(&mut self, n: u32, what: &str) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = self
                .data
                .get(self.pos / 8)
                .ok_or_else(|| bad(format!("the header ends before {what}")))?;
            let bit = (byte >> (7 - self.pos % 8)) & 1;
            v = (v << 1) | u32::from(bit);
            self.pos += 1;
        }
        Ok(v)
    }

    fn flag(&mut self, what: &str) -> Result<bool> {
        Ok(self.f(1, what)? == 1)
    }

    /// uvlc() (AV1 § 4.10.3), read only to be skipped.
    fn uvlc(&mut self, what: &str) -> Result<()> {
        let mut zeros = 0;
        while !self.flag(what)? {
            zeros += 1;
            if zeros >= 32 {
                return Ok(());
            }
        }
        self.f(zeros, what)?;
        Ok(())
    }
}

/// Unsigned LEB128 (AV1 § 4.10.5), at most 8 bytes: (value, bytes read).
fn leb128(b: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0u64;
    for (i, &byte) in b.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// The payload of the first sequence header OBU (type 1, AV1 § 5.3) of a temporal unit.
fn sequence_header(sample: &[u8]) -> Result<&[u8]> {
    let mut rest = sample;
    while let Some(&h) = rest.first() {
        let obu_type = (h >> 3) & 0x0f;
        let ext = usize::from(h & 0x04 != 0);
        let mut pos = 1 + ext;
        let size = if h & 0x02 != 0 {
            let (v, n) = rest
                .get(pos..)
                .and_then(leb128)
                .ok_or_else(|| bad("an OBU size is cut short"))?;
            pos += n;
            v
        } else {
            rest.len().saturating_sub(pos)
        };
        let end = pos
            .checked_add(size)
            .filter(|&e| e <= rest.len())
            .ok_or_else(|| bad(format!("an OBU of {size} bytes runs past the chunk")))?;
        if obu_type == 1 {
            return Ok(&rest[pos..end]);
        }
        rest = &rest[end..];
    }
    Err(bad(
        "no sequence header OBU (an AV1 key frame starts with one; AV1-ISOBMFF § 2.4)",
    ))
}

/// AV1CodecConfigurationRecord (AV1-ISOBMFF § 2.3.3) from a key frame: the fields of its sequence header
/// (AV1 § 5.5) and that OBU as configOBUs, rewritten with a size field (§ 2.3.4: OBUs in configOBUs have
/// obu_has_size_field set) and without an extension header.
pub fn av1c_from_key_frame(sample: &[u8]) -> Result<Vec<u8>> {
    let seq = sequence_header(sample)?;
    let mut b = Bits::new(seq);
    let profile = b.f(3, "seq_profile")?;
    let _still = b.flag("still_picture")?;
    let reduced = b.flag("reduced_still_picture_header")?;
    let (level, tier);
    if reduced {
        level = b.f(5, "seq_level_idx[0]")?;
        tier = 0;
    } else {
        let mut decoder_model = false;
        let mut buffer_delay_len = 0;
        if b.flag("timing_info_present_flag")? {
            // timing_info() (§ 5.5.3).
            b.f(32, "num_units_in_display_tick")?;
            b.f(32, "time_scale")?;
            if b.flag("equal_picture_interval")? {
                b.uvlc("num_ticks_per_picture_minus_1")?;
            }
            decoder_model = b.flag("decoder_model_info_present_flag")?;
            if decoder_model {
                // decoder_model_info() (§ 5.5.4).
                buffer_delay_len = b.f(5, "buffer_delay_length_minus_1")? + 1;
                b.f(32, "num_units_in_decoding_tick")?;
                b.f(
                    10,
                    "buffer_removal_time_length_minus_1, frame_presentation_time_length_minus_1",
                )?;
            }
        }
        let display_delay = b.flag("initial_display_delay_present_flag")?;
        let points = b.f(5, "operating_points_cnt_minus_1")? + 1;
        let (mut first_level, mut first_tier) = (0, 0);
        for i in 0..points {
            b.f(12, "operating_point_idc")?;
            let l = b.f(5, "seq_level_idx")?;
            let t = if l > 7 { b.f(1, "seq_tier")? } else { 0 };
            if decoder_model && b.flag("decoder_model_present_for_this_op")? {
                // operating_parameters_info() (§ 5.5.5).
                b.f(buffer_delay_len, "decoder_buffer_delay")?;
                b.f(buffer_delay_len, "encoder_buffer_delay")?;
                b.f(1, "low_delay_mode_flag")?;
            }
            if display_delay && b.flag("initial_display_delay_present_for_this_op")? {
                b.f(4, "initial_display_delay_minus_1")?;
            }
            if i == 0 {
                (first_level, first_tier) = (l, t);
            }
        }
        (level, tier) = (first_level, first_tier);
    }
    let width_bits = b.f(4, "frame_width_bits_minus_1")? + 1;
    let height_bits = b.f(4, "frame_height_bits_minus_1")? + 1;
    b.f(width_bits, "max_frame_width_minus_1")?;
    b.f(height_bits, "max_frame_height_minus_1")?;
    if !reduced && b.flag("frame_id_numbers_present_flag")? {
        b.f(
            7,
            "delta_frame_id_length_minus_2, additional_frame_id_length_minus_1",
        )?;
    }
    b.f(
        3,
        "use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter",
    )?;
    if !reduced {
        b.f(4, "enable_interintra_compound .. enable_dual_filter")?;
        let order_hint = b.flag("enable_order_hint")?;
        if order_hint {
            b.f(2, "enable_jnt_comp, enable_ref_frame_mvs")?;
        }
        let force_screen = if b.flag("seq_choose_screen_content_tools")? {
            2
        } else {
            b.f(1, "seq_force_screen_content_tools")?
        };
        if force_screen > 0 && !b.flag("seq_choose_integer_mv")? {
            b.f(1, "seq_force_integer_mv")?;
        }
        if order_hint {
            b.f(3, "order_hint_bits_minus_1")?;
        }
    }
    b.f(3, "enable_superres, enable_cdef, enable_restoration")?;
    // color_config() (§ 5.5.2).
    let high_bitdepth = b.flag("high_bitdepth")?;
    let twelve_bit = profile == 2 && high_bitdepth && b.flag("twelve_bit")?;
    let mono = profile != 1 && b.flag("mono_chrome")?;
    let (mut cp, mut tc, mut mc) = (2, 2, 2);
    if b.flag("color_description_present_flag")? {
        cp = b.f(8, "color_primaries")?;
        tc = b.f(8, "transfer_characteristics")?;
        mc = b.f(8, "matrix_coefficients")?;
    }
    let (ssx, ssy, position) = if mono {
        (1, 1, 0)
    } else if cp == 1 && tc == 13 && mc == 0 {
        (0, 0, 0) // sRGB: 4:4:4, no color_range bit read
    } else {
        b.f(1, "color_range")?;
        let (x, y) = match profile {
            0 => (1, 1),
            1 => (0, 0),
            _ if twelve_bit => {
                let x = b.f(1, "subsampling_x")?;
                (x, if x == 1 { b.f(1, "subsampling_y")? } else { 0 })
            }
            _ => (1, 0),
        };
        let p = if x == 1 && y == 1 {
            b.f(2, "chroma_sample_position")?
        } else {
            0
        };
        (x, y, p)
    };
    if profile > 2 {
        return Err(bad(format!(
            "seq_profile {profile}; AV1 has profiles 0 to 2"
        )));
    }
    // Every field is range-bound by its bit count: profile 3 bits (checked ≤ 2), level 5, the rest 1–2.
    let byte = |v: u32| u8::try_from(v).unwrap_or(0);
    let mut out = vec![
        0x81, // marker 1, version 1
        (byte(profile) << 5) | byte(level),
        (byte(tier) << 7)
            | (u8::from(high_bitdepth) << 6)
            | (u8::from(twelve_bit) << 5)
            | (u8::from(mono) << 4)
            | (byte(ssx) << 3)
            | (byte(ssy) << 2)
            | byte(position),
        0, // no initial_presentation_delay
    ];
    // OBU header: type 1 (sequence header), obu_has_size_field 1; then leb128 size and the payload.
    out.push((1 << 3) | 0x02);
    let mut n = seq.len();
    loop {
        let low = byte(u32::try_from(n & 0x7f).unwrap_or(0));
        n >>= 7;
        out.push(if n > 0 { low | 0x80 } else { low });
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(seq);
    Ok(out)
}

/// The fields of a vpcC (VP Codec ISO Media File Format Binding § 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VpccFields {
    pub profile: u8,
    pub level: u8,
    pub bit_depth: u8,
    pub chroma_subsampling: u8,
    pub full_range: bool,
    pub primaries: u8,
    pub transfer: u8,
    pub matrix: u8,
}

/// vpcC's fields from a VP9 key frame's uncompressed header (VP9 Bitstream Specification § 6.2,
/// color_config § 6.2.2) and `level` (from the rung's codec string). The bitstream does not say where
/// 4:2:0 chroma is sited; it is written as 1 (co-located with luma (0,0)), the codec string's default.
pub fn vpcc_from_key_frame(sample: &[u8], level: u8) -> Result<VpccFields> {
    let mut b = Bits::new(sample);
    if b.f(2, "frame_marker")? != 2 {
        return Err(bad("not a VP9 frame (frame_marker is not 2)"));
    }
    let low = b.f(1, "profile_low_bit")?;
    let profile = (b.f(1, "profile_high_bit")? << 1) | low;
    if profile == 3 {
        b.f(1, "reserved_zero")?;
    }
    if b.flag("show_existing_frame")? {
        return Err(bad("it shows an existing frame instead of a key frame"));
    }
    if b.flag("frame_type")? {
        return Err(bad("it is not a key frame (frame_type 1)"));
    }
    b.f(2, "show_frame, error_resilient_mode")?;
    if b.f(24, "frame_sync_code")? != 0x49_8342 {
        return Err(bad("the frame_sync_code is not 0x49 0x83 0x42"));
    }
    let bit_depth = if profile >= 2 {
        if b.flag("ten_or_twelve_bit")? {
            12
        } else {
            10
        }
    } else {
        8
    };
    let color_space = b.f(3, "color_space")?;
    let (full_range, ssx, ssy) = if color_space != 7 {
        let range = b.flag("color_range")?;
        if profile == 1 || profile == 3 {
            (range, b.f(1, "subsampling_x")?, b.f(1, "subsampling_y")?)
        } else {
            (range, 1, 1)
        }
    } else {
        (true, 0, 0) // CS_RGB: 4:4:4, full range
    };
    let chroma_subsampling = match (ssx, ssy) {
        (1, 1) => 1,
        (1, 0) => 2,
        (0, 0) => 3,
        _ => return Err(bad("4:4:0 subsampling has no vpcC value")),
    };
    // VP9 color_space (§ 7.2.2) → ISO/IEC 23091-2 primaries, transfer, matrix; 2 = unspecified.
    let (primaries, transfer, matrix) = match color_space {
        1 | 3 => (6, 6, 6),                                 // BT.601 / SMPTE 170M
        2 => (1, 1, 1),                                     // BT.709
        4 => (7, 7, 7),                                     // SMPTE 240M
        5 => (9, if bit_depth == 12 { 15 } else { 14 }, 9), // BT.2020 non-constant luminance
        7 => (2, 2, 0),                                     // RGB: identity matrix
        _ => (2, 2, 2),                                     // unknown, reserved
    };
    Ok(VpccFields {
        profile: u8::try_from(profile).unwrap_or(0),
        level,
        bit_depth,
        chroma_subsampling,
        full_range,
        primaries,
        transfer,
        matrix,
    })
}

#[cfg(test)]
// Test headers of a few bytes: every value cast to u8 is below 256.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    /// A sequence header OBU payload (AV1 § 5.5) written bit by bit: profile 0, not reduced, no timing
    /// info, one operating point at `level`, 11-bit sizes, order hints, BT.709 colour.
    fn seq_payload(level: u32, tier: u32) -> Vec<u8> {
        let mut bits: Vec<(u32, u32)> = vec![
            (0, 3),  // seq_profile
            (0, 1),  // still_picture
            (0, 1),  // reduced_still_picture_header
            (0, 1),  // timing_info_present_flag
            (0, 1),  // initial_display_delay_present_flag
            (0, 5),  // operating_points_cnt_minus_1
            (0, 12), // operating_point_idc
            (level, 5),
        ];
        if level > 7 {
            bits.push((tier, 1));
        }
        bits.extend([
            (10, 4), // frame_width_bits_minus_1
            (10, 4), // frame_height_bits_minus_1
            (1919, 11),
            (1079, 11),
            (0, 1), // frame_id_numbers_present_flag
            (0, 3), // 128x128, filter intra, intra edge
            (0, 4), // interintra .. dual filter
            (1, 1), // enable_order_hint
            (0, 2), // jnt_comp, ref_frame_mvs
            (1, 1), // seq_choose_screen_content_tools (force = 2)
            (1, 1), // seq_choose_integer_mv
            (6, 3), // order_hint_bits_minus_1
            (0, 3), // superres, cdef, restoration
            (0, 1), // high_bitdepth
            (0, 1), // mono_chrome
            (1, 1), // color_description_present_flag
            (1, 8),
            (1, 8),
            (1, 8),
            (0, 1), // color_range
            (2, 2), // chroma_sample_position
            (0, 1), // separate_uv_delta_q
            (0, 1), // film_grain_params_present
            (1, 1), // trailing one bit
        ]);
        let mut out = Vec::new();
        let (mut acc, mut n) = (0u32, 0);
        for (v, len) in bits {
            for i in (0..len).rev() {
                acc = (acc << 1) | ((v >> i) & 1);
                n += 1;
                if n == 8 {
                    out.push(acc as u8);
                    (acc, n) = (0, 0);
                }
            }
        }
        if n > 0 {
            out.push((acc << (8 - n)) as u8);
        }
        out
    }

    fn temporal_unit(seq: &[u8]) -> Vec<u8> {
        // Temporal delimiter, the sequence header, then a frame OBU (contents irrelevant here).
        let mut tu = vec![0x12, 0x00, 0x0a, seq.len() as u8];
        tu.extend_from_slice(seq);
        tu.extend_from_slice(&[0x32, 0x02, 0x10, 0x00]);
        tu
    }

    #[test]
    fn av1c_from_a_sequence_header() {
        let seq = seq_payload(8, 0);
        let c = av1c_from_key_frame(&temporal_unit(&seq)).unwrap();
        assert_eq!(&c[..4], &[0x81, 0x08, 0x0e, 0x00]);
        assert_eq!(&c[4..6], &[0x0a, seq.len() as u8]);
        assert_eq!(&c[6..], &seq[..]);
        // The record reads back as the CODECS string the planner asked for.
        let entry =
            super::super::entry::video_entry("av01.0.08M.08", 1920, 1080, Some(&c), None).unwrap();
        assert_eq!(entry.codec_string, "av01.0.08M.08");
        // High tier at level 5.1.
        let c = av1c_from_key_frame(&temporal_unit(&seq_payload(13, 1))).unwrap();
        assert_eq!(&c[1..3], &[0x0d, 0x8e]);
    }

    #[test]
    fn av1_without_a_sequence_header_is_refused() {
        let e = av1c_from_key_frame(&[0x12, 0x00, 0x32, 0x02, 0x10, 0x00]).unwrap_err();
        assert!(e.to_string().contains("no sequence header OBU"), "{e}");
        let e = av1c_from_key_frame(&[0x0a, 0x09, 0x00]).unwrap_err();
        assert!(e.to_string().contains("runs past the chunk"), "{e}");
        let seq = seq_payload(8, 0);
        let e = av1c_from_key_frame(&temporal_unit(&seq[..3])).unwrap_err();
        assert!(e.to_string().contains("the header ends before"), "{e}");
    }

    #[test]
    fn vpcc_from_a_vp9_key_frame() {
        // frame_marker 2, profile 0, show_existing 0, key frame, show_frame 1, error_res 0, sync code,
        // color_space 2 (BT.709), color_range 0.
        let key = [0b1000_0010, 0x49, 0x83, 0x42, 0b0100_0000];
        let f = vpcc_from_key_frame(&key, 31).unwrap();
        assert_eq!(
            f,
            VpccFields {
                profile: 0,
                level: 31,
                bit_depth: 8,
                chroma_subsampling: 1,
                full_range: false,
                primaries: 1,
                transfer: 1,
                matrix: 1
            }
        );
        // An inter frame, a bad sync code, a cut header.
        assert!(vpcc_from_key_frame(&[0b1000_0110, 0, 0, 0], 31).is_err());
        let e = vpcc_from_key_frame(&[0b1000_0010, 0x49, 0x83, 0x43, 0], 31).unwrap_err();
        assert!(e.to_string().contains("frame_sync_code"), "{e}");
        assert!(vpcc_from_key_frame(&[0b1000_0010, 0x49], 31).is_err());
    }
}
