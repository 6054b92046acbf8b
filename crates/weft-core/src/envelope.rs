//! The record as Weft sees it on the wire: key, value bytes and ordered headers.

use std::borrow::Cow;

use bytes::Bytes;

/// A header name: Weft's own names are `&'static str` constants, kept without a copy; names
/// read from Kafka are owned.
pub type HeaderKey = Cow<'static, str>;

/// One Kafka header. Kafka allows repeated keys and null values; both are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: HeaderKey,
    pub value: Option<Bytes>,
}

/// Ordered Kafka headers with helpers for Weft's string-valued headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Appends a header, keeping any earlier one with the same key.
    pub fn push(&mut self, key: impl Into<HeaderKey>, value: Option<Bytes>) {
        self.0.push(Header {
            key: key.into(),
            value,
        });
    }

    /// Sets a string header, replacing every earlier header with the same key. A `&'static
    /// str` key or value is kept without a copy.
    pub fn set(&mut self, key: impl Into<HeaderKey>, value: impl Into<Bytes>) {
        let key = key.into();
        self.remove(&key);
        self.push(key, Some(value.into()));
    }

    /// Sets a string header only when it is not present yet.
    pub fn set_if_absent(&mut self, key: &'static str, value: impl FnOnce() -> String) {
        if !self.contains(key) {
            self.push(key, Some(Bytes::from(value())));
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|h| h.key != key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|h| h.key == key)
    }

    /// The last value of `key` (Kafka semantics: the latest header wins).
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .rev()
            .find(|h| h.key == key)
            .and_then(|h| h.value.as_deref())
    }

    /// The last value of `key` as UTF-8; `None` when absent or not valid UTF-8.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The last value of `key` parsed with `FromStr`; `None` when absent or unparsable.
    pub fn get_parsed<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get_str(key).and_then(|s| s.trim().parse().ok())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keeps only the headers for which `keep` returns true.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        self.0.retain(keep);
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for Headers {
    type Item = Header;
    type IntoIter = std::vec::IntoIter<Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A record to produce or a record consumed, independent of the Kafka client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Headers,
    /// Milliseconds since the Unix epoch (Kafka's record timestamp), when known.
    pub timestamp_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_header_wins_and_set_replaces_all() {
        let mut h = Headers::new();
        h.push("a", Some(Bytes::from_static(b"1")));
        h.push("a", Some(Bytes::from_static(b"2")));
        assert_eq!(h.get_str("a"), Some("2"));
        h.set("a", "3");
        assert_eq!(h.len(), 1);
        assert_eq!(h.get_parsed::<u32>("a"), Some(3));
    }

    #[test]
    fn null_and_non_utf8_values_are_absent_as_strings() {
        let mut h = Headers::new();
        h.push("null", None);
        h.push("bin", Some(Bytes::from_static(&[0xff, 0xfe])));
        assert!(h.contains("null"));
        assert_eq!(h.get("null"), None);
        assert_eq!(h.get("bin"), Some(&[0xff, 0xfe][..]));
        assert_eq!(h.get_str("bin"), None);
    }

    #[test]
    fn set_if_absent_keeps_existing() {
        let mut h = Headers::new();
        h.set("k", "first");
        h.set_if_absent("k", || "second".into());
        h.set_if_absent("j", || "new".into());
        assert_eq!(h.get_str("k"), Some("first"));
        assert_eq!(h.get_str("j"), Some("new"));
    }
}
