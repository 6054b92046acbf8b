//! The schema cache in front of a [`SchemaSource`]: compiled schemas by id and latest by
//! subject, one fetch per key at a time, failures remembered for a while; readers' resolvers
//! by writer schema; encoding to an id or a subject's latest schema.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use apache_avro::Schema;

use super::{
    CompiledSchema, FetchedSchema, RegistryClient, RegistryClientConfig, SchemaError, SchemaSource,
};
use crate::codec::{Codec, CodecError, ResolvingCodec, Value};

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
