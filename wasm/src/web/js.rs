//! A serde value as a plain JS value, built directly: what `JSON.parse(serde_json::to_string(v))` gives,
//! with struct fields in camelCase (the one casing of what crosses the wasm boundary: [`camel`] is also how
//! [`super::options`] names the fields it reads). Structs and maps as objects (map keys are data: kept as
//! they are), sequences and tuples as arrays, `None`, unit and non-finite floats as
//! `null`, unit variants as their name, other variants as `{name: value}`), without serde_json in the
//! wasm: its writer and float printing cost ~4 kB of the segmenter's gzipped module.

use js_sys::{Array, Object};
use serde::ser::{self, Serialize};
use wasm_bindgen::JsValue;

use super::error::{WebError, WebResult};

/// A Rust field name as JS names it: `target_duration_s` → `targetDurationS`, `long_gop` → `longGop`.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `v` as a JS value.
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> WebResult<JsValue> {
    v.serialize(JsSerializer)
        .map_err(|e| WebError::option(&e.0))
}

/// Why a value could not be converted (a map key that is not a string or a number).
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type R = Result<JsValue, Error>;

fn set(obj: &Object, key: &JsValue, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot throw.
    let _ = js_sys::Reflect::set(obj, key, value);
}

/// `{variant: value}`, serde_json's form of a non-unit enum variant.
fn tagged(variant: &str, value: &JsValue) -> JsValue {
    let o = Object::new();
    set(&o, &JsValue::from_str(variant), value);
    o.into()
}

struct JsSerializer;

/// Arrays: sequences, tuples, and the payload of a tuple variant (`variant` is then its name).
pub struct Seq {
    array: Array,
    variant: Option<&'static str>,
}

/// Objects: maps, structs, and the payload of a struct variant.
pub struct Map {
    object: Object,
    key: Option<JsValue>,
    variant: Option<&'static str>,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.array.push(&v.serialize(JsSerializer)?);
        Ok(())
    }

    fn done(self) -> R {
        Ok(match self.variant {
            Some(name) => tagged(name, &self.array),
            None => self.array.into(),
        })
    }
}

impl Map {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), Error> {
        set(
            &self.object,
            &JsValue::from_str(&camel(key)),
            &v.serialize(JsSerializer)?,
        );
        Ok(())
    }

    fn done(self) -> R {
        Ok(match self.variant {
            Some(name) => tagged(name, &self.object),
            None => self.object.into(),
        })
    }
}

impl ser::Serializer for JsSerializer {
    type Ok = JsValue;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> R {
        Ok(JsValue::from_bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_f64(v.into())
    }
    // JSON.parse reads integers past 2^53 as the nearest double too.
    fn serialize_i64(self, v: i64) -> R {
        self.serialize_f64(v as f64)
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.serialize_f64(v as f64)
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> R {
        // serde_json writes NaN and the infinities as null.
        Ok(if v.is_finite() {
            JsValue::from_f64(v)
        } else {
            JsValue::NULL
        })
    }
    fn serialize_char(self, v: char) -> R {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(v.iter()
            .map(|&b| JsValue::from_f64(b.into()))
            .collect::<Array>()
            .into())
    }
    fn serialize_none(self) -> R {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        Ok(tagged(variant, &v.serialize(self)?))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq {
            array: Array::new(),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Seq, Error> {
        Ok(Seq {
            array: Array::new(),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map, Error> {
        Ok(Map {
            object: Object::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Map, Error> {
        Ok(Map {
            object: Object::new(),
            key: None,
            variant: Some(variant),
        })
    }
}

/// The four sequence-like serde traits, all an array of the elements in order.
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Seq {
            type Ok = JsValue;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.push(v)
            }
            fn end(self) -> R {
                self.done()
            }
        }
    )*};
}
seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Map {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // serde_json accepts string and number keys and writes both as strings.
        let k = key.serialize(JsSerializer)?;
        if k.as_string().is_none() && k.as_f64().is_none() {
            return Err(Error("a map key must be a string or a number".into()));
        }
        self.key = Some(k);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self.key.take().unwrap_or(JsValue::NULL);
        set(&self.object, &key, &v.serialize(JsSerializer)?);
        Ok(())
    }
    fn end(self) -> R {
        self.done()
    }
}

impl ser::SerializeStruct for Map {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.field(key, v)
    }
    fn end(self) -> R {
        self.done()
    }
}

impl ser::SerializeStructVariant for Map {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.field(key, v)
    }
    fn end(self) -> R {
        self.done()
    }
}
