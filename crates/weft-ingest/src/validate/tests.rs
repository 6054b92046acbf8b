//! The processor against a fake registry: every verdict, the registry calls it makes, and
//! how it waits for an unreachable registry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use std::time::Instant;

use weft_core::{headers, ErrorClass, ErrorCode, Headers};
use weft_schema::codec::Value;
use weft_schema::{Codec, FetchedSchema, SchemaError};

use super::*;

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"t","fields":[
    {"name":"id","type":"long"},{"name":"customer","type":"string"}]}"#;
const OTHER: &str = r#"{"type":"record","name":"Other","namespace":"t","fields":[
    {"name":"x","type":"int"}]}"#;

#[derive(Default)]
struct Fake {
    schemas: HashMap<u32, &'static str>,
    subjects: HashMap<String, Vec<u32>>,
    subject_calls: AtomicUsize,
    down: AtomicBool,
}

impl Fake {
    fn unavailable(&self) -> Result<(), SchemaError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SchemaError::RegistryUnavailable {
                message: "connection refused".into(),
            });
        }
        Ok(())
    }
}

impl SchemaSource for Fake {
    async fn schema_by_id(&self, id: u32) -> Result<FetchedSchema, SchemaError> {
        self.unavailable()?;
        match self.schemas.get(&id) {
            Some(s) => Ok(FetchedSchema {
                id,
                schema: (*s).to_string(),
                references: vec![],
            }),
            None => Err(SchemaError::UnknownSchemaId {
                id,
                message: "Schema not found".into(),
            }),
        }
    }

    async fn latest_schema(&self, subject: &str) -> Result<FetchedSchema, SchemaError> {
        Err(SchemaError::UnknownSubject {
            subject: subject.into(),
            message: "unused".into(),
        })
    }

    async fn register_schema(&self, _subject: &str, _schema: &str) -> Result<u32, SchemaError> {
        Err(SchemaError::Config("unused".into()))
    }
}

impl SubjectSource for Fake {
    async fn subject_ids(&self, subject: &str) -> Result<Vec<u32>, SchemaError> {
        self.subject_calls.fetch_add(1, Ordering::SeqCst);
        self.unavailable()?;
        Ok(self.subjects.get(subject).cloned().unwrap_or_default())
    }
}

fn fake() -> Fake {
    Fake {
        schemas: HashMap::from([(3, ORDER), (7, ORDER), (9, OTHER)]),
        subjects: HashMap::from([
            ("orders-value".to_string(), vec![3, 7]),
            ("other-value".to_string(), vec![9]),
        ]),
        ..Fake::default()
    }
}

fn processor(
    src: Fake,
    wait: TransientWait,
) -> (WaitOnTransient<ValidateProcessor<Fake>>, CancellationToken) {
    let route = ValidateRoute::new(vec!["ingest.orders".into()], "{suffix}");
    let stop = CancellationToken::new();
    let p = route_processor(
        &route,
        Arc::new(SchemaCache::new(src).with_failure_ttl(Duration::ZERO)),
        Arc::new(AllowedIds::new(Duration::from_secs(60))),
        wait,
        stop.clone(),
    );
    (p, stop)
}

fn fatal_after(max: Duration) -> TransientWait {
    TransientWait {
        max,
        then: ErrorClass::Fatal,
    }
}

fn order(id: u32, n: i64) -> Vec<u8> {
    let v = Value::Record(vec![Value::Long(n), Value::String(format!("c{n}"))]);
    Codec::parse(ORDER, &[])
        .unwrap()
        .encode_framed(id, &v)
        .unwrap()
}

fn record(offset: i64, value: Option<Vec<u8>>) -> Record {
    let mut h = Headers::new();
    h.set("custom", "kept");
    Record {
        topic: Arc::from("ingest.orders"),
        partition: 0,
        offset,
        timestamp_ms: Some(1_000),
        key: Some(Bytes::from_static(b"k")),
        value: value.map(Bytes::from),
        headers: h,
    }
}

#[tokio::test]
async fn a_valid_record_is_forwarded_unchanged_with_headers() {
    let (p, _) = processor(fake(), fatal_after(Duration::ZERO));
    let r = record(5, Some(order(7, 1)));
    let out = p.inner().check(&r).await.unwrap();
    assert_eq!(&*out.topic, "orders");
    assert_eq!(out.value, r.value);
    assert_eq!(out.key, r.key);
    assert_eq!(out.headers.get_str("custom"), Some("kept"));
    assert_eq!(out.headers.get_str(headers::SCHEMA_ID), Some("7"));
    assert_eq!(out.headers.get_str(headers::SOURCE), Some("ingest.orders"));
    let mut e = Emitter::default();
    p.process(&r, &mut e).await.unwrap();
    assert_eq!(e.len(), 1);
}

#[tokio::test]
async fn each_invalid_record_gets_its_code() {
    let (p, _) = processor(fake(), fatal_after(Duration::ZERO));
    let cases: Vec<(Option<Vec<u8>>, ErrorCode, &str)> = vec![
        (
            Some(b"{\"id\":1}".to_vec()),
            ErrorCode::BadMagicByte,
            "0x7b",
        ),
        (Some(vec![0, 0, 1]), ErrorCode::BadMagicByte, "3 bytes"),
        (
            Some(order(999_999, 1)),
            ErrorCode::UnknownSchemaId,
            "schema id 999999 is not known",
        ),
        (
            Some(order(9, 1)),
            ErrorCode::SchemaNotAllowed,
            "schema id 9 is not a version of subject orders-value (allowed: 3, 7)",
        ),
        (
            Some({
                let mut v = order(3, 1);
                v.truncate(v.len() - 1);
                v
            }),
            ErrorCode::DecodeFailed,
            "schema id 3 does not decode",
        ),
        (
            Some({
                let mut v = order(3, 1);
                v.push(0);
                v
            }),
            ErrorCode::DecodeFailed,
            "schema id 3",
        ),
    ];
    for (value, code, text) in cases {
        let e = p.inner().check(&record(1, value)).await.unwrap_err();
        assert_eq!(e.code, code, "{e}");
        assert_eq!(e.class, ErrorClass::Permanent, "{e}");
        assert!(e.message.contains(text), "{:?} lacks {text:?}", e.message);
        let mut em = Emitter::default();
        assert!(
            p.process(&record(1, None), &mut em).await.is_ok(),
            "tombstone"
        );
    }
    assert_eq!(
        p.inner()
            .schemas
            .source()
            .subject_calls
            .load(Ordering::SeqCst),
        1,
        "the subject is read once for every record"
    );
    let mut keyless = record(1, None);
    keyless.key = None;
    assert_eq!(
        p.inner().check(&keyless).await.unwrap_err().code,
        ErrorCode::BadMagicByte
    );
}

#[tokio::test]
async fn a_custom_subject_decides() {
    let mut route = ValidateRoute::new(vec!["ingest.orders".into()], "valid.{suffix}");
    route.subject = Some("other-value".into());
    let p = ValidateProcessor::new(
        &route,
        Arc::new(SchemaCache::new(fake())),
        Arc::new(AllowedIds::new(Duration::from_secs(60))),
    );
    let e = p.check(&record(1, Some(order(7, 1)))).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SchemaNotAllowed);
    assert!(
        e.message.contains("subject other-value (allowed: 9)"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_loop_is_fatal() {
    let route = ValidateRoute::new(vec!["^.*".into()], "{suffix}");
    let p = ValidateProcessor::new(
        &route,
        Arc::new(SchemaCache::new(fake())),
        Arc::new(AllowedIds::new(Duration::from_secs(60))),
    );
    let mut r = record(1, Some(order(7, 1)));
    r.topic = Arc::from("orders");
    let e = p.check(&r).await.unwrap_err();
    assert_eq!(
        (e.code, e.class),
        (ErrorCode::ConfigInvalid, ErrorClass::Fatal)
    );
}

#[tokio::test]
async fn an_unreachable_registry_waits_then_stops_without_dead_lettering() {
    let src = fake();
    src.down.store(true, Ordering::SeqCst);
    let (p, _) = processor(src, fatal_after(Duration::from_millis(700)));
    let started = Instant::now();
    let e = p
        .process(&record(1, Some(order(7, 1))), &mut Emitter::default())
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(
        (e.code, e.class),
        (ErrorCode::RegistryUnavailable, ErrorClass::Fatal)
    );
    assert!(
        e.message.contains("stopping rather than dead-lettering"),
        "{}",
        e.message
    );
    assert!(
        p.inner()
            .schemas
            .source()
            .subject_calls
            .load(Ordering::SeqCst)
            >= 2,
        "retried"
    );
}

#[tokio::test]
async fn the_record_passes_once_the_registry_answers() {
    let f = fake();
    f.down.store(true, Ordering::SeqCst);
    let (p, _) = processor(f, fatal_after(Duration::from_secs(30)));
    let p = Arc::new(p);
    let task = {
        let p = p.clone();
        tokio::spawn(async move {
            let mut e = Emitter::default();
            p.process(&record(1, Some(order(7, 1))), &mut e)
                .await
                .map(|()| e.len())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.inner()
        .schemas
        .source()
        .down
        .store(false, Ordering::SeqCst);
    assert_eq!(task.await.unwrap().unwrap(), 1);
}

#[tokio::test]
async fn shutdown_ends_the_wait_with_a_transient_error() {
    let f = fake();
    f.down.store(true, Ordering::SeqCst);
    let (p, stop) = processor(f, fatal_after(Duration::from_secs(30)));
    let p = Arc::new(p);
    let task = {
        let p = p.clone();
        tokio::spawn(async move {
            p.process(&record(1, Some(order(7, 1))), &mut Emitter::default())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();
    let e = tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("ends at once")
        .unwrap()
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
}
