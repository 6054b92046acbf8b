//! JSON → values of one compiled schema, following the conventions of [`super`].

use base64::Engine as _;
use serde_json::{Map, Value as Json};

use super::temporal::{self, Unit};
use super::{
    branch_label, branch_named, decimal, expected, integer, may_fit, parse_uuid, quote, shown,
    special_float, timestamp, JsonError, JsonErrorKind, JsonOptions, BASE64, DURATION_FIELDS,
};
use crate::codec::error::PathSegment;
use crate::codec::read::MAX_DEPTH;
use crate::codec::schema::{Kind, Logical, Node, NodeId};
use crate::codec::value::Value;

/// JSON → values of one compiled schema.
pub(super) struct FromJson<'a> {
    pub(super) nodes: &'a [Node],
    pub(super) opts: JsonOptions,
}

impl FromJson<'_> {
    #[cold]
    fn wrong_type(&self, node: &Node, json: &Json) -> JsonError {
        JsonError::new(JsonErrorKind::WrongType {
            expected: expected(self.nodes, node),
            got: shown(json),
        })
    }

    pub(super) fn value(&self, id: NodeId, json: &Json, depth: u32) -> Result<Value, JsonError> {
        let node = &self.nodes[id as usize];
        Ok(match (&node.kind, json) {
            (Kind::Null, Json::Null) => Value::Null,
            (Kind::Boolean, Json::Bool(b)) => Value::Boolean(*b),
            (Kind::Int, _) => Value::Int(self.int(node, json)?),
            (Kind::Long, _) => Value::Long(self.long(node, json)?),
            (Kind::Float, _) => {
                let d = self.double(node, json)?;
                let f = d as f32;
                if d.is_finite() && !f.is_finite() {
                    return Err(JsonError::new(JsonErrorKind::OutOfRange(format!(
                        "{} is out of range for a float",
                        shown(json)
                    ))));
                }
                Value::Float(f)
            }
            (Kind::Double, _) => Value::Double(self.double(node, json)?),
            (Kind::String, Json::String(s)) => match node.logical {
                Some(Logical::Uuid) => {
                    if parse_uuid(s).is_none() {
                        return Err(bad_uuid(s));
                    }
                    Value::String(s.to_ascii_lowercase())
                }
                _ => Value::String(s.clone()),
            },
            (Kind::Bytes, _) => Value::Bytes(self.bytes(node, json, None)?),
            (Kind::Fixed { size }, _) => Value::Fixed(self.bytes(node, json, Some(*size))?),
            (Kind::Enum(e), Json::String(s)) => match e.lookup.get(s.as_str()) {
                Some(i) => Value::Enum(*i),
                None => {
                    return Err(JsonError::new(JsonErrorKind::BadEnumSymbol {
                        symbol: s.clone(),
                        symbols: e.symbols.clone(),
                    }))
                }
            },
            (Kind::Array(_) | Kind::Map(_) | Kind::Record(_) | Kind::Union(_), _) => {
                return self.nested(node, json, depth)
            }
            _ => return Err(self.wrong_type(node, json)),
        })
    }

    fn int(&self, node: &Node, json: &Json) -> Result<i32, JsonError> {
        match (node.logical, json) {
            (Some(Logical::Date), Json::String(s)) => {
                temporal::parse_date(s).map_err(JsonError::new)
            }
            (Some(Logical::TimeMillis), Json::String(s)) => {
                let v = temporal::parse_time_of_day(s, Unit::Millis).map_err(JsonError::new)?;
                // Within one day: always an int.
                Ok(v as i32)
            }
            (_, Json::Number(n)) => match integer(n) {
                Some(i) => i32::try_from(i)
                    .map_err(|_| out_of_range(json, "an int", i32::MIN.into(), i32::MAX.into())),
                None => Err(self.wrong_type(node, json)),
            },
            _ => Err(self.wrong_type(node, json)),
        }
    }

    fn long(&self, node: &Node, json: &Json) -> Result<i64, JsonError> {
        match (node.logical, json) {
            (Some(Logical::TimeMicros), Json::String(s)) => {
                temporal::parse_time_of_day(s, Unit::Micros).map_err(JsonError::new)
            }
            (Some(l), Json::String(s)) if timestamp(l).is_some() => {
                let (unit, local) = timestamp(l).unwrap_or((Unit::Millis, false));
                temporal::parse_timestamp(s, unit, local).map_err(JsonError::new)
            }
            (_, Json::Number(n)) => match integer(n) {
                Some(i) => {
                    i64::try_from(i).map_err(|_| out_of_range(json, "a long", i64::MIN, i64::MAX))
                }
                None => Err(self.wrong_type(node, json)),
            },
            _ => Err(self.wrong_type(node, json)),
        }
    }

    fn double(&self, node: &Node, json: &Json) -> Result<f64, JsonError> {
        let d = match json {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => special_float(s),
            _ => None,
        };
        d.ok_or_else(|| self.wrong_type(node, json))
    }

    /// `bytes` (`size` None) and `fixed` values with their logical types.
    fn bytes(&self, node: &Node, json: &Json, size: Option<usize>) -> Result<Vec<u8>, JsonError> {
        match (node.logical, json) {
            (Some(Logical::Decimal { precision, scale }), Json::String(_) | Json::Number(_)) => {
                let parsed = parse_decimal(json)?;
                let digits = decimal::rescale(&parsed, precision, scale)
                    .map_err(|e| decimal_unfit(json, e, precision, scale))?;
                let bytes = decimal::to_twos_complement(parsed.negative, &digits);
                match size {
                    None => Ok(bytes),
                    Some(size) => decimal::sign_extend(bytes, size).ok_or_else(|| {
                        JsonError::new(JsonErrorKind::OutOfRange(format!(
                            "{} does not fit {}",
                            shown(json),
                            node.describe(self.nodes)
                        )))
                    }),
                }
            }
            (Some(Logical::BigDecimal), Json::String(_) | Json::Number(_)) if size.is_none() => {
                let parsed = parse_decimal(json)?;
                decimal::big_decimal_bytes(&parsed)
                    .map_err(|e| decimal_unfit(json, e, decimal::MAX_DIGITS, usize::MAX))
            }
            (Some(Logical::Uuid), Json::String(s)) if size.is_none_or(|n| n == 16) => {
                parse_uuid(s).map(|b| b.to_vec()).ok_or_else(|| bad_uuid(s))
            }
            (Some(Logical::Duration), Json::Object(obj)) if size == Some(12) => self.duration(obj),
            (Some(Logical::Duration), _) => Err(self.wrong_type(node, json)),
            (_, Json::String(s)) => {
                let b = BASE64.decode(s).map_err(|e| {
                    JsonError::new(JsonErrorKind::BadFormat(format!(
                        "{} is not base64 ({e})",
                        quote(s)
                    )))
                })?;
                match size {
                    Some(size) if b.len() != size => {
                        Err(JsonError::new(JsonErrorKind::BadFormat(format!(
                            "{} is base64 for {} bytes, but {} has {size}",
                            quote(s),
                            b.len(),
                            node.name.as_deref().unwrap_or("the fixed")
                        ))))
                    }
                    _ => Ok(b),
                }
            }
            _ => Err(self.wrong_type(node, json)),
        }
    }

    fn duration(&self, obj: &Map<String, Json>) -> Result<Vec<u8>, JsonError> {
        let mut out = Vec::with_capacity(12);
        for name in DURATION_FIELDS {
            let Some(j) = obj.get(name) else {
                return Err(JsonError::new(JsonErrorKind::MissingField {
                    field: name.to_string(),
                }));
            };
            let not_u32 = || {
                JsonError::new(JsonErrorKind::WrongType {
                    expected: "an unsigned 32-bit integer".into(),
                    got: shown(j),
                })
            };
            let v = match j {
                Json::Number(n) => match integer(n) {
                    Some(i) => u32::try_from(i)
                        .map_err(|_| out_of_range(j, "a duration part", 0, u32::MAX.into())),
                    None => Err(not_u32()),
                },
                _ => Err(not_u32()),
            }
            .map_err(|e| e.in_field(name))?;
            out.extend_from_slice(&v.to_le_bytes());
        }
        if !self.opts.allow_unknown_fields {
            if let Some(k) = obj.keys().find(|k| !DURATION_FIELDS.contains(&k.as_str())) {
                return Err(JsonError::new(JsonErrorKind::UnknownField).in_field(k));
            }
        }
        Ok(out)
    }

    #[inline(never)]
    fn nested(&self, node: &Node, json: &Json, depth: u32) -> Result<Value, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(JsonError::new(JsonErrorKind::TooDeep(MAX_DEPTH)));
        }
        let depth = depth + 1;
        Ok(match (&node.kind, json) {
            (Kind::Union(branches), _) => return self.union(branches, json, depth),
            (Kind::Array(item), Json::Array(items)) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, j)| {
                        self.value(*item, j, depth)
                            .map_err(|e| e.at(PathSegment::Index(i)))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (Kind::Map(values), Json::Object(entries)) => Value::Map(
                entries
                    .iter()
                    .map(|(k, j)| match self.value(*values, j, depth) {
                        Ok(v) => Ok((k.clone(), v)),
                        Err(e) => Err(e.at(PathSegment::Key(k.clone()))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (Kind::Record(rec), Json::Object(obj)) => {
                let mut fields = Vec::with_capacity(rec.fields.len());
                let mut found = 0usize;
                for f in &rec.fields {
                    match obj.get(&f.name) {
                        Some(j) => {
                            found += 1;
                            fields.push(
                                self.value(f.node, j, depth)
                                    .map_err(|e| e.in_field(&f.name))?,
                            );
                        }
                        None => match &f.default {
                            Some(d) if self.opts.fill_defaults => fields.push(d.clone()),
                            _ => {
                                return Err(JsonError::new(JsonErrorKind::MissingField {
                                    field: f.name.clone(),
                                }))
                            }
                        },
                    }
                }
                if found < obj.len() && !self.opts.allow_unknown_fields {
                    if let Some(k) = obj.keys().find(|k| !rec.lookup.contains_key(k.as_str())) {
                        return Err(JsonError::new(JsonErrorKind::UnknownField).in_field(k));
                    }
                }
                Value::Record(fields)
            }
            _ => return Err(self.wrong_type(node, json)),
        })
    }

    /// The one-key object `{"<branch name>": value}`, read as that branch when it converts:
    /// `Some(Ok)` when it does, `Some(Err)` when the key names a branch but the value does not
    /// fit it, `None` when the JSON is not such an object.
    pub(super) fn wrapped(
        &self,
        branches: &[NodeId],
        json: &Json,
        depth: u32,
    ) -> Option<Result<Value, JsonError>> {
        let Json::Object(obj) = json else {
            return None;
        };
        if obj.len() != 1 {
            return None;
        }
        let (key, inner) = obj.iter().next()?;
        let b = branch_named(self.nodes, branches, key)?;
        Some(
            self.value(branches[b], inner, depth)
                .map(|v| Value::Union(b as u32, Box::new(v))),
        )
    }

    fn union(&self, branches: &[NodeId], json: &Json, depth: u32) -> Result<Value, JsonError> {
        let no_branch = || {
            JsonError::new(JsonErrorKind::NoUnionBranch {
                branches: branches
                    .iter()
                    .map(|b| branch_label(&self.nodes[*b as usize]))
                    .collect(),
                got: shown(json),
            })
        };
        if json.is_null() {
            return branches
                .iter()
                .position(|b| matches!(self.nodes[*b as usize].kind, Kind::Null))
                .map(|b| Value::Union(b as u32, Box::new(Value::Null)))
                .ok_or_else(no_branch);
        }
        let wrapper_error = match self.wrapped(branches, json, depth) {
            Some(Ok(v)) => return Ok(v),
            Some(Err(e)) => Some(e),
            None => None,
        };
        let mut candidates = 0usize;
        let mut first_error = None;
        for (i, b) in branches.iter().enumerate() {
            if !may_fit(&self.nodes[*b as usize], json) {
                continue;
            }
            candidates += 1;
            match self.value(*b, json, depth) {
                Ok(v) => return Ok(Value::Union(i as u32, Box::new(v))),
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
        if let Some(e) = wrapper_error {
            return Err(e);
        }
        // The only branch of the JSON's kind failed inside (a record's field, a bad
        // timestamp): its own error says more than the list of branches.
        match first_error {
            Some(e)
                if candidates == 1
                    && !(e.path().is_empty()
                        && matches!(e.kind(), JsonErrorKind::WrongType { .. })) =>
            {
                Err(e)
            }
            _ => Err(no_branch()),
        }
    }
}

#[cold]
pub(super) fn out_of_range(json: &Json, what: &str, min: i64, max: i64) -> JsonError {
    JsonError::new(JsonErrorKind::OutOfRange(format!(
        "{} is out of range for {what} ({min} to {max})",
        shown(json)
    )))
}

#[cold]
pub(super) fn bad_uuid(s: &str) -> JsonError {
    JsonError::new(JsonErrorKind::BadFormat(format!(
        "{} is not a UUID like 123e4567-e89b-12d3-a456-426614174000",
        quote(s)
    )))
}

/// A decimal's JSON (a string, or a number through its shortest decimal text).
pub(super) fn parse_decimal(json: &Json) -> Result<decimal::Parsed, JsonError> {
    let parsed = match json {
        Json::String(s) => decimal::parse(s),
        Json::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => decimal::parse(&f.to_string()),
            _ => decimal::parse(&n.to_string()),
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        JsonError::new(JsonErrorKind::BadFormat(format!(
            "{} is not a decimal number like 12.34",
            shown(json)
        )))
    })
}

#[cold]
pub(super) fn decimal_unfit(
    json: &Json,
    e: decimal::Unfit,
    precision: usize,
    scale: usize,
) -> JsonError {
    JsonError::new(JsonErrorKind::OutOfRange(match e {
        decimal::Unfit::Scale => format!(
            "{} has more fractional digits than the scale {scale} allows",
            shown(json)
        ),
        decimal::Unfit::Precision(n) => format!(
            "{} has {n} significant digits at scale {scale}, more than the precision {precision}",
            shown(json)
        ),
    }))
}
