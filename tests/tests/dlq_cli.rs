//! `weft dlq stats|list|show` on a real dead-letter topic holding Weft's own dead letters,
//! dead letters written with Kafka Connect's and Spring's headers, and a record that is
//! neither: counts, every filter, JSON output, one record decoded with its writer schema from
//! the registry, and readable errors.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use bytes::Bytes;
use rdkafka::producer::FutureRecord;
use serde_json::Value as Json;
use weft_core::dead_letter::DeadLetter;
use weft_core::foreign_dlq::{connect, spring};
use weft_core::{ErrorCode, Headers};
use weft_schema::codec::{Codec, JsonOptions};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::ensure_kafka;
use weft_testkit::registry::TestRegistry;

#[path = "common/dead_letters.rs"]
mod dead_letters;
use dead_letters::{config, owned, run};

const SCHEMA: &str = r#"{"type":"record","name":"Order","namespace":"dlqtest",
  "fields":[{"name":"id","type":"string"},{"name":"amount_cents","type":"long"}]}"#;

/// The dead letter of record `i` (see `common/dead_letters.rs`); a schema mismatch names the
/// field `amount`.
fn dead_letter(i: u32, code: ErrorCode, source: &str, value: Vec<u8>) -> DeadLetter {
    let mut dl = dead_letters::dead_letter(i, code, source, value);
    dl.failure.field = (code == ErrorCode::SchemaMismatch).then(|| "amount".to_string());
    dl
}

fn json_lines(out: &str) -> Vec<Json> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_stats_list_and_show_read_weft_and_foreign_dead_letters() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let schemas = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let id = schemas
        .register(&weft_testkit::unique("dlq-order"), SCHEMA)
        .await
        .unwrap();
    let codec = Codec::parse(SCHEMA, &[]).unwrap();
    let dlq = kafka.topic("dlq", 3).await.unwrap();
    let producer = kafka.producer().unwrap();

    // 30 schema mismatches from orders.raw with valid Avro values, 20 decode failures from
    // payments.raw with bytes that are not Avro.
    let mut sent: Vec<(String, Vec<u8>, Headers)> = Vec::new();
    for i in 0..50u32 {
        let (code, source, value) = if i < 30 {
            let v = codec
                .from_json(
                    &serde_json::json!({"id": format!("o-{i}"), "amount_cents": i64::from(i) * 100}),
                    &JsonOptions::default(),
                )
                .unwrap();
            (
                ErrorCode::SchemaMismatch,
                "orders.raw",
                codec.encode_framed(id, &v).unwrap(),
            )
        } else {
            (
                ErrorCode::DecodeFailed,
                "payments.raw",
                b"not avro".to_vec(),
            )
        };
        let (key, value, headers) = dead_letter(i, code, source, value).to_kafka();
        sent.push((
            String::from_utf8(key.unwrap().to_vec()).unwrap(),
            value.unwrap().to_vec(),
            headers,
        ));
    }
    // Kafka Connect's headers (UTF-8 text), Spring's (binary big-endian numbers), and none.
    let mut c = Headers::new();
    c.set(connect::TOPIC, "crm.contacts");
    c.set(connect::PARTITION, "4");
    c.set(connect::OFFSET, "1234");
    c.set(
        connect::EXCEPTION_CLASS_NAME,
        "org.apache.kafka.connect.errors.DataException",
    );
    c.set(
        connect::EXCEPTION_MESSAGE,
        "Converting byte[] to Kafka Connect data failed",
    );
    sent.push(("contact-1".into(), b"{\"name\":1}".to_vec(), c));
    let mut s = Headers::new();
    s.set(spring::DLT_ORIGINAL_TOPIC, "billing.invoices");
    s.push(
        spring::DLT_ORIGINAL_PARTITION,
        Some(Bytes::copy_from_slice(&2i32.to_be_bytes())),
    );
    s.push(
        spring::DLT_ORIGINAL_OFFSET,
        Some(Bytes::copy_from_slice(&99i64.to_be_bytes())),
    );
    s.set(
        spring::DLT_EXCEPTION_FQCN,
        "java.lang.IllegalStateException",
    );
    sent.push(("invoice-9".into(), b"x".to_vec(), s));
    sent.push(("stray".into(), b"hello".to_vec(), Headers::new()));
    for (k, v, h) in &sent {
        producer
            .send(
                FutureRecord::to(&dlq).key(k).payload(v).headers(owned(h)),
                std::time::Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
    let cfg = config(&kafka, &registry.url);

    // stats
    let (ok, out, err) = run(&cfg, &["dlq", "stats", "--topic", &dlq, "--output", "json"]);
    assert!(ok, "{err}");
    let stats: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["total"], 53);
    let counts =
        |k: &str| -> BTreeMap<String, u64> { serde_json::from_value(stats[k].clone()).unwrap() };
    assert_eq!(
        counts("by_source_topic"),
        BTreeMap::from([
            ("orders.raw".into(), 30),
            ("payments.raw".into(), 20),
            ("crm.contacts".into(), 1),
            ("billing.invoices".into(), 1),
            ("(unknown)".into(), 1),
        ])
    );
    let codes = counts("by_error_code");
    assert_eq!(codes["schema_mismatch"], 30);
    assert_eq!(codes["decode_failed"], 20);
    assert_eq!(codes["org.apache.kafka.connect.errors.DataException"], 1);
    assert_eq!(codes["java.lang.IllegalStateException"], 1);
    assert_eq!(
        counts("by_scheme"),
        BTreeMap::from([
            ("weft".into(), 50),
            ("connect".into(), 1),
            ("spring".into(), 1),
            ("unknown".into(), 1),
        ])
    );
    assert_eq!(counts("by_stage")["orders-canonical"], 50);
    // Two fingerprints (code + field), 30 and 20.
    let fps = stats["by_fingerprint"].as_object().unwrap();
    let mut fp_counts: Vec<u64> = fps.values().map(|v| v["count"].as_u64().unwrap()).collect();
    fp_counts.sort_unstable();
    assert_eq!(fp_counts, vec![20, 30]);
    let (ok, text, _) = run(&cfg, &["dlq", "stats", "--topic", &dlq]);
    assert!(ok);
    assert!(
        text.starts_with(&format!("53 dead letters in {dlq} (oldest ")),
        "{text}"
    );
    assert!(text.contains("        30  schema_mismatch"), "{text}");

    // list: each filter alone, then together
    let list = |extra: &[&str]| -> Vec<Json> {
        let mut args = vec!["dlq", "list", "--topic", dlq.as_str(), "--output", "json"];
        args.extend_from_slice(extra);
        let (ok, out, err) = run(&cfg, &args);
        assert!(ok, "{args:?}: {err}");
        json_lines(&out)
    };
    assert_eq!(list(&[]).len(), 53);
    let decode = list(&["--error-code", "decode_failed"]);
    assert_eq!(decode.len(), 20);
    assert!(decode
        .iter()
        .all(|e| e["source"]["topic"] == "payments.raw"));
    assert_eq!(
        list(&[
            "--error-code",
            "decode_failed",
            "--error-code",
            "schema_mismatch"
        ])
        .len(),
        50
    );
    let crm = list(&["--source-topic", "crm.contacts"]);
    assert_eq!(crm.len(), 1);
    assert_eq!(crm[0]["scheme"], "connect");
    assert_eq!(crm[0]["source"]["partition"], 4);
    assert_eq!(crm[0]["source"]["offset"], 1234);
    let billing = list(&["--source-topic", "billing.invoices"]);
    assert_eq!(billing[0]["source"]["offset"], 99);
    assert_eq!(list(&["--key", "k-7"]).len(), 1);
    assert_eq!(list(&["--header", "tenant=acme"]).len(), 25);
    assert_eq!(
        list(&["--header", "tenant=acme", "--error-code", "schema_mismatch"]).len(),
        15
    );
    assert_eq!(list(&["--schema-id", &id.to_string()]).len(), 30);
    let fp = decode[0]["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(list(&["--fingerprint", &fp]).len(), 20);
    assert_eq!(list(&["--limit", "5"]).len(), 5);
    assert_eq!(list(&["--since", "2h"]).len(), 53);
    assert_eq!(list(&["--until", "2h"]).len(), 0);
    assert_eq!(list(&["--since", "2999-01-01T00:00:00Z"]).len(), 0);

    // show: the first schema mismatch, decoded with its writer schema
    let at = list(&["--key", "k-3"])[0]["position"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, out, err) = run(
        &cfg,
        &["dlq", "show", &at, "--topic", &dlq, "--output", "json"],
    );
    assert!(ok, "{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["decoded"]["schema_id"], id, "{doc}");
    assert_eq!(
        doc["decoded"]["value"],
        serde_json::json!({"id": "o-3", "amount_cents": 300})
    );
    assert_eq!(doc["decoded"]["writer_schema"]["name"], "Order");
    assert_eq!(doc["summary"]["error_code"], "schema_mismatch");
    assert!(doc["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "weft.dlq.origin.topic" && h["value"] == "orders.raw"));
    // A value that does not decode says so; Spring's binary headers show as hex.
    let at = list(&["--source-topic", "billing.invoices"])[0]["position"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, out, _) = run(&cfg, &["dlq", "show", &at, "--topic", &dlq]);
    assert!(ok);
    assert!(
        out.contains("kafka_dlt-original-offset: 0x0000000000000063"),
        "{out}"
    );
    let (ok, out, _) = run(
        &cfg,
        &[
            "dlq",
            "show",
            decode[0]["position"].as_str().unwrap(),
            "--topic",
            &dlq,
            "--output",
            "json",
        ],
    );
    assert!(ok);
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert!(
        doc["decoded"]["error"]
            .as_str()
            .unwrap()
            .starts_with("the value does not decode"),
        "{doc}"
    );

    // The schema the failing stage expected: `show` says what differs from the writer's.
    let expected_subject = weft_testkit::unique("dlq-expected");
    let v2 = SCHEMA.replace(
        r#"{"name":"amount_cents","type":"long"}"#,
        r#"{"name":"amount_cents","type":"long"},{"name":"currency","type":"string"}"#,
    );
    schemas.register(&expected_subject, &v2).await.unwrap();
    let dlq2 = kafka.topic("dlq-expected", 1).await.unwrap();
    let (k, v, mut h) = dead_letter(
        1,
        ErrorCode::SchemaMismatch,
        "orders.raw",
        sent[1].1.clone(),
    )
    .to_kafka();
    h.set("weft.dlq.expected.subject", expected_subject.clone());
    producer
        .send(
            FutureRecord::to(&dlq2)
                .key(k.as_deref().unwrap())
                .payload(v.as_deref().unwrap())
                .headers(owned(&h)),
            std::time::Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let (ok, out, err) = run(
        &cfg,
        &["dlq", "show", "0:0", "--topic", &dlq2, "--output", "json"],
    );
    assert!(ok, "{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["expected"]["subject"], expected_subject.as_str());
    assert_eq!(doc["expected"]["writer_schema_id"], id);
    let changes: Vec<String> = serde_json::from_value(doc["expected"]["changes"].clone()).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].starts_with("+ ") && changes[0].contains("currency"),
        "{changes:?}"
    );
    let (ok, text, _) = run(&cfg, &["dlq", "show", "0:0", "--topic", &dlq2]);
    assert!(ok);
    assert!(
        text.contains(&format!(
            "writer schema against the latest of {expected_subject}"
        )),
        "{text}"
    );

    // Errors: one readable line each.
    let (ok, _, err) = run(&cfg, &["dlq", "show", "0:999999", "--topic", &dlq]);
    assert!(!ok);
    assert_eq!(err.trim(), format!("weft: no record at 0:999999 in {dlq}"));
    let (ok, _, err) = run(
        &cfg,
        &["dlq", "list", "--topic", &dlq, "--since", "yesterday"],
    );
    assert!(!ok);
    assert!(
        err.trim()
            .starts_with("weft: --since: \"yesterday\" is neither a time"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1);
    let (ok, _, err) = run(&cfg, &["dlq", "stats", "--topic", "no-such-topic-here"]);
    assert!(!ok);
    assert!(
        err.contains("topic no-such-topic-here does not exist"),
        "{err}"
    );

    registry.stop().await.unwrap();
}
