//! Numbers for casts: between the numeric types (range and fraction checked), from and to
//! text, and constants of the flow file.

use weft_schema::codec::Value;

use super::{quote, Fail, Num, Scalar};

/// A number, as an integer or a float.
#[derive(Clone, Copy)]
enum N {
    I(i64),
    F(f64),
}

/// A number value for messages: floats as Rust writes them, keeping the float's own digits.
fn show_num(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Long(l) => l.to_string(),
        Value::Float(f) => float_text(f64::from(*f), || f.to_string(), || format!("{f:e}")),
        Value::Double(d) => float_text(*d, || d.to_string(), || format!("{d:e}")),
        other => other.kind_name().to_string(),
    }
}

/// Plain decimal digits (the float's own shortest form), or exponent notation for
/// magnitudes from 1e21 and below 1e-6 (as JavaScript writes numbers).
fn float_text(f: f64, plain: impl FnOnce() -> String, exponent: impl FnOnce() -> String) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if f != 0.0 && !(1e-6..1e21).contains(&f.abs()) {
        exponent()
    } else {
        plain()
    }
}

/// Decimal text of a number: `12`, `-3`, `1.5`, `0.1` (a float's own shortest digits),
/// `NaN`, `Infinity`, `-Infinity`.
pub(super) fn num_text(v: &Value) -> Result<String, Fail> {
    match v {
        Value::Int(_) | Value::Long(_) | Value::Float(_) | Value::Double(_) => Ok(show_num(v)),
        other => Err(Fail::mismatch("a number", other)),
    }
}

pub(super) fn to_num(v: &Value, to: Num) -> Result<Value, Fail> {
    let n = match v {
        Value::Int(i) => N::I(i64::from(*i)),
        Value::Long(l) => N::I(*l),
        Value::Float(f) => N::F(f64::from(*f)),
        Value::Double(d) => N::F(*d),
        other => return Err(Fail::mismatch("a number", other)),
    };
    num_out(n, to).map_err(|why| Fail::cast(format!("{} {why}", show_num(v))))
}

/// `n` as a value of `to`; the error completes a sentence that starts with the number.
fn num_out(n: N, to: Num) -> Result<Value, String> {
    // 2^63 as a double: the first double above i64::MAX.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    let out_of_range = || format!("is out of range for {}", to.name());
    match (n, to) {
        (N::I(i), Num::I32) => i32::try_from(i).map(Value::Int).map_err(|_| out_of_range()),
        (N::I(i), Num::I64) => Ok(Value::Long(i)),
        (N::I(i), Num::F32) => Ok(Value::Float(i as f32)),
        (N::I(i), Num::F64) => Ok(Value::Double(i as f64)),
        (N::F(f), Num::I32 | Num::I64) => {
            if !f.is_finite() {
                Err(format!("cannot be {}", to.name()))
            } else if f.fract() != 0.0 {
                Err(format!("has a fraction and cannot be {}", to.name()))
            } else if to == Num::I32 {
                if f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX) {
                    Ok(Value::Int(f as i32))
                } else {
                    Err(out_of_range())
                }
            } else if (-I64_END..I64_END).contains(&f) {
                Ok(Value::Long(f as i64))
            } else {
                Err(out_of_range())
            }
        }
        (N::F(f), Num::F32) => {
            if f.is_finite() && f.abs() > f64::from(f32::MAX) {
                Err(out_of_range())
            } else {
                Ok(Value::Float(f as f32))
            }
        }
        (N::F(f), Num::F64) => Ok(Value::Double(f)),
    }
}

pub(super) fn parse_num(s: &str, to: Num) -> Result<Value, Fail> {
    let parsed = match to {
        Num::I32 => s.parse::<i32>().ok().map(Value::Int),
        Num::I64 => s.parse::<i64>().ok().map(Value::Long),
        Num::F32 => s
            .parse::<f32>()
            .ok()
            .filter(|f| f.is_finite() || !looks_finite(s))
            .map(Value::Float),
        Num::F64 => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() || !looks_finite(s))
            .map(Value::Double),
    };
    parsed.ok_or_else(|| Fail::cast(format!("{} is not {}", quote(s), to.name())))
}

/// Whether number text names a finite number (so parsing it to infinity is an overflow).
fn looks_finite(s: &str) -> bool {
    let t = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
    !(t.starts_with("inf") || t == "nan")
}

/// A constant number from the flow file as a value of `to`.
pub(crate) fn constant_num(i: Option<i64>, f: Option<f64>, to: Num) -> Result<Value, String> {
    let (n, shown) = match (i, f) {
        (Some(i), _) => (N::I(i), i.to_string()),
        (None, Some(f)) => (N::F(f), format!("{f:?}")),
        (None, None) => return Err("no number".into()),
    };
    num_out(n, to).map_err(|why| format!("{shown} {why}"))
}

/// The numeric type of a scalar, for constants.
pub(crate) fn num_of(s: Scalar) -> Option<Num> {
    match s {
        Scalar::Date => Some(Num::I32),
        Scalar::Timestamp(..) => Some(Num::I64),
        other => other.num(),
    }
}
