//! Weft's shared vocabulary: the event envelope, the headers contract (`docs/headers.md`),
//! error classification with stable codes, the dead-letter record, and the Confluent wire
//! framing every stage checks.
//!
//! This crate does no I/O: everything here is plain data and pure functions, so every
//! service and tool agrees on the same contract and it can be tested without Kafka.

pub mod dead_letter;
pub mod envelope;
pub mod error;
pub mod foreign_dlq;
pub mod headers;
pub mod ids;
pub mod secret;
pub mod time;
pub mod topic;
pub mod trace;
pub mod wire;

pub use dead_letter::{DeadLetter, Failure, OriginalRecord};
pub use envelope::{Envelope, Header, HeaderKey, Headers};
pub use error::{Classify, ErrorClass, ErrorCode, StageError};
pub use ids::EventId;
pub use secret::Secret;
pub use trace::TraceParent;
