//! Sample entries for encoder output: avc1 + avcC, hvc1 + hvcC, vp09 + vpcC, av01 + av1C for video;
//! mp4a + esds (AAC) and Opus + dOps for audio. Each entry is parsed back with
//! [`parse_sample_entry`], so CODECS strings come from the bytes written, not from what the encoder was
//! asked for.
//!
//! Written by hand, with the gaps of the `mp4` crate (0.14) named: its Avc1Box and Hev1Box re-serialize
//! the configuration from parsed fields (the avcC's High-profile extension is dropped), and the decoder
//! configuration an encoder hands out must reach the player byte for byte; it has no av01, av1C, Opus or
//! dOps box at all (av1C is built in [`super::config_record`] when the encoder gives none); its EsdsBox
//! rebuilds the AudioSpecificConfig from three fields (losing HE-AAC and explicit sample rates). Its
//! VpccBox is used for vpcC. No `btrt`: the init segment is handed out with the first chunk, before any
//! bit rate could be measured.

use super::config_record::{av1c_from_key_frame, vpcc_from_key_frame, VpccFields};
use crate::boxes::writer::BoxWriter;
use crate::codec::{parse_sample_entry, SampleEntry};
use crate::error::{Error, Result};

/// A rung's codec string or size that cannot be written.
fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidOption(msg.into())
}

/// A decoder configuration from the encoder that cannot be used.
fn bad_config(msg: impl Into<String>) -> Error {
    Error::EncoderOutput(msg.into())
}

/// The video sample entry for chunks of `codec` (a WebCodecs codec string) at `width` x `height`, with
/// the encoder's `description` (avcC / hvcC / av1C / vpcC payload). Without a description, AV1's av1C
/// and VP9's vpcC come from `first_key` (the encoder's first key frame: its sequence header OBU, its
/// uncompressed header) when given, else from the codec string alone.
pub fn video_entry(
    codec: &str,
    width: u32,
    height: u32,
    description: Option<&[u8]>,
    first_key: Option<&[u8]>,
) -> Result<SampleEntry> {
    let (w, h) = (
        u16::try_from(width).map_err(|_| bad(format!("width {width} does not fit 16 bits")))?,
        u16::try_from(height).map_err(|_| bad(format!("height {height} does not fit 16 bits")))?,
    );
    let family = codec.split('.').next().unwrap_or_default();
    let need = |what: &str| {
        description.ok_or_else(|| {
            bad_config(format!(
                "{codec}: the encoder gave no description ({what}); configure the VideoEncoder with \
                 avc: {{ format: 'avc' }} / hevc: {{ format: 'hevc' }}"
            ))
        })
    };
    let (fourcc, config): (&[u8; 4], Vec<u8>) = match family {
        "avc1" | "avc3" => (b"avc1", config_box(b"avcC", need("avcC")?)?),
        "hvc1" | "hev1" => (b"hvc1", config_box(b"hvcC", need("hvcC")?)?),
        "av01" => (
            b"av01",
            match (description, first_key) {
                (Some(d), _) => config_box(b"av1C", d)?,
                (None, Some(key)) => config_box(b"av1C", &av1c_from_key_frame(key)?)?,
                (None, None) => config_box(b"av1C", &av1c_from_codec(codec)?)?,
            },
        ),
        "vp09" => (
            b"vp09",
            match (description, first_key) {
                // The vpcC payload starts with its FullBox version and flags.
                (Some(d), _) => config_box(b"vpcC", d)?,
                (None, Some(key)) => vpcc_box(&vpcc_from_key_frame(key, vp9_level(codec)?)?)?,
                (None, None) => vpcc_from_codec(codec)?,
            },
        ),
        _ => {
            return Err(bad(format!(
                "codec '{codec}': encoded rungs can be H.264 (avc1), HEVC (hvc1), AV1 (av01) or VP9 (vp09)"
            )))
        }
    };
    visual_entry(fourcc, w, h, &config)
}

/// The `vp08` sample entry of a VP8 source track (VP Codec ISO Media File Format Binding § 2: a vpcC of
/// profile 0, 8 bits, 4:2:0, BT.709 colour). It is never published ([`crate::codec::CodecKind::no_cmaf_packaging`]):
/// it describes a WebM's VP8 track to the ladder, which decodes it and encodes every rendition.
pub fn vp8_entry(width: u32, height: u32) -> Result<SampleEntry> {
    let (w, h) = (
        u16::try_from(width).map_err(|_| bad(format!("width {width} does not fit 16 bits")))?,
        u16::try_from(height).map_err(|_| bad(format!("height {height} does not fit 16 bits")))?,
    );
    // VP8 has no levels; the binding's vpcC still holds one: 10, the lowest VP9 level, as libvpx writes.
    visual_entry(b"vp08", w, h, &vpcc_from_codec("vp08.00.10.08")?)
}

/// A VisualSampleEntry of type `fourcc` holding the configuration box `config`, parsed back.
fn visual_entry(fourcc: &[u8; 4], w: u16, h: u16, config: &[u8]) -> Result<SampleEntry> {
    let mut wr = BoxWriter::new();
    // VisualSampleEntry, ISO/IEC 14496-12 § 12.1.3.
    wr.boxed(fourcc, |wr| {
        wr.zeros(6);
        wr.u16(1); // data_reference_index
        wr.zeros(16); // pre_defined, reserved, pre_defined[3]
        wr.u16(w);
        wr.u16(h);
        wr.u32(0x0048_0000); // 72 dpi
        wr.u32(0x0048_0000);
        wr.u32(0); // reserved
        wr.u16(1); // frame_count
        wr.zeros(32); // compressorname
        wr.u16(0x0018); // depth
        wr.u16(0xffff); // pre_defined = -1
        wr.bytes(config);
        Ok(())
    })?;
    parse_sample_entry(&wr.into_bytes(), 0)
}

fn config_box(kind: &[u8; 4], payload: &[u8]) -> Result<Vec<u8>> {
    let mut w = BoxWriter::new();
    w.boxed(kind, |w| {
        w.bytes(payload);
        Ok(())
    })?;
    Ok(w.into_bytes())
}

fn codec_fields(codec: &str) -> Result<Vec<u32>> {
    codec
        .split('.')
        .skip(1)
        .map(|f| {
            // av01 levels carry the tier letter ("08M").
            let digits: String = f.chars().filter(char::is_ascii_digit).collect();
            digits
                .parse()
                .map_err(|_| bad(format!("codec '{codec}': field '{f}' is not a number")))
        })
        .collect()
}

/// AV1CodecConfigurationRecord (AV1 ISOBMFF § 2.3) from "av01.P.LLT.DD[.M.CCC...]", no config OBUs: the
/// sequence header travels in-band with every key frame.
fn av1c_from_codec(codec: &str) -> Result<Vec<u8>> {
    let f = codec_fields(codec)?;
    let (profile, level, depth) = match f.as_slice() {
        [p, l, d, ..] => (*p, *l, *d),
        _ => {
            return Err(bad(format!(
                "codec '{codec}' lacks profile, level or bit depth"
            )))
        }
    };
    let tier = codec.split('.').nth(2).is_some_and(|l| l.ends_with('H'));
    let mono = f.get(3).copied().unwrap_or(0);
    let sub = f
        .get(4)
        .copied()
        .unwrap_or(if profile == 1 { 0 } else { 110 });
    if profile > 2 || level > 31 || !matches!(depth, 8 | 10 | 12) {
        return Err(bad(format!(
            "codec '{codec}' is not a valid AV1 codec string"
        )));
    }
    // Both were range-checked above.
    let small =
        |v: u32| u8::try_from(v).map_err(|_| bad(format!("codec '{codec}': {v} is out of range")));
    let (profile, level) = (small(profile)?, small(level)?);
    Ok(vec![
        0x81,
        (profile << 5) | level,
        (u8::from(tier) << 7)
            | (u8::from(depth > 8) << 6)
            | (u8::from(depth == 12) << 5)
            | (u8::from(mono == 1) << 4)
            | (u8::from(sub / 100 == 1) << 3)
            | (u8::from(sub / 10 % 10 == 1) << 2)
            | (sub % 10) as u8,
        0,
    ])
}

/// The level of a "vp09.PP.LL.DD..." codec string.
fn vp9_level(codec: &str) -> Result<u8> {
    let f = codec_fields(codec)?;
    f.get(1)
        .and_then(|&l| u8::try_from(l).ok())
        .ok_or_else(|| bad(format!("codec '{codec}' lacks a VP9 level")))
}

/// vpcC (VP Codec ISO Media File Format Binding § 2.2) from "vp09.PP.LL.DD[.CC.cp.tc.mc.FF]".
fn vpcc_from_codec(codec: &str) -> Result<Vec<u8>> {
    let f = codec_fields(codec)?;
    let [profile, level, depth, rest @ ..] = f.as_slice() else {
        return Err(bad(format!(
            "codec '{codec}' lacks profile, level or bit depth"
        )));
    };
    let get = |i: usize, d: u32| rest.get(i).copied().unwrap_or(d);
    let byte =
        |v: u32| u8::try_from(v).map_err(|_| bad(format!("codec '{codec}': {v} is out of range")));
    vpcc_box(&VpccFields {
        profile: byte(*profile)?,
        level: byte(*level)?,
        bit_depth: byte(*depth)?,
        chroma_subsampling: byte(get(0, 1))?,
        primaries: byte(get(1, 1))?,
        transfer: byte(get(2, 1))?,
        matrix: byte(get(3, 1))?,
        full_range: get(4, 0) == 1,
    })
}

/// The vpcC box (version 1, no codec initialization data) of `f`, through the `mp4` crate's VpccBox.
fn vpcc_box(f: &VpccFields) -> Result<Vec<u8>> {
    // The crate names VpccBox only as a field of its Vp09Box: build one through a MoovBox, as init.rs does.
    let mut m = mp4::MoovBox::default();
    m.traks.push(Default::default());
    let vp09 = m.traks[0]
        .mdia
        .minf
        .stbl
        .stsd
        .vp09
        .get_or_insert_with(Default::default);
    let vpcc = &mut vp09.vpcc;
    vpcc.version = 1;
    vpcc.flags = 0;
    vpcc.profile = f.profile;
    vpcc.level = f.level;
    vpcc.bit_depth = f.bit_depth;
    vpcc.chroma_subsampling = f.chroma_subsampling;
    vpcc.color_primaries = f.primaries;
    vpcc.transfer_characteristics = f.transfer;
    vpcc.matrix_coefficients = f.matrix;
    vpcc.video_full_range_flag = f.full_range;
    vpcc.codec_initialization_data_size = 0;
    let mut w = BoxWriter::new();
    w.mp4_box(&*vpcc)?;
    Ok(w.into_bytes())
}

/// AudioSampleEntry fields (§ 12.2.3) before the child boxes.
fn audio_fields(w: &mut BoxWriter, channels: u16, sample_rate: u32) {
    w.zeros(6);
    w.u16(1); // data_reference_index
    w.zeros(8); // reserved
    w.u16(channels);
    w.u16(16); // samplesize
    w.zeros(4); // pre_defined, reserved
                // 16.16 fixed point; rates above 65535 Hz do not fit and are left to the configuration.
    w.u32(if sample_rate <= 0xffff {
        sample_rate << 16
    } else {
        0
    });
}

/// An MPEG-4 descriptor (ISO/IEC 14496-1 § 8.3.3): tag, size in 7-bit groups, body.
fn descriptor(w: &mut BoxWriter, tag: u8, body: &[u8]) -> Result<()> {
    let n = u32::try_from(body.len())
        .ok()
        .filter(|&n| n < 1 << 28)
        .ok_or_else(|| Error::TooLarge("descriptor too large".into()))?;
    w.u8(tag);
    for shift in [21, 14, 7] {
        if n >= 1 << shift {
            w.u8(0x80 | ((n >> shift) & 0x7f) as u8);
        }
    }
    w.u8((n & 0x7f) as u8);
    w.bytes(body);
    Ok(())
}

/// sampling_frequency_index of an AudioSpecificConfig (ISO/IEC 14496-3 Table 1.16).
const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// mp4a + esds for AAC. `asc` is the encoder's description (the AudioSpecificConfig); without one an
/// AAC-LC config is made from the rate and channel count.
pub fn aac_entry(asc: Option<&[u8]>, channels: u16, sample_rate: u32) -> Result<SampleEntry> {
    let made;
    let asc = match asc {
        Some(a) if !a.is_empty() => a,
        _ => {
            let idx = AAC_RATES
                .iter()
                .position(|&r| r == sample_rate)
                .and_then(|i| u16::try_from(i).ok())
                .ok_or_else(|| {
                    bad_config(format!(
                        "AAC at {sample_rate} Hz needs the encoder's description"
                    ))
                })?;
            if channels == 0 || channels > 7 {
                return Err(bad_config(format!(
                    "AAC with {channels} channels needs the encoder's description"
                )));
            }
            // audioObjectType 2 (LC), 4 bits of frequency index, 4 bits of channel configuration.
            made = ((2u16 << 11) | (idx << 7) | (channels << 3)).to_be_bytes();
            &made[..]
        }
    };
    let mut dsi = BoxWriter::new();
    dsi.u8(0x40); // objectTypeIndication: MPEG-4 audio
    dsi.u8(0x15); // streamType 5 (audio) << 2 | reserved 1
    dsi.bytes(&[0, 0, 0]); // bufferSizeDB
    dsi.u32(0); // maxBitrate
    dsi.u32(0); // avgBitrate
    descriptor(&mut dsi, 0x05, asc)?;
    let mut es = BoxWriter::new();
    es.u16(0); // ES_ID
    es.u8(0); // flags
    descriptor(&mut es, 0x04, &dsi.into_bytes())?;
    descriptor(&mut es, 0x06, &[0x02])?; // SLConfigDescriptor: predefined MP4
    let mut w = BoxWriter::new();
    w.boxed(b"mp4a", |w| {
        audio_fields(w, channels, sample_rate);
        w.full(b"esds", 0, 0, |w| descriptor(w, 0x03, &es.into_bytes()))
    })?;
    parse_sample_entry(&w.into_bytes(), 0)
}

/// Opus + dOps (Encapsulation of Opus in ISOBMFF § 4.3). `head` is the encoder's description, an
/// Identification Header (RFC 7845 § 5.1, "OpusHead", little-endian); without one a mapping-family-0
/// header is made with libopus's usual pre-skip of 312 samples.
///
/// dOps' InputSampleRate is written as 48000, the AudioSampleEntry's samplerate, even when the encoder
/// was fed 44.1 kHz and its OpusHead says so: the field only informs (RFC 7845 § 5.1: the rate of the
/// original input, not the one to play back at; Opus codes at 48 kHz and the browser resampled to it),
/// while Chromium's MP4 demuxer refuses a track whose two rates differ ("Opus AudioSampleEntry sample rate
/// mismatches OpusSpecificBox"), so a 44.1 kHz source would not play there.
pub fn opus_entry(head: Option<&[u8]>, channels: u16) -> Result<SampleEntry> {
    const RATE: u32 = 48000;
    let (out_channels, pre_skip, gain, family, mapping) = match head {
        Some(h) if !h.is_empty() => {
            if h.len() < 19 || &h[..8] != b"OpusHead" {
                return Err(bad_config(
                    "the Opus description is not an OpusHead identification header",
                ));
            }
            let family = h[18];
            let ch = h[9];
            let mapping = if family != 0 {
                h.get(19..21 + usize::from(ch))
                    .ok_or_else(|| bad_config("the OpusHead's channel mapping table is cut short"))?
                    .to_vec()
            } else {
                Vec::new()
            };
            (
                ch,
                u16::from_le_bytes([h[10], h[11]]),
                i16::from_le_bytes([h[16], h[17]]),
                family,
                mapping,
            )
        }
        _ => {
            if !(1..=2).contains(&channels) {
                return Err(bad_config(format!(
                    "Opus with {channels} channels needs the encoder's description (OpusHead)"
                )));
            }
            (u8::try_from(channels).unwrap_or(2), 312, 0, 0, Vec::new()) // 1 or 2
        }
    };
    if out_channels == 0 {
        return Err(bad_config("the OpusHead declares 0 channels"));
    }
    let mut w = BoxWriter::new();
    w.boxed(b"Opus", |w| {
        audio_fields(w, u16::from(out_channels), RATE);
        w.boxed(b"dOps", |w| {
            w.u8(0); // Version
            w.u8(out_channels);
            w.u16(pre_skip);
            w.u32(RATE); // InputSampleRate
            w.bytes(&gain.to_be_bytes());
            w.u8(family);
            w.bytes(&mapping); // StreamCount, CoupledCount, ChannelMapping (family != 0)
            Ok(())
        })
    })?;
    parse_sample_entry(&w.into_bytes(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avc_entry_reads_back_with_its_codec_string() {
        let avcc = [
            1, 0x64, 0, 0x28, 0xff, 0xe1, 0, 2, 0x67, 0x64, 1, 0, 1, 0x68,
        ];
        let e = video_entry("avc1.640028", 1920, 1080, Some(&avcc), None).unwrap();
        assert_eq!(e.codec_string, "avc1.640028");
        assert_eq!(e.config.as_deref(), Some(&avcc[..]));
        let v = e.video.unwrap();
        assert_eq!((v.width, v.height), (1920, 1080));
        assert!(video_entry("avc1.640028", 1920, 1080, None, None).is_err());
    }

    #[test]
    fn vp9_and_av1_entries_from_the_codec_string() {
        let e = video_entry("vp09.00.31.08", 1280, 720, None, None).unwrap();
        assert_eq!(e.codec_string, "vp09.00.31.08");
        let e = video_entry("av01.0.08M.08", 1280, 720, None, None).unwrap();
        assert_eq!(e.codec_string, "av01.0.08M.08");
        assert!(video_entry("mp4v.20.9", 640, 360, None, None).is_err());
    }

    #[test]
    fn vp9_entry_from_the_first_key_frame() {
        // Profile 0 key frame, BT.709, full range: the level comes from the codec string.
        let key = [0b1000_0010, 0x49, 0x83, 0x42, 0b0101_0000];
        let e = video_entry("vp09.00.40.08", 1920, 1080, None, Some(&key)).unwrap();
        assert_eq!(e.codec_string, "vp09.00.40.08.01.01.01.01.01");
        let limited = [0b1000_0010, 0x49, 0x83, 0x42, 0b0100_0000];
        let e = video_entry("vp09.00.40.08", 1920, 1080, None, Some(&limited)).unwrap();
        assert_eq!(e.codec_string, "vp09.00.40.08");
        // A delta frame cannot describe the stream.
        let inter = [0b1000_0110, 0, 0, 0, 0];
        assert!(video_entry("vp09.00.40.08", 1920, 1080, None, Some(&inter)).is_err());
    }

    #[test]
    fn aac_entry_from_config_or_made() {
        let e = aac_entry(Some(&[0x11, 0x90]), 2, 48000).unwrap();
        assert_eq!(e.codec_string, "mp4a.40.2");
        let a = e.audio.unwrap();
        assert_eq!((a.channels, a.sample_rate), (2, 48000));
        let made = aac_entry(None, 2, 48000).unwrap();
        assert_eq!(made.config.as_deref(), Some(&[0x11, 0x90][..]));
    }

    #[test]
    fn opus_entry_from_opus_head() {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
        let e = opus_entry(Some(&head), 2).unwrap();
        assert_eq!(e.codec_string, "opus");
        assert_eq!(e.audio.unwrap().channels, 2);
        // PreSkip 312 big-endian in dOps.
        assert_eq!(&e.config.unwrap()[2..4], &[0x01, 0x38]);
        assert!(opus_entry(Some(b"nothead"), 2).is_err());
    }
}
