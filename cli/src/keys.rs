//! Every configuration key the binary reads, found by running the real configuration types'
//! `Deserialize` implementations against a recording deserializer (no list to keep up to date):
//! each leaf a type asks for is a key. `switchboard config keys` prints them as their
//! environment variables, with the commands that refuse to start without them; the Helm chart's
//! tests compare the chart with this list.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor, value::Error,
};

/// A key and the kind of value it takes, as a JSON schema names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The dotted path, `database.max_connections`.
    pub path: String,
    pub kind: &'static str,
}

/// The keys `T` reads under `prefix` (`""` for the top level).
pub fn of<T: DeserializeOwned>(prefix: &str) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    T::deserialize(Recorder {
        path: prefix.to_owned(),
        keys: Some(&mut keys),
    })?;
    Ok(keys)
}

/// Records the leaf it is asked for at `path`; with `keys: None` it only feeds placeholder
/// values (inside a leaf such as a socket address, which is one key however it is built).
struct Recorder<'a> {
    path: String,
    keys: Option<&'a mut Vec<Key>>,
}

impl Recorder<'_> {
    fn record(&mut self, kind: &'static str) {
        if let Some(keys) = self.keys.as_deref_mut() {
            keys.push(Key {
                path: self.path.clone(),
                kind,
            });
        }
    }

    fn child(&mut self, name: &str) -> Recorder<'_> {
        let path = if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        };
        Recorder {
            path,
            keys: self.keys.as_deref_mut(),
        }
    }

    fn silent(&self) -> Recorder<'static> {
        Recorder {
            path: self.path.clone(),
            keys: None,
        }
    }
}

macro_rules! leaf {
    ($($method:ident => $kind:literal, $visit:ident($value:expr);)*) => {
        $(fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
            self.record($kind);
            visitor.$visit($value)
        })*
    };
}

impl<'de> Deserializer<'de> for Recorder<'_> {
    type Error = Error;

    // A socket address then reads as bytes (an enum of tuples), not as text to parse.
    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        // `flatten` and untagged enums ask for anything: their keys cannot be known here.
        Err(de::Error::custom(format!(
            "{}: a type whose keys cannot be listed (flatten or untagged)",
            self.path
        )))
    }

    leaf! {
        deserialize_bool => "boolean", visit_bool(false);
        deserialize_i8 => "integer", visit_i64(0);
        deserialize_i16 => "integer", visit_i64(0);
        deserialize_i32 => "integer", visit_i64(0);
        deserialize_i64 => "integer", visit_i64(0);
        deserialize_u8 => "integer", visit_u64(0);
        deserialize_u16 => "integer", visit_u64(0);
        deserialize_u32 => "integer", visit_u64(0);
        deserialize_u64 => "integer", visit_u64(0);
        deserialize_f32 => "number", visit_f64(0.0);
        deserialize_f64 => "number", visit_f64(0.0);
        deserialize_char => "string", visit_char('x');
        deserialize_str => "string", visit_str("");
        deserialize_string => "string", visit_str("");
        deserialize_bytes => "string", visit_bytes(&[]);
        deserialize_byte_buf => "string", visit_bytes(&[]);
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        self.record("null");
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        self.record("array");
        visitor.visit_seq(Elements {
            left: 0,
            path: self.path,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        mut self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.record("array");
        visitor.visit_seq(Elements {
            left: len,
            path: self.path,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        self.record("object");
        visitor.visit_map(Fields {
            fields: &[],
            next: 0,
            parent: self.silent(),
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(Fields {
            fields,
            next: 0,
            parent: self,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // An enum is one key (a name such as `json`, or an address): its payload is not.
        self.record("string");
        let variant = variants
            .first()
            .ok_or_else(|| de::Error::custom(format!("{}: an enum without variants", self.path)))?;
        visitor.visit_enum(Variant {
            name: variant,
            inner: self.silent(),
        })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

/// A struct's fields, each value read by a recorder one level down.
struct Fields<'a> {
    fields: &'static [&'static str],
    next: usize,
    parent: Recorder<'a>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(field) = self.fields.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize((*field).into_deserializer()).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let field = self.fields[self.next];
        self.next += 1;
        seed.deserialize(self.parent.child(field))
    }
}

/// The placeholder elements of a tuple inside a leaf (none for a list).
struct Elements {
    left: usize,
    path: String,
}

impl<'de> SeqAccess<'de> for Elements {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(Recorder {
            path: self.path.clone(),
            keys: None,
        })
        .map(Some)
    }
}

struct Variant {
    name: &'static str,
    inner: Recorder<'static>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Recorder<'static>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Error> {
        let name = seed.deserialize(self.name.into_deserializer())?;
        Ok((name, self.inner))
    }
}

impl<'de> VariantAccess<'de> for Recorder<'static> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        listen: Option<std::net::SocketAddr>,
        names: Vec<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "lowercase")]
    enum Format {
        Json,
        Pretty,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        size: u32,
        ratio: f64,
        on: bool,
        format: Format,
        secret: secrecy::SecretString,
        inner: Option<Inner>,
    }

    #[test]
    fn every_leaf_is_a_key_with_its_kind() {
        let keys: Vec<_> = of::<Outer>("top")
            .unwrap()
            .into_iter()
            .map(|key| (key.path, key.kind))
            .collect();
        let expected = [
            ("top.size", "integer"),
            ("top.ratio", "number"),
            ("top.on", "boolean"),
            ("top.format", "string"),
            ("top.secret", "string"),
            ("top.inner.listen", "string"),
            ("top.inner.names", "array"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(path, kind)| ((*path).to_owned(), *kind))
            .collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn flattened_sections_are_refused_not_guessed() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Flat {
            #[serde(flatten)]
            inner: Inner,
        }
        assert!(of::<Flat>("").is_err());
    }
}
