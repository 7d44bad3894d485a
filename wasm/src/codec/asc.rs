//! AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): audio object type, output sample rate and channels.

use crate::error::{Error, Result};

/// samplingFrequencyIndex 0..=12 (ISO/IEC 14496-3 Table 1.18); 13 and 14 are reserved, 15 means explicit.
const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// AOT 5 (SBR) and 29 (PS): explicit hierarchical HE-AAC / HE-AAC v2 signalling.
const AOT_SBR: u32 = 5;
const AOT_PS: u32 = 29;

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Asc {
    /// The first audioObjectType: the RFC 6381 "mp4a.40.{aot}" value (5 or 29 for explicit HE-AAC).
    pub object_type: u32,
    /// Output rate: the SBR extension rate when SBR is signalled, else the core rate.
    pub sample_rate: u32,
    /// From channelConfiguration (Table 1.19); `None` for 0 (layout in a program_config_element) or
    /// reserved values, where the sample entry's channelcount has to do. PS (29) on mono decodes to stereo.
    pub channels: Option<u16>,
}

/// Parse `data`, found at absolute `offset`; `path` names the esds for errors.
pub(super) fn parse(data: &[u8], offset: u64, path: &str) -> Result<Asc> {
    let mut r = Bits {
        data,
        pos: 0,
        offset,
        path,
    };
    let object_type = r.object_type()?;
    if object_type == 0 {
        return Err(Error::malformed(
            path,
            offset,
            "AudioSpecificConfig has audioObjectType 0 (null)",
        ));
    }
    let mut sample_rate = r.sample_rate()?;
    let config = r.read(4, "channelConfiguration")?;
    let mut channels = match config {
        1..=6 => u16::try_from(config).ok(),
        7 | 12 | 14 => Some(8),
        11 => Some(7),
        13 => Some(24),
        _ => None,
    };
    if object_type == AOT_SBR || object_type == AOT_PS {
        sample_rate = r.sample_rate()?; // extensionSamplingFrequencyIndex
        if object_type == AOT_PS && channels == Some(1) {
            channels = Some(2);
        }
    } else if object_type == 2 && (1..=7).contains(&config) {
        // AAC LC may carry backward-compatible SBR signalling after GASpecificConfig (§1.6.5.1 syncExtension).
        // It is optional, so running out of bits here is not an error.
        if let Some(rate) = r.implicit_sbr_rate() {
            sample_rate = rate;
        }
    }
    Ok(Asc {
        object_type,
        sample_rate,
        channels,
    })
}

/// MSB-first bit reader; every read is bounds-checked and fails with a Malformed naming the field.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    offset: u64,
    path: &'a str,
}

impl Bits<'_> {
    /// Up to 32 bits, or `None` past the end.
    fn try_read(&mut self, n: u32) -> Option<u32> {
        let mut v: u32 = 0;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            // MSB first: bit k of the byte (k = pos % 8, from the left) is the shift left by k, top bit.
            let bit = byte.checked_shl(u32::try_from(self.pos % 8).ok()?)? >> 7;
            v = v.checked_shl(1)? | u32::from(bit);
            self.pos = self.pos.checked_add(1)?;
        }
        Some(v)
    }

    fn read(&mut self, n: u32, what: &str) -> Result<u32> {
        let at = self.pos;
        self.try_read(n).ok_or_else(|| {
            Error::malformed(
                self.path,
                self.offset,
                format!(
                    "AudioSpecificConfig is {} bytes; {what} needs {n} bits at bit {at}",
                    self.data.len()
                ),
            )
        })
    }

    /// GetAudioObjectType(): 5 bits, 31 escapes to 32 + 6 more bits.
    fn object_type(&mut self) -> Result<u32> {
        match self.read(5, "audioObjectType")? {
            31 => Ok(self.read(6, "audioObjectTypeExt")?.saturating_add(32)), // at most 95
            aot => Ok(aot),
        }
    }

    /// samplingFrequencyIndex, with 15 escaping to a 24-bit samplingFrequency.
    fn sample_rate(&mut self) -> Result<u32> {
        let index = self.read(4, "samplingFrequencyIndex")?;
        let rate = match index {
            15 => self.read(24, "samplingFrequency")?,
            i => SAMPLE_RATES
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or(0),
        };
        if rate == 0 {
            let what = if index == 15 {
                "an explicit samplingFrequency of 0".to_string()
            } else {
                format!("reserved samplingFrequencyIndex {index}")
            };
            return Err(Error::malformed(
                self.path,
                self.offset,
                format!("AudioSpecificConfig has {what}"),
            ));
        }
        Ok(rate)
    }

    /// After an AAC LC GASpecificConfig with a channelConfiguration (no program_config_element): skip
    /// frameLengthFlag, dependsOnCoreCoder (+14-bit delay), extensionFlag, then look for syncExtensionType
    /// 0x2b7 with extensionAudioObjectType 5 and sbrPresentFlag 1.
    fn implicit_sbr_rate(&mut self) -> Option<u32> {
        self.try_read(1)?; // frameLengthFlag
        if self.try_read(1)? == 1 {
            self.try_read(14)?; // coreCoderDelay
        }
        self.try_read(1)?; // extensionFlag (0 for AAC LC)
        if self.try_read(11)? != 0x2b7 || self.try_read(5)? != AOT_SBR || self.try_read(1)? != 1 {
            return None;
        }
        self.sample_rate().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(b: &[u8]) -> Result<Asc> {
        parse(b, 70, "stsd.mp4a.esds")
    }

    fn asc(object_type: u32, sample_rate: u32, channels: Option<u16>) -> Asc {
        Asc {
            object_type,
            sample_rate,
            channels,
        }
    }

    #[test]
    fn object_types_and_rates() {
        // LC 44.1 kHz stereo, with ffmpeg's trailing syncExtension saying "no SBR".
        assert_eq!(
            run(&[0x12, 0x10, 0x56, 0xe5, 0x00]),
            Ok(asc(2, 44100, Some(2)))
        );
        // HE-AAC explicit: AOT 5, core 24 kHz stereo, extension 48 kHz, inner AOT 2.
        assert_eq!(run(&[0x2b, 0x11, 0x88, 0x00]), Ok(asc(5, 48000, Some(2))));
        // HE-AAC v2: AOT 29, core 24 kHz mono → stereo output at 48 kHz.
        assert_eq!(run(&[0xeb, 0x09, 0x88, 0x00]), Ok(asc(29, 48000, Some(2))));
        // Implicit SBR in an LC config: 22.05 kHz core, sync extension to 44.1 kHz.
        assert_eq!(
            run(&[0x13, 0x90, 0x56, 0xe5, 0xa0]),
            Ok(asc(2, 44100, Some(2)))
        );
        // Escape: 31 + 6 bits of 10 → AOT 42 (USAC), explicit 24-bit rate 44 100, 7.1 (config 7).
        let b = [0xf9, 0x5e, 0x01, 0x58, 0x88, 0xe0];
        assert_eq!(run(&b), Ok(asc(42, 44100, Some(8))));
        // channelConfiguration 0: channels come from the sample entry.
        assert_eq!(run(&[0x11, 0x80]), Ok(asc(2, 48000, None)));
    }

    #[test]
    fn malformed_configs() {
        let e = run(&[0x12]).unwrap_err();
        assert!(
            matches!(&e, Error::Malformed { offset: 70, msg, .. } if msg.contains("samplingFrequencyIndex"))
        );
        let e = run(&[0x16, 0x90]).unwrap_err(); // index 13: reserved
        assert!(
            matches!(&e, Error::Malformed { msg, .. } if msg.contains("reserved")),
            "{e}"
        );
        let e = run(&[0x17, 0x80, 0x00, 0x00, 0x10]).unwrap_err(); // explicit rate 0
        assert!(
            matches!(&e, Error::Malformed { msg, .. } if msg.contains("of 0")),
            "{e}"
        );
        let e = run(&[0x00, 0x10]).unwrap_err();
        assert!(
            matches!(&e, Error::Malformed { msg, .. } if msg.contains("null")),
            "{e}"
        );
        assert!(run(&[]).is_err());
    }
}
