//! One YAML document into a JSON value, as `serde_json::Value` would read it,
//! except that a mapping with the same key twice is refused (the JSON
//! endpoints refuse it too), naming the key and where its mapping is.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// The place of a value in its document, e.g. `spec.objectives[0]`.
#[derive(Clone, Copy)]
enum Place<'a> {
    Root,
    Key(&'a Place<'a>, &'a str),
    Index(&'a Place<'a>, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Root => Ok(()),
            Place::Key(Place::Root, key) => write!(f, "{key}"),
            Place::Key(parent, key) => write!(f, "{parent}.{key}"),
            Place::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A duplicate key found: the mapping's place and the key.
pub(super) type Duplicate = RefCell<Option<(String, String)>>;

/// Reads one document; on a duplicate key the error is the parser's (with
/// its position) and `duplicate` says which key, in which mapping.
pub(super) fn document_value<'de, D: de::Deserializer<'de>>(
    document: D,
    duplicate: &Duplicate,
) -> Result<Value, D::Error> {
    Strict {
        place: Place::Root,
        duplicate,
    }
    .deserialize(document)
}

struct Strict<'a> {
    place: Place<'a>,
    duplicate: &'a Duplicate,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let item = Strict {
                place: Place::Index(&self.place, out.len()),
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(item)? {
                Some(value) => out.push(value),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let message = format!("duplicate key `{key}`");
                *self.duplicate.borrow_mut() = Some((self.place.to_string(), key));
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(Strict {
                place: Place::Key(&self.place, &key),
                duplicate: self.duplicate,
            })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        text: &str,
    ) -> (
        Result<Value, serde_yaml_ng::Error>,
        Option<(String, String)>,
    ) {
        let duplicate = Duplicate::default();
        let value = document_value(serde_yaml_ng::Deserializer::from_str(text), &duplicate);
        (value, duplicate.take())
    }

    #[test]
    fn values_are_read_as_serde_json_reads_them() {
        let text = "a: 1\nb: [true, 2.5, ~, text]\nc: {d: -3}\n";
        let expected: Value = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(read(text).0.unwrap(), expected);
    }

    #[test]
    fn a_duplicate_key_is_refused_with_its_mapping_and_line() {
        let (value, duplicate) =
            read("spec:\n  objectives:\n    - target: 0.9\n      target: 0.99\n");
        let err = value.unwrap_err();
        assert_eq!(
            duplicate,
            Some(("spec.objectives[0]".into(), "target".into()))
        );
        assert_eq!(
            err.location().map(|l| l.line()),
            Some(3),
            "the mapping's line: {err}"
        );
        let (_, top) = read("a: 1\na: 2\n");
        assert_eq!(top, Some((String::new(), "a".into())));
    }
}
