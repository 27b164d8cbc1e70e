//! Strict JSON for token parts, streamed into a [`JsonSink`].
//!
//! A token's claims are parsed once and go straight to where they are needed: a
//! [`serde_json::Value`] for Rust callers, PostgreSQL's jsonb builder for `auth.verify_jwt` (so the
//! claims are not serialised to text and parsed again by `jsonb_in`). Duplicate object keys are
//! refused at any depth: serde_json and jsonb both keep the last one, which would let a token say
//! two things to two parsers.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Receives a JSON document as a stream of events, in document order.
pub trait JsonSink {
    fn begin_object(&mut self);
    fn key(&mut self, key: &str);
    fn end_object(&mut self);
    fn begin_array(&mut self);
    fn end_array(&mut self);
    fn null(&mut self);
    fn bool(&mut self, v: bool);
    fn i64(&mut self, v: i64);
    fn u64(&mut self, v: u64);
    fn f64(&mut self, v: f64);
    fn string(&mut self, v: &str);
}

/// Replays a parsed value into a sink.
pub fn emit(value: &Value, sink: &mut impl JsonSink) {
    match value {
        Value::Null => sink.null(),
        Value::Bool(b) => sink.bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                sink.i64(i)
            } else if let Some(u) = n.as_u64() {
                sink.u64(u)
            } else {
                sink.f64(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => sink.string(s),
        Value::Array(items) => {
            sink.begin_array();
            items.iter().for_each(|v| emit(v, sink));
            sink.end_array();
        }
        Value::Object(map) => {
            sink.begin_object();
            for (k, v) in map {
                sink.key(k);
                emit(v, sink);
            }
            sink.end_object();
        }
    }
}

/// Checks a document without keeping it.
pub struct Discard;

impl JsonSink for Discard {
    fn begin_object(&mut self) {}
    fn key(&mut self, _: &str) {}
    fn end_object(&mut self) {}
    fn begin_array(&mut self) {}
    fn end_array(&mut self) {}
    fn null(&mut self) {}
    fn bool(&mut self, _: bool) {}
    fn i64(&mut self, _: i64) {}
    fn u64(&mut self, _: u64) {}
    fn f64(&mut self, _: f64) {}
    fn string(&mut self, _: &str) {}
}

/// Builds a [`Value`].
#[derive(Default)]
pub struct ValueSink {
    stack: Vec<(Value, Option<String>)>,
    done: Option<Value>,
}

impl ValueSink {
    pub fn into_value(self) -> Option<Value> {
        self.done
    }

    fn push(&mut self, v: Value) {
        match self.stack.last_mut() {
            None => self.done = Some(v),
            Some((Value::Array(items), _)) => items.push(v),
            Some((Value::Object(map), key)) => {
                map.insert(key.take().unwrap_or_default(), v);
            }
            Some(_) => unreachable!("only containers are stacked"),
        }
    }
}

impl JsonSink for ValueSink {
    fn begin_object(&mut self) {
        self.stack.push((Value::Object(Map::new()), None));
    }
    fn key(&mut self, key: &str) {
        if let Some((_, k)) = self.stack.last_mut() {
            *k = Some(key.to_owned());
        }
    }
    fn end_object(&mut self) {
        if let Some((v, _)) = self.stack.pop() {
            self.push(v);
        }
    }
    fn begin_array(&mut self) {
        self.stack.push((Value::Array(Vec::new()), None));
    }
    fn end_array(&mut self) {
        self.end_object();
    }
    fn null(&mut self) {
        self.push(Value::Null);
    }
    fn bool(&mut self, v: bool) {
        self.push(Value::Bool(v));
    }
    fn i64(&mut self, v: i64) {
        self.push(v.into());
    }
    fn u64(&mut self, v: u64) {
        self.push(v.into());
    }
    fn f64(&mut self, v: f64) {
        self.push(
            serde_json::Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
        );
    }
    fn string(&mut self, v: &str) {
        self.push(Value::String(v.to_owned()));
    }
}

/// Why a part was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonError {
    Invalid,
    NotAnObject,
    DuplicateKey,
    /// A `\u0000` in a string or key: PostgreSQL text (and so jsonb and every claim helper)
    /// cannot hold it.
    Nul,
}

/// The top-level members the caller wants as values (the registered claims it checks), with the
/// whole document still streamed to the sink.
pub struct Captured<'n> {
    names: &'n [&'n str],
    pub values: Vec<Option<Value>>,
}

impl<'n> Captured<'n> {
    pub fn new(names: &'n [&'n str]) -> Self {
        Captured {
            names,
            values: vec![None; names.len()],
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        let i = self.names.iter().position(|n| *n == name)?;
        self.values[i].as_ref()
    }
}

/// Parses `bytes` as one JSON object into `sink`, capturing the named top-level members.
pub fn parse_object(
    bytes: &[u8],
    sink: &mut impl JsonSink,
    captured: &mut Captured,
) -> Result<(), JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Seed {
        sink,
        top: Some(captured),
    };
    let result = seed.deserialize(&mut de).and_then(|_| de.end());
    result.map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with(NOT_OBJECT) {
            JsonError::NotAnObject
        } else if msg.starts_with(DUPLICATE) {
            JsonError::DuplicateKey
        } else if msg.starts_with(NUL) {
            JsonError::Nul
        } else {
            JsonError::Invalid
        }
    })
}

const NOT_OBJECT: &str = "not an object";
const DUPLICATE: &str = "duplicate key";
const NUL: &str = "NUL character";

/// One value; `top` is set only for the document itself, which must be an object.
struct Seed<'a, 'c, 'n, S> {
    sink: &'a mut S,
    top: Option<&'c mut Captured<'n>>,
}

impl<'de, S: JsonSink> DeserializeSeed<'de> for Seed<'_, '_, '_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<S> Seed<'_, '_, '_, S> {
    fn scalar<E: de::Error>(self, emit: impl FnOnce(&mut S)) -> Result<(), E> {
        if self.top.is_some() {
            return Err(E::custom(NOT_OBJECT));
        }
        emit(self.sink);
        Ok(())
    }
}

impl<'de, S: JsonSink> Visitor<'de> for Seed<'_, '_, '_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(|s| s.bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(|s| s.i64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(|s| s.u64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(|s| s.f64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if v.contains('\0') {
            return Err(E::custom(NUL));
        }
        self.scalar(|s| s.string(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(|s| s.null())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.top.is_some() {
            return Err(de::Error::custom(NOT_OBJECT));
        }
        self.sink.begin_array();
        while seq
            .next_element_seed(Seed {
                sink: &mut *self.sink,
                top: None,
            })?
            .is_some()
        {}
        self.sink.end_array();
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Seed { sink, mut top } = self;
        sink.begin_object();
        let mut seen = Keys::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if key.contains('\0') {
                return Err(de::Error::custom(NUL));
            }
            // Cloning a borrowed key is free; keys with escapes are rare.
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(DUPLICATE));
            }
            sink.key(&key);
            let slot = top
                .as_deref_mut()
                .and_then(|c| c.names.iter().position(|n| *n == key).map(|i| (c, i)));
            match slot {
                // A registered claim: kept as a value for the checks, and streamed too.
                Some((captured, i)) => {
                    let mut value = ValueSink::default();
                    map.next_value_seed(Seed {
                        sink: &mut value,
                        top: None,
                    })?;
                    let value = value.into_value().unwrap_or(Value::Null);
                    emit(&value, sink);
                    captured.values[i] = Some(value);
                }
                None => map.next_value_seed(Seed {
                    sink: &mut *sink,
                    top: None,
                })?,
            }
        }
        sink.end_object();
        Ok(())
    }
}

/// An object key, borrowed from the input unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The keys of one object so far: a short list scanned linearly (claims have a handful of keys),
/// a hash set once the object is wide, so a crafted wide object costs linear time.
#[derive(Default)]
struct Keys<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Keys<'de> {
    const LINEAR: usize = 16;

    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > Self::LINEAR {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str, names: &[&str]) -> Result<(Value, Vec<Option<Value>>), JsonError> {
        let mut sink = ValueSink::default();
        let mut captured = Captured::new(names);
        parse_object(text.as_bytes(), &mut sink, &mut captured)?;
        Ok((sink.into_value().unwrap(), captured.values))
    }

    #[test]
    fn streams_the_same_value_serde_json_parses() {
        let text = r#"{"sub":"u","n":-3,"big":18446744073709551615,"f":1.5,"e":1e3,"t":true,"z":null,
                       "a":[1,[2,{"x":"\u00e9\n"}],{}],"o":{"p":{"q":[]}},"k\"ey":"v"}"#;
        let (value, _) = parse(text, &[]).unwrap();
        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn captures_top_level_members_only() {
        let (_, got) = parse(
            r#"{"o":{"exp":1},"exp":2,"aud":["a","b"]}"#,
            &["exp", "aud", "iss"],
        )
        .unwrap();
        assert_eq!(got, vec![Some(json!(2)), Some(json!(["a", "b"])), None]);
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth_and_width() {
        assert_eq!(
            parse(r#"{"a":1,"a":2}"#, &[]).unwrap_err(),
            JsonError::DuplicateKey
        );
        // the same key once escaped
        assert_eq!(
            parse(r#"{"a":1,"\u0061":2}"#, &[]).unwrap_err(),
            JsonError::DuplicateKey
        );
        assert_eq!(
            parse(r#"{"o":[{"b":1,"b":1}]}"#, &[]).unwrap_err(),
            JsonError::DuplicateKey
        );
        assert_eq!(
            parse(r#"{"exp":1,"exp":2}"#, &["exp"]).unwrap_err(),
            JsonError::DuplicateKey
        );
        let wide: Vec<String> = (0..100).map(|i| format!("\"k{i}\":{i}")).collect();
        let ok = format!("{{{}}}", wide.join(","));
        assert!(parse(&ok, &[]).is_ok());
        let dup = format!("{{{},\"k7\":0}}", wide.join(","));
        assert_eq!(parse(&dup, &[]).unwrap_err(), JsonError::DuplicateKey);
    }

    #[test]
    fn refuses_what_is_not_one_object() {
        for text in ["[]", "1", "\"s\"", "null", "true"] {
            assert_eq!(
                parse(text, &[]).unwrap_err(),
                JsonError::NotAnObject,
                "{text}"
            );
        }
        for text in ["", "{", "{}x", "{} {}", "{\"a\":}", "{'a':1}", "{\"a\":1,}"] {
            assert_eq!(parse(text, &[]).unwrap_err(), JsonError::Invalid, "{text}");
        }
        assert_eq!(
            parse(r#"{"a":"x\u0000"}"#, &[]).unwrap_err(),
            JsonError::Nul
        );
        assert_eq!(parse(r#"{"a\u0000":1}"#, &[]).unwrap_err(), JsonError::Nul);
        assert_eq!(
            parse(r#"{"a":[{"b":"\u0000"}]}"#, &[]).unwrap_err(),
            JsonError::Nul
        );
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(1000), "]".repeat(1000));
        assert_eq!(parse(&deep, &[]).unwrap_err(), JsonError::Invalid);
    }
}
