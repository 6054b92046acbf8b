//! Decimals for VRL: what the JSON codec's exact decimal arithmetic
//! (`weft_schema::codec::json::decimal`) does not do — reading VRL integers and floats as
//! decimals, and rounding half away from zero to a schema's scale (the JSON codec refuses
//! digits below the scale instead).

use weft_schema::codec::json::decimal::{from_twos_complement, render};
pub(super) use weft_schema::codec::json::decimal::{
    parse, sign_extend, to_twos_complement, Parsed as Dec, MAX_DIGITS,
};
pub(super) use weft_schema::codec::json::{format_uuid, parse_uuid};

/// The text of an apache-avro `big-decimal`'s content (plain when its scale is between 0 and
/// 4096, else with an exponent); `None` when it does not decode.
pub(super) fn big_decimal_text(content: &[u8]) -> Option<String> {
    weft_schema::codec::json::decimal::big_decimal_text(content).ok()
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

/// The text of a decimal stored as `bytes` at `scale` (`"12.34"`); `None` when the value
/// is too large to write.
pub(super) fn to_text(bytes: &[u8], scale: usize) -> Option<String> {
    let (negative, digits) = from_twos_complement(bytes).ok()?;
    Some(render(negative, &digits, scale))
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

fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
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
