//! VRL values back to Avro values of a schema node, strictly (a program's mistakes are
//! errors naming the field, never silent conversions).

use super::*;

/// A VRL value that does not fit the output schema: where (the field path, outermost first)
/// and why. Displays as `customer.address.country: expected a string, got an integer 7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError(Box<ConvertErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct ConvertErrorInner {
    /// Innermost first while the error travels up.
    path: Vec<PathSegment>,
    message: String,
}

impl ConvertError {
    #[cold]
    #[inline(never)]
    fn new(message: String) -> Self {
        Self(Box::new(ConvertErrorInner {
            path: Vec::new(),
            message,
        }))
    }

    #[cold]
    #[inline(never)]
    fn at(mut self, segment: PathSegment) -> Self {
        self.0.path.push(segment);
        self
    }

    /// The path segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &PathSegment> {
        self.0.path.iter().rev()
    }

    /// The field path as text (`customer.address.country`, `items[2].sku`, `tags["env"]`);
    /// empty at the top level.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for (i, segment) in self.segments().enumerate() {
            match segment {
                PathSegment::Field(name) if i == 0 => out.push_str(name),
                PathSegment::Field(name) => {
                    out.push('.');
                    out.push_str(name);
                }
                PathSegment::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
                PathSegment::Key(key) => {
                    let _ = write!(out, "[{key:?}]");
                }
            }
        }
        out
    }

    /// What was wrong (`expected a long (timestamp-millis), got a string "abc"`).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The stable code of this error, for metrics and dead-letter headers.
    pub fn code(&self) -> &'static str {
        "output_mismatch"
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.path.is_empty() {
            write!(f, "the top level: {}", self.0.message)
        } else {
            write!(f, "{}: {}", self.path(), self.0.message)
        }
    }
}

impl std::error::Error for ConvertError {}

impl Classify for ConvertError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Permanent
    }

    fn code(&self) -> ErrorCode {
        ErrorCode::SchemaMismatch
    }
}

/// The Avro value of the root record of `codec` from the VRL value a program produced.
pub fn record_from_vrl(codec: &Codec, value: &VrlValue) -> Result<Value, ConvertError> {
    from_vrl(codec, codec.root().id(), value)
}

/// The Avro value of `node` from a VRL value, strictly (see the module documentation).
pub fn from_vrl(codec: &Codec, node: NodeId, value: &VrlValue) -> Result<Value, ConvertError> {
    from(codec, codec.node(node), value, 0)
}

pub(super) fn from(
    codec: &Codec,
    node: NodeRef<'_>,
    v: &VrlValue,
    depth: u32,
) -> Result<Value, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError::new(format!(
            "values nest more than {MAX_DEPTH} levels deep"
        )));
    }
    match (node.kind(), v) {
        (Kind::Union(branches), _) => union_from(codec, node, branches, v, depth),
        (Kind::Record(r), VrlValue::Object(object)) => {
            let mut out = Vec::with_capacity(r.fields.len());
            for field in &r.fields {
                out.push(field_from(
                    codec,
                    field,
                    object.get(field.name.as_str()),
                    depth,
                )?);
            }
            Ok(Value::Record(out))
        }
        (Kind::Array(items), VrlValue::Array(values)) => {
            let items = codec.node(*items);
            let mut out = Vec::with_capacity(values.len());
            for (i, item) in values.iter().enumerate() {
                out.push(
                    from(codec, items, item, depth + 1).map_err(|e| e.at(PathSegment::Index(i)))?,
                );
            }
            Ok(Value::Array(out))
        }
        (Kind::Map(items), VrlValue::Object(object)) => {
            let items = codec.node(*items);
            let mut out = Vec::with_capacity(object.len());
            for (key, item) in object {
                let value = from(codec, items, item, depth + 1)
                    .map_err(|e| e.at(PathSegment::Key(key.to_string())))?;
                out.push((key.to_string(), value));
            }
            Ok(Value::Map(out))
        }
        _ => scalar_from(node, v).map_err(|why| {
            let mut message = format!("expected {}, got {}", expected(node), describe(v));
            if !why.is_empty() {
                message.push_str(": ");
                message.push_str(&why);
            }
            ConvertError::new(message)
        }),
    }
}

/// One record field from the object's entry: a missing or null value takes the field's
/// default (a nullable field without one takes null).
pub(super) fn field_from(
    codec: &Codec,
    field: &FieldNode,
    entry: Option<&VrlValue>,
    depth: u32,
) -> Result<Value, ConvertError> {
    let node = codec.node(field.node);
    let at = |e: ConvertError| e.at(PathSegment::Field(field.name.clone()));
    match entry {
        Some(v) if !matches!(v, VrlValue::Null) => from(codec, node, v, depth + 1).map_err(at),
        Some(_) if accepts_null(codec, node) => {
            from(codec, node, &VrlValue::Null, depth + 1).map_err(at)
        }
        _ => {
            if let Some(default) = &field.default {
                return Ok(default.clone());
            }
            if accepts_null(codec, node) {
                return from(codec, node, &VrlValue::Null, depth + 1).map_err(at);
            }
            let got = if entry.is_some() {
                "null"
            } else {
                "nothing (the field is missing)"
            };
            Err(at(ConvertError::new(format!(
                "expected {}, got {got}, and the schema gives the field no default",
                expected(node)
            ))))
        }
    }
}

pub(super) fn accepts_null(codec: &Codec, node: NodeRef<'_>) -> bool {
    match node.kind() {
        Kind::Null => true,
        Kind::Union(branches) => branches
            .iter()
            .any(|b| matches!(codec.node(*b).kind(), Kind::Null)),
        _ => false,
    }
}

pub(super) fn union_from(
    codec: &Codec,
    node: NodeRef<'_>,
    branches: &[NodeId],
    v: &VrlValue,
    depth: u32,
) -> Result<Value, ConvertError> {
    let mut first_error = None;
    for (i, b) in branches.iter().enumerate() {
        let branch = codec.node(*b);
        if !shallow_accepts(branch, v) {
            continue;
        }
        match from(codec, branch, v, depth + 1) {
            Ok(value) => return Ok(Value::Union(i as u32, Box::new(value))),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        ConvertError::new(format!("expected {}, got {}", expected(node), describe(v)))
    }))
}

/// Whether `v` has a VRL type `node` may accept (without looking inside collections).
pub(super) fn shallow_accepts(node: NodeRef<'_>, v: &VrlValue) -> bool {
    let text = matches!(v, VrlValue::Bytes(_) | VrlValue::String(_));
    match node.kind() {
        Kind::Null => matches!(v, VrlValue::Null),
        Kind::Boolean => matches!(v, VrlValue::Boolean(_)),
        Kind::Int | Kind::Long => match node.logical() {
            Some(Logical::Date) => text || matches!(v, VrlValue::Timestamp(_)),
            Some(Logical::TimeMillis | Logical::TimeMicros) | None => {
                matches!(v, VrlValue::Integer(_))
            }
            Some(_) => text || matches!(v, VrlValue::Timestamp(_) | VrlValue::Integer(_)),
        },
        Kind::Float | Kind::Double => matches!(v, VrlValue::Float(_) | VrlValue::Integer(_)),
        Kind::Bytes | Kind::Fixed { .. } => match node.logical() {
            Some(Logical::Decimal { .. } | Logical::BigDecimal) => {
                text || matches!(v, VrlValue::Integer(_) | VrlValue::Float(_))
            }
            Some(Logical::Duration) => matches!(v, VrlValue::Object(_)),
            _ => text,
        },
        Kind::String | Kind::Enum(_) => text,
        Kind::Array(_) => matches!(v, VrlValue::Array(_)),
        Kind::Map(_) | Kind::Record(_) => matches!(v, VrlValue::Object(_)),
        Kind::Union(_) => true,
    }
}

/// The text of a string-like VRL value (`None` for other values and for bytes that are not
/// UTF-8).
pub(super) fn text_of(v: &VrlValue) -> Option<&str> {
    match v {
        VrlValue::String(_) | VrlValue::Bytes(_) => v.to_str(),
        _ => None,
    }
}

pub(super) fn bytes_of(v: &VrlValue) -> Option<&[u8]> {
    match v {
        VrlValue::Bytes(b) => Some(b),
        VrlValue::String(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// A scalar (or logical) value; the error is an explanation to add after `expected X, got
/// Y` (empty when there is nothing to add).
pub(super) fn scalar_from(node: NodeRef<'_>, v: &VrlValue) -> Result<Value, String> {
    let logical = node.logical();
    match node.kind() {
        Kind::Null => match v {
            VrlValue::Null => Ok(Value::Null),
            _ => Err(String::new()),
        },
        Kind::Boolean => match v {
            VrlValue::Boolean(b) => Ok(Value::Boolean(*b)),
            _ => Err(String::new()),
        },
        Kind::Int => match logical {
            Some(Logical::Date) => date_from(v).map(Value::Int),
            Some(Logical::TimeMillis) => match v {
                VrlValue::Integer(i) if (0..86_400_000).contains(i) => Ok(Value::Int(*i as i32)),
                VrlValue::Integer(_) => {
                    Err("a time-millis is between 0 and 86399999 milliseconds".to_string())
                }
                _ => Err(String::new()),
            },
            _ => match v {
                VrlValue::Integer(i) => i32::try_from(*i)
                    .map(Value::Int)
                    .map_err(|_| "out of the 32-bit range".to_string()),
                _ => Err(String::new()),
            },
        },
        Kind::Long => match logical {
            Some(l @ (Logical::TimestampMillis | Logical::LocalTimestampMillis)) => {
                timestamp_from(v, l, |t| Some(t.timestamp_millis()))
            }
            Some(l @ (Logical::TimestampMicros | Logical::LocalTimestampMicros)) => {
                timestamp_from(v, l, |t| Some(t.timestamp_micros()))
            }
            Some(l @ (Logical::TimestampNanos | Logical::LocalTimestampNanos)) => {
                timestamp_from(v, l, |t| t.timestamp_nanos_opt())
            }
            _ => match v {
                VrlValue::Integer(i) => Ok(Value::Long(*i)),
                _ => Err(String::new()),
            },
        },
        Kind::Float => match v {
            VrlValue::Float(f) => {
                let x = f.into_inner() as f32;
                if x.is_finite() {
                    Ok(Value::Float(x))
                } else {
                    Err("out of the float range".to_string())
                }
            }
            VrlValue::Integer(i) => Ok(Value::Float(*i as f32)),
            _ => Err(String::new()),
        },
        Kind::Double => match v {
            VrlValue::Float(f) => Ok(Value::Double(f.into_inner())),
            VrlValue::Integer(i) => Ok(Value::Double(*i as f64)),
            _ => Err(String::new()),
        },
        Kind::String => match (logical, v) {
            (_, VrlValue::Bytes(_) | VrlValue::String(_)) => {
                let s = text_of(v).ok_or_else(|| "the bytes are not UTF-8".to_string())?;
                if logical == Some(Logical::Uuid) && decimal::parse_uuid(s).is_none() {
                    return Err("not a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e".into());
                }
                Ok(Value::String(s.to_string()))
            }
            _ => Err(String::new()),
        },
        Kind::Bytes => bytes_from(logical, None, v).map(Value::Bytes),
        Kind::Fixed { size } => bytes_from(logical, Some(*size), v).map(Value::Fixed),
        Kind::Enum(_) => {
            let symbol = text_of(v).ok_or_else(String::new)?;
            match node.symbol_index(symbol) {
                Some(i) => Ok(Value::Enum(i)),
                None => {
                    let symbols = node.symbols();
                    let mut list = symbols
                        .iter()
                        .take(20)
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ");
                    if symbols.len() > 20 {
                        list.push_str(", …");
                    }
                    Err(format!("not one of the symbols [{list}]"))
                }
            }
        }
        // Collections with a value of another type.
        Kind::Array(_) | Kind::Map(_) | Kind::Record(_) | Kind::Union(_) => Err(String::new()),
    }
}

pub(super) fn date_from(v: &VrlValue) -> Result<i32, String> {
    let days = match v {
        VrlValue::Timestamp(t) => t.timestamp().div_euclid(SECONDS_PER_DAY),
        VrlValue::Bytes(_) | VrlValue::String(_) => {
            let s = text_of(v).ok_or_else(String::new)?;
            let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| "not a date like 2026-01-31".to_string())?;
            date.signed_duration_since(NaiveDate::default()).num_days()
        }
        _ => return Err(String::new()),
    };
    i32::try_from(days).map_err(|_| "out of the date range".to_string())
}

pub(super) fn timestamp_from(
    v: &VrlValue,
    logical: Logical,
    unit: impl Fn(&DateTime<Utc>) -> Option<i64>,
) -> Result<Value, String> {
    let out_of_range = || format!("out of the range of a {}", logical.as_str());
    match v {
        VrlValue::Integer(i) => Ok(Value::Long(*i)),
        VrlValue::Timestamp(t) => unit(t).map(Value::Long).ok_or_else(out_of_range),
        VrlValue::Bytes(_) | VrlValue::String(_) => {
            let s = text_of(v).ok_or_else(String::new)?;
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|_| "not an RFC 3339 timestamp like 2026-01-31T12:00:00Z".to_string())?
                .with_timezone(&Utc);
            unit(&t).map(Value::Long).ok_or_else(out_of_range)
        }
        _ => Err(String::new()),
    }
}

/// `bytes` (`size` None) or a `fixed` of `size`, with their logical types.
pub(super) fn bytes_from(
    logical: Option<Logical>,
    size: Option<usize>,
    v: &VrlValue,
) -> Result<Vec<u8>, String> {
    let bytes = match (logical, v) {
        (Some(Logical::Decimal { precision, scale }), _) => {
            let d = match v {
                VrlValue::Integer(i) => decimal::from_i64(*i),
                VrlValue::Float(f) => decimal::from_f64(f.into_inner()).ok_or_else(String::new)?,
                VrlValue::Bytes(_) | VrlValue::String(_) => text_of(v)
                    .and_then(decimal::parse)
                    .ok_or_else(|| "not a decimal number like 12.34".to_string())?,
                _ => return Err(String::new()),
            };
            let (negative, digits) = decimal::rescale(&d, precision, scale)
                .map_err(|e| format!("it needs {} digits, more than the precision", e.0))?;
            let bytes = decimal::to_twos_complement(negative, &digits);
            match size {
                Some(size) => decimal::sign_extend(bytes, size)
                    .ok_or_else(|| format!("it does not fit in {size} bytes"))?,
                None => bytes,
            }
        }
        (Some(Logical::BigDecimal), _) if size.is_none() => {
            let d = match v {
                VrlValue::Integer(i) => decimal::from_i64(*i),
                VrlValue::Float(f) => decimal::from_f64(f.into_inner()).ok_or_else(String::new)?,
                VrlValue::Bytes(_) | VrlValue::String(_) => text_of(v)
                    .and_then(decimal::parse)
                    .ok_or_else(|| "not a decimal number like 12.34".to_string())?,
                _ => return Err(String::new()),
            };
            decimal::big_decimal_bytes(&d).map_err(|e| {
                format!(
                    "it needs {} digits, more than the limit of {}",
                    e.0,
                    decimal::MAX_DIGITS
                )
            })?
        }
        (Some(Logical::Uuid), VrlValue::Bytes(_) | VrlValue::String(_))
            if size.is_none_or(|n| n == 16) =>
        {
            let s = text_of(v).ok_or_else(String::new)?;
            decimal::parse_uuid(s)
                .ok_or_else(|| "not a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e".to_string())?
                .to_vec()
        }
        (Some(Logical::Duration), VrlValue::Object(object)) if size == Some(12) => {
            let mut out = Vec::with_capacity(12);
            for part in ["months", "days", "milliseconds"] {
                let n = match object.get(part) {
                    None | Some(VrlValue::Null) => 0,
                    Some(VrlValue::Integer(i)) => u32::try_from(*i)
                        .map_err(|_| format!("{part} {i} is not between 0 and 4294967295"))?,
                    Some(other) => {
                        return Err(format!("{part} is {}, not an integer", describe(other)))
                    }
                };
                out.extend_from_slice(&n.to_le_bytes());
            }
            out
        }
        (_, VrlValue::Bytes(_) | VrlValue::String(_)) => {
            bytes_of(v).map(<[u8]>::to_vec).ok_or_else(String::new)?
        }
        _ => return Err(String::new()),
    };
    match size {
        Some(size) if bytes.len() != size => Err(format!(
            "a fixed of {size} bytes cannot hold {} bytes",
            bytes.len()
        )),
        _ => Ok(bytes),
    }
}

/// A VRL value for messages: `a string "abc"`, `an integer 42`, `an object`.
pub(crate) fn describe(v: &VrlValue) -> String {
    match v {
        VrlValue::Bytes(_) | VrlValue::String(_) => match text_of(v) {
            Some(s) => format!("a string {}", quote(s)),
            None => format!(
                "bytes ({} bytes, not UTF-8)",
                bytes_of(v).map_or(0, <[u8]>::len)
            ),
        },
        VrlValue::Regex(_) => "a regex".to_string(),
        VrlValue::Integer(i) => format!("an integer {i}"),
        VrlValue::Float(f) => format!("a float {f}"),
        VrlValue::Boolean(b) => format!("a boolean {b}"),
        VrlValue::Timestamp(t) => format!("a timestamp {}", t.to_rfc3339()),
        VrlValue::Object(_) => "an object".to_string(),
        VrlValue::Array(_) => "an array".to_string(),
        VrlValue::Null => "null".to_string(),
    }
}

/// A string in double quotes, cut after 40 characters.
pub(super) fn quote(s: &str) -> String {
    const LIMIT: usize = 40;
    match s.char_indices().nth(LIMIT) {
        None => format!("{s:?}"),
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
    }
}
