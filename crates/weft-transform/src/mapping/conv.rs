//! Copies without a cast: the input type must be the output type or promote to it by Avro's
//! resolution rules (listed in the `mapping` module's documentation), planned once into a
//! [`Conv`] tree and run on decoded values.

use std::collections::HashSet;

use weft_schema::codec::{Codec, Kind, NodeId, NodeRef, Value};

use super::cast::{enum_to_enum, Fail};

/// Deepest nesting a conversion plan follows (recursive types that differ stop here).
const MAX_PLAN_DEPTH: u32 = 32;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Promotion {
    IntToLong,
    IntToFloat,
    IntToDouble,
    LongToFloat,
    LongToDouble,
    FloatToDouble,
    StringToBytes,
    BytesToString,
}

/// A value conversion from an input type to an output type.
#[derive(Debug, Clone)]
pub(crate) enum Conv {
    /// Same shape: the value is cloned.
    Clone,
    Promote(Promotion),
    /// Input symbol index → output symbol index (`None`: unknown there and no default).
    Enum {
        map: Box<[Option<u32>]>,
        symbols: Box<[String]>,
    },
    /// One entry per output field, in output order.
    Record(Box<[RecordField]>),
    Array(Box<Conv>),
    Map(Box<Conv>),
    /// An input union: one conversion per input branch.
    FromUnion(Box<[Conv]>),
    /// A non-union input into output union branch `.0`.
    ToUnion(u32, Box<Conv>),
    /// The null branch of a field's input union, which the field handles before converting.
    NullHandled,
}

#[derive(Debug, Clone)]
pub(crate) enum RecordField {
    Take(usize, Conv),
    Default(Value),
}

/// Plans conversions between two compiled schemas.
pub(crate) struct Planner<'c> {
    pub(crate) input: &'c Codec,
    pub(crate) output: &'c Codec,
}

impl<'c> Planner<'c> {
    pub(crate) fn new(input: &'c Codec, output: &'c Codec) -> Self {
        Self { input, output }
    }

    fn i(&self, id: NodeId) -> NodeRef<'c> {
        self.input.node(id)
    }

    fn o(&self, id: NodeId) -> NodeRef<'c> {
        self.output.node(id)
    }

    /// Whether values of input node `i` are values of output node `o` as they are.
    pub(crate) fn same_shape(&self, i: NodeId, o: NodeId) -> bool {
        let mut seen = HashSet::new();
        self.same_shape_in(i, o, &mut seen)
    }

    fn same_shape_in(&self, i: NodeId, o: NodeId, seen: &mut HashSet<(NodeId, NodeId)>) -> bool {
        let (a, b) = (self.i(i), self.o(o));
        if b.logical().is_some() && a.logical() != b.logical() {
            return false;
        }
        match (a.kind(), b.kind()) {
            (Kind::Null, Kind::Null)
            | (Kind::Boolean, Kind::Boolean)
            | (Kind::Int, Kind::Int)
            | (Kind::Long, Kind::Long)
            | (Kind::Float, Kind::Float)
            | (Kind::Double, Kind::Double)
            | (Kind::Bytes, Kind::Bytes)
            | (Kind::String, Kind::String) => true,
            (Kind::Fixed { size: x }, Kind::Fixed { size: y }) => x == y,
            (Kind::Enum(x), Kind::Enum(y)) => x.symbols == y.symbols,
            (Kind::Array(x), Kind::Array(y)) | (Kind::Map(x), Kind::Map(y)) => {
                self.same_shape_in(*x, *y, seen)
            }
            (Kind::Union(x), Kind::Union(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|(p, q)| self.same_shape_in(*p, *q, seen))
            }
            (Kind::Record(x), Kind::Record(y)) => {
                // A pair already being compared is assumed equal: any difference found below
                // it makes the whole comparison false anyway.
                if !seen.insert((i, o)) {
                    return true;
                }
                x.fields.len() == y.fields.len()
                    && x.fields
                        .iter()
                        .zip(y.fields.iter())
                        .all(|(p, q)| p.name == q.name && self.same_shape_in(p.node, q.node, seen))
            }
            _ => false,
        }
    }

    /// The conversion for a field's top-level value: like [`plan`](Self::plan), but the null
    /// branch of an input union is left to the field (default, null or error).
    pub(crate) fn plan_field(&self, i: NodeId, o: NodeId) -> Result<Conv, String> {
        if self.same_shape(i, o) {
            return Ok(Conv::Clone);
        }
        match self.i(i).kind() {
            Kind::Union(branches) => {
                let mut convs = Vec::with_capacity(branches.len());
                for b in branches {
                    if matches!(self.i(*b).kind(), Kind::Null) {
                        convs.push(Conv::NullHandled);
                    } else {
                        convs.push(self.plan(*b, o, 0)?);
                    }
                }
                Ok(Conv::FromUnion(convs.into()))
            }
            _ => self.plan(i, o, 0),
        }
    }

    /// The conversion from input node `i` to output node `o`, or why there is none.
    pub(crate) fn plan(&self, i: NodeId, o: NodeId, depth: u32) -> Result<Conv, String> {
        use Promotion as P;
        if self.same_shape(i, o) {
            return Ok(Conv::Clone);
        }
        let (a, b) = (self.i(i), self.o(o));
        let refuse = || {
            Err(format!(
                "{} does not convert to {}",
                a.describe(),
                b.describe()
            ))
        };
        if depth > MAX_PLAN_DEPTH {
            return Err(format!(
                "types nest more than {MAX_PLAN_DEPTH} levels deep before they agree"
            ));
        }
        let depth = depth + 1;
        match (a.kind(), b.kind()) {
            (Kind::Union(branches), _) => {
                let mut convs = Vec::with_capacity(branches.len());
                for br in branches {
                    convs.push(self.plan(*br, o, depth)?);
                }
                return Ok(Conv::FromUnion(convs.into()));
            }
            (_, Kind::Union(branches)) => {
                if let Some(k) = branches.iter().position(|br| self.same_shape(i, *br)) {
                    return Ok(Conv::ToUnion(k as u32, Box::new(Conv::Clone)));
                }
                for (k, br) in branches.iter().enumerate() {
                    if let Ok(c) = self.plan(i, *br, depth) {
                        return Ok(Conv::ToUnion(k as u32, Box::new(c)));
                    }
                }
                return refuse();
            }
            _ => {}
        }
        if b.logical().is_some() && a.logical() != b.logical() {
            return refuse();
        }
        let conv = match (a.kind(), b.kind()) {
            (Kind::Int, Kind::Long) => Conv::Promote(P::IntToLong),
            (Kind::Int, Kind::Float) => Conv::Promote(P::IntToFloat),
            (Kind::Int, Kind::Double) => Conv::Promote(P::IntToDouble),
            (Kind::Long, Kind::Float) => Conv::Promote(P::LongToFloat),
            (Kind::Long, Kind::Double) => Conv::Promote(P::LongToDouble),
            (Kind::Float, Kind::Double) => Conv::Promote(P::FloatToDouble),
            (Kind::String, Kind::Bytes) => Conv::Promote(P::StringToBytes),
            (Kind::Bytes, Kind::String) => Conv::Promote(P::BytesToString),
            (Kind::Enum(x), Kind::Enum(y)) => Conv::Enum {
                map: x
                    .symbols
                    .iter()
                    .map(|s| y.lookup.get(s).copied().or(y.default))
                    .collect(),
                symbols: x.symbols.clone().into(),
            },
            (Kind::Array(x), Kind::Array(y)) => Conv::Array(Box::new(self.plan(*x, *y, depth)?)),
            (Kind::Map(x), Kind::Map(y)) => Conv::Map(Box::new(self.plan(*x, *y, depth)?)),
            (Kind::Record(x), Kind::Record(y)) => {
                let mut fields = Vec::with_capacity(y.fields.len());
                for of in &y.fields {
                    match x.lookup.get(&of.name) {
                        Some(k) => {
                            let Some(from) = x.fields.get(*k) else {
                                return refuse();
                            };
                            let c = self
                                .plan(from.node, of.node, depth)
                                .map_err(|e| format!("{}: {e}", of.name))?;
                            fields.push(RecordField::Take(*k, c));
                        }
                        None => match &of.default {
                            Some(v) => fields.push(RecordField::Default(v.clone())),
                            None => {
                                return Err(format!(
                                    "{}: not in the input record and has no default",
                                    of.name
                                ))
                            }
                        },
                    }
                }
                Conv::Record(fields.into())
            }
            _ => return refuse(),
        };
        Ok(conv)
    }
}

impl Conv {
    /// Converts an input value.
    pub(crate) fn run(&self, v: &Value) -> Result<Value, Fail> {
        use Promotion as P;
        match self {
            Self::Clone => Ok(v.clone()),
            Self::Promote(p) => Ok(match (p, v) {
                (P::IntToLong, Value::Int(i)) => Value::Long(i64::from(*i)),
                (P::IntToFloat, Value::Int(i)) => Value::Float(*i as f32),
                (P::IntToDouble, Value::Int(i)) => Value::Double(f64::from(*i)),
                (P::LongToFloat, Value::Long(l)) => Value::Float(*l as f32),
                (P::LongToDouble, Value::Long(l)) => Value::Double(*l as f64),
                (P::FloatToDouble, Value::Float(f)) => Value::Double(f64::from(*f)),
                (P::StringToBytes, Value::String(s)) => Value::Bytes(s.as_bytes().to_vec()),
                (P::BytesToString, Value::Bytes(b)) => match std::str::from_utf8(b) {
                    Ok(s) => Value::String(s.to_owned()),
                    Err(_) => {
                        return Err(Fail::cast(format!("{} bytes are not UTF-8 text", b.len())))
                    }
                },
                (p, other) => return Err(Fail::mismatch(p.input_name(), other)),
            }),
            Self::Enum { map, symbols } => enum_to_enum(v, map, symbols),
            Self::Record(fields) => {
                let Value::Record(input) = v else {
                    return Err(Fail::mismatch("a record", v));
                };
                let mut out = Vec::with_capacity(fields.len());
                for f in fields.iter() {
                    out.push(match f {
                        RecordField::Take(k, c) => match input.get(*k) {
                            Some(x) => c.run(x)?,
                            None => return Err(Fail::mismatch("a longer record", v)),
                        },
                        RecordField::Default(d) => d.clone(),
                    });
                }
                Ok(Value::Record(out))
            }
            Self::Array(c) => match v {
                Value::Array(items) => items
                    .iter()
                    .map(|x| c.run(x))
                    .collect::<Result<_, _>>()
                    .map(Value::Array),
                other => Err(Fail::mismatch("an array", other)),
            },
            Self::Map(c) => match v {
                Value::Map(entries) => entries
                    .iter()
                    .map(|(k, x)| c.run(x).map(|y| (k.clone(), y)))
                    .collect::<Result<_, _>>()
                    .map(Value::Map),
                other => Err(Fail::mismatch("a map", other)),
            },
            Self::FromUnion(branches) => match v {
                Value::Union(b, inner) => match branches.get(*b as usize) {
                    Some(c) => c.run(inner),
                    None => Err(Fail::mismatch("a union branch", v)),
                },
                other => Err(Fail::mismatch("a union", other)),
            },
            Self::ToUnion(b, c) => Ok(Value::Union(*b, Box::new(c.run(v)?))),
            Self::NullHandled => Err(Fail::mismatch("a non-null value", v)),
        }
    }
}

impl Promotion {
    fn input_name(self) -> &'static str {
        match self {
            Self::IntToLong | Self::IntToFloat | Self::IntToDouble => "an int",
            Self::LongToFloat | Self::LongToDouble => "a long",
            Self::FloatToDouble => "a float",
            Self::StringToBytes => "a string",
            Self::BytesToString => "bytes",
        }
    }
}
