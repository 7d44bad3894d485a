//! `class Ladder` for the browser: a [`LadderJob`] over the dropped `File`. Its one caller is
//! `www/workers/ladder-worker.js` (the shapes it reads are typed in `www/lib/types.js`). Objects cross to
//! JS built field by field, in camelCase (typed arrays for sample columns); only the summary goes through
//! serde ([`super::js`]), as `segmentFile`'s does.

use js_sys::{Array, Float64Array, Object, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::Blob;

use super::error::{js_text, WebError, WebResult};
use super::source::BlobSource;
use super::{set, to_js};
use crate::ladder::{
    AudioEncoding, Candidate, Encodable, LadderJob, OutFile, PlannedAudio, SampleTable,
};

fn get(obj: &JsValue, key: &str) -> WebResult<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|e| WebError::option(&js_text(&e)))
}

fn get_f64(obj: &JsValue, key: &str, what: &str) -> WebResult<f64> {
    get(obj, key)?
        .as_f64()
        .ok_or_else(|| WebError::option(&format!("{what}: '{key}' must be a number")))
}

fn get_string(obj: &JsValue, key: &str, what: &str) -> WebResult<String> {
    get(obj, key)?
        .as_string()
        .ok_or_else(|| WebError::option(&format!("{what}: '{key}' must be a string")))
}

fn get_u32(obj: &JsValue, key: &str, what: &str) -> WebResult<u32> {
    let v = get_f64(obj, key, what)?;
    if v.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&v) {
        return Err(WebError::option(&format!("{what}: '{key}' is {v}")));
    }
    // A whole number in 0..=u32::MAX (checked above): exact.
    Ok(crate::num::f64_to_u32(v))
}

fn bytes_or_null(v: &JsValue) -> Option<Vec<u8>> {
    if v.is_null() || v.is_undefined() {
        return None;
    }
    if let Some(u) = v.dyn_ref::<Uint8Array>() {
        return Some(u.to_vec());
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Some(Uint8Array::new(b).to_vec());
    }
    if let Some(view) = v.dyn_ref::<js_sys::DataView>() {
        return Some(
            Uint8Array::new_with_byte_offset_and_length(
                &view.buffer(),
                u32::try_from(view.byte_offset()).ok()?,
                u32::try_from(view.byte_length()).ok()?,
            )
            .to_vec(),
        );
    }
    None
}

fn opt_bytes(v: Option<&[u8]>) -> JsValue {
    v.map_or(JsValue::NULL, |b| Uint8Array::from(b).into())
}

fn candidate_to_js(c: &Candidate) -> WebResult<JsValue> {
    let o = Object::new();
    set(&o, "id", &JsValue::from_str(&c.id))?;
    set(&o, "width", &JsValue::from(c.width))?;
    set(&o, "height", &JsValue::from(c.height))?;
    set(&o, "bitrate", &JsValue::from_f64(c.bitrate as f64))?;
    set(&o, "framerate", &JsValue::from_f64(c.framerate))?;
    set(&o, "codec", &JsValue::from_str(&c.codec))?;
    Ok(o.into())
}

fn candidate_from_js(v: &JsValue) -> WebResult<Candidate> {
    let what = "rung";
    let bitrate = get_f64(v, "bitrate", what)?;
    if !(bitrate.is_finite() && bitrate >= 0.0) {
        return Err(WebError::option(&format!("rung: bitrate {bitrate}")));
    }
    Ok(Candidate {
        id: get_string(v, "id", what)?,
        width: get_u32(v, "width", what)?,
        height: get_u32(v, "height", what)?,
        bitrate: crate::num::f64_to_u64(bitrate),
        framerate: get_f64(v, "framerate", what)?,
        codec: get_string(v, "codec", what)?,
    })
}

fn table_to_js(t: &SampleTable) -> WebResult<JsValue> {
    let o = Object::new();
    set(&o, "offset", &Float64Array::from(t.offset.as_slice()))?;
    set(&o, "size", &Uint32Array::from(t.size.as_slice()))?;
    set(
        &o,
        "timestampUs",
        &Float64Array::from(t.timestamp_us.as_slice()),
    )?;
    set(
        &o,
        "durationUs",
        &Float64Array::from(t.duration_us.as_slice()),
    )?;
    set(&o, "key", &Uint8Array::from(t.key.as_slice()))?;
    Ok(o.into())
}

fn files_to_js(files: Vec<OutFile>) -> WebResult<Array> {
    let out = Array::new();
    for (path, bytes) in files {
        let o = Object::new();
        set(&o, "path", &JsValue::from_str(&path))?;
        // The package contract's MIME type (`layout::mime`): `www/lib/ladder.js` has no table of its own.
        set(&o, "type", &JsValue::from_str(crate::layout::mime(&path)))?;
        set(&o, "bytes", &Uint8Array::from(bytes.as_slice()))?;
        out.push(&o);
    }
    Ok(out)
}

/// One ladder job over a `File` (run it in a dedicated Worker: the source is read with FileReaderSync).
#[wasm_bindgen]
pub struct Ladder {
    src: BlobSource,
    job: LadderJob,
}

#[wasm_bindgen]
impl Ladder {
    /// Demux and plan; throws on bad input with the core's message.
    #[wasm_bindgen(constructor)]
    pub fn new(file: &Blob, options_js: JsValue) -> WebResult<Ladder> {
        // The same options `segmentFile` takes.
        let opts = super::options::segment_options(&options_js)?;
        let src = BlobSource::new(file.clone())?;
        let job = LadderJob::new(&src, &opts).map_err(WebError::from)?;
        Ok(Ladder { src, job })
    }

    pub fn source(&self) -> WebResult<JsValue> {
        let s = self.job.source();
        let v = &s.video;
        let video = Object::new();
        set(&video, "codec", &JsValue::from_str(&v.codec))?;
        set(&video, "codedWidth", &JsValue::from(v.coded_width))?;
        set(&video, "codedHeight", &JsValue::from(v.coded_height))?;
        set(&video, "displayWidth", &JsValue::from(v.display_width))?;
        set(&video, "displayHeight", &JsValue::from(v.display_height))?;
        set(&video, "frameRate", &JsValue::from_f64(v.frame_rate))?;
        set(&video, "bitrate", &JsValue::from_f64(v.bitrate as f64))?;
        set(&video, "timescale", &JsValue::from(v.timescale))?;
        set(&video, "frames", &JsValue::from_f64(v.frames as f64))?;
        set(&video, "durationUs", &JsValue::from_f64(v.duration_us))?;
        set(&video, "maxSegmentS", &JsValue::from_f64(v.max_segment_s))?;
        set(&video, "description", &opt_bytes(v.description.as_deref()))?;
        let audio = match &s.audio {
            None => JsValue::NULL,
            Some(a) => {
                let o = Object::new();
                set(&o, "codec", &JsValue::from_str(&a.codec))?;
                set(&o, "sampleRate", &JsValue::from(a.sample_rate))?;
                set(&o, "channels", &JsValue::from(a.channels))?;
                set(&o, "description", &opt_bytes(a.description.as_deref()))?;
                set(&o, "copy", &JsValue::from_bool(a.copy))?;
                o.into()
            }
        };
        let out = Object::new();
        set(&out, "video", &video)?;
        set(&out, "audio", &audio)?;
        set(&out, "copyable", &JsValue::from_bool(s.copyable))?;
        set(
            &out,
            "copyReason",
            &s.copy_reason
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        )?;
        Ok(out.into())
    }

    pub fn candidates(&self) -> WebResult<Array> {
        let out = Array::new();
        for c in self.job.candidates() {
            out.push(&candidate_to_js(c)?);
        }
        Ok(out)
    }

    /// `propose(supported)`: the candidates this browser can encode, each with the `hardwareAcceleration`
    /// it is supported with ("prefer-hardware": a hardware encoder).
    pub fn propose(&mut self, supported: &Array) -> WebResult<JsValue> {
        let list: Vec<Encodable> = supported
            .iter()
            .map(|v| {
                let hardware = get(&v, "hardwareAcceleration")?.as_string().as_deref()
                    == Some("prefer-hardware");
                Ok(Encodable {
                    rung: candidate_from_js(&v)?,
                    hardware,
                })
            })
            .collect::<WebResult<_>>()?;
        let p = self.job.propose(&list);
        let rungs = Array::new();
        for c in &p.rungs {
            // Hand back the caller's own object (it carries hardwareAcceleration and more).
            let orig = supported
                .iter()
                .zip(&list)
                .find(|(_, l)| l.rung == *c)
                .map(|(o, _)| o);
            rungs.push(&match orig {
                Some(o) => o,
                None => candidate_to_js(c)?,
            });
        }
        let out = Object::new();
        set(&out, "rungs", &rungs)?;
        set(&out, "copy", &JsValue::from_bool(p.copy))?;
        let text = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from_str);
        set(&out, "copyReason", &text(&p.copy_reason))?;
        set(&out, "av1Note", &text(&p.av1_note))?;
        Ok(out.into())
    }

    #[wasm_bindgen(js_name = boundariesUs)]
    pub fn boundaries_us(&self) -> Float64Array {
        Float64Array::from(self.job.boundaries_us().as_slice())
    }

    #[wasm_bindgen(js_name = videoSamples)]
    pub fn video_samples(&self) -> WebResult<JsValue> {
        table_to_js(&self.job.video_samples())
    }

    #[wasm_bindgen(js_name = audioSamples)]
    pub fn audio_samples(&self) -> WebResult<JsValue> {
        table_to_js(&self.job.audio_samples())
    }

    /// `setText({text: {captions, chapters, sourceChapters}})`: the same `options.text` `segmentFile` takes;
    /// the captions and chapters go into the ladder's manifests when it finishes. A bad caption file is
    /// refused now (`bad-captions`, naming the language and line).
    #[wasm_bindgen(js_name = setText)]
    pub fn set_text(&mut self, options: JsValue) -> WebResult<()> {
        let req = super::text::read_text(&options)?;
        req.validate(&crate::captions::TextLimits::default())
            .map_err(|e| WebError::new(e.code(), &e.to_string()))?;
        self.job.set_text(req).map_err(WebError::from)
    }

    #[wasm_bindgen(js_name = addRung)]
    pub fn add_rung(&mut self, rung: JsValue) -> WebResult<u32> {
        let c = candidate_from_js(&rung)?;
        self.job
            .add_rung(c)
            .map_err(WebError::from)
            .and_then(|i| u32::try_from(i).map_err(|_| WebError::option("too many rungs")))
    }

    #[wasm_bindgen(js_name = pushVideo)]
    pub fn push_video(
        &mut self,
        rung: u32,
        bytes: &Uint8Array,
        timestamp_us: f64,
        is_key: bool,
        description: JsValue,
    ) -> WebResult<Array> {
        let d = bytes_or_null(&description);
        let files = self
            .job
            .push_video(
                rung as usize,
                bytes.to_vec(),
                timestamp_us,
                is_key,
                d.as_deref(),
            )
            .map_err(WebError::from)?;
        self.with_records(files)
    }

    /// The init segment rung `rung` writes for an encoder with decoder configuration `description`
    /// (null: none) whose first key frame is `key`: the bytes its first chunk makes. A resumed rung whose
    /// init differs from the stored one is encoded again from the start (workers/ladder/init-check.js).
    #[wasm_bindgen(js_name = rungInit)]
    pub fn rung_init(
        &self,
        rung: u32,
        description: JsValue,
        key: &Uint8Array,
    ) -> WebResult<Uint8Array> {
        let d = bytes_or_null(&description);
        let init = self
            .job
            .rung_init(rung as usize, d.as_deref(), &key.to_vec())
            .map_err(WebError::from)?;
        Ok(Uint8Array::from(init.as_slice()))
    }

    /// Rung `rung`'s encoder failed: drop its segment in progress; returns the instant (µs) at which the
    /// replacing encoder's first chunk, a key frame, must start.
    #[wasm_bindgen(js_name = restartRung)]
    pub fn restart_rung(&mut self, rung: u32) -> WebResult<f64> {
        self.job.restart_rung(rung as usize).map_err(WebError::from)
    }

    #[wasm_bindgen(js_name = setAudioEncoding)]
    pub fn set_audio_encoding(&mut self, config: JsValue) -> WebResult<()> {
        let what = "audio encoding";
        let channels = get_u32(&config, "channels", what)?;
        let enc = AudioEncoding {
            codec: get_string(&config, "codec", what)?,
            sample_rate: get_u32(&config, "sampleRate", what)?,
            channels: u16::try_from(channels)
                .map_err(|_| WebError::option(&format!("{what}: {channels} channels")))?,
            description: bytes_or_null(&get(&config, "description")?),
        };
        self.job.set_audio_encoding(&enc).map_err(WebError::from)
    }

    #[wasm_bindgen(js_name = pushAudio)]
    pub fn push_audio(
        &mut self,
        bytes: &Uint8Array,
        timestamp_us: f64,
        duration_us: f64,
    ) -> WebResult<Array> {
        let files = self
            .job
            .push_audio(bytes.to_vec(), timestamp_us, duration_us)
            .map_err(WebError::from)?;
        self.with_records(files)
    }

    /// The timestamp (µs) of the first AudioData given to the audio encoder (kept in the audio records).
    #[wasm_bindgen(js_name = setAudioFirstInput)]
    pub fn set_audio_first_input(&mut self, us: f64) -> WebResult<()> {
        self.job.set_audio_first_input(us).map_err(WebError::from)
    }

    /// Continue an earlier run: `records` is a JSON array of the segment records (`record` of the files
    /// this class handed out) of the files the origin still has; `audioCodec` the audio encoder's codec
    /// (null when no audio is encoded). Call after every `addRung`. Returns `{segment, atUs, videoSample,
    /// audio: {feedFromUs, keepFromUs} | null}`: where the decoder and encoders start.
    pub fn resume(&mut self, records: &str, audio_codec: Option<String>) -> WebResult<JsValue> {
        let list: Vec<crate::ladder::resume::SegmentRecord> = serde_json::from_str(records)
            .map_err(|e| WebError::option(&format!("resume records: {e}")))?;
        let point = self
            .job
            .resume(&list, audio_codec.as_deref())
            .map_err(WebError::from)?;
        to_js(&point)
    }

    /// The copy rung (when asked) and the copied AAC audio as recipes (`{path, size, type, head, layout}`,
    /// see [`super::recipe`]: the page gathers their bytes from the File when it sends them); their
    /// playlists come from `finish`.
    #[wasm_bindgen(js_name = copyFiles)]
    pub fn copy_files(&mut self, include_video_copy: bool) -> WebResult<Array> {
        let out = Array::new();
        let files = self
            .job
            .copy_files(include_video_copy)
            .map_err(WebError::from)?;
        for (path, body) in files {
            out.push(&super::recipe::recipe(&path, &body)?.into());
        }
        Ok(out)
    }

    /// The playlists to upload first, before any chunk: `master.m3u8` from the rungs added and the copy
    /// choice (`copyFiles`), and every media playlist with its planned segment durations
    /// ([`crate::ladder::planned`]). `audio`: the audio encoder's `{codec, numberOfChannels, bitrate}`
    /// when the source's audio is re-encoded, else null. `finish`'s playlists replace them.
    #[wasm_bindgen(js_name = plannedPlaylists)]
    pub fn planned_playlists(&self, audio: JsValue) -> WebResult<Array> {
        let what = "audio encoding";
        let audio = if audio.is_null() || audio.is_undefined() {
            None
        } else {
            let channels = get_u32(&audio, "numberOfChannels", what)?;
            Some(PlannedAudio {
                codec: get_string(&audio, "codec", what)?,
                channels: u16::try_from(channels)
                    .map_err(|_| WebError::option(&format!("{what}: {channels} channels")))?,
                bitrate: u64::from(get_u32(&audio, "bitrate", what)?),
            })
        };
        let files = self
            .job
            .planned_playlists(audio.as_ref())
            .map_err(WebError::from)?;
        files_to_js(files)
    }

    pub fn finish(&mut self) -> WebResult<Array> {
        let files = self.job.finish().map_err(WebError::from)?;
        self.with_records(files)
    }

    /// `files` as JS objects, each encoded media segment with its `record` (JSON text) for the page to keep
    /// once the origin has stored it.
    fn with_records(&self, files: Vec<OutFile>) -> WebResult<Array> {
        let records: Vec<Option<String>> = files
            .iter()
            .map(|(path, _)| {
                self.job
                    .segment_record(path)
                    .and_then(|r| serde_json::to_string(&r).ok())
            })
            .collect();
        let out = files_to_js(files)?;
        for (i, r) in records.into_iter().enumerate() {
            if let Some(r) = r {
                let o = out.get(u32::try_from(i).unwrap_or(u32::MAX));
                set(o.unchecked_ref(), "record", &JsValue::from_str(&r))?;
            }
        }
        Ok(out)
    }

    pub fn summary(&self) -> WebResult<JsValue> {
        let s = self.job.summary();
        let out = to_js(&s.package)?;
        set(out.unchecked_ref(), "ladder", &to_js(&s.ladder)?)?;
        set(
            out.unchecked_ref(),
            "bytesRead",
            &JsValue::from_f64(self.src.bytes_read() as f64),
        )?;
        Ok(out)
    }
}
