//! Unit tests of the schema cache with an injected fake source, of the error mapping, and of
//! the client's configuration. The client against the real registry is tested end to end
//! elsewhere; nothing here pretends to be the registry over HTTP.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::*;
use crate::codec::Value;

const V1: &str = r#"{"type":"record","name":"Ping","namespace":"t","fields":[
    {"name":"n","type":"long"},{"name":"email","type":"string"}]}"#;
const V2: &str = r#"{"type":"record","name":"Ping","namespace":"t","fields":[
    {"name":"n","type":"long"},{"name":"email","type":"string"},
    {"name":"source","type":"string","default":"legacy"}]}"#;

#[derive(Default)]
struct Fake {
    schemas: Mutex<HashMap<u32, String>>,
    subjects: Mutex<HashMap<String, u32>>,
    by_id_calls: AtomicUsize,
    latest_calls: AtomicUsize,
    /// Fail this many calls with an unavailable registry before answering.
    failures: AtomicUsize,
    /// When set, each by-id fetch waits for a permit.
    gate: Option<Arc<Semaphore>>,
}

impl Fake {
    fn with(schemas: &[(u32, &str)]) -> Self {
        let f = Self::default();
        for (id, s) in schemas {
            f.schemas.lock().unwrap().insert(*id, (*s).to_string());
        }
        f
    }

    fn unavailable(&self) -> Option<SchemaError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Some(SchemaError::RegistryUnavailable {
                message: "connection refused".into(),
            });
        }
        None
    }
}

impl SchemaSource for Fake {
    async fn schema_by_id(&self, id: u32) -> Result<FetchedSchema, SchemaError> {
        self.by_id_calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await;
        }
        if let Some(e) = self.unavailable() {
            return Err(e);
        }
        let schema = self.schemas.lock().unwrap().get(&id).cloned();
        match schema {
            Some(schema) => Ok(FetchedSchema {
                id,
                schema,
                references: vec![],
            }),
            None => Err(SchemaError::UnknownSchemaId {
                id,
                message: "Schema not found".into(),
            }),
        }
    }

    async fn latest_schema(&self, subject: &str) -> Result<FetchedSchema, SchemaError> {
        self.latest_calls.fetch_add(1, Ordering::SeqCst);
        let id = self.subjects.lock().unwrap().get(subject).copied();
        let Some(id) = id else {
            return Err(SchemaError::UnknownSubject {
                subject: subject.into(),
                message: "Subject not found".into(),
            });
        };
        let schema = self.schemas.lock().unwrap()[&id].clone();
        Ok(FetchedSchema {
            id,
            schema,
            references: vec![],
        })
    }

    async fn register_schema(&self, subject: &str, schema: &str) -> Result<u32, SchemaError> {
        let mut schemas = self.schemas.lock().unwrap();
        let id = schemas
            .iter()
            .find(|(_, s)| s.as_str() == schema)
            .map(|(id, _)| *id)
            .unwrap_or(100 + schemas.len() as u32);
        schemas.insert(id, schema.to_string());
        self.subjects.lock().unwrap().insert(subject.into(), id);
        Ok(id)
    }
}

fn ping(n: i64, email: &str) -> Value {
    Value::Record(vec![Value::Long(n), Value::String(email.into())])
}

fn framed(id: u32, v: &Value) -> Vec<u8> {
    Codec::parse(V1, &[]).unwrap().encode_framed(id, v).unwrap()
}

#[tokio::test]
async fn a_schema_is_fetched_once_then_decoded_from_memory() {
    let cache = SchemaCache::new(Fake::with(&[(7, V1)]));
    assert!(cache.cached(7).is_none());
    for n in 0..100 {
        let (id, schema, v) = cache.decode(&framed(7, &ping(n, "a@b"))).await.unwrap();
        assert_eq!((id, schema.id), (7, 7));
        assert_eq!(v, ping(n, "a@b"));
    }
    assert_eq!(cache.source().by_id_calls.load(Ordering::SeqCst), 1);
    assert!(cache.cached(7).is_some());
    assert_eq!(cache.validate(&framed(7, &ping(1, "x"))).await.unwrap(), 7);
}

#[tokio::test]
async fn concurrent_misses_for_one_id_share_one_fetch() {
    let gate = Arc::new(Semaphore::new(0));
    let fake = Fake {
        gate: Some(gate.clone()),
        ..Fake::with(&[(7, V1)])
    };
    let cache = Arc::new(SchemaCache::new(fake));
    let body = framed(7, &ping(1, "c@d"));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (cache, body) = (cache.clone(), body.clone());
            tokio::spawn(async move { cache.decode(&body).await.map(|(id, _, v)| (id, v)) })
        })
        .collect();
    // Let every task reach the cache: one fetches (held at the gate), the others wait.
    while cache.source().by_id_calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(1000);
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), (7, ping(1, "c@d")));
    }
    assert_eq!(cache.source().by_id_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failure_is_remembered_briefly_then_retried() {
    let fake = Fake {
        failures: AtomicUsize::new(1),
        ..Fake::with(&[(7, V1)])
    };
    // Remembered: the second call within the TTL does not reach the source.
    let cache = SchemaCache::new(fake).with_failure_ttl(Duration::from_secs(3600));
    let body = framed(7, &ping(1, "e"));
    let e = cache.decode(&body).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Transient);
    assert_eq!(e.code(), ErrorCode::RegistryUnavailable);
    assert!(cache.decode(&body).await.is_err());
    assert_eq!(cache.source().by_id_calls.load(Ordering::SeqCst), 1);

    // Not cached forever: once the TTL is over, the next call fetches again and succeeds.
    let fake = Fake {
        failures: AtomicUsize::new(1),
        ..Fake::with(&[(7, V1)])
    };
    let cache = SchemaCache::new(fake).with_failure_ttl(Duration::ZERO);
    assert!(cache.decode(&body).await.is_err());
    assert_eq!(cache.decode(&body).await.unwrap().0, 7);
    assert_eq!(cache.source().by_id_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn errors_carry_their_class() {
    let cache = SchemaCache::new(Fake::with(&[(7, V1), (8, r#""long""#)]));
    let e = cache.decode(&framed(9, &ping(1, "x"))).await.unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::UnknownSchemaId, ErrorClass::Permanent)
    );
    let e = cache.decode(b"{\"json\":1}").await.unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::BadMagicByte, ErrorClass::Permanent)
    );
    // A body that does not fit its writer schema: the message names the field and byte.
    let mut bad = framed(7, &ping(1, "x"));
    bad.truncate(bad.len() - 1);
    let e = cache.decode(&bad).await.unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::DecodeFailed, ErrorClass::Permanent)
    );
    assert_eq!(
        e.to_string(),
        "value with schema id 7 does not decode: at email (byte 1): string needs 1 bytes but only 0 remain"
    );
    // A value that does not fit the target schema.
    let e = cache.encode(8u32, &ping(1, "x")).await.unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::SchemaMismatch, ErrorClass::Permanent)
    );
    assert!(
        e.to_string().contains("expected a long, found a record"),
        "{e}"
    );
}

#[tokio::test]
async fn encoding_by_subject_looks_the_subject_up_once() {
    let fake = Fake::with(&[(7, V1)]);
    fake.subjects
        .lock()
        .unwrap()
        .insert("pings-value".into(), 7);
    let cache = SchemaCache::new(fake);
    for n in 0..10 {
        let bytes = cache.encode("pings-value", &ping(n, "s")).await.unwrap();
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 7]);
        assert_eq!(cache.decode(&bytes).await.unwrap().2, ping(n, "s"));
    }
    assert_eq!(cache.source().latest_calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        cache.source().by_id_calls.load(Ordering::SeqCst),
        0,
        "the latest schema primed the id cache"
    );
    cache.forget_subject("pings-value");
    cache.encode("pings-value", &ping(1, "s")).await.unwrap();
    assert_eq!(cache.source().latest_calls.load(Ordering::SeqCst), 2);
    let e = cache.encode("nope-value", &ping(1, "s")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownSchemaId);
}

#[tokio::test]
async fn registering_caches_the_compiled_schema() {
    let cache = SchemaCache::new(Fake::default());
    let id = cache.register("pings-value", V1).await.unwrap();
    assert_eq!(cache.register("pings-value", V1).await.unwrap(), id);
    let bytes = cache.encode(id, &ping(3, "r")).await.unwrap();
    assert_eq!(cache.decode(&bytes).await.unwrap().2, ping(3, "r"));
    assert_eq!(cache.source().by_id_calls.load(Ordering::SeqCst), 0);
    let e = cache.register("x-value", "{not json").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn old_data_is_read_in_the_consumers_schema() {
    let cache = SchemaCache::new(Fake::with(&[(7, V1), (8, V2)]));
    let reader = ReaderSchema::new(Arc::new(Codec::parse(V2, &[]).unwrap()));
    let (id, v) = cache
        .decode_as(&framed(7, &ping(5, "o@ld")), &reader)
        .await
        .unwrap();
    assert_eq!(id, 7);
    assert_eq!(
        v,
        Value::Record(vec![
            Value::Long(5),
            Value::String("o@ld".into()),
            Value::String("legacy".into()),
        ])
    );
    // A writer the reader cannot read is refused with the reason, every time.
    let strict = ReaderSchema::new(Arc::new(
        Codec::parse(&V2.replace(r#","default":"legacy""#, ""), &[]).unwrap(),
    ));
    for _ in 0..2 {
        let e = cache
            .decode_as(&framed(7, &ping(5, "o")), &strict)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::SchemaMismatch);
        assert!(e.to_string().contains("at source"), "{e}");
    }
}

fn src_error(status: &str, body: Option<&str>) -> SRCError {
    let message = format!("HTTP request to schema registry failed with status {status}");
    match body {
        Some(json) => {
            let raw: RawError = serde_json::from_str(json).unwrap();
            SRCError::non_retryable_with_cause(raw, &message)
        }
        None => SRCError::non_retryable_without_cause(&message),
    }
}

#[test]
fn registry_errors_map_to_classes() {
    let e = registry_error(
        &src_error(
            "404 Not Found",
            Some(r#"{"error_code":40403,"message":"Schema 9 not found"}"#),
        ),
        Lookup::Id(9),
    );
    assert!(
        matches!(e, SchemaError::UnknownSchemaId { id: 9, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "schema id 9 is not known to the registry: Schema 9 not found"
    );
    let e = registry_error(
        &src_error(
            "404 Not Found",
            Some(r#"{"error_code":40401,"message":"Subject 'x' not found."}"#),
        ),
        Lookup::Subject("x"),
    );
    assert!(matches!(e, SchemaError::UnknownSubject { .. }), "{e}");
    let e = registry_error(
        &src_error(
            "409 Conflict",
            Some(r#"{"error_code":409,"message":"Schema being registered is incompatible"}"#),
        ),
        Lookup::Register("s"),
    );
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::SchemaMismatch, ErrorClass::Permanent)
    );
    let e = registry_error(
        &src_error(
            "422 Unprocessable Entity",
            Some(r#"{"error_code":42201,"message":"Invalid schema"}"#),
        ),
        Lookup::Register("s"),
    );
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let e = registry_error(&src_error("401 Unauthorized", None), Lookup::Id(1));
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::ConfigInvalid, ErrorClass::Fatal)
    );
    let e = registry_error(
        &src_error(
            "500 Internal Server Error",
            Some(r#"{"error_code":50001,"message":"Error in the backend data store"}"#),
        ),
        Lookup::Id(1),
    );
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::RegistryUnavailable, ErrorClass::Transient)
    );
    let refused = SRCError::retryable_with_cause(
        std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
        "http call to schema registry failed",
    );
    assert_eq!(
        registry_error(&refused, Lookup::Id(1)).class(),
        ErrorClass::Transient
    );
}

#[test]
fn config_is_strict_with_defaults() {
    let cfg: RegistryClientConfig = toml::from_str("").unwrap();
    assert_eq!(cfg.url, "http://127.0.0.1:8081");
    assert_eq!(cfg.timeout, Duration::from_secs(10));
    let cfg: RegistryClientConfig = toml::from_str(
        "url = \"https://sr.example:8081\"\nusername = \"key\"\npassword = \"hunter2\"\ntimeout = \"2s 500ms\"",
    )
    .unwrap();
    assert_eq!(cfg.timeout, Duration::from_millis(2500));
    assert!(!format!("{cfg:?}").contains("hunter2"));
    let e = toml::from_str::<RegistryClientConfig>("urls = \"x\"").unwrap_err();
    assert!(e.to_string().contains("unknown field"), "{e}");
    RegistryClient::new(&cfg).unwrap();
    let e = RegistryClient::new(&RegistryClientConfig {
        url: " ".into(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigInvalid);
    let e = RegistryClient::new(&RegistryClientConfig {
        password: Some(Secret::new("p")),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("without a username"), "{e}");
}

#[tokio::test]
async fn an_unreachable_registry_is_transient() {
    // Port 1 on loopback refuses connections: a real network failure, no fake registry.
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: "http://127.0.0.1:1".into(),
        timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .unwrap();
    let e = cache.decode(&framed(7, &ping(1, "x"))).await.unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        (ErrorCode::RegistryUnavailable, ErrorClass::Transient),
        "{e}"
    );
}
