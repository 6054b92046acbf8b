//! Explicit casts between scalar types (`cast = "<type>"`) and masks, planned at compile time
//! as one [`CastOp`] per field and run on decoded values (the conversions are listed in the
//! `mapping` module's documentation).

use std::collections::HashMap;

use weft_schema::codec::{Kind, Logical, NodeRef, Value};

use super::quote;

pub(crate) use weft_schema::codec::json::temporal::Unit;

mod num;
mod text;

pub(crate) use num::{constant_num, num_of};
use num::{num_text, parse_num, to_num};
use text::{format_date, format_timestamp, rescale};
pub(crate) use text::{parse_date, parse_timestamp, parse_uuid};

/// A type casts convert between: a primitive, or a logical type on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Boolean,
    Int,
    Long,
    Float,
    Double,
    String,
    Bytes,
    Enum,
    /// `date` on an int.
    Date,
    /// `timestamp-*` (`local` for `local-timestamp-*`) on a long.
    Timestamp(Unit, bool),
    /// `uuid` on a string.
    Uuid,
}

/// Every name `cast` accepts (besides an enum's own name).
pub(crate) const CAST_NAMES: &[&str] = &[
    "string",
    "bytes",
    "int",
    "long",
    "float",
    "double",
    "boolean",
    "enum",
    "date",
    "timestamp-millis",
    "timestamp-micros",
    "timestamp-nanos",
    "local-timestamp-millis",
    "local-timestamp-micros",
    "local-timestamp-nanos",
    "uuid",
];

impl Scalar {
    /// The scalar a node holds, if casts can convert it.
    pub(crate) fn of(node: NodeRef<'_>) -> Option<Self> {
        use Logical as L;
        Some(match (node.kind(), node.logical()) {
            (Kind::Boolean, None) => Self::Boolean,
            (Kind::Int, None) => Self::Int,
            (Kind::Int, Some(L::Date)) => Self::Date,
            (Kind::Long, None) => Self::Long,
            (Kind::Long, Some(L::TimestampMillis)) => Self::Timestamp(Unit::Millis, false),
            (Kind::Long, Some(L::TimestampMicros)) => Self::Timestamp(Unit::Micros, false),
            (Kind::Long, Some(L::TimestampNanos)) => Self::Timestamp(Unit::Nanos, false),
            (Kind::Long, Some(L::LocalTimestampMillis)) => Self::Timestamp(Unit::Millis, true),
            (Kind::Long, Some(L::LocalTimestampMicros)) => Self::Timestamp(Unit::Micros, true),
            (Kind::Long, Some(L::LocalTimestampNanos)) => Self::Timestamp(Unit::Nanos, true),
            (Kind::Float, None) => Self::Float,
            (Kind::Double, None) => Self::Double,
            (Kind::String, None) => Self::String,
            (Kind::String, Some(L::Uuid)) => Self::Uuid,
            (Kind::Bytes, None) => Self::Bytes,
            (Kind::Enum(_), _) => Self::Enum,
            _ => return None,
        })
    }

    /// The name `cast` uses for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Int => "int",
            Self::Long => "long",
            Self::Float => "float",
            Self::Double => "double",
            Self::String => "string",
            Self::Bytes => "bytes",
            Self::Enum => "enum",
            Self::Date => "date",
            Self::Timestamp(Unit::Millis, false) => "timestamp-millis",
            Self::Timestamp(Unit::Micros, false) => "timestamp-micros",
            Self::Timestamp(Unit::Nanos, false) => "timestamp-nanos",
            Self::Timestamp(Unit::Millis, true) => "local-timestamp-millis",
            Self::Timestamp(Unit::Micros, true) => "local-timestamp-micros",
            Self::Timestamp(Unit::Nanos, true) => "local-timestamp-nanos",
            Self::Uuid => "uuid",
        }
    }

    /// Whether `cast = name` names this node's type (an enum also by its full or simple name).
    pub(crate) fn named(node: NodeRef<'_>, name: &str) -> bool {
        match Self::of(node) {
            Some(Self::Enum) => {
                name == "enum"
                    || node
                        .name()
                        .is_some_and(|n| n == name || n.rsplit('.').next() == Some(name))
            }
            Some(s) => s.name() == name,
            None => false,
        }
    }

    fn num(self) -> Option<Num> {
        match self {
            Self::Int => Some(Num::I32),
            Self::Long => Some(Num::I64),
            Self::Float => Some(Num::F32),
            Self::Double => Some(Num::F64),
            _ => None,
        }
    }
}

/// A numeric output type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Num {
    I32,
    I64,
    F32,
    F64,
}

impl Num {
    fn name(self) -> &'static str {
        match self {
            Self::I32 => "an int",
            Self::I64 => "a long",
            Self::F32 => "a float",
            Self::F64 => "a double",
        }
    }
}

/// One conversion, planned at compile time. The input is the non-null value (unions already
/// unwrapped); the output is the output branch's value (wrapped afterwards).
#[derive(Debug, Clone)]
pub(crate) enum CastOp {
    /// The value is already of the output type (`long` → `timestamp-millis`, `uuid` → `string`).
    Same,
    Num(Num),
    NumToString,
    BoolToString,
    StringToNum(Num),
    StringToBool,
    StringToBytes,
    BytesToString,
    StringToEnum(Box<EnumTarget>),
    EnumToString(Box<[String]>),
    /// Input symbol index → output symbol index (`None`: unknown there, no default).
    EnumToEnum {
        map: Box<[Option<u32>]>,
        symbols: Box<[String]>,
    },
    StringToTimestamp(Unit, bool),
    TimestampToString(Unit, bool),
    TimestampToTimestamp {
        from: Unit,
        to: Unit,
    },
    StringToDate,
    DateToString,
    StringToUuid,
}

/// An output enum, for symbols given as text.
#[derive(Debug, Clone)]
pub(crate) struct EnumTarget {
    lookup: HashMap<String, u32>,
    default: Option<u32>,
    symbols: Box<[String]>,
}

impl EnumTarget {
    pub(crate) fn new(node: NodeRef<'_>) -> Self {
        let default = match node.kind() {
            Kind::Enum(e) => e.default,
            _ => None,
        };
        let symbols: Box<[String]> = node.symbols().into();
        let lookup = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        Self {
            lookup,
            default,
            symbols,
        }
    }

    /// The symbol's index, or the default's; `strict` refuses unknown symbols even with a
    /// default (constants in the flow file).
    pub(crate) fn index(&self, symbol: &str, strict: bool) -> Result<u32, Fail> {
        match self.lookup.get(symbol) {
            Some(i) => Ok(*i),
            None => match self.default {
                Some(d) if !strict => Ok(d),
                _ => Err(Fail::cast(format!(
                    "{} is not one of {}",
                    quote(symbol),
                    symbol_list(&self.symbols)
                ))),
            },
        }
    }
}

/// Why a run-time conversion failed, before the field's context is added (boxed, so results
/// on the hot path stay small).
#[derive(Debug)]
pub(crate) struct Fail(Box<Failure>);

#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    /// The value does not have the input schema's shape.
    pub(crate) mismatch: bool,
}

impl Fail {
    #[cold]
    pub(crate) fn cast(message: String) -> Self {
        Self(Box::new(Failure {
            message,
            mismatch: false,
        }))
    }

    #[cold]
    pub(crate) fn mismatch(expected: &str, got: &Value) -> Self {
        Self::shape(format!(
            "expected {expected}, got {} (the value does not fit the input schema)",
            got.kind_name()
        ))
    }

    /// The value does not have the input schema's shape.
    #[cold]
    pub(crate) fn shape(message: String) -> Self {
        Self(Box::new(Failure {
            message,
            mismatch: true,
        }))
    }

    pub(crate) fn into_inner(self) -> Failure {
        *self.0
    }
}

/// Plans the cast from `from` to `to`, if one exists.
pub(crate) fn plan(
    from: Scalar,
    to: Scalar,
    to_node: NodeRef<'_>,
    from_node: NodeRef<'_>,
) -> Option<CastOp> {
    use Scalar as S;
    Some(match (from, to) {
        (S::Enum, S::Enum) => {
            let target = EnumTarget::new(to_node);
            let symbols: Box<[String]> = from_node.symbols().into();
            if symbols == target.symbols {
                CastOp::Same
            } else {
                let map = symbols
                    .iter()
                    .map(|s| target.lookup.get(s).copied().or(target.default))
                    .collect();
                CastOp::EnumToEnum { map, symbols }
            }
        }
        (a, b) if a == b => CastOp::Same,
        (S::Timestamp(f, _), S::Timestamp(t, _)) if f == t => CastOp::Same,
        (S::Timestamp(f, _), S::Timestamp(t, _)) => CastOp::TimestampToTimestamp { from: f, to: t },
        (a, b) if a.num().is_some() && b.num().is_some() => CastOp::Num(b.num()?),
        (a, S::String) if a.num().is_some() => CastOp::NumToString,
        (S::Boolean, S::String) => CastOp::BoolToString,
        (S::String, b) if b.num().is_some() => CastOp::StringToNum(b.num()?),
        (S::String, S::Boolean) => CastOp::StringToBool,
        (S::String, S::Bytes) => CastOp::StringToBytes,
        (S::Bytes, S::String) => CastOp::BytesToString,
        (S::String, S::Enum) => CastOp::StringToEnum(Box::new(EnumTarget::new(to_node))),
        (S::Enum, S::String) => CastOp::EnumToString(from_node.symbols().into()),
        (S::String, S::Timestamp(u, local)) => CastOp::StringToTimestamp(u, local),
        (S::Timestamp(u, local), S::String) => CastOp::TimestampToString(u, local),
        (S::Long, S::Timestamp(..)) | (S::Timestamp(..), S::Long) => CastOp::Same,
        (S::Int, S::Timestamp(..)) => CastOp::Num(Num::I64),
        (S::Timestamp(..), S::Int) => CastOp::Num(Num::I32),
        (S::String, S::Date) => CastOp::StringToDate,
        (S::Date, S::String) => CastOp::DateToString,
        (S::Int, S::Date) | (S::Date, S::Int) => CastOp::Same,
        (S::Long, S::Date) => CastOp::Num(Num::I32),
        (S::Date, S::Long) => CastOp::Num(Num::I64),
        (S::String, S::Uuid) => CastOp::StringToUuid,
        (S::Uuid, S::String) => CastOp::Same,
        _ => return None,
    })
}

impl CastOp {
    /// Converts a non-null input value.
    pub(crate) fn run(&self, v: &Value) -> Result<Value, Fail> {
        match self {
            Self::Same => Ok(v.clone()),
            Self::Num(to) => to_num(v, *to),
            Self::NumToString => num_text(v).map(Value::String),
            Self::BoolToString => match v {
                Value::Boolean(b) => Ok(Value::String(if *b { "true" } else { "false" }.into())),
                other => Err(Fail::mismatch("a boolean", other)),
            },
            Self::StringToNum(to) => {
                let s = text(v)?;
                parse_num(s, *to)
            }
            Self::StringToBool => match text(v)? {
                "true" => Ok(Value::Boolean(true)),
                "false" => Ok(Value::Boolean(false)),
                s => Err(Fail::cast(format!(
                    "{} is not a boolean (true or false)",
                    quote(s)
                ))),
            },
            Self::StringToBytes => Ok(Value::Bytes(text(v)?.as_bytes().to_vec())),
            Self::BytesToString => match v {
                Value::Bytes(b) => match std::str::from_utf8(b) {
                    Ok(s) => Ok(Value::String(s.to_owned())),
                    Err(_) => Err(Fail::cast(format!("{} bytes are not UTF-8 text", b.len()))),
                },
                other => Err(Fail::mismatch("bytes", other)),
            },
            Self::StringToEnum(target) => target.index(text(v)?, false).map(Value::Enum),
            Self::EnumToString(symbols) => match v {
                Value::Enum(i) => match symbols.get(*i as usize) {
                    Some(s) => Ok(Value::String(s.clone())),
                    None => Err(Fail::mismatch("an enum symbol", v)),
                },
                other => Err(Fail::mismatch("an enum", other)),
            },
            Self::EnumToEnum { map, symbols } => enum_to_enum(v, map, symbols),
            Self::StringToTimestamp(unit, local) => {
                parse_timestamp(text(v)?, *unit, *local).map(Value::Long)
            }
            Self::TimestampToString(unit, local) => match v {
                Value::Long(l) => format_timestamp(*l, *unit, *local).map(Value::String),
                other => Err(Fail::mismatch("a long", other)),
            },
            Self::TimestampToTimestamp { from, to } => match v {
                Value::Long(l) => rescale(*l, *from, *to).map(Value::Long),
                other => Err(Fail::mismatch("a long", other)),
            },
            Self::StringToDate => parse_date(text(v)?).map(Value::Int),
            Self::DateToString => match v {
                Value::Int(d) => format_date(*d).map(Value::String),
                other => Err(Fail::mismatch("an int", other)),
            },
            Self::StringToUuid => parse_uuid(text(v)?).map(Value::String),
        }
    }
}

/// Maps an input enum symbol to an output symbol by name.
pub(crate) fn enum_to_enum(
    v: &Value,
    map: &[Option<u32>],
    symbols: &[String],
) -> Result<Value, Fail> {
    let Value::Enum(i) = v else {
        return Err(Fail::mismatch("an enum", v));
    };
    match map.get(*i as usize) {
        Some(Some(to)) => Ok(Value::Enum(*to)),
        Some(None) => Err(Fail::cast(format!(
            "symbol {} is not in the output enum, which has no default",
            symbols.get(*i as usize).map(String::as_str).unwrap_or("?")
        ))),
        None => Err(Fail::mismatch("an enum symbol", v)),
    }
}

fn text(v: &Value) -> Result<&str, Fail> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(Fail::mismatch("a string", other)),
    }
}

fn symbol_list(symbols: &[String]) -> String {
    const LIMIT: usize = 20;
    let mut out = symbols
        .iter()
        .take(LIMIT)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if symbols.len() > LIMIT {
        out.push_str(&format!(" (and {} more)", symbols.len() - LIMIT));
    }
    out
}
