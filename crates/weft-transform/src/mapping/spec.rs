//! The mapping part of a flow's `[transform]` table, as serde reads it.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The key under which the `toml` crate hands a date-time literal to `deserialize_any`.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// Direct field mappings: which output field takes which input field or constant, and which
/// input fields are never copied implicitly.
///
/// ```toml
/// [transform]
/// drop = ["note"]
/// [transform.fields]
/// id = "order_id"
/// amount = { from = "amount_cents", cast = "double" }
/// country = { from = "address.country", default = "ZZ" }
/// channel = { value = "api" }
/// card = { from = "card_number", mask = "keep_last_4" }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// Output field name → where its value comes from.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSource>,
    /// Top-level input fields never copied implicitly into a same-named output field.
    #[serde(default)]
    pub drop: Vec<String>,
}

/// Where one output field's value comes from: an input path (`"order_id"`, the short form,
/// or `{ from = "address.country" }`) or a constant (`{ value = "api" }`), with an optional
/// `cast` (the output type's name), `default` (used when the input is null) and `mask`
/// (`sha256`, `redact`, `keep_last_N`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSource {
    pub from: Option<String>,
    pub value: Option<Constant>,
    pub cast: Option<String>,
    pub default: Option<Constant>,
    pub mask: Option<String>,
}

impl FieldSource {
    /// A copy from an input field path (the short form).
    pub fn path(path: impl Into<String>) -> Self {
        Self {
            from: Some(path.into()),
            ..Self::default()
        }
    }

    /// A constant.
    pub fn constant(value: Constant) -> Self {
        Self {
            value: Some(value),
            ..Self::default()
        }
    }
}

/// The table form, with its keys checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldTable {
    from: Option<String>,
    value: Option<Constant>,
    cast: Option<String>,
    default: Option<Constant>,
    mask: Option<String>,
}

impl<'de> Deserialize<'de> for FieldSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;

        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = FieldSource;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an input field path (\"order_id\") or a table \
                     { from | value, cast, default, mask }",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldSource, E> {
                Ok(FieldSource::path(v))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSource, A::Error> {
                let t = FieldTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(FieldSource {
                    from: t.from,
                    value: t.value,
                    cast: t.cast,
                    default: t.default,
                    mask: t.mask,
                })
            }
        }

        deserializer.deserialize_any(SourceVisitor)
    }
}

/// A constant from the flow file (a `value` or a `default`), converted to the output field's
/// type when the mapping is compiled. A TOML date-time literal is kept as its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Array(Vec<Constant>),
    Table(BTreeMap<String, Constant>),
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x:?}"),
            Self::String(s) => f.write_str(&super::quote(s)),
            Self::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Self::Table(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, " {k} = {v}")?;
                }
                f.write_str(" }")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Constant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConstantVisitor;

        impl<'de> Visitor<'de> for ConstantVisitor {
            type Value = Constant;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a constant (string, number, boolean, date-time, array or table)")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Constant, E> {
                Ok(Constant::Null)
            }

            fn visit_none<E: de::Error>(self) -> Result<Constant, E> {
                Ok(Constant::Null)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Constant, D::Error> {
                Constant::deserialize(d)
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Constant, E> {
                Ok(Constant::Boolean(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Constant, E> {
                Ok(Constant::Integer(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Constant, E> {
                i64::try_from(v)
                    .map(Constant::Integer)
                    .map_err(|_| E::custom(format!("{v} is out of range for a long")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Constant, E> {
                Ok(Constant::Float(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Constant, E> {
                Ok(Constant::String(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Constant, E> {
                Ok(Constant::String(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Constant, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Constant::Array(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Constant, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == TOML_DATETIME_KEY && entries.is_empty() {
                        // A TOML date-time literal: keep its text.
                        let text: String = map.next_value()?;
                        return Ok(Constant::String(text));
                    }
                    let value = map.next_value()?;
                    entries.insert(key, value);
                }
                Ok(Constant::Table(entries))
            }
        }

        deserializer.deserialize_any(ConstantVisitor)
    }
}
