//! `weft replay` on a real broker: 50,000 dead letters replayed by error code at a set rate,
//! killed (SIGKILL) halfway and resumed — each selected record re-published exactly once with
//! its lineage, nothing else touched, the audit right, and a dry run that produces nothing; a
//! dead letter written with Kafka Connect's headers replayed to its original topic; the
//! quarantine past the replay limit; SIGINT (audit INTERRUPTED, then resumed); history;
//! readable errors.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value as Json;
use weft_core::dead_letter::DeadLetter;
use weft_core::foreign_dlq::connect;
use weft_core::{ErrorCode, Headers};
use weft_dead_letter::replay::{AuditRecord, Outcome};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::kafka::Seen;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, TestKafka};

#[path = "common/dead_letters.rs"]
mod dead_letters;
use dead_letters::{config, produce, run};

/// The dead letter of record `i` (see `common/dead_letters.rs`), with a field, a schema id
/// and `replay_count`.
fn dead_letter(i: u32, code: ErrorCode, origin: &str, replay_count: u32) -> DeadLetter {
    let mut dl = dead_letters::dead_letter(i, code, origin, value_of(i));
    dl.failure.field = Some("amount".into());
    dl.failure.schema_id = Some(7);
    dl.failure.replay_count = replay_count;
    dl
}

/// Framed-looking bytes, different per record.
fn value_of(i: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0, 7];
    v.extend_from_slice(format!("value of record {i}").as_bytes());
    v
}

async fn read_all(kafka: &TestKafka, topic: &str, committed: bool, quiet_s: u64) -> Vec<Seen> {
    kafka
        .read_all_async(
            topic,
            committed,
            Duration::from_secs(quiet_s),
            Duration::from_secs(120),
        )
        .await
        .unwrap()
}

/// The audit records of `topic` in the order written, decoded with their registered schema.
async fn audit_records(kafka: &TestKafka, schemas: &SchemaCache, topic: &str) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    for s in read_all(kafka, topic, true, 2).await {
        let (_, schema, value) = schemas.decode(s.value.as_deref().unwrap()).await.unwrap();
        let json = schema.codec.to_json(&value).unwrap();
        let r = AuditRecord::from_json(&json).unwrap();
        assert_eq!(
            s.key.as_deref(),
            Some(r.replay_id.as_bytes()),
            "keyed by replay id"
        );
        out.push(r);
    }
    out
}

/// Committed offsets of the replay's group on the dead-letter topic, summed.
fn committed(kafka: &TestKafka, id: &str, dlq: &str, partitions: i32) -> i64 {
    kafka
        .committed(&format!("weft.replay.{id}"), dlq, partitions)
        .map(|m| m.values().sum())
        .unwrap_or(0)
}

async fn wait_committed(kafka: &TestKafka, id: &str, dlq: &str, partitions: i32, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while committed(kafka, id, dlq, partitions) < at_least {
        assert!(Instant::now() < deadline, "the replay made no progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Env {
    kafka: TestKafka,
    registry: TestRegistry,
    schemas: SchemaCache,
    cfg: String,
    audit: String,
    quarantine: String,
}

async fn env() -> Env {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let schemas = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let cfg = config(&kafka, &registry.url);
    let audit = kafka.topic("replay-audit", 1).await.unwrap();
    let quarantine = kafka.topic("replay-quarantine", 1).await.unwrap();
    Env {
        kafka,
        registry,
        schemas,
        cfg,
        audit,
        quarantine,
    }
}

impl Env {
    /// `replay --topic <dlq> --audit-topic … --quarantine-topic …` plus `extra`.
    fn args<'a>(&'a self, dlq: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec![
            "replay",
            "--topic",
            dlq,
            "--audit-topic",
            self.audit.as_str(),
            "--quarantine-topic",
            self.quarantine.as_str(),
        ];
        a.extend_from_slice(extra);
        a
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_dead_letters_replayed_by_error_code_killed_and_resumed_exactly_once() {
    let env = env().await;
    let kafka = &env.kafka;
    let dlq = kafka.topic("replay-dlq", 3).await.unwrap();
    let origin = kafka.topic("replay-orders", 3).await.unwrap();
    let total = 50_000u32;
    let records: Vec<_> = (0..total)
        .map(|i| {
            let code = if i % 2 == 0 {
                ErrorCode::SchemaMismatch
            } else {
                ErrorCode::DecodeFailed
            };
            dead_letter(i, code, &origin, 0).to_kafka()
        })
        .collect();
    produce(&kafka.producer().unwrap(), &dlq, &records).await;
    let dlq_before = read_all(kafka, &dlq, true, 2).await;
    assert_eq!(dlq_before.len(), total as usize);
    let at: HashMap<Bytes, (i32, i64)> = dlq_before
        .iter()
        .map(|s| (s.key.clone().unwrap(), (s.partition, s.offset)))
        .collect();

    // A dry run prints every selected record and its destination, and produces nothing.
    let (ok, out, err) = run(
        &env.cfg,
        &env.args(
            &dlq,
            &[
                "--error-code",
                "schema_mismatch",
                "--dry-run",
                "--output",
                "json",
            ],
        ),
    );
    assert!(ok, "{err}");
    let lines: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (rows, summary) = lines.split_at(lines.len() - 1);
    assert_eq!(rows.len(), 25_000);
    assert!(rows
        .iter()
        .all(|r| r["action"] == "replay" && r["destination"] == origin.as_str()));
    let k2 = rows.iter().find(|r| r["key"] == "k-2").unwrap();
    assert_eq!(k2["partition"], 2);
    assert_eq!(summary[0]["counts"]["replayed"], 25_000);
    assert_eq!(summary[0]["counts"]["read"], 50_000);
    assert_eq!(summary[0]["missing_topics"], serde_json::json!([]));
    assert!(read_all(kafka, &origin, false, 1).await.is_empty());
    assert!(read_all(kafka, &env.audit, false, 1).await.is_empty());

    // 25,000 selected at 2,500/s: ~10 s. Killed at ~40 % of the dead-letter topic read.
    let id = uuid::Uuid::new_v4().to_string();
    let args = env.args(
        &dlq,
        &[
            "--error-code",
            "schema_mismatch",
            "--rate",
            "2500",
            "--id",
            &id,
            "--operator",
            "tester",
        ],
    );
    let started = Instant::now();
    let mut first = process::spawn(&env.cfg, &args, &[]).unwrap();
    wait_committed(kafka, &id, &dlq, 3, 20_000).await;
    first.signal("KILL").unwrap();
    first.wait_exit(Duration::from_secs(10)).await.unwrap();
    let killed_after = started.elapsed();
    let partial = read_all(kafka, &origin, true, 2).await.len();
    assert!(
        partial > 0 && partial < 25_000,
        "killed halfway ({killed_after:?}): {partial} re-published so far"
    );
    assert!(
        first.stderr().starts_with(&format!("replay {id}")),
        "{}",
        first.stderr()
    );

    let (ok, out, err) = run(&env.cfg, &args);
    assert!(ok, "{err}");
    assert!(out.contains("completed"), "{out}");
    assert!(out.contains("selected 25000, replayed 25000"), "{out}");

    // Each selected record exactly once, as it was, with its lineage, in its partition.
    let replayed = read_all(kafka, &origin, true, 3).await;
    assert_eq!(replayed.len(), 25_000);
    let keys: HashSet<&Bytes> = replayed.iter().map(|s| s.key.as_ref().unwrap()).collect();
    assert_eq!(keys.len(), 25_000, "no duplicates");
    let fingerprint = dead_letter(0, ErrorCode::SchemaMismatch, &origin, 0)
        .failure
        .fingerprint();
    for s in &replayed {
        let key = s.key.clone().unwrap();
        let i: u32 = std::str::from_utf8(&key).unwrap()[2..].parse().unwrap();
        assert_eq!(i % 2, 0, "only schema_mismatch records");
        assert_eq!(s.value.as_deref(), Some(value_of(i).as_slice()));
        assert_eq!(s.partition, (i % 3) as i32, "origin partition kept");
        let (p, o) = at[&key];
        let h = &s.headers;
        assert_eq!(h["weft.replay.id"], id);
        assert_eq!(h["weft.replay.count"], "1");
        assert_eq!(h["weft.replay.from"], format!("{dlq}-{p}@{o}"));
        assert_eq!(h["weft.replay.previous.error.code"], "schema_mismatch");
        assert_eq!(h["weft.replay.previous.fingerprint"], fingerprint);
        assert_eq!(h["tenant"], "acme");
        assert!(!h.keys().any(|k| k.starts_with("weft.dlq.")), "{h:?}");
    }
    // The dead-letter topic is unchanged, and nothing was quarantined.
    let by_position = |mut v: Vec<Seen>| {
        v.sort_by_key(|s| (s.partition, s.offset));
        v
    };
    assert_eq!(
        by_position(read_all(kafka, &dlq, false, 1).await),
        by_position(dlq_before)
    );
    assert!(read_all(kafka, &env.quarantine, false, 1).await.is_empty());

    // Audit: RUNNING at each start, COMPLETED at the end with the totals of both runs.
    let audit: Vec<AuditRecord> = audit_records(kafka, &env.schemas, &env.audit).await;
    assert!(audit.iter().all(|r| r.replay_id == id));
    assert_eq!(audit.first().unwrap().outcome, Outcome::Running);
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.outcome == Outcome::Running)
            .count(),
        2
    );
    let last = audit.last().unwrap();
    assert_eq!(last.outcome, Outcome::Completed, "{audit:?}");
    assert_eq!(
        (last.selected, last.replayed, last.skipped, last.failed),
        (25_000, 25_000, 0, 0)
    );
    assert_eq!(last.filters["error_code"], "schema_mismatch");
    assert_eq!(last.source_topic, dlq);
    assert_eq!(last.destination, None);
    assert_eq!(last.rate_per_second, Some(2500.0));
    assert_eq!(last.operator, "tester");
    assert!(!last.dry_run);
    assert_eq!(
        last.started_ms, audit[0].started_ms,
        "the start is the first run's"
    );
    assert!(last.finished_ms.unwrap() >= last.started_ms);

    // Running the completed replay again re-publishes nothing.
    let (ok, out, err) = run(&env.cfg, &args);
    assert!(ok, "{err}");
    assert!(out.contains("replayed 25000"), "{out}");
    assert_eq!(read_all(kafka, &origin, true, 2).await.len(), 25_000);
    env.registry.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_connect_dead_letter_is_replayed_to_its_original_topic() {
    let env = env().await;
    let kafka = &env.kafka;
    let dlq = kafka.topic("replay-connect-dlq", 1).await.unwrap();
    let origin = kafka.topic("replay-crm", 2).await.unwrap();
    // As Connect's DeadLetterQueueReporter writes them: UTF-8 text, numbers in decimal.
    let mut h = Headers::new();
    h.set("tenant", "acme");
    h.set(connect::TOPIC, origin.clone());
    h.set(connect::PARTITION, "1");
    h.set(connect::OFFSET, "17");
    h.set(connect::CONNECTOR_NAME, "crm-sink");
    h.set(connect::TASK_ID, "0");
    h.set(connect::STAGE, "VALUE_CONVERTER");
    h.set(
        connect::CLASS_NAME,
        "org.apache.kafka.connect.json.JsonConverter",
    );
    h.set(
        connect::EXCEPTION_CLASS_NAME,
        "org.apache.kafka.connect.errors.DataException",
    );
    h.set(
        connect::EXCEPTION_MESSAGE,
        "Converting byte[] to Kafka Connect data failed",
    );
    h.set(
        connect::EXCEPTION_STACKTRACE,
        "org.apache.kafka.connect.errors.DataException: …\n\tat …",
    );
    let value = Bytes::from_static(b"{\"name\":1}");
    let other = dead_letter(1, ErrorCode::DecodeFailed, "elsewhere", 0).to_kafka();
    produce(
        &kafka.producer().unwrap(),
        &dlq,
        &[
            (
                Some(Bytes::from_static(b"contact-1")),
                Some(value.clone()),
                h,
            ),
            other,
        ],
    )
    .await;

    let (ok, out, err) = run(
        &env.cfg,
        &env.args(&dlq, &["--source-topic", &origin, "--output", "json"]),
    );
    assert!(ok, "{err}");
    let report: Json = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["outcome"], "COMPLETED");
    assert_eq!(report["counts"]["selected"], 1);
    assert_eq!(report["counts"]["replayed"], 1);
    let id = report["replay_id"].as_str().unwrap();

    let got = read_all(kafka, &origin, true, 2).await;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.partition, 1, "Connect's partition kept");
    assert_eq!(r.key.as_deref(), Some(&b"contact-1"[..]));
    assert_eq!(r.value.as_ref(), Some(&value));
    assert_eq!(r.headers["tenant"], "acme");
    assert_eq!(r.headers["weft.replay.id"], id);
    assert_eq!(r.headers["weft.replay.count"], "1");
    assert_eq!(r.headers["weft.replay.from"], format!("{dlq}-0@0"));
    assert_eq!(
        r.headers["weft.replay.previous.error.code"],
        "org.apache.kafka.connect.errors.DataException"
    );
    assert!(!r.headers.contains_key("weft.replay.previous.fingerprint"));
    assert!(
        !r.headers.keys().any(|k| k.starts_with("__connect.")),
        "{:?}",
        r.headers
    );
    env.registry.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_replay_limit_a_dead_letter_is_quarantined_and_missing_topics_stop_it_up_front() {
    let env = env().await;
    let kafka = &env.kafka;
    let dlq = kafka.topic("replay-limit-dlq", 1).await.unwrap();
    let origin = kafka.topic("replay-limit-orders", 3).await.unwrap();
    let looping = dead_letter(3, ErrorCode::SchemaMismatch, &origin, 3).to_kafka();
    let once_more = dead_letter(4, ErrorCode::SchemaMismatch, &origin, 2).to_kafka();
    produce(
        &kafka.producer().unwrap(),
        &dlq,
        &[looping.clone(), once_more],
    )
    .await;

    // Topics that do not exist stop it before anything is read or written.
    for (flag, role) in [
        ("--to", "destination"),
        ("--quarantine-topic", "quarantine"),
        ("--audit-topic", "audit"),
    ] {
        let missing = weft_testkit::unique("replay-missing");
        let mut args = env.args(&dlq, &[]);
        match args.iter().position(|a| *a == flag) {
            Some(i) => args[i + 1] = missing.as_str(),
            None => args.extend([flag, missing.as_str()]),
        }
        let (ok, _, err) = run(&env.cfg, &args);
        assert!(!ok);
        let last = err.trim().lines().last().unwrap();
        assert!(
            last.starts_with(&format!("weft: the {role} topic {missing} does not exist")),
            "{err}"
        );
    }
    assert!(read_all(kafka, &origin, false, 1).await.is_empty());
    assert!(read_all(kafka, &env.audit, false, 1).await.is_empty());

    let (ok, out, err) = run(
        &env.cfg,
        &env.args(&dlq, &["--max-replays", "3", "--output", "json"]),
    );
    assert!(ok, "{err}");
    let report: Json = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["counts"]["quarantined"], 1, "{report}");
    assert_eq!(report["counts"]["replayed"], 1, "{report}");

    let q = read_all(kafka, &env.quarantine, true, 2).await;
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].key, looping.0);
    assert_eq!(q[0].value, looping.1);
    let unchanged: HashMap<String, String> = looping
        .2
        .iter()
        .map(|h| {
            (
                h.key.to_string(),
                String::from_utf8(h.value.clone().unwrap().to_vec()).unwrap(),
            )
        })
        .collect();
    assert_eq!(q[0].headers, unchanged, "copied unchanged");
    let o = read_all(kafka, &origin, true, 1).await;
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].key.as_deref(), Some(&b"k-4"[..]));
    assert_eq!(o[0].headers["weft.replay.count"], "3");

    // The audit says one was skipped (quarantined); history lists the replay.
    let (ok, out, err) = run(
        &env.cfg,
        &[
            "replay",
            "history",
            "--audit-topic",
            &env.audit,
            "--output",
            "json",
        ],
    );
    assert!(ok, "{err}");
    let rows: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["outcome"], "COMPLETED");
    assert_eq!(rows[0]["replay_id"], report["replay_id"]);
    assert_eq!(
        (rows[0]["replayed"].as_i64(), rows[0]["skipped"].as_i64()),
        (Some(1), Some(1))
    );

    // An origin topic that does not exist stops the replay when it is reached: one line, the
    // open transaction aborted, a FAILED audit record.
    let gone_dlq = kafka.topic("replay-gone-dlq", 1).await.unwrap();
    let gone = weft_testkit::unique("replay-gone");
    let record = dead_letter(9, ErrorCode::DecodeFailed, &gone, 0).to_kafka();
    produce(&kafka.producer().unwrap(), &gone_dlq, &[record]).await;
    let (ok, _, err) = run(&env.cfg, &env.args(&gone_dlq, &[]));
    assert!(!ok);
    let last = err.trim().lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "weft: the destination topic {gone} does not exist (the origin topic of dead letter {gone_dlq}-0@0;"
        )),
        "{err}"
    );
    let (ok, out, err) = run(
        &env.cfg,
        &[
            "replay",
            "history",
            "--audit-topic",
            &env.audit,
            "--output",
            "json",
        ],
    );
    assert!(ok, "{err}");
    let rows: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["outcome"], "FAILED");
    assert_eq!(rows[0]["source_topic"], gone_dlq.as_str());
    env.registry.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_finishes_the_transaction_audits_interrupted_and_the_replay_resumes() {
    let env = env().await;
    let kafka = &env.kafka;
    let dlq = kafka.topic("replay-int-dlq", 2).await.unwrap();
    let origin = kafka.topic("replay-int-orders", 3).await.unwrap();
    let n = 3_000u32;
    let records: Vec<_> = (0..n)
        .map(|i| dead_letter(i, ErrorCode::DecodeFailed, &origin, 0).to_kafka())
        .collect();
    produce(&kafka.producer().unwrap(), &dlq, &records).await;

    let id = uuid::Uuid::new_v4().to_string();
    let args = env.args(&dlq, &["--rate", "300/s", "--id", &id]);
    let mut p = process::spawn(&env.cfg, &args, &[]).unwrap();
    wait_committed(kafka, &id, &dlq, 2, 600).await;
    p.signal("INT").unwrap();
    let (status, took) = p.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(!status.success());
    assert!(
        took < Duration::from_secs(5),
        "stopped within a transaction: {took:?}"
    );
    let err = p.stderr();
    let last = err.trim().lines().last().unwrap();
    assert!(
        last.starts_with(&format!("weft: replay {id} interrupted after ")),
        "{err}"
    );
    assert!(last.contains("resume it with: weft -c "), "{err}");
    assert!(
        last.contains(&format!("replay --id {id} --topic {dlq}")),
        "{err}"
    );

    let audit = audit_records(kafka, &env.schemas, &env.audit).await;
    let interrupted = audit.last().unwrap();
    assert_eq!(interrupted.outcome, Outcome::Interrupted);
    let so_far = read_all(kafka, &origin, true, 2).await.len();
    assert_eq!(
        interrupted.replayed as usize, so_far,
        "the audit counts what was committed"
    );
    assert!(so_far > 0 && so_far < n as usize);

    // Another selection under the same id is refused.
    let mut other = args.clone();
    other.extend(["--error-code", "schema_mismatch"]);
    let (ok, _, err) = run(&env.cfg, &other);
    assert!(!ok);
    assert!(
        err.contains(&format!("replay {id} was started with another selection")),
        "{err}"
    );

    let (ok, out, err) = run(&env.cfg, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("selected {n}, replayed {n}")),
        "{out}"
    );
    let all = read_all(kafka, &origin, true, 3).await;
    assert_eq!(all.len(), n as usize);
    let keys: HashSet<_> = all.iter().map(|s| s.key.clone()).collect();
    assert_eq!(keys.len(), n as usize, "no duplicates");

    // Another replay (another id) of one of the same dead letters; history lists both.
    let (ok, _, err) = run(&env.cfg, &env.args(&dlq, &["--key", "k-7"]));
    assert!(ok, "{err}");
    let (ok, out, err) = run(
        &env.cfg,
        &["replay", "history", "--audit-topic", &env.audit],
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("COMPLETED") && lines[0].contains("key=k-7"),
        "{out}"
    );
    assert!(lines[1].starts_with(&format!("{id}  COMPLETED")), "{out}");
    assert!(
        lines[1].contains(&format!("selected {n} replayed {n}")),
        "{out}"
    );
    env.registry.stop().await.unwrap();
}
