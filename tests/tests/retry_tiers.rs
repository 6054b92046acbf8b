//! Retry tiers on the real broker: a record that fails with a `Transient` error after its
//! in-place attempts waits in a tier topic while the rest of its partition keeps flowing; the
//! dead-letter service hands it back when due (within the tolerance stated in
//! docs/dead-letters.md), the stage processes it again, and when the tiers are exhausted it is
//! dead-lettered with every attempt counted. Permanent errors go straight to the dead-letter
//! topic.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Running;
use tokio_util::sync::CancellationToken;
use weft_core::{ErrorCode, StageError};
use weft_dead_letter::retry::RetryConfig;
use weft_kafka::{ConsumerOptions, Emitter, OutRecord, Processor, Record, RetryPolicy, Tier};
use weft_testkit::{ensure_kafka, unique};

/// Forwards every record to `output`; `transient-*` keys fail with a Transient error as many
/// times as the number after the dash (`transient-always`: every time), `permanent` always
/// fails with a Permanent one.
struct Flaky {
    output: Arc<str>,
    failures: Mutex<HashMap<String, u32>>,
}

impl Processor for Flaky {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        let key = String::from_utf8_lossy(record.key.as_deref().unwrap_or_default()).to_string();
        if key == "permanent" {
            return Err(StageError::new(
                ErrorCode::TransformFailed,
                "refused on purpose",
            ));
        }
        if key == "registry-down" {
            return Err(StageError::new(
                ErrorCode::RegistryUnavailable,
                "registry away",
            ));
        }
        if let Some(n) = key.strip_prefix("transient-") {
            let mut f = self.failures.lock().unwrap();
            let seen = f.entry(key.clone()).or_default();
            let limit = n.parse::<u32>().unwrap_or(u32::MAX);
            if *seen < limit {
                *seen += 1;
                return Err(StageError::new(
                    ErrorCode::Timeout,
                    format!("failure {seen}"),
                ));
            }
        }
        let o = OutRecord::forward(record, self.output.clone());
        out.emit(o);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_record_waits_in_a_tier_while_its_partition_flows() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().unwrap();
    // One partition: the failing records share it with everything else.
    let input = kafka.topic("retry-in", 1).await.unwrap();
    let output = kafka.topic("retry-out", 1).await.unwrap();
    let dlq = kafka.topic("retry-dlq", 1).await.unwrap();
    let tier1 = kafka.topic("retry-t1", 1).await.unwrap();
    let tier2 = kafka.topic("retry-t2", 1).await.unwrap();
    let ready = kafka.topic("retry-ready", 1).await.unwrap();
    let tiers = vec![
        Tier {
            topic: tier1.clone(),
            delay: Duration::from_secs(2),
        },
        Tier {
            topic: tier2.clone(),
            delay: Duration::from_secs(3),
        },
    ];
    let cfg = RetryConfig {
        enabled: true,
        group: unique("retry-service"),
        tiers: tiers.clone(),
        ready_topic: ready.clone(),
        park_keys: false,
    };
    let group = unique("retry-stage");
    let mut opts = ConsumerOptions::new("test", "flaky", &group, vec![input.clone()]);
    opts.dead_letter_topic = Some(dlq.clone());
    opts.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    opts.dead_letters.retry_tiers = cfg.for_stages();
    let processor = Arc::new(Flaky {
        output: Arc::from(output.as_str()),
        failures: Mutex::new(HashMap::new()),
    });
    let stage = Running::start(&kafka.config, opts, processor);
    let stop = CancellationToken::new();
    let service = {
        let (k, c, s) = (kafka.config.clone(), cfg.clone(), stop.clone());
        tokio::spawn(async move { weft_dead_letter::retry::run(&k, &c, s).await })
    };

    // 300 records; at 10 one that fails 3 times (2 in place, then once after tier 1),
    // at 20 one that always fails, at 30 a permanent failure.
    let mut records: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| (format!("k-{i}"), format!("v-{i}").into_bytes()))
        .collect();
    records[10] = ("transient-3".into(), b"comes back".to_vec());
    records[20] = ("transient-always".into(), b"never works".to_vec());
    records[30] = ("permanent".into(), b"refused".to_vec());
    // A registry that never comes back: the record cycles in the last tier, never dead-lettered.
    records[40] = ("registry-down".into(), b"waits".to_vec());
    kafka.produce(&input, &records).await.unwrap();

    let seen = kafka
        .read_until_async(&output, false, Duration::from_secs(60), |s| s.len() >= 297)
        .await
        .unwrap();
    let keys: Vec<String> = seen
        .iter()
        .map(|s| String::from_utf8(s.key.clone().unwrap().to_vec()).unwrap())
        .collect();
    // Everything else of the partition went through while the record waited in the tier.
    assert_eq!(keys.len(), 297, "{keys:?}");
    assert_eq!(
        keys.last().map(String::as_str),
        Some("transient-3"),
        "{keys:?}"
    );
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 297, "each exactly once");
    let back = &seen[296];
    assert_eq!(back.value.as_deref(), Some(&b"comes back"[..]));

    // Dead letters: the permanent failure at once (1 attempt), the transient one after both
    // tiers (2 in place per visit, 3 visits).
    let dead = kafka
        .read_until_async(&dlq, false, Duration::from_secs(60), |s| s.len() >= 2)
        .await
        .unwrap();
    assert_eq!(dead.len(), 2);
    let by_key: HashMap<String, &weft_testkit::kafka::Seen> = dead
        .iter()
        .map(|s| {
            (
                String::from_utf8(s.key.clone().unwrap().to_vec()).unwrap(),
                s,
            )
        })
        .collect();
    let p = by_key["permanent"];
    assert_eq!(p.headers["weft.dlq.attempt"], "1");
    assert_eq!(p.headers["weft.dlq.error.code"], "transform_failed");
    let t = by_key["transient-always"];
    assert_eq!(t.headers["weft.dlq.attempt"], "6");
    assert_eq!(t.headers["weft.dlq.error.class"], "transient");
    assert_eq!(t.headers["weft.dlq.origin.topic"], input);
    assert_eq!(t.headers["weft.dlq.origin.offset"], "20");
    assert!(
        t.headers.keys().all(|k| !k.starts_with("weft.retry.")),
        "{:?}",
        t.headers
    );
    assert_eq!(t.value.as_deref(), Some(&b"never works"[..]));
    assert!(
        t.headers["weft.dlq.first.failure"] < t.headers["weft.dlq.last.failure"],
        "the first failure is kept across tiers"
    );

    // Due times honoured: each record handed back no earlier than due, and within 1.5 s.
    fn key_of(s: &weft_testkit::kafka::Seen) -> String {
        String::from_utf8(s.key.clone().unwrap().to_vec()).unwrap()
    }
    let handed = kafka
        .read_until_async(&ready, false, Duration::from_secs(30), |s| {
            s.iter().filter(|h| key_of(h) == "registry-down").count() >= 3
        })
        .await
        .unwrap();
    let others = handed.iter().filter(|h| key_of(h) != "registry-down");
    assert_eq!(
        others.count(),
        3,
        "transient-3 once, transient-always twice"
    );
    // The registry-down record: back from the last tier again and again, never a dead letter.
    let again: Vec<_> = handed
        .iter()
        .filter(|h| key_of(h) == "registry-down")
        .collect();
    assert!(again.len() >= 3);
    assert!(again[1..]
        .iter()
        .all(|h| h.headers["weft.retry.tier"] == "1"));
    let dead = kafka
        .read_all_async(&dlq, false, Duration::from_secs(1), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        dead.len(),
        2,
        "only the permanent and the exhausted transient failure"
    );
    for h in &handed {
        let due = weft_core::time::parse_millis(&h.headers["weft.retry.due"]).unwrap();
        let at = h.timestamp_ms.unwrap();
        eprintln!("handed back {} ms after due", at - due);
        assert!(at >= due, "handed back {} ms early", due - at);
        assert!(at - due <= 1_500, "handed back {} ms late", at - due);
    }
    // The tiers held what the tiers should: tier 1 both, tier 2 the one that kept failing.
    let t1 = kafka
        .read_all_async(
            &tier1,
            false,
            Duration::from_secs(2),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let t2 = kafka
        .read_all_async(
            &tier2,
            false,
            Duration::from_secs(2),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let t1: Vec<_> = t1.iter().filter(|h| key_of(h) != "registry-down").collect();
    let t2: Vec<_> = t2.iter().filter(|h| key_of(h) != "registry-down").collect();
    assert_eq!(t1.len(), 2);
    assert_eq!(t2.len(), 1);
    assert_eq!(t2[0].headers["weft.retry.tier"], "1");
    assert_eq!(t2[0].headers["weft.retry.group"], group);

    stop.cancel();
    service.await.unwrap().unwrap();
    stage.stop().await.unwrap();
}

/// `[dead_letter] foreign_headers`: dead letters also carry Kafka Connect's and Spring's
/// headers, with the encodings those tools write, beside Weft's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_can_carry_connect_and_spring_headers() {
    let kafka = ensure_kafka().unwrap();
    let input = kafka.topic("foreign-in", 1).await.unwrap();
    let output = kafka.topic("foreign-out", 1).await.unwrap();
    let dlq = kafka.topic("foreign-dlq", 1).await.unwrap();
    let group = unique("foreign-stage");
    let mut opts = ConsumerOptions::new("test", "flaky", &group, vec![input.clone()]);
    opts.dead_letter_topic = Some(dlq.clone());
    opts.dead_letters.connect_headers = true;
    opts.dead_letters.spring_headers = true;
    let processor = Arc::new(Flaky {
        output: Arc::from(output.as_str()),
        failures: Mutex::new(HashMap::new()),
    });
    let stage = Running::start(&kafka.config, opts, processor);
    let records = vec![
        ("k-0".to_string(), b"fine".to_vec()),
        ("permanent".to_string(), b"refused".to_vec()),
    ];
    kafka.produce(&input, &records).await.unwrap();
    let dead = kafka
        .read_until_async(&dlq, false, Duration::from_secs(30), |s| !s.is_empty())
        .await
        .unwrap();
    stage.stop().await.unwrap();
    let h = &dead[0].headers;
    assert_eq!(h["weft.dlq.origin.offset"], "1");
    assert_eq!(h["__connect.errors.topic"], input);
    assert_eq!(h["__connect.errors.offset"], "1");
    assert_eq!(
        h["__connect.errors.exception.class.name"],
        "weft.transform_failed"
    );
    assert_eq!(h["__connect.errors.stage"], "TRANSFORMATION");
    assert_eq!(h["kafka_dlt-original-topic"], input);
    assert_eq!(h["kafka_dlt-original-consumer-group"], group);
    // Spring's numbers are binary big-endian (here valid UTF-8 of control characters).
    assert_eq!(
        h["kafka_dlt-original-offset"].as_bytes(),
        1i64.to_be_bytes()
    );
    assert_eq!(
        h["kafka_dlt-original-partition"].as_bytes(),
        0i32.to_be_bytes()
    );
    assert_eq!(h["kafka_dlt-exception-fqcn"], "weft.transform_failed");
}

/// `[retry] park_keys`: later records of a key wait behind one in a retry tier and go, in
/// order, once it is processed or dead-lettered; other keys are not held up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn later_records_of_a_key_wait_behind_a_failed_one() {
    let kafka = ensure_kafka().unwrap();
    let input = kafka.topic("park-in", 1).await.unwrap();
    let output = kafka.topic("park-out", 1).await.unwrap();
    let dlq = kafka.topic("park-dlq", 1).await.unwrap();
    let tier1 = kafka.topic("park-t1", 1).await.unwrap();
    let tier2 = kafka.topic("park-t2", 1).await.unwrap();
    let ready = kafka.topic("park-ready", 1).await.unwrap();
    let cfg = RetryConfig {
        enabled: true,
        group: unique("park-service"),
        tiers: vec![
            Tier {
                topic: tier1.clone(),
                delay: Duration::from_secs(1),
            },
            Tier {
                topic: tier2.clone(),
                delay: Duration::from_secs(2),
            },
        ],
        ready_topic: ready.clone(),
        park_keys: true,
    };
    let mut opts =
        ConsumerOptions::new("test", "flaky", &unique("park-stage"), vec![input.clone()]);
    opts.dead_letter_topic = Some(dlq.clone());
    opts.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    opts.dead_letters.retry_tiers = cfg.for_stages();
    let processor = Arc::new(Flaky {
        output: Arc::from(output.as_str()),
        failures: Mutex::new(HashMap::new()),
    });
    let stage = Running::start(&kafka.config, opts, processor);
    let stop = CancellationToken::new();
    let service = {
        let (k, c, s) = (kafka.config.clone(), cfg.clone(), stop.clone());
        tokio::spawn(async move { weft_dead_letter::retry::run(&k, &c, s).await })
    };
    // Key transient-3 fails three times (its first record goes through tier 1); key
    // transient-always never works (both of its records end as dead letters, in order).
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..30 {
        match i {
            3 | 12 | 21 => {
                records.push(("transient-3".into(), format!("a-{}", i / 9).into_bytes()))
            }
            5 | 15 => records.push((
                "transient-always".into(),
                format!("b-{}", i / 10).into_bytes(),
            )),
            _ => records.push((format!("k-{i}"), format!("v-{i}").into_bytes())),
        }
    }
    kafka.produce(&input, &records).await.unwrap();

    let seen = kafka
        .read_until_async(&output, false, Duration::from_secs(60), |s| s.len() >= 28)
        .await
        .unwrap();
    let values: Vec<String> = seen
        .iter()
        .map(|s| String::from_utf8(s.value.clone().unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(values.len(), 28, "{values:?}");
    // The key's records in their order, after every other key's (which were not held up).
    assert_eq!(&values[25..], &["a-0", "a-1", "a-2"], "{values:?}");
    assert!(
        values[..25].iter().all(|v| v.starts_with("v-")),
        "{values:?}"
    );
    let dead = kafka
        .read_until_async(&dlq, false, Duration::from_secs(60), |s| s.len() >= 2)
        .await
        .unwrap();
    let dead_values: Vec<&[u8]> = dead.iter().map(|d| d.value.as_deref().unwrap()).collect();
    assert_eq!(dead_values, vec![&b"b-0"[..], &b"b-1"[..]], "in order");
    assert!(dead
        .iter()
        .all(|d| d.headers["weft.dlq.error.code"] == "timeout"));
    assert_eq!(
        dead[1].headers["weft.dlq.attempt"], "6",
        "b-1 failed on its own"
    );
    // Parked records went through the first tier with their place in the queue.
    let t1 = kafka
        .read_all_async(
            &tier1,
            false,
            Duration::from_secs(1),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert!(t1.iter().any(
        |r| r.headers.get("weft.retry.parked").map(String::as_str) == Some("0")
            && r.headers["weft.dlq.error.code"] == "parked"
    ));
    stop.cancel();
    service.await.unwrap().unwrap();
    stage.stop().await.unwrap();
}
