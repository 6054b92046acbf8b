//! Timestamps in headers: RFC 3339, UTC, millisecond precision.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats milliseconds since the epoch as `2026-11-22T02:30:00.123Z`.
pub fn format_millis(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let t = t
                .replace_nanosecond((ms.rem_euclid(1000) as u32) * 1_000_000)
                .unwrap_or(t);
            t.format(&Rfc3339).unwrap_or_else(|_| ms.to_string())
        }
        Err(_) => ms.to_string(),
    }
}

/// Parses an RFC 3339 timestamp (or a bare integer of epoch milliseconds) into epoch milliseconds.
pub fn parse_millis(s: &str) -> Option<i64> {
    if let Ok(ms) = s.trim().parse::<i64>() {
        return Some(ms);
    }
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Now, in milliseconds since the epoch.
pub fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_through_rfc3339() {
        let ms = 1_795_314_600_123;
        let s = format_millis(ms);
        assert!(s.ends_with(".123Z"), "{s}");
        assert_eq!(parse_millis(&s), Some(ms));
        assert_eq!(parse_millis("1795314600123"), Some(ms));
        assert_eq!(parse_millis("yesterday"), None);
    }

    #[test]
    fn whole_seconds_format_without_losing_precision() {
        assert_eq!(parse_millis(&format_millis(1_000)), Some(1_000));
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
    }
}
