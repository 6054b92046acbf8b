//! Decimal text ↔ the unscaled big-endian two's-complement integer Avro stores, exactly
//! (no floating point on the way), plus apache-avro's `big-decimal` content and UUID text.

/// The most significant digits a decimal may have here, whatever its schema allows (bounds
/// the quadratic base conversions and the memory a hostile exponent could ask for).
pub(super) const MAX_DIGITS: usize = 4096;

/// The most bytes an unscaled value may take to be written as text.
const MAX_BYTES: usize = 1800;

/// A decimal number: `(-1)^negative × digits × 10^exp10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dec {
    pub(super) negative: bool,
    /// Digit values 0–9, most significant first, without leading zeros (empty for zero).
    pub(super) digits: Vec<u8>,
    pub(super) exp10: i64,
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (a digit is needed before or after the
/// point).
pub(super) fn parse(s: &str) -> Option<Dec> {
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
    let mut int_len = 0usize;
    while let Some(c @ b'0'..=b'9') = b.get(i) {
        digits.push(c - b'0');
        i += 1;
        int_len += 1;
    }
    let mut frac_len = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(c @ b'0'..=b'9') = b.get(i) {
            digits.push(c - b'0');
            i += 1;
            frac_len += 1;
        }
    }
    if int_len == 0 && frac_len == 0 {
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
            // Clamped: any exponent this large is out of range anyway.
            exp = (exp * 10 + i64::from(c - b'0')).min(1_000_000_000_000);
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
    Some(Dec {
        negative: negative && !digits.is_empty(),
        digits,
        exp10: exp - frac_len,
    })
}

/// A finite float through its shortest decimal text (`0.1` is `0.1`).
pub(super) fn from_f64(f: f64) -> Option<Dec> {
    if !f.is_finite() {
        return None;
    }
    parse(&format!("{f:e}"))
}

/// An integer, exactly.
pub(super) fn from_i64(i: i64) -> Dec {
    let mut digits: Vec<u8> = i
        .unsigned_abs()
        .to_string()
        .bytes()
        .map(|c| c - b'0')
        .collect();
    if digits == [0] {
        digits.clear();
    }
    Dec {
        negative: i < 0,
        digits,
        exp10: 0,
    }
}

/// Why a decimal does not fit a precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TooManyDigits(pub(super) u64);

/// The unscaled magnitude of `d` at `scale`, rounded half away from zero when digits fall
/// below the scale, as digits without leading zeros (empty for zero), and whether it is
/// negative; refused when more than `precision` digits remain.
pub(super) fn rescale(
    d: &Dec,
    precision: usize,
    scale: usize,
) -> Result<(bool, Vec<u8>), TooManyDigits> {
    let k = d.exp10.saturating_add(scale as i64);
    let mut digits = d.digits.clone();
    if k < 0 {
        let drop = k.unsigned_abs();
        let len = digits.len() as u64;
        let round_up = if drop <= len {
            let keep = (len - drop) as usize;
            let up = digits.get(keep).is_some_and(|r| *r >= 5);
            digits.truncate(keep);
            up
        } else {
            digits.clear();
            false
        };
        if round_up {
            increment(&mut digits);
        }
    } else if !digits.is_empty() {
        let n = (digits.len() as u64).saturating_add(k as u64);
        if n > precision.min(MAX_DIGITS) as u64 {
            return Err(TooManyDigits(n));
        }
        digits.resize(n as usize, 0);
    }
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    if digits.len() > precision.min(MAX_DIGITS) {
        return Err(TooManyDigits(digits.len() as u64));
    }
    Ok((d.negative && !digits.is_empty(), digits))
}

/// Adds one to a decimal digit string (which may grow by one digit).
fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

/// Minimal big-endian two's complement of `±digits` (zero is `[0]`).
pub(super) fn to_twos_complement(negative: bool, digits: &[u8]) -> Vec<u8> {
    // Base-10⁹ chunks into little-endian base-2³² limbs.
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
    let mut bytes: Vec<u8> = Vec::with_capacity(limbs.len() * 4 + 1);
    bytes.push(0);
    for limb in limbs.iter().rev() {
        bytes.extend_from_slice(&limb.to_be_bytes());
    }
    let zero = limbs.iter().all(|l| *l == 0);
    let negative = negative && !zero;
    if negative {
        negate(&mut bytes);
    }
    // Drop the sign bytes the next byte repeats.
    let pad = if negative { 0xff } else { 0 };
    let start = bytes
        .windows(2)
        .take_while(|w| w[0] == pad && (w[1] & 0x80 != 0) == negative)
        .count();
    bytes.drain(..start);
    bytes
}

/// Two's-complement negation in place.
fn negate(bytes: &mut [u8]) {
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

/// Sign-extends minimal two's-complement bytes to `size`; `None` when they need more.
pub(super) fn sign_extend(bytes: Vec<u8>, size: usize) -> Option<Vec<u8>> {
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
/// bytes are zero); `None` when there are too many bytes to write as text.
fn from_twos_complement(bytes: &[u8]) -> Option<(bool, String)> {
    if bytes.len() > MAX_BYTES {
        return None;
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    if bytes.len() <= 16 {
        // Fast path: fits an i128.
        let mut v: i128 = if negative { -1 } else { 0 };
        for b in bytes {
            v = (v << 8) | i128::from(*b);
        }
        return Some((negative, v.unsigned_abs().to_string()));
    }
    let mut magnitude = bytes.to_vec();
    if negative {
        negate(&mut magnitude);
    }
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
    Some((negative, text))
}

/// `±digits × 10^-scale` as plain text with exactly `scale` fractional digits.
fn render(negative: bool, digits: &str, scale: usize) -> String {
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if negative {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(digits);
    } else if digits.len() <= scale {
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

/// The text of a decimal stored as `bytes` at `scale` (`"12.34"`); `None` when the value
/// is too large to write.
pub(super) fn to_text(bytes: &[u8], scale: usize) -> Option<String> {
    let (negative, digits) = from_twos_complement(bytes)?;
    Some(render(negative, &digits, scale))
}

/// The text of an apache-avro `big-decimal`'s content (length-prefixed unscaled bytes,
/// then the scale as a zig-zag long): plain when the scale is between 0 and
/// [`MAX_DIGITS`], else with an exponent (`123e-5000`).
pub(super) fn big_decimal_text(content: &[u8]) -> Option<String> {
    let mut pos = 0;
    let len = usize::try_from(read_long(content, &mut pos)?).ok()?;
    let unscaled = content.get(pos..pos.checked_add(len)?)?;
    pos += len;
    let scale = read_long(content, &mut pos)?;
    if pos != content.len() {
        return None;
    }
    let (negative, digits) = from_twos_complement(unscaled)?;
    if (0..=MAX_DIGITS as i64).contains(&scale) {
        return Some(render(negative, &digits, scale as usize));
    }
    let sign = if negative { "-" } else { "" };
    Some(format!("{sign}{digits}e{}", -i128::from(scale)))
}

/// The content of a `big-decimal` for `d`, its scale being the fractional digits written.
pub(super) fn big_decimal_bytes(d: &Dec) -> Result<Vec<u8>, TooManyDigits> {
    let (digits, scale) = if d.exp10 > 0 {
        let n = (d.digits.len() as u64).saturating_add(d.exp10 as u64);
        if n > MAX_DIGITS as u64 {
            return Err(TooManyDigits(n));
        }
        let mut digits = d.digits.clone();
        digits.resize(n as usize, 0);
        (digits, 0)
    } else {
        if d.digits.len() > MAX_DIGITS {
            return Err(TooManyDigits(d.digits.len() as u64));
        }
        (d.digits.clone(), -d.exp10)
    };
    let unscaled = to_twos_complement(d.negative, &digits);
    let mut out = Vec::with_capacity(unscaled.len() + 4);
    write_long(&mut out, unscaled.len() as i64);
    out.extend_from_slice(&unscaled);
    write_long(&mut out, scale);
    Ok(out)
}

fn read_long(b: &[u8], pos: &mut usize) -> Option<i64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(((v >> 1) as i64) ^ -((v & 1) as i64));
        }
    }
    None
}

fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// The 16 bytes of a canonical UUID text (`8-4-4-4-12` hex digits, either case).
pub(super) fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut i = 0;
    while i < 36 {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        let hi = hex_digit(b[i])?;
        let lo = hex_digit(*b.get(i + 1)?)?;
        *out.get_mut(n)? = (hi << 4) | lo;
        n += 1;
        i += 2;
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case canonical text of 16 UUID bytes.
pub(super) fn format_uuid(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(text: &str, scale: usize) -> Vec<u8> {
        let (neg, digits) = rescale(&parse(text).unwrap(), 100, scale).unwrap();
        to_twos_complement(neg, &digits)
    }

    #[test]
    fn text_round_trips() {
        for (text, scale) in [
            ("12.34", 2),
            ("-12.34", 2),
            ("0.00", 2),
            ("0.05", 2),
            ("-0.05", 2),
            ("127", 0),
            ("128", 0),
            ("-128", 0),
            ("-129", 0),
            ("123456789012345678901234567890123456789012.5", 1),
            ("-99999999999999999999999999999999999999999999.99", 2),
        ] {
            let b = bytes_of(text, scale);
            assert_eq!(to_text(&b, scale).unwrap(), text, "{text}");
        }
        assert_eq!(bytes_of("1.28", 2), [0x00, 0x80]);
        assert_eq!(bytes_of("-1.28", 2), [0x80]);
        assert_eq!(to_text(&[], 2).unwrap(), "0.00");
    }

    #[test]
    fn rounding_and_precision() {
        let r = |t: &str, p, s| {
            rescale(&parse(t).unwrap(), p, s)
                .map(|(n, d)| to_text(&to_twos_complement(n, &d), s).unwrap())
        };
        assert_eq!(r("1.005", 10, 2).unwrap(), "1.01");
        assert_eq!(r("-1.005", 10, 2).unwrap(), "-1.01");
        assert_eq!(r("1.004", 10, 2).unwrap(), "1.00");
        assert_eq!(r("9.999", 10, 2).unwrap(), "10.00");
        assert_eq!(r("-0.001", 10, 2).unwrap(), "0.00");
        assert_eq!(r("1e2", 10, 2).unwrap(), "100.00");
        assert_eq!(r("0.0000001", 3, 2).unwrap(), "0.00");
        assert_eq!(r("999.999", 5, 2), Err(TooManyDigits(6)));
        assert_eq!(r("1e100000000000", 5, 2), Err(TooManyDigits(100000000003)));
        assert_eq!(r("12345", 5, 2), Err(TooManyDigits(7)));
        let f = from_f64(0.1).unwrap();
        assert_eq!(
            to_text(
                &{
                    let (n, d) = rescale(&f, 10, 3).unwrap();
                    to_twos_complement(n, &d)
                },
                3
            )
            .unwrap(),
            "0.100"
        );
        assert!(parse("1.2.3").is_none() && parse("").is_none() && parse("e5").is_none());
        assert_eq!(from_i64(-42), parse("-42").unwrap());
        assert_eq!(from_i64(0), parse("0").unwrap());
    }

    #[test]
    fn big_decimal_and_uuid() {
        let content = big_decimal_bytes(&parse("-12.340").unwrap()).unwrap();
        assert_eq!(big_decimal_text(&content).unwrap(), "-12.340");
        let content = big_decimal_bytes(&parse("5e3").unwrap()).unwrap();
        assert_eq!(big_decimal_text(&content).unwrap(), "5000");
        assert!(big_decimal_text(&[0x80]).is_none());
        let u = "0F8FAD5B-D9CB-469F-A165-70867728950E";
        let b = parse_uuid(u).unwrap();
        assert_eq!(format_uuid(&b), u.to_lowercase());
        assert!(parse_uuid("0f8fad5b-d9cb-469f-a165-70867728950").is_none());
        assert!(parse_uuid("0f8fad5bxd9cb-469f-a165-70867728950e").is_none());
    }
}
