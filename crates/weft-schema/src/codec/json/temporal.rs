//! Dates, times of day and timestamps as text: parsed with the `time` crate, written by hand
//! (fixed digits, so the text never depends on a format description failing).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::JsonErrorKind;

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// The unit of a time or timestamp logical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    pub fn nanos(self) -> i64 {
        match self {
            Self::Millis => 1_000_000,
            Self::Micros => 1_000,
            Self::Nanos => 1,
        }
    }

    /// Fractional digits written for this unit.
    pub fn digits(self) -> usize {
        match self {
            Self::Millis => 3,
            Self::Micros => 6,
            Self::Nanos => 9,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Millis => "milliseconds",
            Self::Micros => "microseconds",
            Self::Nanos => "nanoseconds",
        }
    }
}

fn quoted(s: &str) -> String {
    super::quote(s)
}

/// `YYYY-MM-DD` → days since 1970-01-01.
pub fn parse_date(s: &str) -> Result<i32, JsonErrorKind> {
    let date = Date::parse(s, format_description!("[year]-[month]-[day]")).map_err(|e| {
        JsonErrorKind::BadFormat(format!("{} is not a date like 2026-11-22 ({e})", quoted(s)))
    })?;
    // Four-digit years only: a date's range is far inside an int's.
    Ok((i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) as i32)
}

/// Days since 1970-01-01 → `YYYY-MM-DD`, for years 0000 to 9999.
pub fn format_date(days: i32) -> Option<String> {
    let julian = i32::try_from(i64::from(days) + UNIX_EPOCH_JULIAN_DAY).ok()?;
    let date = Date::from_julian_day(julian).ok()?;
    if !(0..=9999).contains(&date.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// `HH:MM:SS[.fraction]` → units after midnight (digits below the unit are dropped).
pub fn parse_time_of_day(s: &str, unit: Unit) -> Result<i64, JsonErrorKind> {
    let t = Time::parse(
        s,
        format_description!("[hour]:[minute]:[second][optional [.[subsecond]]]"),
    )
    .map_err(|e| {
        JsonErrorKind::BadFormat(format!(
            "{} is not a time of day like 10:00:00 or 10:00:00.250 ({e})",
            quoted(s)
        ))
    })?;
    let (h, m, sec, nano) = t.as_hms_nano();
    let nanos = ((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(sec)) * 1_000_000_000
        + i64::from(nano);
    Ok(nanos / unit.nanos())
}

/// Units after midnight → `HH:MM:SS.fff` (or `.ffffff`), for values within one day.
pub fn format_time_of_day(v: i64, unit: Unit) -> Option<String> {
    let per_second = 1_000_000_000 / unit.nanos();
    if !(0..NANOS_PER_DAY / unit.nanos()).contains(&v) {
        return None;
    }
    let (secs, frac) = (v / per_second, v % per_second);
    Some(format!(
        "{:02}:{:02}:{:02}.{:0width$}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        frac,
        width = unit.digits()
    ))
}

/// An RFC 3339 timestamp (any offset, normalised to UTC) → units since the Unix epoch.
/// With `local`, a date-time without an offset (`2026-11-22T10:00:00`) is taken as it is.
/// Digits below the unit are dropped (rounding towards the past).
pub fn parse_timestamp(s: &str, unit: Unit, local: bool) -> Result<i64, JsonErrorKind> {
    let nanos = match OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => t.unix_timestamp_nanos(),
        Err(e) => {
            let naive = if local {
                PrimitiveDateTime::parse(
                    s,
                    format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
                    ),
                )
                .ok()
            } else {
                None
            };
            match naive {
                Some(t) => t.assume_utc().unix_timestamp_nanos(),
                None if local => {
                    return Err(JsonErrorKind::BadFormat(format!(
                        "{} is not a local timestamp like 2026-11-22T10:00:00 or an RFC 3339 \
                         timestamp ({e})",
                        quoted(s)
                    )))
                }
                None => {
                    return Err(JsonErrorKind::BadFormat(format!(
                        "{} is not an RFC 3339 timestamp like 2026-11-22T10:00:00Z ({e})",
                        quoted(s)
                    )))
                }
            }
        }
    };
    i64::try_from(nanos.div_euclid(i128::from(unit.nanos()))).map_err(|_| {
        JsonErrorKind::OutOfRange(format!(
            "{} is out of range for a timestamp in {} (a long)",
            quoted(s),
            unit.name()
        ))
    })
}

/// Units since the Unix epoch → `2026-11-22T10:00:00.000Z` (no `Z` when `local`), with the
/// unit's fractional digits, for years 0000 to 9999.
pub fn format_timestamp(v: i64, unit: Unit, local: bool) -> Option<String> {
    let t =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * i128::from(unit.nanos())).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0width$}{}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        i64::from(t.nanosecond()) / unit.nanos(),
        if local { "" } else { "Z" },
        width = unit.digits()
    ))
}
