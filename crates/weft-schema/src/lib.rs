//! Avro in the Confluent Schema Registry wire format.
//!
//! This crate holds what every producer and consumer of Weft agrees on about schemas: the wire
//! framing (magic byte 0, a 4-byte big-endian schema id, then the Avro binary body), subject
//! naming strategies, schema identity by Avro's Parsing Canonical Form, a compiled Avro codec
//! ([`codec`]: decode, encode, validate and schema resolution with no per-record schema work),
//! and the registry client with its cache of compiled schemas ([`client`]).

pub mod client;
pub mod codec;
pub mod compat;
pub mod diff;
pub mod identity;
pub mod subject;

pub use client::{
    CompiledSchema, EncodeTarget, FetchedSchema, ReaderSchema, RegistryClient,
    RegistryClientConfig, SchemaCache, SchemaError, SchemaSource,
};
pub use codec::{Codec, CodecError, DecodeError, EncodeError, ResolvingCodec};
pub use compat::{
    CompatibilityLevel, Incompatibility, IncompatibilityKind, SchemaSet, SchemaSetError,
    UnknownCompatibilityLevel,
};
pub use identity::{SchemaIdentity, SchemaParseError};
pub use subject::{SubjectError, SubjectNameStrategy};
/// The Confluent framing lives in `weft-core` (every stage checks it, with no Avro dependency).
pub use weft_core::wire::{self, Framed, WireError};
