//! Error classification shared by every stage.
//!
//! Every error a stage can meet answers two questions: what to do with the record
//! ([`ErrorClass`]) and how to group it in metrics and dead-letter headers ([`ErrorCode`]).

use std::fmt;
use std::str::FromStr;

/// What a stage does with a record whose processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Might succeed later (broker unavailable, timeout, throttling): retry with backoff.
    Transient,
    /// Will fail the same way every time (bad bytes, schema mismatch): dead-letter the record.
    Permanent,
    /// The stage cannot go on (authorisation, misconfiguration): stop cleanly, commit nothing past it.
    Fatal,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Permanent => "permanent",
            Self::Fatal => "fatal",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "transient" => Ok(Self::Transient),
            "permanent" => Ok(Self::Permanent),
            "fatal" => Ok(Self::Fatal),
            other => Err(format!("unknown error class {other:?}")),
        }
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $class:ident; )*) => {
        /// Stable error codes. The string form is a contract: it appears in metrics labels,
        /// `weft.dlq.error.code` headers and dashboards, so a code is never renamed or reused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order (documentation and tests).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $code, )* }
            }

            /// The class an error with this code has unless the stage knows better.
            pub fn default_class(self) -> ErrorClass {
                match self { $( Self::$variant => ErrorClass::$class, )* }
            }
        }

        impl FromStr for ErrorCode {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $code => Ok(Self::$variant), )*
                    other => Err(format!("unknown error code {other:?}")),
                }
            }
        }
    };
}

error_codes! {
    /// The broker did not acknowledge a produced record in time.
    KafkaDeliveryTimeout = "kafka_delivery_timeout", Transient;
    /// The broker or network is unavailable.
    KafkaUnavailable = "kafka_unavailable", Transient;
    /// The producer queue stayed full past the backpressure limit.
    KafkaQueueFull = "kafka_queue_full", Transient;
    /// A produce was refused for a reason that will not change (record too large, invalid record).
    KafkaRecordRejected = "kafka_record_rejected", Permanent;
    /// The destination topic does not exist and is not created automatically.
    KafkaUnknownTopic = "kafka_unknown_topic", Fatal;
    /// The principal may not read or write the topic or group.
    KafkaNotAuthorized = "kafka_not_authorized", Fatal;
    /// A transactional producer was fenced by a newer instance with the same transactional.id.
    KafkaFenced = "kafka_fenced", Fatal;
    /// Any other Kafka client error.
    KafkaOther = "kafka_error", Transient;
    /// The value does not start with the Confluent wire-format magic byte 0.
    BadMagicByte = "bad_magic_byte", Permanent;
    /// The value's schema id is not known to the registry.
    UnknownSchemaId = "unknown_schema_id", Permanent;
    /// The schema id is not allowed for this topic's subject.
    SchemaNotAllowed = "schema_not_allowed", Permanent;
    /// The value does not decode with its writer schema.
    DecodeFailed = "decode_failed", Permanent;
    /// The output does not fit the destination schema.
    SchemaMismatch = "schema_mismatch", Permanent;
    /// The schema registry could not be reached.
    RegistryUnavailable = "registry_unavailable", Transient;
    /// A transform program failed on this record.
    TransformFailed = "transform_failed", Permanent;
    /// No route matched and the flow has no default route.
    NoRoute = "no_route", Permanent;
    /// Input that is not valid for the endpoint (HTTP body, webhook payload).
    InvalidInput = "invalid_input", Permanent;
    /// A record was replayed more often than the configured limit.
    ReplayLimit = "replay_limit", Permanent;
    /// A saga step or external call ran out of time.
    Timeout = "timeout", Transient;
    /// Held in a retry tier behind an earlier record of its key that failed (ordering-aware
    /// parking); not a failure of its own.
    Parked = "parked", Transient;
    /// Configuration is invalid; the stage cannot start or continue.
    ConfigInvalid = "config_invalid", Fatal;
    /// A bug or an unexpected state inside Weft.
    Internal = "internal", Fatal;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by every error a stage returns (habit 4: errors carry their class).
pub trait Classify {
    fn class(&self) -> ErrorClass;
    fn code(&self) -> ErrorCode;
}

/// A classified error with a message: what a processor returns when it has no richer type,
/// and what every richer type can be turned into for dead-letter headers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StageError {
    pub class: ErrorClass,
    pub code: ErrorCode,
    pub message: String,
    /// Where in the record the problem is (an Avro/JSON field path), when known.
    pub field: Option<String>,
    /// The registry subject whose schema the stage expected the value in, when a value did
    /// not decode or fit (`weft dlq show` diffs the writer schema against its latest).
    pub expected_subject: Option<String>,
}

impl StageError {
    /// An error with the code's default class.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            class: code.default_class(),
            code,
            message: message.into(),
            field: None,
            expected_subject: None,
        }
    }

    pub fn with_class(mut self, class: ErrorClass) -> Self {
        self.class = class;
        self
    }

    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Names the subject whose schema the value was expected in.
    pub fn expecting(mut self, subject: impl Into<String>) -> Self {
        self.expected_subject = Some(subject.into());
        self
    }

    /// Captures any classified error.
    pub fn from_classified<E: Classify + fmt::Display>(e: &E) -> Self {
        Self {
            class: e.class(),
            code: e.code(),
            message: e.to_string(),
            field: None,
            expected_subject: None,
        }
    }
}

impl Classify for StageError {
    fn class(&self) -> ErrorClass {
        self.class
    }
    fn code(&self) -> ErrorCode {
        self.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert_eq!(s.parse::<ErrorCode>().ok(), Some(*code));
        }
        assert!("nope".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn stage_error_takes_default_class_and_can_override() {
        let e = StageError::new(ErrorCode::BadMagicByte, "first byte was 0x7b");
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert_eq!(e.to_string(), "bad_magic_byte: first byte was 0x7b");
        let e = e.with_class(ErrorClass::Transient).at_field("order.id");
        assert_eq!(e.class, ErrorClass::Transient);
        assert_eq!(e.field.as_deref(), Some("order.id"));
    }

    #[test]
    fn classes_round_trip() {
        for c in [
            ErrorClass::Transient,
            ErrorClass::Permanent,
            ErrorClass::Fatal,
        ] {
            assert_eq!(c.as_str().parse::<ErrorClass>(), Ok(c));
        }
    }
}
