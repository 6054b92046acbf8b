//! Records consumed and records to produce, owned and independent of the consumer's buffers.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rdkafka::message::{BorrowedMessage, Header as RdHeader, OwnedHeaders};
use rdkafka::Message;
use weft_core::{Headers, OriginalRecord};

/// A consumed record. The topic name is shared, so cloning a record is cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Headers,
}

impl Record {
    /// Copies a borrowed message out of the consumer's buffers.
    pub fn from_borrowed(m: &BorrowedMessage<'_>, topic: Arc<str>) -> Self {
        // One allocation for key, value and header values together; Weft's own header names
        // are interned (no allocation either). Headers are read from librdkafka once.
        let (k, v) = (m.key(), m.payload());
        let hs = crate::native_headers::read(m);
        let header_bytes: usize = hs.iter().map(|h| h.value.map_or(0, <[u8]>::len)).sum();
        let mut buf = BytesMut::with_capacity(
            k.map_or(0, <[u8]>::len) + v.map_or(0, <[u8]>::len) + header_bytes,
        );
        buf.extend_from_slice(k.unwrap_or_default());
        buf.extend_from_slice(v.unwrap_or_default());
        for h in &hs {
            buf.extend_from_slice(h.value.unwrap_or_default());
        }
        let mut all = buf.freeze();
        let key = k.map(|k| all.split_to(k.len()));
        let value = v.map(|v| all.split_to(v.len()));
        let mut headers = Headers::with_capacity(hs.len());
        for h in hs {
            let value = h.value.map(|v| all.split_to(v.len()));
            let name = match h.name {
                Cow::Borrowed(n) => weft_core::headers::intern(n),
                Cow::Owned(n) => Cow::Owned(n),
            };
            headers.push(name, value);
        }
        Self {
            topic,
            partition: m.partition(),
            offset: m.offset(),
            timestamp_ms: m.timestamp().to_millis(),
            key,
            value,
            headers,
        }
    }

    /// The record as a dead letter's original (everything kept as it was).
    pub fn to_original(&self) -> OriginalRecord {
        OriginalRecord {
            topic: self.topic.to_string(),
            partition: self.partition,
            offset: self.offset,
            timestamp_ms: self.timestamp_ms,
            key: self.key.clone(),
            value: self.value.clone(),
            headers: self.headers.clone(),
        }
    }
}

/// A record to produce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: Arc<str>,
    pub partition: Option<i32>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Headers,
    pub timestamp_ms: Option<i64>,
}

impl OutRecord {
    pub fn new(topic: impl Into<Arc<str>>) -> Self {
        Self {
            topic: topic.into(),
            ..Self::default()
        }
    }

    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn value(mut self, value: impl Into<Bytes>) -> Self {
        self.value = Some(value.into());
        self
    }

    pub fn headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// A copy of `record` (key, value, headers, timestamp) addressed to `topic`.
    pub fn forward(record: &Record, topic: impl Into<Arc<str>>) -> Self {
        Self {
            topic: topic.into(),
            partition: None,
            key: record.key.clone(),
            value: record.value.clone(),
            headers: record.headers.clone(),
            timestamp_ms: record.timestamp_ms,
        }
    }
}

pub fn to_owned_headers(h: &Headers) -> Option<OwnedHeaders> {
    if h.is_empty() {
        return None;
    }
    let mut out = OwnedHeaders::new_with_capacity(h.len());
    for x in h.iter() {
        out = out.insert(RdHeader {
            key: &x.key,
            value: x.value.as_deref(),
        });
    }
    Some(out)
}
