//! The VP9 codec string ("vp09.PP.LL.DD.CC") from a key frame's uncompressed header (VP9 bitstream
//! specification § 6.2: frame marker, profile, sync code, color_config): WebM carries no vpcC, so the
//! profile, bit depth and chroma subsampling are read from the bitstream.

/// Reads bits most significant first; `None` once the bytes run out.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0, |v, _| Some((v << 1) | self.bit()?))
    }
}

/// The smallest VP9 level (Annex A) whose maximum picture size holds `width` x `height`: the bitstream does
/// not say the level, and the sample rate limits need the frame rate, which WebM does not always give.
fn level(width: u64, height: u64) -> u32 {
    const LEVELS: [(u64, u32); 9] = [
        (36_864, 10),
        (73_728, 11),
        (122_880, 20),
        (245_760, 21),
        (552_960, 30),
        (983_040, 31),
        (2_228_224, 40),
        (8_912_896, 50),
        (35_651_584, 60),
    ];
    let size = width.saturating_mul(height);
    LEVELS
        .iter()
        .find(|(max, _)| size <= *max)
        .map_or(62, |l| l.1)
}

/// The codec string of a VP9 key frame, or why it cannot be read.
pub fn codec_string(frame: &[u8], width: u64, height: u64) -> Result<String, String> {
    let mut b = Bits {
        data: frame,
        pos: 0,
    };
    let short = || "the first key frame's header is cut short".to_string();
    if b.bits(2).ok_or_else(short)? != 2 {
        return Err("the first key frame does not start with the VP9 frame marker".into());
    }
    let lo = b.bit().ok_or_else(short)?;
    let hi = b.bit().ok_or_else(short)?;
    let profile = (hi << 1) | lo;
    if profile == 3 {
        b.bit().ok_or_else(short)?; // reserved_zero
    }
    if b.bit().ok_or_else(short)? == 1 {
        return Err("the first frame is a show_existing_frame".into());
    }
    let frame_type = b.bit().ok_or_else(short)?;
    b.bits(2).ok_or_else(short)?; // show_frame, error_resilient_mode
    if frame_type != 0 {
        return Err("the first frame is not a key frame".into());
    }
    if b.bits(24).ok_or_else(short)? != 0x49_8342 {
        return Err("the key frame's sync code is wrong".into());
    }
    let depth = if profile >= 2 {
        if b.bit().ok_or_else(short)? == 1 {
            12
        } else {
            10
        }
    } else {
        8
    };
    let color_space = b.bits(3).ok_or_else(short)?;
    // vpcC chroma_subsampling: 1 = 4:2:0 co-located with luma, 2 = 4:2:2, 3 = 4:4:4 (VP Codec ISO Media
    // File Format Binding § 2.2).
    let chroma = if color_space != 7 {
        b.bit().ok_or_else(short)?; // color_range
        if profile == 1 || profile == 3 {
            let x = b.bit().ok_or_else(short)?;
            let y = b.bit().ok_or_else(short)?;
            match (x, y) {
                (1, 0) => 2,
                (0, 0) => 3,
                _ => 1,
            }
        } else {
            1
        }
    } else {
        3 // sRGB is 4:4:4
    };
    Ok(format!(
        "vp09.{profile:02}.{:02}.{depth:02}.{chroma:02}",
        level(width, height)
    ))
}
