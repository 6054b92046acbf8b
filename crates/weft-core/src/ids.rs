//! Event identifiers.

use std::fmt;
use std::str::FromStr;

/// A Weft event id: a UUIDv7, so ids sort by creation time and index well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(uuid::Uuid);

impl EventId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl From<uuid::Uuid> for EventId {
    fn from(u: uuid::Uuid) -> Self {
        Self(u)
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for EventId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_ordered_and_round_trip() {
        let a = EventId::new();
        let b = EventId::new();
        assert_ne!(a, b);
        assert!(a < b, "UUIDv7 ids created later sort later");
        assert_eq!(a.to_string().parse::<EventId>().ok(), Some(a));
        assert!("not-a-uuid".parse::<EventId>().is_err());
    }
}
