//! Text forms for casts: timestamps, dates and UUIDs (the JSON codec's parsers and formats,
//! with the mapping's messages).

use weft_schema::codec::json::temporal;

use super::{quote, Fail, Unit};

/// An RFC 3339 timestamp (any offset, normalised to UTC) → units since the Unix epoch,
/// rounding towards the past. With `local`, a date-time without an offset is also taken.
/// (The JSON codec's parser, with the mapping's messages.)
pub(crate) fn parse_timestamp(s: &str, unit: Unit, local: bool) -> Result<i64, Fail> {
    use weft_schema::codec::JsonErrorKind;
    temporal::parse_timestamp(s, unit, local).map_err(|e| match e {
        JsonErrorKind::OutOfRange(_) => {
            Fail::cast(format!("{} is out of range for a timestamp", quote(s)))
        }
        _ if local => Fail::cast(format!(
            "{} is not a local timestamp like 2026-11-22T10:00:00 or an RFC 3339 timestamp",
            quote(s)
        )),
        _ => Fail::cast(format!(
            "{} is not an RFC 3339 timestamp like 2026-11-22T10:00:00Z",
            quote(s)
        )),
    })
}

/// Units since the Unix epoch → `2026-11-22T10:00:00.000Z` (no `Z` when `local`), with the
/// unit's fractional digits; years 0000 to 9999 only.
pub(crate) fn format_timestamp(v: i64, unit: Unit, local: bool) -> Result<String, Fail> {
    temporal::format_timestamp(v, unit, local).ok_or_else(|| {
        Fail::cast(format!(
            "timestamp {v} is outside the years 0000 to 9999 and has no text form"
        ))
    })
}

pub(super) fn rescale(v: i64, from: Unit, to: Unit) -> Result<i64, Fail> {
    let nanos = i128::from(v) * i128::from(from.nanos());
    i64::try_from(nanos.div_euclid(i128::from(to.nanos())))
        .map_err(|_| Fail::cast(format!("timestamp {v} is out of range in {}", to.name())))
}

/// `YYYY-MM-DD` → days since 1970-01-01.
pub(crate) fn parse_date(s: &str) -> Result<i32, Fail> {
    temporal::parse_date(s)
        .map_err(|_| Fail::cast(format!("{} is not a date like 2026-11-22", quote(s))))
}

/// Days since 1970-01-01 → `YYYY-MM-DD`, for years 0000 to 9999.
pub(crate) fn format_date(days: i32) -> Result<String, Fail> {
    temporal::format_date(days).ok_or_else(|| {
        Fail::cast(format!(
            "date {days} is outside the years 0000 to 9999 and has no text form"
        ))
    })
}

/// A canonical UUID (8-4-4-4-12 hex digits), lower-cased.
pub(crate) fn parse_uuid(s: &str) -> Result<String, Fail> {
    let ok = s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(Fail::cast(format!(
            "{} is not a UUID like 123e4567-e89b-12d3-a456-426614174000",
            quote(s)
        )))
    }
}
