//! The picture size in an H.264 or HEVC sequence parameter set, for the sample entry and tkhd of a live
//! track: RTMP hands over only the decoder configuration record, not a width and height. The core's codec
//! module reads records for their codec strings only; no crate in the workspace parses an SPS. Returns
//! `None` when the SPS cannot be read (the caller then writes 0 x 0 and the decoder takes the SPS's size).

/// Bits of an RBSP (emulation prevention bytes removed), most significant first.
struct Bits {
    data: Vec<u8>,
    pos: usize,
}

impl Bits {
    fn new(nal: &[u8]) -> Self {
        let mut data = Vec::with_capacity(nal.len());
        let mut zeros = 0;
        for &b in nal {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            data.push(b);
        }
        Bits { data, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| Some((acc << 1) | self.bit()?))
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.pos = self.pos.checked_add(n)?;
        (self.pos <= self.data.len() * 8).then_some(())
    }

    /// ue(v), Exp-Golomb; values past 2^31 are refused.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.bits(zeros)?)
    }

    fn se(&mut self) -> Option<()> {
        self.ue().map(|_| ())
    }
}

/// Width and height of an H.264 SPS NAL unit (header byte included), ITU-T H.264 § 7.3.2.1.1.
pub fn h264_size(nal: &[u8]) -> Option<(u32, u32)> {
    let mut b = Bits::new(nal.get(1..)?);
    let profile = b.bits(8)?;
    b.skip(16)?; // constraint flags, level_idc
    b.ue()?; // seq_parameter_set_id
    let mut chroma = 1;
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma = b.ue()?;
        if chroma == 3 {
            b.skip(1)?; // separate_colour_plane_flag
        }
        b.ue()?; // bit_depth_luma_minus8
        b.ue()?; // bit_depth_chroma_minus8
        b.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if b.bit()? == 1 {
            let lists = if chroma == 3 { 12 } else { 8 };
            for i in 0..lists {
                if b.bit()? == 1 {
                    scaling_list(&mut b, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    b.ue()?; // log2_max_frame_num_minus4
    match b.ue()? {
        0 => {
            b.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            b.skip(1)?;
            b.se()?;
            b.se()?;
            for _ in 0..b.ue()?.min(255) {
                b.se()?;
            }
        }
        _ => {}
    }
    b.ue()?; // max_num_ref_frames
    b.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    let mbs_w = b.ue()?.checked_add(1)?;
    let map_units_h = b.ue()?.checked_add(1)?;
    let frame_mbs_only = b.bit()?;
    if frame_mbs_only == 0 {
        b.skip(1)?; // mb_adaptive_frame_field_flag
    }
    b.skip(1)?; // direct_8x8_inference_flag
    let (mut w, mut h) = (
        mbs_w.checked_mul(16)?,
        map_units_h
            .checked_mul(16)?
            .checked_mul(2 - frame_mbs_only)?,
    );
    if b.bit()? == 1 {
        let (l, r, t, bo) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
        // CropUnitX/Y (§ 7.4.2.1.1): 4:2:0 halves both, 4:2:2 halves x, 4:4:4 and monochrome keep.
        let (cx, cy) = match chroma {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        let cy = cy * (2 - frame_mbs_only);
        w = w.checked_sub(l.checked_add(r)?.checked_mul(cx)?)?;
        h = h.checked_sub(t.checked_add(bo)?.checked_mul(cy)?)?;
    }
    Some((w, h))
}

fn scaling_list(b: &mut Bits, size: u32) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let v = b.ue()?;
            // se(v) mapping: 2k-1 → k, 2k → -k.
            let delta = if v % 2 == 1 {
                i64::from(v / 2 + 1)
            } else {
                -i64::from(v / 2)
            };
            next = (last + delta + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// Width and height of an HEVC SPS NAL unit (2-byte header included), ITU-T H.265 § 7.3.2.2.
pub fn hevc_size(nal: &[u8]) -> Option<(u32, u32)> {
    let mut b = Bits::new(nal.get(2..)?);
    b.skip(4)?; // sps_video_parameter_set_id
    let sub_layers = b.bits(3)?; // sps_max_sub_layers_minus1
    b.skip(1)?;
    // profile_tier_level(1, sub_layers): 88 bits of general profile, 8 of level.
    b.skip(96)?;
    let mut present = Vec::new();
    for _ in 0..sub_layers {
        present.push((b.bit()?, b.bit()?));
    }
    if sub_layers > 0 {
        b.skip(2 * (8 - usize::try_from(sub_layers).ok()?))?;
    }
    for (profile, level) in present {
        b.skip(if profile == 1 { 88 } else { 0 } + if level == 1 { 8 } else { 0 })?;
    }
    b.ue()?; // sps_seq_parameter_set_id
    let chroma = b.ue()?;
    if chroma == 3 {
        b.skip(1)?;
    }
    let (mut w, mut h) = (b.ue()?, b.ue()?);
    if b.bit()? == 1 {
        let (l, r, t, bo) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
        let (cx, cy) = match chroma {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        w = w.checked_sub(l.checked_add(r)?.checked_mul(cx)?)?;
        h = h.checked_sub(t.checked_add(bo)?.checked_mul(cy)?)?;
    }
    Some((w, h))
}

/// The first SPS of an avcC payload (ISO/IEC 14496-15 § 5.3.3.1).
pub fn avcc_size(avcc: &[u8]) -> Option<(u32, u32)> {
    let count = avcc.get(5)? & 0x1f;
    if count == 0 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*avcc.get(6)?, *avcc.get(7)?]));
    h264_size(avcc.get(8..8 + len)?)
}

/// The first SPS (NAL type 33) of an hvcC payload (ISO/IEC 14496-15 § 8.3.3.1).
pub fn hvcc_size(hvcc: &[u8]) -> Option<(u32, u32)> {
    let arrays = *hvcc.get(22)?;
    let mut at = 23usize;
    for _ in 0..arrays {
        let kind = hvcc.get(at)? & 0x3f;
        let n = u16::from_be_bytes([*hvcc.get(at + 1)?, *hvcc.get(at + 2)?]);
        at += 3;
        for _ in 0..n {
            let len = usize::from(u16::from_be_bytes([*hvcc.get(at)?, *hvcc.get(at + 1)?]));
            let nal = hvcc.get(at + 2..at + 2 + len)?;
            if kind == 33 {
                return hevc_size(nal);
            }
            at += 2 + len;
        }
    }
    None
}
