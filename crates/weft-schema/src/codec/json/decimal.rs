//! Decimal text ↔ the unscaled big-endian two's-complement integer Avro stores, exactly (no
//! floating point on the way), for any precision up to [`MAX_DIGITS`].

use super::super::read::Reader;
use super::super::write::write_long;

/// The most significant digits a decimal may have, whatever its schema allows (bounds the
/// quadratic base conversion).
pub const MAX_DIGITS: usize = 4096;

/// The most bytes an unscaled value may take to be written as text (a little more than
/// [`MAX_DIGITS`] digits need).
pub const MAX_BYTES: usize = 1800;

/// The largest power of ten a big-decimal's scale may have before its text switches to the
/// exponent form (`123e-5000`).
const MAX_PLAIN_SCALE: i64 = 4096;

/// Exponents beyond this are clamped while parsing (any such value is out of range anyway).
const EXP_CLAMP: i64 = 1_000_000_000_000;

/// A decimal number parsed from text: `(-1)^negative × digits × 10^exp10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub negative: bool,
    /// Digit values 0–9, most significant first, without leading zeros (empty for zero).
    pub digits: Vec<u8>,
    pub exp10: i64,
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (a digit is needed before or after the point).
pub fn parse(s: &str) -> Option<Parsed> {
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut digits = Vec::with_capacity(b.len());
    let int_start = i;
    while let Some(c @ b'0'..=b'9') = b.get(i) {
        digits.push(c - b'0');
        i += 1;
    }
    let int_len = i - int_start;
    let mut frac_len = 0usize;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(c @ b'0'..=b'9') = b.get(i) {
            digits.push(c - b'0');
            i += 1;
            frac_len += 1;
        }
    }
    if int_len + frac_len == 0 {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while let Some(c @ b'0'..=b'9') = b.get(i) {
            exp = (exp * 10 + i64::from(c - b'0')).min(EXP_CLAMP);
            i += 1;
        }
        if i == start {
            return None;
        }
        if exp_negative {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    Some(Parsed {
        negative: negative && !digits.is_empty(),
        digits,
        exp10: exp - frac_len as i64,
    })
}

/// Why a parsed decimal does not fit a schema's precision and scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfit {
    /// Non-zero digits below the scale.
    Scale,
    /// More significant digits than the precision (or than [`MAX_DIGITS`]).
    Precision(u64),
}

/// The unscaled value of `p` at `scale`, as digits (without leading zeros), checking that no
/// non-zero digit falls below the scale and that at most `precision` digits remain.
pub fn rescale(p: &Parsed, precision: usize, scale: usize) -> Result<Vec<u8>, Unfit> {
    let k = p.exp10.saturating_add(scale as i64);
    let mut digits = p.digits.clone();
    if k < 0 {
        let drop = k.unsigned_abs();
        let keep = (digits.len() as u64).saturating_sub(drop) as usize;
        if digits[keep..].iter().any(|d| *d != 0) {
            return Err(Unfit::Scale);
        }
        digits.truncate(keep);
    }
    if digits.is_empty() {
        return Ok(digits);
    }
    let zeros = k.max(0) as u64;
    let n = (digits.len() as u64).saturating_add(zeros);
    if n > precision.min(MAX_DIGITS) as u64 {
        return Err(Unfit::Precision(n));
    }
    digits.resize(n as usize, 0);
    Ok(digits)
}

/// Base-10⁹ chunks → little-endian base-2³² limbs.
fn digits_to_limbs(digits: &[u8]) -> Vec<u32> {
    let mut limbs: Vec<u32> = Vec::with_capacity(digits.len() / 9 + 1);
    for chunk in digits.chunks(9) {
        let mut mul: u64 = 1;
        let mut add: u64 = 0;
        for d in chunk {
            mul *= 10;
            add = add * 10 + u64::from(*d);
        }
        let mut carry = add;
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * mul + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    limbs
}

/// Minimal big-endian two's complement of `±digits` (Java's `BigInteger.toByteArray`; zero is
/// `[0]`).
pub fn to_twos_complement(negative: bool, digits: &[u8]) -> Vec<u8> {
    let limbs = digits_to_limbs(digits);
    let mut bytes: Vec<u8> = Vec::with_capacity(limbs.len() * 4 + 1);
    bytes.push(0);
    for limb in limbs.iter().rev() {
        bytes.extend_from_slice(&limb.to_be_bytes());
    }
    let zero = bytes.iter().all(|b| *b == 0);
    if negative && !zero {
        for b in bytes.iter_mut() {
            *b = !*b;
        }
        for b in bytes.iter_mut().rev() {
            let (v, overflow) = b.overflowing_add(1);
            *b = v;
            if !overflow {
                break;
            }
        }
    }
    // Drop sign bytes the next byte repeats.
    let pad = if negative && !zero { 0xff } else { 0 };
    let mut start = 0;
    while start + 1 < bytes.len()
        && bytes[start] == pad
        && (bytes[start + 1] & 0x80 != 0) == (pad == 0xff)
    {
        start += 1;
    }
    bytes.drain(..start);
    bytes
}

/// Sign-extends minimal two's-complement bytes to `size`; `None` when they need more.
pub fn sign_extend(bytes: Vec<u8>, size: usize) -> Option<Vec<u8>> {
    if bytes.len() > size {
        return None;
    }
    let pad = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut out = vec![pad; size - bytes.len()];
    out.extend_from_slice(&bytes);
    Some(out)
}

/// The sign and decimal digits (`"0"` for zero) of big-endian two's-complement bytes (empty
/// bytes are zero).
pub fn from_twos_complement(bytes: &[u8]) -> Result<(bool, String), String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "a decimal of {} bytes is too large to write as text (the limit is {MAX_BYTES})",
            bytes.len()
        ));
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut magnitude = bytes.to_vec();
    if negative {
        for b in magnitude.iter_mut() {
            *b = !*b;
        }
        for b in magnitude.iter_mut().rev() {
            let (v, overflow) = b.overflowing_add(1);
            *b = v;
            if !overflow {
                break;
            }
        }
        // Read as unsigned from here on (so -2^(8n-1), which negates to itself, is right).
    }
    // Big-endian bytes → little-endian limbs.
    let mut limbs: Vec<u32> = magnitude
        .rchunks(4)
        .map(|c| c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
        .collect();
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut chunks: Vec<u32> = Vec::new();
    while !limbs.is_empty() {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / 1_000_000_000) as u32;
            rem = v % 1_000_000_000;
        }
        chunks.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut text = String::with_capacity(chunks.len() * 9 + 1);
    match chunks.split_last() {
        None => text.push('0'),
        Some((top, rest)) => {
            text.push_str(&top.to_string());
            for c in rest.iter().rev() {
                text.push_str(&format!("{c:09}"));
            }
        }
    }
    Ok((negative, text))
}

/// `±digits × 10^-scale` as plain text with exactly `scale` fractional digits.
pub fn render(negative: bool, digits: &str, scale: usize) -> String {
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if negative {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(digits);
        return out;
    }
    if digits.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// The content of an apache-avro `big-decimal` (what sits inside its `bytes`): the unscaled
/// value's two's-complement bytes, length-prefixed, then the scale as a long.
pub fn big_decimal_bytes(p: &Parsed) -> Result<Vec<u8>, Unfit> {
    if p.digits.len() > MAX_DIGITS {
        return Err(Unfit::Precision(p.digits.len() as u64));
    }
    let unscaled = to_twos_complement(p.negative, &p.digits);
    let mut out = Vec::with_capacity(unscaled.len() + 4);
    write_long(&mut out, unscaled.len() as i64);
    out.extend_from_slice(&unscaled);
    write_long(&mut out, -p.exp10);
    Ok(out)
}

/// The text of an apache-avro `big-decimal`'s content: plain (`12.340`) when its scale is
/// between 0 and 4096, else with an exponent (`123e5`, `123e-5000`).
pub fn big_decimal_text(content: &[u8]) -> Result<String, String> {
    let mut r = Reader::new(content);
    let unscaled = r
        .len_prefixed("big-decimal")
        .map_err(|e| format!("big-decimal bytes do not decode: {e}"))?;
    let scale = r
        .long()
        .map_err(|e| format!("big-decimal scale does not decode: {e}"))?;
    r.finish()
        .map_err(|e| format!("big-decimal bytes do not decode: {e}"))?;
    let (negative, digits) = from_twos_complement(unscaled)?;
    if (0..=MAX_PLAIN_SCALE).contains(&scale) {
        return Ok(render(negative, &digits, scale as usize));
    }
    let sign = if negative { "-" } else { "" };
    Ok(format!("{sign}{digits}e{}", -i128::from(scale)))
}
