//! Direct field mappings: the `[transform]` table's `fields` and `drop`, compiled against the
//! input and output Avro schemas into operations on decoded records.
//!
//! ```toml
//! [transform]
//! drop = ["note"]                 # input fields never copied implicitly
//! [transform.fields]              # output field = its source
//! id = "order_id"                 # copy from an input path (rename/move)
//! amount = { from = "amount_cents", cast = "double" }
//! country = { from = "address.country", default = "ZZ" }  # nested path; default when null
//! channel = { value = "api" }     # constant, converted to the output field's type
//! email_hash = { from = "email", mask = "sha256" }
//! card = { from = "card_number", mask = "keep_last_4" }
//! ```
//!
//! Every output field not mapped explicitly takes the same-named top-level input field (unless
//! it is dropped) when its type is the same or promotes, else the output field's default.
//! [`DirectMapping::compile`] checks everything against both schemas and lists every problem;
//! [`DirectMapping::apply`] then builds output records with the field indexes, conversions and
//! constants planned once.
//!
//! # Copies without `cast` (explicit `from`, and implicit copies)
//!
//! The input type must be the output type or promote to it by Avro's resolution rules:
//! - identical shapes (same kinds, field names in the same order, same enum symbols, same
//!   union branches) are cloned as they are; named types' names do not matter, field names do;
//! - `int` → `long`/`float`/`double`, `long` → `float`/`double`, `float` → `double`,
//!   `string` ↔ `bytes` promote (`enum` → `string` does not: it needs `cast = "string"`);
//! - records convert field by field, by name (an output field missing from the input takes
//!   its default); enums map symbol by name (an unknown symbol takes the output's default
//!   symbol, or fails when it is met); arrays and maps convert item by item;
//! - an input union converts branch by branch; a non-union input goes to the first output
//!   branch of the same shape, else the first it promotes to (`long` into `["null","long"]`);
//! - an output with a logical type needs the same one on the input (a plain `long` is not
//!   copied into a `timestamp-millis` without a cast); an output without one takes the input's
//!   physical value (a `timestamp-millis` copies into a `long`, a `uuid` into a `string`).
//!
//! # Casts
//!
//! `cast = "<type>"` names the output field's type (or one branch of its union): `string`,
//! `bytes`, `int`, `long`, `float`, `double`, `boolean`, `enum` (or the enum's name), `date`,
//! `timestamp-{millis,micros,nanos}`, `local-timestamp-{millis,micros,nanos}`, `uuid`. The
//! input is its single non-null type (`T` or `["null", T]`):
//!
//! | from → to | how |
//! |---|---|
//! | number → number | `int`/`long`/`float`/`double`; narrowing is checked at run time (range, fraction) |
//! | number, boolean → string | decimal text (`12`, `1.5`, `2`, `1e21`, `NaN`, `Infinity`), `true`/`false` |
//! | string → number, boolean | parsed (`"12"`, `"1.5e3"`; no spaces); `true`/`false` exactly |
//! | string ↔ bytes | UTF-8 (bytes that are not UTF-8 fail) |
//! | string ↔ enum, enum → enum | by symbol; an unknown symbol takes the enum's default, else fails |
//! | string ↔ `timestamp-*` | RFC 3339, any offset, normalised to UTC; written `2026-11-22T10:00:00.000Z` with the unit's digits (local timestamps without offset) |
//! | int, long ↔ `timestamp-*` | units since the epoch, taken as they are |
//! | `timestamp-*` → `timestamp-*` | rescaled (finer → coarser rounds towards the past) |
//! | string ↔ `date` | `YYYY-MM-DD`; int, long ↔ `date` as days since 1970-01-01 |
//! | string → `uuid` | canonical 8-4-4-4-12 hex text, stored lower-case |
//!
//! # Masks, defaults, constants
//!
//! `mask` applies to string outputs after any cast: `sha256` (lower-case hex of the UTF-8
//! text's SHA-256), `redact` (`[redacted]`), `keep_last_N` (every character but the last N
//! replaced by `*`; a text of N characters or fewer is kept). `default` is used when the input
//! is null or a record on its path is null (it wins over a nullable output's null, and is not
//! masked); a nullable input into an output that takes no null needs one. Constants (`value`,
//! `default`) are converted when the mapping is compiled: a boolean to `boolean`; an integer
//! to a number, `date` (days) or `timestamp-*` (units); a float to `float`/`double`; a string
//! to `string`, `bytes`, an enum symbol, `date`, `timestamp-*` (RFC 3339; a TOML date-time
//! literal counts as its text) or `uuid`; an array to an array; a table to a record or a map;
//! a union takes the first branch the constant fits.

mod cast;
mod compile;
mod constant;
mod conv;
mod error;
mod mask;
mod nodes;
mod spec;
mod suggest;

#[cfg(test)]
mod tests;

use weft_schema::codec::{Codec, NodeId, Value};

pub use error::{MappingError, MappingErrorKind};
pub use mask::Mask;
pub use spec::{Constant, FieldSource, MappingSpec};

use cast::{CastOp, Fail};
use compile::Compiler;
use conv::Conv;

/// How a mapping is compiled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// A program runs after the mapping and may set output fields the mapping leaves unset:
    /// an output field with no source and no default is then not an error at compile time
    /// (nor is a same-named input field of another type, or a nullable one), only when
    /// [`DirectMapping::apply`] meets it.
    pub program_follows: bool,
}

/// An explicitly mapped output field (from `transform.fields`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitField {
    /// The output field's name.
    pub name: String,
    /// Its index in the output record.
    pub index: usize,
    /// Its type in the output codec.
    pub node: NodeId,
}

/// A mapping compiled against an input and an output schema.
#[derive(Debug, Clone)]
pub struct DirectMapping {
    /// One per output field, in output order.
    slots: Box<[Slot]>,
    /// Explicitly mapped fields, in output order.
    explicit: Vec<ExplicitField>,
    dropped: Vec<String>,
}

/// How one output field gets its value.
#[derive(Debug, Clone)]
struct Slot {
    /// The output field's name (for errors).
    name: Box<str>,
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    /// A constant, or the output field's default.
    Const(Value),
    Read(Box<Read>),
    /// Nothing sets it (a program is expected to).
    Missing,
}

/// A value read from an input path and converted.
#[derive(Debug, Clone)]
struct Read {
    /// Field indexes from the input root (never empty).
    steps: Box<[usize]>,
    body: Body,
    /// What a null input (or a null record on the path) becomes.
    on_null: Option<Value>,
    /// Whether the value must be checked for null before `body` (not needed when the body
    /// clones a null as it is).
    check_null: bool,
    /// The input path (for errors).
    path: Box<str>,
}

#[derive(Debug, Clone)]
enum Body {
    Conv(Conv),
    Cast {
        op: CastOp,
        mask: Option<Mask>,
        /// The output union branch the result goes into.
        wrap: Option<u32>,
    },
}

impl DirectMapping {
    /// Compiles `spec` for records of `input` mapped to records of `output` (both records
    /// at the root), listing every problem found.
    pub fn compile(
        spec: &MappingSpec,
        input: &Codec,
        output: &Codec,
        opts: CompileOptions,
    ) -> Result<Self, Vec<MappingError>> {
        Compiler::new(spec, input, output, opts).compile()
    }

    /// Maps an input record (a value of the input schema) to an output record.
    pub fn apply(&self, input: &Value) -> Result<Value, MappingError> {
        let Value::Record(fields) = input else {
            return Err(not_a_record(input));
        };
        let mut out = Vec::with_capacity(self.slots.len());
        for slot in self.slots.iter() {
            if let Err(e) = slot.push(fields, &mut out) {
                return Err(*e);
            }
        }
        Ok(Value::Record(out))
    }

    /// The explicitly mapped output fields, in output order.
    pub fn explicit(&self) -> &[ExplicitField] {
        &self.explicit
    }

    /// The value of the `i`-th explicitly mapped field (see [`explicit`](Self::explicit)) for
    /// an input record, typed by the output field's node.
    pub fn eval_field(&self, i: usize, input: &Value) -> Result<Value, MappingError> {
        let slot = self
            .explicit
            .get(i)
            .and_then(|e| self.slots.get(e.index))
            .ok_or_else(|| {
                MappingError::new(
                    MappingErrorKind::Invalid,
                    "",
                    None,
                    format!(
                        "the mapping has {} explicit fields, not {}",
                        self.explicit.len(),
                        i + 1
                    ),
                )
            })?;
        let Value::Record(fields) = input else {
            return Err(not_a_record(input));
        };
        let mut out = Vec::with_capacity(1);
        slot.push(fields, &mut out).map_err(|e| *e)?;
        out.pop().ok_or_else(|| {
            MappingError::new(
                MappingErrorKind::InputMismatch,
                &slot.name,
                None,
                "the field gave no value".into(),
            )
        })
    }

    /// The input fields never copied implicitly (`transform.drop`).
    pub fn dropped(&self) -> &[String] {
        &self.dropped
    }
}

#[cold]
fn not_a_record(input: &Value) -> MappingError {
    MappingError::new(
        MappingErrorKind::InputMismatch,
        "",
        None,
        format!(
            "the input is {}, not a record of the input schema",
            input.kind_name()
        ),
    )
}

impl Slot {
    /// Pushes the field's value onto `out` (values go straight into the output record, and
    /// the error is boxed, so nothing large is moved through results on the hot path).
    #[inline]
    fn push(&self, input: &[Value], out: &mut Vec<Value>) -> Result<(), Box<MappingError>> {
        match &self.source {
            Source::Const(v) => {
                out.push(v.clone());
                Ok(())
            }
            Source::Read(r) => match r.push(input, out) {
                Ok(true) => Ok(()),
                Ok(false) => Err(self.null_error(r)),
                Err(f) => Err(self.fail(r, f)),
            },
            Source::Missing => Err(self.missing_error()),
        }
    }

    #[cold]
    fn null_error(&self, r: &Read) -> Box<MappingError> {
        Box::new(MappingError::new(
            MappingErrorKind::NullNotAllowed,
            &self.name,
            Some(&r.path),
            format!(
                "{}: null, and output field {} has no default",
                r.path, self.name
            ),
        ))
    }

    #[cold]
    fn missing_error(&self) -> Box<MappingError> {
        Box::new(MappingError::new(
            MappingErrorKind::MissingField,
            &self.name,
            None,
            format!(
                "output field {} has no mapping, no input field and no default, and the \
                 program did not set it",
                self.name
            ),
        ))
    }

    #[cold]
    fn fail(&self, r: &Read, f: Fail) -> Box<MappingError> {
        let f = f.into_inner();
        let kind = if f.mismatch {
            MappingErrorKind::InputMismatch
        } else {
            MappingErrorKind::CastFailed
        };
        Box::new(MappingError::new(
            kind,
            &self.name,
            Some(&r.path),
            format!("{}: {}", r.path, f.message),
        ))
    }
}

impl Read {
    /// Pushes the output value onto `out`; `false` for a null the field does not take.
    #[inline]
    fn push(&self, input: &[Value], out: &mut Vec<Value>) -> Result<bool, Fail> {
        let v = match self.locate(input)? {
            Some(v) if !(self.check_null && v.is_null()) => v,
            _ => {
                return Ok(match &self.on_null {
                    Some(n) => {
                        out.push(n.clone());
                        true
                    }
                    None => false,
                })
            }
        };
        match &self.body {
            Body::Conv(Conv::Clone) => out.push(v.clone()),
            Body::Conv(c) => out.push(c.run(v)?),
            Body::Cast { op, mask, wrap } => {
                let base = v.unwrap_union();
                let mut value = match (op, mask, base) {
                    (CastOp::Same, Some(m), Value::String(s)) => Value::String(m.apply(s)),
                    _ => {
                        let value = op.run(base)?;
                        match (mask, value) {
                            (Some(m), Value::String(s)) => Value::String(m.apply(&s)),
                            (_, value) => value,
                        }
                    }
                };
                if let Some(b) = wrap {
                    value = Value::Union(*b, Box::new(value));
                }
                out.push(value);
            }
        }
        Ok(true)
    }

    /// The value at the path, or `None` when a record on the way is null.
    #[inline]
    fn locate<'v>(&self, input: &'v [Value]) -> Result<Option<&'v Value>, Fail> {
        let mut steps = self.steps.iter();
        let first = steps.next().copied().unwrap_or(usize::MAX);
        let Some(mut v) = input.get(first) else {
            return Err(short_record(input.len()));
        };
        for &k in steps {
            match v.unwrap_union() {
                Value::Record(fields) => match fields.get(k) {
                    Some(x) => v = x,
                    None => return Err(short_record(fields.len())),
                },
                Value::Null => return Ok(None),
                other => return Err(Fail::mismatch("a record", other)),
            }
        }
        Ok(Some(v))
    }
}

#[cold]
fn short_record(len: usize) -> Fail {
    Fail::shape(format!(
        "a record of {len} fields is too short for the input schema"
    ))
}

/// A string as a JSON string literal, cut after 64 characters.
pub(crate) fn quote(s: &str) -> String {
    const LIMIT: usize = 64;
    match s.char_indices().nth(LIMIT) {
        None => serde_json::Value::String(s.to_string()).to_string(),
        Some((cut, _)) => serde_json::Value::String(format!("{}…", &s[..cut])).to_string(),
    }
}
