//! The schema registry client and the schema cache every stage decodes and encodes through.
//!
//! [`RegistryClient`] talks to a Confluent-compatible registry through
//! `schema_registry_converter`'s async API. [`SchemaCache`] sits in front of any
//! [`SchemaSource`] (the client, or a fake in tests): the first record with a new schema id
//! fetches and compiles the schema — concurrent misses for one id share that single fetch —
//! and every later record finds the compiled codec in memory, with no `await` on I/O. A
//! failed fetch is remembered for a short time (so a burst of records with an unknown id does
//! not become a burst of HTTP calls) and then tried again.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

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

use crate::codec::{Codec, CodecError, DecodeError, EncodeError, ResolvingCodec, Value};

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

fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, SchemaError)>>>;

/// A map filled on demand: one fetch per key at a time, failures remembered for a while.
struct Coalesced<K, V> {
    ready: RwLock<HashMap<K, V>>,
    slots: Mutex<HashMap<K, Slot>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Coalesced<K, V> {
    fn new() -> Self {
        Self {
            ready: RwLock::new(HashMap::new()),
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        read_lock(&self.ready).get(key).cloned()
    }

    fn insert(&self, key: K, value: V) {
        write_lock(&self.ready).insert(key, value);
    }

    fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        write_lock(&self.ready).remove(key);
    }

    async fn get_or_fetch<F, Fut>(
        &self,
        key: K,
        failure_ttl: Duration,
        fetch: F,
    ) -> Result<V, SchemaError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, SchemaError>>,
    {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.entry(key.clone()).or_default().clone()
        };
        let mut last_failure = slot.lock().await;
        // Whoever held the slot before may have filled the entry.
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        if let Some((at, e)) = last_failure.as_ref() {
            if at.elapsed() < failure_ttl {
                return Err(e.clone());
            }
        }
        match fetch().await {
            Ok(v) => {
                self.insert(key.clone(), v.clone());
                *last_failure = None;
                drop(last_failure);
                self.slots
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&key);
                Ok(v)
            }
            Err(e) => {
                *last_failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }
}

/// Where to encode a value: a schema id, or the latest schema of a subject.
#[derive(Debug, Clone, Copy)]
pub enum EncodeTarget<'a> {
    Id(u32),
    Subject(&'a str),
}

impl From<u32> for EncodeTarget<'_> {
    fn from(id: u32) -> Self {
        Self::Id(id)
    }
}

impl<'a> From<&'a str> for EncodeTarget<'a> {
    fn from(subject: &'a str) -> Self {
        Self::Subject(subject)
    }
}

/// A consumer's own schema, and how to read each writer schema id as it (planned once per
/// writer id).
#[derive(Debug)]
pub struct ReaderSchema {
    codec: Arc<Codec>,
    resolvers: RwLock<HashMap<u32, Result<Arc<ResolvingCodec>, CodecError>>>,
}

impl ReaderSchema {
    pub fn new(codec: Arc<Codec>) -> Self {
        Self {
            codec,
            resolvers: RwLock::new(HashMap::new()),
        }
    }

    pub fn codec(&self) -> &Arc<Codec> {
        &self.codec
    }

    fn resolver(&self, writer: &CompiledSchema) -> Result<Arc<ResolvingCodec>, SchemaError> {
        let incompatible = |source: &CodecError| SchemaError::Incompatible {
            writer_id: writer.id,
            source: source.clone(),
        };
        if let Some(r) = read_lock(&self.resolvers).get(&writer.id) {
            return r.clone().map_err(|e| incompatible(&e));
        }
        let planned = ResolvingCodec::new(writer.codec.clone(), self.codec.clone()).map(Arc::new);
        write_lock(&self.resolvers).insert(writer.id, planned.clone());
        planned.map_err(|e| incompatible(&e))
    }
}

/// Compiled schemas by id, fetched from a [`SchemaSource`] on first use.
pub struct SchemaCache<S = RegistryClient> {
    source: S,
    by_id: Coalesced<u32, Arc<CompiledSchema>>,
    by_subject: Coalesced<String, u32>,
    failure_ttl: Duration,
}

impl<S> std::fmt::Debug for SchemaCache<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaCache")
            .field("schemas", &read_lock(&self.by_id.ready).len())
            .field("subjects", &read_lock(&self.by_subject.ready).len())
            .field("failure_ttl", &self.failure_ttl)
            .finish_non_exhaustive()
    }
}

impl SchemaCache<RegistryClient> {
    /// A cache in front of the registry `cfg` describes.
    pub fn from_config(cfg: &RegistryClientConfig) -> Result<Self, SchemaError> {
        Ok(Self::new(RegistryClient::new(cfg)?))
    }
}

impl<S: SchemaSource> SchemaCache<S> {
    /// How long a failed fetch is answered from memory before it is tried again.
    pub const DEFAULT_FAILURE_TTL: Duration = Duration::from_secs(2);

    pub fn new(source: S) -> Self {
        Self {
            source,
            by_id: Coalesced::new(),
            by_subject: Coalesced::new(),
            failure_ttl: Self::DEFAULT_FAILURE_TTL,
        }
    }

    pub fn with_failure_ttl(mut self, ttl: Duration) -> Self {
        self.failure_ttl = ttl;
        self
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The compiled schema for `id` if it is already cached (never does I/O).
    pub fn cached(&self, id: u32) -> Option<Arc<CompiledSchema>> {
        self.by_id.get(&id)
    }

    /// The compiled schema for `id`, fetched and compiled on the first call.
    pub async fn schema(&self, id: u32) -> Result<Arc<CompiledSchema>, SchemaError> {
        if let Some(s) = self.by_id.get(&id) {
            return Ok(s);
        }
        self.by_id
            .get_or_fetch(id, self.failure_ttl, || async {
                let fetched = self.source.schema_by_id(id).await?;
                Ok(Arc::new(CompiledSchema::compile(FetchedSchema {
                    id,
                    ..fetched
                })?))
            })
            .await
    }

    /// The id of `subject`'s latest schema, looked up once and then kept (see
    /// [`forget_subject`](Self::forget_subject)).
    pub async fn subject_id(&self, subject: &str) -> Result<u32, SchemaError> {
        if let Some(id) = self.by_subject.get(subject) {
            return Ok(id);
        }
        self.by_subject
            .get_or_fetch(subject.to_string(), self.failure_ttl, || async {
                let fetched = self.source.latest_schema(subject).await?;
                let id = fetched.id;
                if self.by_id.get(&id).is_none() {
                    self.by_id
                        .insert(id, Arc::new(CompiledSchema::compile(fetched)?));
                }
                Ok(id)
            })
            .await
    }

    /// Drops the remembered latest id of `subject`, so the next encode looks it up again.
    pub fn forget_subject(&self, subject: &str) {
        self.by_subject.remove(subject);
    }

    /// Decodes a framed value with its writer schema.
    pub async fn decode(
        &self,
        framed: &[u8],
    ) -> Result<(u32, Arc<CompiledSchema>, Value), SchemaError> {
        let f = weft_core::wire::parse(framed)?;
        let schema = self.schema(f.schema_id).await?;
        let value = schema
            .codec
            .decode(f.body)
            .map_err(|source| SchemaError::Decode {
                id: f.schema_id,
                source,
            })?;
        Ok((f.schema_id, schema, value))
    }

    /// Checks that a framed value decodes with its writer schema, without building it;
    /// returns the schema id.
    pub async fn validate(&self, framed: &[u8]) -> Result<u32, SchemaError> {
        let f = weft_core::wire::parse(framed)?;
        let schema = self.schema(f.schema_id).await?;
        schema
            .codec
            .validate(f.body)
            .map_err(|source| SchemaError::Decode {
                id: f.schema_id,
                source,
            })?;
        Ok(f.schema_id)
    }

    /// Decodes a framed value as a value of the consumer's own schema (Avro schema
    /// resolution, planned once per writer id).
    pub async fn decode_as(
        &self,
        framed: &[u8],
        reader: &ReaderSchema,
    ) -> Result<(u32, Value), SchemaError> {
        let f = weft_core::wire::parse(framed)?;
        let schema = self.schema(f.schema_id).await?;
        let resolver = reader.resolver(&schema)?;
        let value = resolver
            .decode(f.body)
            .map_err(|source| SchemaError::Decode {
                id: f.schema_id,
                source,
            })?;
        Ok((f.schema_id, value))
    }

    /// Encodes `value` in the wire format with a schema id, or with the latest schema of a
    /// subject.
    pub async fn encode<'a>(
        &self,
        target: impl Into<EncodeTarget<'a>>,
        value: &Value,
    ) -> Result<Vec<u8>, SchemaError> {
        let id = match target.into() {
            EncodeTarget::Id(id) => id,
            EncodeTarget::Subject(subject) => self.subject_id(subject).await?,
        };
        let schema = self.schema(id).await?;
        schema
            .codec
            .encode_framed(id, value)
            .map_err(|source| SchemaError::Encode { id, source })
    }

    /// Registers a schema text under `subject` (or finds it there) and returns its id; the
    /// compiled schema is cached under that id.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32, SchemaError> {
        // Refuse what cannot be parsed before asking the registry.
        let (parsed, references) = Schema::parse_str_with_list(schema, std::iter::empty::<&str>())
            .map_err(|e| SchemaError::Unparsable {
                what: format!("for subject {subject:?}"),
                message: e.to_string(),
            })?;
        let id = self.source.register_schema(subject, schema).await?;
        if self.by_id.get(&id).is_none() {
            if let Ok(codec) = Codec::with_references(&parsed, &references) {
                self.by_id.insert(
                    id,
                    Arc::new(CompiledSchema {
                        id,
                        text: schema.to_string(),
                        schema: parsed,
                        references,
                        codec: Arc::new(codec),
                    }),
                );
            }
        }
        Ok(id)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
