//! The schema registry client and the schema cache every stage decodes and encodes through.
//!
//! [`RegistryClient`] talks to a Confluent-compatible registry through
//! `schema_registry_converter`'s async API. [`SchemaCache`] sits in front of any
//! [`SchemaSource`] (the client, or a fake in tests): the first record with a new schema id
//! fetches and compiles the schema — concurrent misses for one id share that single fetch —
//! and every later record finds the compiled codec in memory, with no `await` on I/O. A
//! failed fetch is remembered for a short time (so a burst of records with an unknown id does
//! not become a burst of HTTP calls) and then tried again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apache_avro::Schema;
use schema_registry_converter::async_impl::schema_registry::{
    get_all_versions, get_referenced_schema, get_schema_by_id, get_schema_by_subject_and_version,
    post_schema, SrSettings,
};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{
    RawError, RegisteredSchema, SchemaType, SuppliedSchema,
};
use serde::Deserialize;
use weft_core::wire::WireError;
use weft_core::{Classify, ErrorClass, ErrorCode, Secret};

use crate::codec::{Codec, CodecError, DecodeError, EncodeError};

mod cache;

pub use cache::{EncodeTarget, ReaderSchema, SchemaCache};

/// How to reach the schema registry (`[schema_registry]` in `weft.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryClientConfig {
    /// Base URL; several may be given comma-separated, tried in order.
    pub url: String,
    /// Basic-auth user (Confluent Cloud: the API key).
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Connect and read timeout of each registry call.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for RegistryClientConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8081".into(),
            username: None,
            password: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Errors of the registry client and the schema cache, each with its class.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("schema id {id} is not known to the registry: {message}")]
    UnknownSchemaId { id: u32, message: String },
    #[error("subject {subject:?} is not known to the registry: {message}")]
    UnknownSubject { subject: String, message: String },
    #[error("the schema registry is unavailable: {message}")]
    RegistryUnavailable { message: String },
    #[error("the schema registry refused the credentials: {message}")]
    Unauthorized { message: String },
    #[error("the schema registry refused {what}: {message}")]
    Refused {
        what: String,
        /// The registry's `error_code` (409 for an incompatible schema), when it gave one.
        error_code: Option<u32>,
        message: String,
    },
    #[error("schema id {id} is a {schema_type} schema, not Avro")]
    NotAvro { id: u32, schema_type: String },
    #[error("schema id {id} cannot be used: {source}")]
    InvalidSchema {
        id: u32,
        #[source]
        source: CodecError,
    },
    #[error("schema {what} is not valid: {message}")]
    Unparsable { what: String, message: String },
    #[error("value with schema id {id} does not decode: {source}")]
    Decode {
        id: u32,
        #[source]
        source: DecodeError,
    },
    #[error("value does not fit schema id {id}: {source}")]
    Encode {
        id: u32,
        #[source]
        source: EncodeError,
    },
    #[error(
        "data written with schema id {writer_id} cannot be read with the reader schema: {source}"
    )]
    Incompatible {
        writer_id: u32,
        #[source]
        source: CodecError,
    },
    #[error("invalid schema registry configuration: {0}")]
    Config(String),
}

impl Classify for SchemaError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Wire(e) => e.class(),
            other => other.code().default_class(),
        }
    }

    fn code(&self) -> ErrorCode {
        match self {
            Self::Wire(e) => e.code(),
            Self::UnknownSchemaId { .. } | Self::UnknownSubject { .. } => {
                ErrorCode::UnknownSchemaId
            }
            Self::RegistryUnavailable { .. } => ErrorCode::RegistryUnavailable,
            Self::Unauthorized { .. } | Self::Config(_) => ErrorCode::ConfigInvalid,
            Self::Refused {
                error_code: Some(409),
                ..
            } => ErrorCode::SchemaMismatch,
            Self::Refused { .. } | Self::Unparsable { .. } => ErrorCode::InvalidInput,
            Self::NotAvro { .. } | Self::InvalidSchema { .. } | Self::Decode { .. } => {
                ErrorCode::DecodeFailed
            }
            Self::Encode { .. } | Self::Incompatible { .. } => ErrorCode::SchemaMismatch,
        }
    }
}

/// A schema as the registry returned it, with the texts of the schemas it references
/// (transitively), ready to parse with `Schema::parse_str_with_list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSchema {
    pub id: u32,
    pub schema: String,
    pub references: Vec<String>,
}

/// Where the cache gets schemas from: the registry, or a fake in tests.
pub trait SchemaSource: Send + Sync {
    /// The schema registered under `id`.
    fn schema_by_id(
        &self,
        id: u32,
    ) -> impl Future<Output = Result<FetchedSchema, SchemaError>> + Send;
    /// The latest schema of `subject`.
    fn latest_schema(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<FetchedSchema, SchemaError>> + Send;
    /// Registers `schema` under `subject` (or finds it there) and returns its id.
    fn register_schema(
        &self,
        subject: &str,
        schema: &str,
    ) -> impl Future<Output = Result<u32, SchemaError>> + Send;
}

/// What a registry call was about, to name it in errors.
#[derive(Clone, Copy)]
enum Lookup<'a> {
    Id(u32),
    Subject(&'a str),
    Register(&'a str),
}

/// The HTTP status `schema_registry_converter` puts in its message for error responses.
fn http_status(e: &SRCError) -> Option<u16> {
    let rest = e.error.split("with status ").nth(1)?;
    rest.get(..3)?.parse().ok()
}

fn registry_error(e: &SRCError, lookup: Lookup<'_>) -> SchemaError {
    let raw = std::error::Error::source(e).and_then(|s| s.downcast_ref::<RawError>());
    let error_code = raw.map(|r| r.error_code).filter(|c| *c != 0);
    let status = http_status(e);
    let message = match (raw.filter(|_| error_code.is_some()), &e.cause) {
        (Some(raw), _) => raw.message.clone(),
        (None, Some(cause)) => format!("{}: {cause}", e.error),
        (None, None) => e.error.clone(),
    };
    let class = error_code.map(|c| if c >= 1000 { c / 100 } else { c });
    let status = status.map(u32::from).or(class);
    match (status, lookup) {
        (Some(401 | 403), _) => SchemaError::Unauthorized { message },
        (Some(404), Lookup::Id(id)) => SchemaError::UnknownSchemaId { id, message },
        (Some(404), Lookup::Subject(s)) => SchemaError::UnknownSubject {
            subject: s.to_string(),
            message,
        },
        (Some(s), Lookup::Register(subject)) if (400..500).contains(&s) && s != 408 && s != 429 => {
            SchemaError::Refused {
                what: format!("the schema for subject {subject:?}"),
                error_code: error_code.map(|c| if c == 40901 { 409 } else { c }),
                message,
            }
        }
        _ => SchemaError::RegistryUnavailable { message },
    }
}

/// One version of a subject and the id of its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectVersion {
    pub version: u32,
    pub id: u32,
}

/// A client of a Confluent-compatible schema registry.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    settings: SrSettings,
}

impl RegistryClient {
    pub fn new(cfg: &RegistryClientConfig) -> Result<Self, SchemaError> {
        let mut urls = cfg
            .url
            .split(',')
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty());
        let Some(first) = urls.next() else {
            return Err(SchemaError::Config("schema_registry.url is empty".into()));
        };
        let mut builder = SrSettings::new_builder(first.to_string());
        for u in urls {
            builder.add_url(u.to_string());
        }
        builder.set_timeout(cfg.timeout);
        if let Some(user) = &cfg.username {
            builder.set_basic_authorization(user, cfg.password.as_ref().map(Secret::expose));
        } else if cfg.password.is_some() {
            return Err(SchemaError::Config(
                "schema_registry.password is set without a username".into(),
            ));
        }
        let settings = builder
            .build()
            .map_err(|e| SchemaError::Config(e.to_string()))?;
        Ok(Self { settings })
    }

    /// The settings, for calls this client does not wrap.
    pub fn settings(&self) -> &SrSettings {
        &self.settings
    }

    /// The live (not soft-deleted) versions of `subject` with their schema ids, oldest first:
    /// one call for the version list, one per version. An unknown subject is
    /// [`SchemaError::UnknownSubject`]; a version deleted between the two calls is left out.
    pub async fn subject_versions(
        &self,
        subject: &str,
    ) -> Result<Vec<SubjectVersion>, SchemaError> {
        let lookup = Lookup::Subject(subject);
        let versions = get_all_versions(&self.settings, subject.to_string())
            .await
            .map_err(|e| registry_error(&e, lookup))?;
        let mut out = Vec::with_capacity(versions.len());
        for version in versions {
            match get_schema_by_subject_and_version(&self.settings, subject, Some(version)).await {
                Ok(s) => out.push(SubjectVersion { version, id: s.id }),
                Err(e) => match registry_error(&e, lookup) {
                    SchemaError::UnknownSubject { .. } => {}
                    other => return Err(other),
                },
            }
        }
        Ok(out)
    }

    async fn with_references(
        &self,
        registered: RegisteredSchema,
        lookup: Lookup<'_>,
    ) -> Result<FetchedSchema, SchemaError> {
        if registered.schema_type != SchemaType::Avro {
            return Err(SchemaError::NotAvro {
                id: registered.id,
                schema_type: format!("{:?}", registered.schema_type).to_uppercase(),
            });
        }
        // Depth-first over the reference graph; each subject/version is fetched once.
        let mut references = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<_> = registered.references.clone();
        while let Some(r) = stack.pop() {
            if !seen.insert((r.subject.clone(), r.version)) {
                continue;
            }
            let child = get_referenced_schema(&self.settings, &r)
                .await
                .map_err(|e| registry_error(&e, lookup))?;
            stack.extend(child.references.iter().cloned());
            references.push(child.schema);
        }
        Ok(FetchedSchema {
            id: registered.id,
            schema: registered.schema,
            references,
        })
    }
}

impl SchemaSource for RegistryClient {
    async fn schema_by_id(&self, id: u32) -> Result<FetchedSchema, SchemaError> {
        let registered = get_schema_by_id(id, &self.settings)
            .await
            .map_err(|e| registry_error(&e, Lookup::Id(id)))?;
        self.with_references(registered, Lookup::Id(id)).await
    }

    async fn latest_schema(&self, subject: &str) -> Result<FetchedSchema, SchemaError> {
        let registered = get_schema_by_subject_and_version(&self.settings, subject, None)
            .await
            .map_err(|e| registry_error(&e, Lookup::Subject(subject)))?;
        self.with_references(registered, Lookup::Subject(subject))
            .await
    }

    async fn register_schema(&self, subject: &str, schema: &str) -> Result<u32, SchemaError> {
        let supplied = SuppliedSchema::new(None, SchemaType::Avro, schema.to_string());
        post_schema(&self.settings, subject.to_string(), supplied)
            .await
            .map(|r| r.id)
            .map_err(|e| registry_error(&e, Lookup::Register(subject)))
    }
}

/// A registry schema, parsed and compiled once.
#[derive(Debug)]
pub struct CompiledSchema {
    pub id: u32,
    /// The schema text as the registry returned it.
    pub text: String,
    pub schema: Schema,
    /// The schemas it references.
    pub references: Vec<Schema>,
    pub codec: Arc<Codec>,
}

impl CompiledSchema {
    /// Parses and compiles a fetched schema.
    pub fn compile(fetched: FetchedSchema) -> Result<Self, SchemaError> {
        let id = fetched.id;
        let (schema, references) =
            Schema::parse_str_with_list(&fetched.schema, fetched.references.iter()).map_err(
                |e| SchemaError::InvalidSchema {
                    id,
                    source: CodecError::Parse(e.to_string()),
                },
            )?;
        let codec = Codec::with_references(&schema, &references)
            .map_err(|source| SchemaError::InvalidSchema { id, source })?;
        Ok(Self {
            id,
            text: fetched.schema,
            schema,
            references,
            codec: Arc::new(codec),
        })
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
