//! `class LiveRung` for the browser's Go live page: one rung (or the audio) of a live ladder encoded by
//! WebCodecs, muxed into CMAF parts by the core's [`LiveTrack`]. Its one caller is
//! `www/workers/live/rung.js` (typed in `www/workers/core.d.ts`). The binding converts types only: the
//! decoder configuration the encoder reports (`decoderConfig.description`: avcC, av1C, vpcC, OpusHead or
//! none) in, each chunk's bytes with its µs timestamp and key flag in, parts out as plain objects.
//!
//! Every rung of a ladder cuts its segments at the same instants: one track is the `leader` (it cuts at
//! a key frame once the open segment is long enough) and hands its cuts to the others (`cutAt`), or every
//! track is a `follower` and the page calls `cutAt` with the time of the frame it encodes as a key frame
//! in every rung (what `www/workers/live-worker.js` does, so a key frame an encoder adds on its own does
//! not cut one rung alone).

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;

use super::error::{WebError, WebResult};
use super::set;
use crate::codec::CodecKind;
use crate::live::config::configure;
use crate::live::{LiveOptions, LiveTrack, Part, Role, Sample};

/// The codec names the page uses (the family of WebCodecs' codec string).
fn codec_kind(name: &str) -> WebResult<CodecKind> {
    Ok(match name {
        "h264" | "avc1" | "avc3" => CodecKind::H264,
        "hevc" | "hvc1" | "hev1" => CodecKind::Hevc,
        "av1" | "av01" => CodecKind::Av1,
        "vp9" | "vp09" => CodecKind::Vp9,
        "aac" | "mp4a" => CodecKind::Aac,
        "opus" => CodecKind::Opus,
        other => {
            return Err(WebError::option(&format!(
                "live rung: codec '{other}' is not one of h264, hevc, av1, vp9, aac, opus"
            )))
        }
    })
}

/// A JS time in µs (a double) as whole µs; NaN, infinities and values past ±2^53 are refused.
fn whole_us(t: f64, what: &str) -> WebResult<i64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !t.is_finite() || t.abs() > MAX_SAFE {
        return Err(WebError::option(&format!("live rung: {what} {t} µs")));
    }
    let r = t.round();
    // Whole and within ±2^53 (checked above): exact in i64.
    #[allow(clippy::cast_possible_truncation)]
    Ok(r as i64)
}

fn ticks_to_us(ticks: u64, timescale: u32) -> f64 {
    // Seconds-scale figures for the page's status, not for muxing: f64 is exact to 2^53 µs.
    #[allow(clippy::cast_precision_loss)]
    let t = ticks as f64;
    t * 1e6 / f64::from(timescale.max(1))
}

fn part_to_js(p: Part) -> WebResult<JsValue> {
    let o = Object::new();
    set(&o, "startUs", &ticks_to_us(p.start, p.timescale).into())?;
    set(
        &o,
        "durationUs",
        &ticks_to_us(p.duration, p.timescale).into(),
    )?;
    set(&o, "independent", &p.independent.into())?;
    set(&o, "startsSegment", &p.starts_segment.into())?;
    set(&o, "bytes", &Uint8Array::from(p.bytes.as_slice()).into())?;
    Ok(o.into())
}

fn parts_to_js(parts: Vec<Part>) -> WebResult<Array> {
    let out = Array::new();
    for p in parts {
        out.push(&part_to_js(p)?);
    }
    Ok(out)
}

/// One live track: configure once, push chunks, take parts.
#[wasm_bindgen]
pub struct LiveRung {
    track: LiveTrack,
}

#[wasm_bindgen]
impl LiveRung {
    /// `codec`: `h264`, `hevc`, `av1`, `vp9`, `aac` or `opus`; `description`: the encoder's
    /// `decoderConfig.description` (null for Opus without an OpusHead, or VP9 without a vpcC: the core
    /// writes a default); `role`: `leader` or `follower`; `partTargetUs`: the origin's `part_target_ms`
    /// × 1000; `minSegmentUs`: a leader's shortest segment.
    #[wasm_bindgen(constructor)]
    pub fn new(
        name: &str,
        codec: &str,
        description: Option<Uint8Array>,
        role: &str,
        part_target_us: f64,
        min_segment_us: f64,
    ) -> WebResult<LiveRung> {
        let kind = codec_kind(codec)?;
        let role = match role {
            "leader" => Role::Leader,
            "follower" => Role::Follower,
            r => {
                return Err(WebError::option(&format!(
                    "live rung: role '{r}' is not leader or follower"
                )))
            }
        };
        let config = description.map(|d| d.to_vec());
        let conf = configure(kind, config.as_deref())?;
        let opts = LiveOptions {
            part_target_us: whole_us(part_target_us, "part target")?.max(1),
            min_segment_us: whole_us(min_segment_us, "minimum segment")?.max(0),
            ..LiveOptions::default()
        };
        Ok(LiveRung {
            track: LiveTrack::new(name, conf, opts, role),
        })
    }

    /// The init segment (ftyp + moov) every part of this rung follows.
    pub fn init(&self) -> Uint8Array {
        Uint8Array::from(self.track.info().init.as_slice())
    }

    /// The RFC 6381 string for CODECS, from the written sample entry.
    pub fn codec(&self) -> String {
        self.track.info().codec.clone()
    }

    /// A follower starts a segment at its first key frame (audio: first frame) at or after `tUs`.
    #[wasm_bindgen(js_name = cutAt)]
    pub fn cut_at(&mut self, t_us: f64) -> WebResult<()> {
        self.track.cut_at(whole_us(t_us, "cut time")?);
        Ok(())
    }

    /// One encoded chunk (decode order; `timestampUs` from the start of the stream, never negative).
    /// Returns `{parts, cut}`: the parts it completed, each `{bytes, startUs, durationUs, independent,
    /// startsSegment}`, and whether this chunk starts a segment (a leader's cut, for the followers).
    pub fn push(&mut self, bytes: &Uint8Array, timestamp_us: f64, key: bool) -> WebResult<JsValue> {
        let data = bytes.to_vec();
        let dts_us = whole_us(timestamp_us, "timestamp")?;
        let (parts, cut) = self.track.push(Sample {
            dts_us,
            cts_us: 0,
            key,
            data: &data,
        })?;
        let o = Object::new();
        set(&o, "parts", &parts_to_js(parts)?.into())?;
        set(&o, "cut", &cut.into())?;
        Ok(o.into())
    }

    /// The end of the rung: the held chunk and the open part.
    pub fn finish(&mut self) -> WebResult<Array> {
        parts_to_js(self.track.finish()?)
    }

    /// Bytes held in wasm memory (the chunk held back for its duration and the open part).
    #[wasm_bindgen(js_name = retainedBytes)]
    pub fn retained_bytes(&self) -> f64 {
        // A byte count in memory: far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let b = self.track.retained_bytes() as f64;
        b
    }
}
