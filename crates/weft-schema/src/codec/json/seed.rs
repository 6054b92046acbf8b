//! A fast path for [`Codec::from_json_raw`]: JSON text deserialized straight into a [`Value`]
//! by the compiled schema (a `serde` seed over `serde_json::Deserializer`), with no
//! `serde_json::Value` tree in between. Unions and durations (rarer) are read as a small
//! `serde_json::Value` and handed to [`FromJson`]; scalars of unusual forms go through the same
//! code as [`Codec::from_json`]. On any failure the text is parsed into a tree and
//! [`Codec::from_json`] decides, so errors are exactly its errors.

use std::fmt;
use std::sync::LazyLock;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value as Json};

use super::super::read::MAX_DEPTH;
use super::super::schema::{Kind, Logical, Node, NodeId};
use super::super::value::Value;
use super::super::Codec;
use super::{temporal, timestamp, FromJson, JsonError, JsonErrorKind, JsonOptions};

/// serde_json's own nesting limit when it builds a tree.
const SERDE_JSON_DEPTH: u32 = 128;

/// Whether `serde_json::Map` iterates in key order (a `BTreeMap`, without the
/// `preserve_order` feature), as [`Codec::from_json`] then reads map entries.
static SORTED_MAPS: LazyLock<bool> = LazyLock::new(|| {
    let mut m = Map::new();
    m.insert("b".into(), Json::Null);
    m.insert("a".into(), Json::Null);
    m.keys().next().map(String::as_str) == Some("a")
});

// How many reads fell back to the tree on this thread (tests check valid JSON does not).
#[cfg(test)]
thread_local! {
    pub(super) static FALLBACKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The fast path gave up; the reason does not matter (the slow path gives it).
fn give_up<E: de::Error>() -> E {
    E::custom("fast path")
}

impl Codec {
    /// [`Codec::from_json`] for JSON text: the same value and the same errors, without
    /// building a `serde_json::Value` tree for values that fit the schema (invalid ones are
    /// parsed into a tree and refused by [`Codec::from_json`]). `json` is one JSON value, as
    /// `serde_json::from_slice::<Vec<&RawValue>>` gives for each event of a batch.
    ///
    /// A value serde_json cannot build a tree of — nested more than 128 levels, or a number
    /// beyond a double's range — is refused with an empty path (`too_deep`, `out_of_range`).
    pub fn from_json_raw(&self, json: &RawValue, opts: &JsonOptions) -> Result<Value, JsonError> {
        let reader = FromJson {
            nodes: self.nodes(),
            opts: *opts,
        };
        let mut de = serde_json::Deserializer::from_str(json.get());
        let seed = Seed {
            r: &reader,
            id: self.root_id(),
            depth: 0,
        };
        if let Ok(v) = seed.deserialize(&mut de) {
            if de.end().is_ok() {
                return Ok(v);
            }
        }
        self.read_through_tree(json.get(), opts)
    }

    #[cold]
    #[inline(never)]
    fn read_through_tree(&self, text: &str, opts: &JsonOptions) -> Result<Value, JsonError> {
        #[cfg(test)]
        FALLBACKS.with(|n| n.set(n.get() + 1));
        match serde_json::from_str::<Json>(text) {
            Ok(tree) => self.from_json(&tree, opts),
            Err(e) if e.to_string().contains("recursion limit") => {
                Err(JsonError::new(JsonErrorKind::TooDeep(SERDE_JSON_DEPTH)))
            }
            Err(e) => Err(JsonError::new(JsonErrorKind::OutOfRange(format!(
                "not readable as JSON: {e}"
            )))),
        }
    }
}

/// One value of node `id` at nesting `depth` (as [`FromJson::value`] counts it).
struct Seed<'r, 'a> {
    r: &'r FromJson<'a>,
    id: NodeId,
    depth: u32,
}

impl Seed<'_, '_> {
    fn node(&self) -> &Node {
        &self.r.nodes[self.id as usize]
    }

    /// A scalar through the tree reader (exactly its conversion).
    fn by_tree<E: de::Error>(&self, json: &Json) -> Result<Value, E> {
        self.r
            .value(self.id, json, self.depth)
            .map_err(|_| give_up())
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let node = self.node();
        let nested = matches!(
            node.kind,
            Kind::Array(_) | Kind::Map(_) | Kind::Record(_) | Kind::Union(_)
        );
        if nested && self.depth >= MAX_DEPTH {
            return Err(give_up());
        }
        match &node.kind {
            Kind::Record(_) | Kind::Map(_) => d.deserialize_map(self),
            Kind::Array(_) => d.deserialize_seq(self),
            Kind::Union(_) => {
                let json = Json::deserialize(d)?;
                self.by_tree(&json)
            }
            Kind::Fixed { .. } if node.logical == Some(Logical::Duration) => {
                let json = Json::deserialize(d)?;
                self.by_tree(&json)
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value of the schema")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.by_tree(&Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.by_tree(&Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        match self.node().kind {
            Kind::Long if self.node().logical.is_none() => Ok(Value::Long(v)),
            _ => self.by_tree(&Json::Number(v.into())),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        match self.node().kind {
            Kind::Long if self.node().logical.is_none() => {
                i64::try_from(v).map(Value::Long).map_err(|_| give_up())
            }
            _ => self.by_tree(&Json::Number(v.into())),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match self.node().kind {
            Kind::Double => Ok(Value::Double(v)),
            _ => match Number::from_f64(v) {
                Some(n) => self.by_tree(&Json::Number(n)),
                None => Err(give_up()),
            },
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        let node = self.node();
        match (&node.kind, node.logical) {
            (Kind::String, None) => Ok(Value::String(s.to_owned())),
            (Kind::Enum(e), _) => e.lookup.get(s).map(|i| Value::Enum(*i)).ok_or_else(give_up),
            (Kind::Long, Some(l)) if timestamp(l).is_some() => {
                let (unit, local) = timestamp(l).ok_or_else(give_up)?;
                temporal::parse_timestamp(s, unit, local)
                    .map(Value::Long)
                    .map_err(|_| give_up())
            }
            _ => self.by_tree(&Json::String(s.to_owned())),
        }
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        let node = self.node();
        match (&node.kind, node.logical) {
            (Kind::String, None) => Ok(Value::String(s)),
            _ => self.visit_str(&s),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Kind::Array(item) = self.node().kind else {
            return Err(give_up());
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(Seed {
            r: self.r,
            id: item,
            depth: self.depth + 1,
        })? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match &self.node().kind {
            Kind::Record(rec) => {
                let mut slots: Vec<Option<Value>> = vec![None; rec.fields.len()];
                while let Some(key) = map.next_key_seed(FieldKey(&rec.lookup))? {
                    match key {
                        Some(i) => {
                            let f = &rec.fields[i];
                            let v = map.next_value_seed(Seed {
                                r: self.r,
                                id: f.node,
                                depth: self.depth + 1,
                            })?;
                            if slots[i].replace(v).is_some() {
                                // A repeated key: the tree keeps the last; leave it to it.
                                return Err(give_up());
                            }
                        }
                        None if self.r.opts.allow_unknown_fields => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        None => return Err(give_up()),
                    }
                }
                let mut fields = Vec::with_capacity(rec.fields.len());
                for (slot, f) in slots.into_iter().zip(&rec.fields) {
                    match (slot, &f.default) {
                        (Some(v), _) => fields.push(v),
                        (None, Some(d)) if self.r.opts.fill_defaults => fields.push(d.clone()),
                        (None, _) => return Err(give_up()),
                    }
                }
                Ok(Value::Record(fields))
            }
            Kind::Map(values) => {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value_seed(Seed {
                        r: self.r,
                        id: *values,
                        depth: self.depth + 1,
                    })?;
                    entries.push((k, v));
                }
                if *SORTED_MAPS {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    if entries.windows(2).any(|w| w[0].0 == w[1].0) {
                        return Err(give_up());
                    }
                } else {
                    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                    keys.sort_unstable();
                    if keys.windows(2).any(|w| w[0] == w[1]) {
                        return Err(give_up());
                    }
                }
                Ok(Value::Map(entries))
            }
            _ => Err(give_up()),
        }
    }
}

/// A record's key, as the index of the field it names (`None`: no such field).
struct FieldKey<'a>(&'a std::collections::HashMap<String, usize>);

impl<'de> DeserializeSeed<'de> for FieldKey<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldKey<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<usize>, E> {
        Ok(self.0.get(s).copied())
    }
}
