#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
//! Weft's own dead letters, built field by field, and running `weft` against them: for the
//! `weft dlq` and `weft replay` suites.

use std::time::Duration;

use bytes::Bytes;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use weft_core::dead_letter::{DeadLetter, Failure, OriginalRecord};
use weft_core::{ErrorClass, ErrorCode, Headers};
use weft_testkit::{process, TestKafka};

/// A `weft` config file's text: the broker of `kafka`, the registry at `registry`.
pub fn config(kafka: &TestKafka, registry: &str) -> String {
    format!(
        "[kafka]\nbootstrap_servers = \"{}\"\n[schema_registry]\nurl = \"{registry}\"\n",
        kafka.config.bootstrap_servers
    )
}

/// The dead letter of record `i` of `origin` (partition `i % 3`, offset `i`): key `k-{i}`, the
/// `value` given, a `tenant` header (`acme` for even `i`, `globex` for odd), failed permanently
/// with `code` in the transform stage `orders-canonical` of group `weft.transform.orders`, no
/// field or schema id. Tests change what they need.
pub fn dead_letter(i: u32, code: ErrorCode, origin: &str, value: Vec<u8>) -> DeadLetter {
    let mut headers = Headers::new();
    headers.set(
        "tenant",
        if i.is_multiple_of(2) {
            "acme"
        } else {
            "globex"
        },
    );
    DeadLetter {
        original: OriginalRecord {
            topic: origin.into(),
            partition: (i % 3) as i32,
            offset: i64::from(i),
            timestamp_ms: Some(1_700_000_000_000),
            key: Some(Bytes::from(format!("k-{i}"))),
            value: Some(Bytes::from(value)),
            headers,
        },
        failure: Failure {
            service: "transform".into(),
            stage: "orders-canonical".into(),
            group: Some("weft.transform.orders".into()),
            class: ErrorClass::Permanent,
            code,
            message: format!("record {i} failed"),
            field: None,
            schema_id: None,
            attempt: 1,
            first_failure_ms: 1_700_000_000_100,
            last_failure_ms: 1_700_000_000_100,
            replay_count: 0,
        },
    }
}

/// `h` as rdkafka headers, to produce.
pub fn owned(h: &Headers) -> OwnedHeaders {
    let mut out = OwnedHeaders::new();
    for x in h.iter() {
        out = out.insert(Header {
            key: &x.key,
            value: x.value.as_deref(),
        });
    }
    out
}

/// Runs `weft` with config `cfg` and `args` to its end: success, stdout, stderr.
pub fn run(cfg: &str, args: &[&str]) -> (bool, String, String) {
    let (status, out, err) = process::run_to_end(cfg, args, &[]).unwrap();
    (status.success(), out, err)
}

/// Produces every record and waits for all acknowledgements.
pub async fn produce(
    p: &FutureProducer,
    topic: &str,
    records: &[(Option<Bytes>, Option<Bytes>, Headers)],
) {
    let mut pending = Vec::with_capacity(records.len());
    for (k, v, h) in records {
        loop {
            let mut r: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(owned(h));
            if let Some(k) = k {
                r = r.key(k.as_ref());
            }
            if let Some(v) = v {
                r = r.payload(v.as_ref());
            }
            match p.send_result(r) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }
    for f in pending {
        f.await.unwrap().map_err(|(e, _)| e).unwrap();
    }
}
