//! Dead-letter headers of other Kafka tools: read them to find where a foreign dead letter
//! came from, and optionally write them on Weft's own dead letters so those tools (and the
//! UIs built for them) recognise Weft's.
//!
//! Four schemes are known, tried in this order by [`detect`]: Weft's own `weft.dlq.*`
//! (see [`crate::dead_letter`]), Kafka Connect, Kafka Streams, Spring for Apache Kafka.
//! Reading never fails: a header that is absent, null, not UTF-8 where text is expected, of
//! the wrong length where a binary number is expected, negative where a partition, offset or
//! timestamp is expected, or not a legal topic name reads as absent, and a scheme whose topic
//! header does not read is not detected. When a header is repeated the last one counts, as
//! with Kafka's `Headers.lastHeader`, which is how every one of these tools reads them.
//!
//! Where each fact comes from:
//!
//! - **Kafka Connect**: `DeadLetterQueueReporter` in Apache Kafka's Connect runtime
//!   (`connect/runtime/.../errors/DeadLetterQueueReporter.java`, method
//!   `populateContextHeaders`), written when a sink connector sets
//!   `errors.deadletterqueue.context.headers.enable=true` (`SinkConnectorConfig`). Every
//!   header name is `__connect.errors.` plus `topic`, `partition`, `offset`,
//!   `connector.name`, `task.id`, `stage`, `class.name`, `exception.class.name`,
//!   `exception.message`, `exception.stacktrace`. Every value is a string in UTF-8; partition,
//!   offset and task id are Java's `String.valueOf` of the number, i.e. decimal. The stage is
//!   the name of the runtime's `Stage` enum (`KEY_CONVERTER`, `VALUE_CONVERTER`,
//!   `HEADER_CONVERTER`, `TRANSFORMATION`, `TASK_PUT`, `TASK_POLL`, `KAFKA_PRODUCE`,
//!   `KAFKA_CONSUME`), `class.name` the executing class, `exception.class.name` the class of
//!   the error, the stack trace is Java's `printStackTrace` in UTF-8. A null message gives a
//!   null header value. Current versions append with `Headers.add`, so a record dead-lettered
//!   twice carries two of each (older ones kept the first and logged an error). The dead
//!   letter keeps the original record's Kafka timestamp; there is no timestamp or group header.
//! - **Kafka Streams** (KIP-1034, "Dead letter queue in Kafka Streams", shipped in Apache
//!   Kafka 4.2, enabled by `errors.dead.letter.queue.topic.name`): `ExceptionHandlerUtils` in
//!   Kafka Streams (`streams/.../errors/internals/ExceptionHandlerUtils.java`, method
//!   `buildDeadLetterQueueRecord`) and the KIP's table "Default Dead letter queue record".
//!   Names are `__streams.errors.` plus `exception`, `message`, `stacktrace`, `topic`,
//!   `partition`, `offset`; every value goes through Kafka's `StringSerializer` (UTF-8), the
//!   partition and offset as `String.valueOf` (decimal). `exception` is the exception's class
//!   name in the current source; an earlier version of the same method wrote the exception's
//!   `toString()` (`<class>: <message>`), so only the part before `": "` is read as the class.
//!   When the failure came from a punctuation the topic is null (KIP-1034) and the partition
//!   and offset are `-1`; such a record is not replayable and is not detected. The dead letter
//!   carries the failing record's timestamp as its own, and no timestamp or group header.
//! - **Spring for Apache Kafka**: `KafkaHeaders` (header names), `DeadLetterRecordManager`
//!   (4.1+) and before it `DeadLetterPublishingRecoverer` (2.2 to 4.0, same encodings), and
//!   the reference guide's sections "Publishing Dead-letter Records" and "Managing Dead Letter
//!   Record Headers". The recoverer writes `kafka_dlt-original-topic` (UTF-8),
//!   `kafka_dlt-original-partition` (4-byte big-endian int, `ByteBuffer.putInt`),
//!   `kafka_dlt-original-offset` and `kafka_dlt-original-timestamp` (8-byte big-endian long,
//!   `ByteBuffer.putLong`; the timestamp is `-1` when the record had none),
//!   `kafka_dlt-original-timestamp-type` (UTF-8 of Kafka's `TimestampType.toString()`:
//!   `CreateTime`, `LogAppendTime` or `NoTimestampType`), `kafka_dlt-original-consumer-group`
//!   (UTF-8, only when the listener's group is known), `kafka_dlt-exception-fqcn` (class of
//!   the exception, usually `ListenerExecutionFailedException`),
//!   `kafka_dlt-exception-cause-fqcn` (class of the root cause, the exception itself when it
//!   has none), `kafka_dlt-exception-message` (the message, then `"; "` and the cause's
//!   message), `kafka_dlt-exception-stacktrace`, and `kafka_dlt-key-exception-*` for key
//!   deserialisation failures; all strings UTF-8. By default the `*original*` headers are
//!   appended on every hop (`appendOriginalHeaders=true`) and earlier `*exception*` headers
//!   are removed (`stripPreviousExceptionHeaders=true`). The non-blocking retry topics
//!   (`@RetryableTopic`, `DeadLetterPublishingRecovererFactory`) use the same encodings under
//!   other names: `kafka_original-topic`, `-partition`, `-offset`, `-timestamp`,
//!   `-timestamp-type`, `kafka_exception-fqcn`, `-cause-fqcn`, `-message`, `-stacktrace`
//!   (the consumer group keeps the name `kafka_dlt-original-consumer-group`), and keep the
//!   first original headers rather than appending (`appendOriginalHeaders=false`). Both
//!   families are read as [`Scheme::Spring`]; `kafka_dlt-*` is tried first, and the fields of
//!   one origin are never mixed from the two families.
//!
//! What Weft writes ([`write_connect`], [`write_spring`]), mapping a [`DeadLetter`] onto each
//! tool's fields: the exception class is `weft.<error code>` (e.g. `weft.schema_mismatch`,
//! see [`error_class_name`]); the message is Weft's, cut like `weft.dlq.error.message`
//! ([`crate::dead_letter::MAX_MESSAGE_BYTES`]); no stack trace is written (Weft has none).
//! For Connect the connector name is the Weft stage, the task id `0` (Weft has no task
//! numbers), the executing class `weft.<service>`, and the Connect stage follows the error
//! code (decoding and encoding errors `VALUE_CONVERTER`, transform and routing errors
//! `TRANSFORMATION`, `kafka_*` codes `KAFKA_PRODUCE`, anything else `TASK_PUT`). For Spring
//! the cause class equals the exception class (what Spring writes for an exception without a
//! cause) and the timestamp type is not written, because Weft does not record it. Each writer
//! first removes every header of its tool's family that it knows (including those it does
//! not write, such as an earlier failure's stack trace, timestamp or group), so the family
//! always describes this one failure and no name appears twice.

use bytes::Bytes;

use crate::dead_letter::{
    DeadLetter, DLQ_ERROR_CODE, DLQ_ERROR_MESSAGE, DLQ_GROUP, DLQ_ORIGIN_OFFSET,
    DLQ_ORIGIN_PARTITION, DLQ_ORIGIN_TIMESTAMP, DLQ_ORIGIN_TOPIC, MAX_MESSAGE_BYTES,
};
use crate::envelope::Headers;
use crate::error::ErrorCode;
use crate::time::parse_millis;
use crate::topic;

/// Which tool's dead-letter headers an origin was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Weft's own `weft.dlq.*` headers.
    Weft,
    /// Kafka Connect's `__connect.errors.*` context headers.
    Connect,
    /// Kafka Streams' `__streams.errors.*` headers (KIP-1034).
    Streams,
    /// Spring for Apache Kafka's `kafka_dlt-*` (or retry topics' `kafka_original-*`) headers.
    Spring,
}

impl Scheme {
    /// Every scheme, in the order [`detect`] tries them.
    pub const ALL: [Scheme; 4] = [Self::Weft, Self::Connect, Self::Streams, Self::Spring];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weft => "weft",
            Self::Connect => "connect",
            Self::Streams => "streams",
            Self::Spring => "spring",
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a dead letter came from, as far as its headers tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignOrigin {
    pub scheme: Scheme,
    /// The topic the failed record was read from (a legal Kafka topic name).
    pub topic: String,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    /// The original record's timestamp (only Weft and Spring write one in a header).
    pub timestamp_ms: Option<i64>,
    /// The consumer group that failed (only Weft and Spring write one).
    pub group: Option<String>,
    /// The error's class: the Java exception class for foreign tools (Spring: the root
    /// cause's, else the exception's); `weft.<error code>` for Weft's own.
    pub error_class: Option<String>,
    pub message: Option<String>,
}

/// Kafka Connect's dead-letter context headers (`DeadLetterQueueReporter`).
pub mod connect {
    pub const PREFIX: &str = "__connect.errors.";
    pub const TOPIC: &str = "__connect.errors.topic";
    pub const PARTITION: &str = "__connect.errors.partition";
    pub const OFFSET: &str = "__connect.errors.offset";
    pub const CONNECTOR_NAME: &str = "__connect.errors.connector.name";
    pub const TASK_ID: &str = "__connect.errors.task.id";
    pub const STAGE: &str = "__connect.errors.stage";
    pub const CLASS_NAME: &str = "__connect.errors.class.name";
    pub const EXCEPTION_CLASS_NAME: &str = "__connect.errors.exception.class.name";
    pub const EXCEPTION_MESSAGE: &str = "__connect.errors.exception.message";
    pub const EXCEPTION_STACKTRACE: &str = "__connect.errors.exception.stacktrace";

    /// Every header of the family, in the order Connect writes them.
    pub const ALL: [&str; 10] = [
        TOPIC,
        PARTITION,
        OFFSET,
        CONNECTOR_NAME,
        TASK_ID,
        STAGE,
        CLASS_NAME,
        EXCEPTION_CLASS_NAME,
        EXCEPTION_MESSAGE,
        EXCEPTION_STACKTRACE,
    ];

    /// Values of Connect's `Stage` enum that Weft writes.
    pub const STAGE_VALUE_CONVERTER: &str = "VALUE_CONVERTER";
    pub const STAGE_TRANSFORMATION: &str = "TRANSFORMATION";
    pub const STAGE_KAFKA_PRODUCE: &str = "KAFKA_PRODUCE";
    pub const STAGE_TASK_PUT: &str = "TASK_PUT";
}

/// Kafka Streams' dead-letter headers (KIP-1034, `ExceptionHandlerUtils`).
pub mod streams {
    pub const PREFIX: &str = "__streams.errors.";
    pub const EXCEPTION: &str = "__streams.errors.exception";
    pub const MESSAGE: &str = "__streams.errors.message";
    pub const STACKTRACE: &str = "__streams.errors.stacktrace";
    pub const TOPIC: &str = "__streams.errors.topic";
    pub const PARTITION: &str = "__streams.errors.partition";
    pub const OFFSET: &str = "__streams.errors.offset";
}

/// Spring for Apache Kafka's dead-letter headers (`KafkaHeaders`).
pub mod spring {
    pub const DLT_ORIGINAL_TOPIC: &str = "kafka_dlt-original-topic";
    pub const DLT_ORIGINAL_PARTITION: &str = "kafka_dlt-original-partition";
    pub const DLT_ORIGINAL_OFFSET: &str = "kafka_dlt-original-offset";
    pub const DLT_ORIGINAL_TIMESTAMP: &str = "kafka_dlt-original-timestamp";
    pub const DLT_ORIGINAL_TIMESTAMP_TYPE: &str = "kafka_dlt-original-timestamp-type";
    /// Used by both families (`KafkaHeaders.ORIGINAL_CONSUMER_GROUP` has this value too).
    pub const DLT_ORIGINAL_CONSUMER_GROUP: &str = "kafka_dlt-original-consumer-group";
    pub const DLT_EXCEPTION_FQCN: &str = "kafka_dlt-exception-fqcn";
    pub const DLT_EXCEPTION_CAUSE_FQCN: &str = "kafka_dlt-exception-cause-fqcn";
    pub const DLT_EXCEPTION_MESSAGE: &str = "kafka_dlt-exception-message";
    pub const DLT_EXCEPTION_STACKTRACE: &str = "kafka_dlt-exception-stacktrace";
    pub const DLT_KEY_EXCEPTION_FQCN: &str = "kafka_dlt-key-exception-fqcn";
    pub const DLT_KEY_EXCEPTION_MESSAGE: &str = "kafka_dlt-key-exception-message";
    pub const DLT_KEY_EXCEPTION_STACKTRACE: &str = "kafka_dlt-key-exception-stacktrace";

    /// Every `kafka_dlt-*` header Spring defines.
    pub const DLT_ALL: [&str; 13] = [
        DLT_ORIGINAL_TOPIC,
        DLT_ORIGINAL_PARTITION,
        DLT_ORIGINAL_OFFSET,
        DLT_ORIGINAL_TIMESTAMP,
        DLT_ORIGINAL_TIMESTAMP_TYPE,
        DLT_ORIGINAL_CONSUMER_GROUP,
        DLT_EXCEPTION_FQCN,
        DLT_EXCEPTION_CAUSE_FQCN,
        DLT_EXCEPTION_MESSAGE,
        DLT_EXCEPTION_STACKTRACE,
        DLT_KEY_EXCEPTION_FQCN,
        DLT_KEY_EXCEPTION_MESSAGE,
        DLT_KEY_EXCEPTION_STACKTRACE,
    ];

    /// Written by the non-blocking retry topics (`@RetryableTopic`); read, never written.
    pub const ORIGINAL_TOPIC: &str = "kafka_original-topic";
    pub const ORIGINAL_PARTITION: &str = "kafka_original-partition";
    pub const ORIGINAL_OFFSET: &str = "kafka_original-offset";
    pub const ORIGINAL_TIMESTAMP: &str = "kafka_original-timestamp";
    pub const ORIGINAL_TIMESTAMP_TYPE: &str = "kafka_original-timestamp-type";
    pub const EXCEPTION_FQCN: &str = "kafka_exception-fqcn";
    pub const EXCEPTION_CAUSE_FQCN: &str = "kafka_exception-cause-fqcn";
    pub const EXCEPTION_MESSAGE: &str = "kafka_exception-message";
    pub const EXCEPTION_STACKTRACE: &str = "kafka_exception-stacktrace";

    /// Kafka's `TimestampType.toString()` values.
    pub const CREATE_TIME: &str = "CreateTime";
    pub const LOG_APPEND_TIME: &str = "LogAppendTime";
    pub const NO_TIMESTAMP_TYPE: &str = "NoTimestampType";
}

/// The origin of a dead letter from whichever scheme its headers carry: Weft's own first,
/// then Kafka Connect, Kafka Streams and Spring. `None` when no scheme's topic header reads.
pub fn detect(headers: &Headers) -> Option<ForeignOrigin> {
    Scheme::ALL.iter().find_map(|&s| read(s, headers))
}

/// The origin as one given scheme tells it; `None` when that scheme's topic header is
/// absent or malformed.
pub fn read(scheme: Scheme, headers: &Headers) -> Option<ForeignOrigin> {
    match scheme {
        Scheme::Weft => read_weft(headers),
        Scheme::Connect => read_connect(headers),
        Scheme::Streams => read_streams(headers),
        Scheme::Spring => read_spring(headers),
    }
}

/// The class name Weft gives an error code in foreign headers: `weft.<code>`.
pub fn error_class_name(code: ErrorCode) -> String {
    format!("weft.{}", code.as_str())
}

/// Adds Kafka Connect's dead-letter context headers for a Weft dead letter, with the
/// encodings Connect writes (UTF-8 strings, decimal numbers). Every `__connect.errors.*`
/// header already present is removed first.
pub fn write_connect(dl: &DeadLetter, headers: &mut Headers) {
    let (o, f) = (&dl.original, &dl.failure);
    headers.retain(|h| !connect::ALL.contains(&h.key.as_ref()));
    headers.set(connect::TOPIC, o.topic.clone());
    headers.set(connect::PARTITION, o.partition.to_string());
    headers.set(connect::OFFSET, o.offset.to_string());
    headers.set(connect::CONNECTOR_NAME, f.stage.clone());
    headers.set(connect::TASK_ID, "0");
    headers.set(connect::STAGE, connect_stage(f.code));
    headers.set(connect::CLASS_NAME, format!("weft.{}", f.service));
    headers.set(connect::EXCEPTION_CLASS_NAME, error_class_name(f.code));
    headers.set(connect::EXCEPTION_MESSAGE, truncate(&f.message));
}

/// Adds Spring's `DeadLetterPublishingRecoverer` headers for a Weft dead letter, with the
/// encodings Spring writes (partition 4-byte and offset/timestamp 8-byte big-endian, strings
/// UTF-8). Every `kafka_dlt-*` header already present is removed first.
pub fn write_spring(dl: &DeadLetter, headers: &mut Headers) {
    let (o, f) = (&dl.original, &dl.failure);
    headers.retain(|h| !spring::DLT_ALL.contains(&h.key.as_ref()));
    headers.set(spring::DLT_ORIGINAL_TOPIC, o.topic.clone());
    set_bytes(
        headers,
        spring::DLT_ORIGINAL_PARTITION,
        &o.partition.to_be_bytes(),
    );
    set_bytes(
        headers,
        spring::DLT_ORIGINAL_OFFSET,
        &o.offset.to_be_bytes(),
    );
    if let Some(ts) = o.timestamp_ms {
        set_bytes(headers, spring::DLT_ORIGINAL_TIMESTAMP, &ts.to_be_bytes());
    }
    if let Some(group) = &f.group {
        headers.set(spring::DLT_ORIGINAL_CONSUMER_GROUP, group.clone());
    }
    let class = error_class_name(f.code);
    headers.set(spring::DLT_EXCEPTION_FQCN, class.clone());
    headers.set(spring::DLT_EXCEPTION_CAUSE_FQCN, class);
    headers.set(spring::DLT_EXCEPTION_MESSAGE, truncate(&f.message));
}

fn connect_stage(code: ErrorCode) -> &'static str {
    use ErrorCode as C;
    match code {
        C::BadMagicByte
        | C::UnknownSchemaId
        | C::SchemaNotAllowed
        | C::DecodeFailed
        | C::SchemaMismatch
        | C::RegistryUnavailable => connect::STAGE_VALUE_CONVERTER,
        C::TransformFailed | C::NoRoute => connect::STAGE_TRANSFORMATION,
        c if c.as_str().starts_with("kafka_") => connect::STAGE_KAFKA_PRODUCE,
        _ => connect::STAGE_TASK_PUT,
    }
}

fn read_weft(h: &Headers) -> Option<ForeignOrigin> {
    Some(ForeignOrigin {
        scheme: Scheme::Weft,
        topic: topic_at(h, DLQ_ORIGIN_TOPIC)?,
        partition: decimal(h, DLQ_ORIGIN_PARTITION),
        offset: decimal(h, DLQ_ORIGIN_OFFSET),
        timestamp_ms: h
            .get_str(DLQ_ORIGIN_TIMESTAMP)
            .and_then(parse_millis)
            .filter(|t| *t >= 0),
        group: text(h, DLQ_GROUP),
        error_class: h
            .get_str(DLQ_ERROR_CODE)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| format!("weft.{c}")),
        message: text(h, DLQ_ERROR_MESSAGE),
    })
}

fn read_connect(h: &Headers) -> Option<ForeignOrigin> {
    Some(ForeignOrigin {
        scheme: Scheme::Connect,
        topic: topic_at(h, connect::TOPIC)?,
        partition: decimal(h, connect::PARTITION),
        offset: decimal(h, connect::OFFSET),
        timestamp_ms: None,
        group: None,
        error_class: text(h, connect::EXCEPTION_CLASS_NAME),
        message: text(h, connect::EXCEPTION_MESSAGE),
    })
}

fn read_streams(h: &Headers) -> Option<ForeignOrigin> {
    // `<class>` today, `<class>: <message>` (Throwable.toString) in the first release.
    let class = h.get_str(streams::EXCEPTION).and_then(|s| {
        let class = s.split_once(": ").map_or(s, |(c, _)| c).trim();
        (!class.is_empty()).then(|| class.to_string())
    });
    Some(ForeignOrigin {
        scheme: Scheme::Streams,
        topic: topic_at(h, streams::TOPIC)?,
        partition: decimal(h, streams::PARTITION),
        offset: decimal(h, streams::OFFSET),
        timestamp_ms: None,
        group: None,
        error_class: class,
        message: text(h, streams::MESSAGE),
    })
}

/// The header names of one Spring family.
struct SpringFamily {
    topic: &'static str,
    partition: &'static str,
    offset: &'static str,
    timestamp: &'static str,
    fqcn: &'static str,
    cause_fqcn: &'static str,
    message: &'static str,
}

const SPRING_FAMILIES: [SpringFamily; 2] = [
    SpringFamily {
        topic: spring::DLT_ORIGINAL_TOPIC,
        partition: spring::DLT_ORIGINAL_PARTITION,
        offset: spring::DLT_ORIGINAL_OFFSET,
        timestamp: spring::DLT_ORIGINAL_TIMESTAMP,
        fqcn: spring::DLT_EXCEPTION_FQCN,
        cause_fqcn: spring::DLT_EXCEPTION_CAUSE_FQCN,
        message: spring::DLT_EXCEPTION_MESSAGE,
    },
    SpringFamily {
        topic: spring::ORIGINAL_TOPIC,
        partition: spring::ORIGINAL_PARTITION,
        offset: spring::ORIGINAL_OFFSET,
        timestamp: spring::ORIGINAL_TIMESTAMP,
        fqcn: spring::EXCEPTION_FQCN,
        cause_fqcn: spring::EXCEPTION_CAUSE_FQCN,
        message: spring::EXCEPTION_MESSAGE,
    },
];

fn read_spring(h: &Headers) -> Option<ForeignOrigin> {
    SPRING_FAMILIES.iter().find_map(|fam| {
        Some(ForeignOrigin {
            scheme: Scheme::Spring,
            topic: topic_at(h, fam.topic)?,
            partition: be_bytes::<4>(h, fam.partition)
                .map(i32::from_be_bytes)
                .filter(|p| *p >= 0),
            offset: be_bytes::<8>(h, fam.offset)
                .map(i64::from_be_bytes)
                .filter(|o| *o >= 0),
            timestamp_ms: be_bytes::<8>(h, fam.timestamp)
                .map(i64::from_be_bytes)
                .filter(|t| *t >= 0),
            group: text(h, spring::DLT_ORIGINAL_CONSUMER_GROUP),
            error_class: text(h, fam.cause_fqcn).or_else(|| text(h, fam.fqcn)),
            message: text(h, fam.message),
        })
    })
}

/// A UTF-8 header that is a legal Kafka topic name.
fn topic_at(h: &Headers, key: &str) -> Option<String> {
    h.get_str(key)
        .filter(|t| topic::check_name(t).is_ok())
        .map(str::to_string)
}

/// A non-empty UTF-8 header.
fn text(h: &Headers, key: &str) -> Option<String> {
    h.get_str(key)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// A decimal header that is not negative (the tools write `-1` for "unknown").
fn decimal<T: std::str::FromStr + PartialOrd + Default>(h: &Headers, key: &str) -> Option<T> {
    h.get_parsed::<T>(key).filter(|n| *n >= T::default())
}

/// A header of exactly `N` bytes.
fn be_bytes<const N: usize>(h: &Headers, key: &str) -> Option<[u8; N]> {
    h.get(key).and_then(|v| <[u8; N]>::try_from(v).ok())
}

fn set_bytes(h: &mut Headers, key: &'static str, value: &[u8]) {
    h.remove(key);
    h.push(key, Some(Bytes::copy_from_slice(value)));
}

/// The same cut as `weft.dlq.error.message`: at most [`MAX_MESSAGE_BYTES`] on a character
/// boundary, then `…`.
fn truncate(s: &str) -> String {
    if s.len() <= MAX_MESSAGE_BYTES {
        return s.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
#[path = "foreign_dlq_tests.rs"]
mod tests;
