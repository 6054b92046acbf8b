//! weft-kafka's building blocks against the real broker: producer backpressure, topic admin,
//! and the consumer loop's dead-letter and fatal-error paths.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{keyed_records, Running};
use weft_core::dead_letter::{DLQ_ERROR_CODE, DLQ_ORIGIN_OFFSET, DLQ_ORIGIN_TOPIC};
use weft_core::{DeadLetter, ErrorCode, Headers, StageError};
use weft_kafka::admin::TopicSpec;
use weft_kafka::{
    ConsumerOptions, Emitter, OutRecord, Processor, Producer, ProducerOptions, Record,
};
use weft_testkit::{ensure_kafka, unique};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_producer_queue_waits_instead_of_failing() {
    let kafka = ensure_kafka().unwrap();
    let topic = kafka.topic("backpressure", 2).await.unwrap();
    let mut cfg = kafka.config.clone();
    // A queue of 50 records: sending 5,000 fills it again and again.
    cfg.producer_properties
        .insert("queue.buffering.max.messages".into(), "50".into());
    let producer = Producer::new(&cfg, "test", &ProducerOptions::default(), None).unwrap();
    let mut pending = Vec::new();
    for i in 0..5_000u32 {
        let mut h = weft_core::Headers::new();
        h.set("seq", i.to_string());
        let rec = OutRecord::new(topic.as_str())
            .key(format!("k{}", i % 7))
            .value(i.to_be_bytes().to_vec())
            .headers(h);
        pending.push(
            producer
                .send(&rec)
                .await
                .expect("send waits for room, never QueueFull"),
        );
    }
    for p in pending {
        p.wait().await.expect("delivered");
    }
    producer.flush(Duration::from_secs(10)).await.unwrap();
    let seen = kafka
        .read_all_async(
            &topic,
            true,
            Duration::from_secs(2),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(seen.len(), 5_000);
    // Headers survive the retries after a full queue (they are handed back and sent again).
    for r in &seen {
        let seq: u32 = r.headers.get("seq").expect("header kept").parse().unwrap();
        assert_eq!(r.value.as_deref(), Some(&seq.to_be_bytes()[..]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_created_once_and_described() {
    let kafka = ensure_kafka().unwrap();
    let admin = kafka.admin().unwrap();
    let name = unique("admin");
    let spec = TopicSpec::new(&name, 4).config("cleanup.policy", "compact");
    assert_eq!(
        admin
            .create_topics(std::slice::from_ref(&spec))
            .await
            .unwrap(),
        vec![(name.clone(), true)]
    );
    assert_eq!(
        admin.create_topics(&[spec]).await.unwrap(),
        vec![(name.clone(), false)],
        "idempotent"
    );
    let info = admin
        .describe(Some(&name), Duration::from_secs(10))
        .unwrap();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].partitions, 4);
    assert!(!admin.brokers(Duration::from_secs(5)).unwrap().is_empty());
}

/// Forwards records, but refuses values that are not UTF-8 (a permanent error).
struct Strict {
    to: String,
}

impl Processor for Strict {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        let value = record.value.as_deref().unwrap_or_default();
        if std::str::from_utf8(value).is_err() {
            return Err(
                StageError::new(ErrorCode::DecodeFailed, "value is not UTF-8").at_field("$"),
            );
        }
        out.emit(OutRecord::forward(record, self.to.as_str()));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_reach_the_dead_letter_topic_with_original_bytes() {
    let kafka = ensure_kafka().unwrap();
    let input = kafka.topic("dl-in", 2).await.unwrap();
    let output = kafka.topic("dl-out", 2).await.unwrap();
    let dlq = kafka.topic("dl-dlq", 1).await.unwrap();
    let mut records = keyed_records(1_000, 10);
    // Every 100th record is poison.
    for (i, r) in records.iter_mut().enumerate() {
        if i % 100 == 0 {
            r.1 = vec![0xff, 0xfe, i as u8];
        }
    }
    kafka.produce(&input, &records).await.unwrap();

    let mut opts = ConsumerOptions::new("test", "strict", &unique("dl-group"), vec![input.clone()]);
    opts.dead_letter_topic = Some(dlq.clone());
    let running = Running::start(&kafka.config, opts, Arc::new(Strict { to: output.clone() }));
    let dead = kafka
        .read_until_async(&dlq, true, Duration::from_secs(60), |s| s.len() >= 10)
        .await
        .unwrap();
    let good = kafka
        .read_until_async(&output, true, Duration::from_secs(60), |s| s.len() >= 990)
        .await
        .unwrap();
    running.stop().await.unwrap();

    assert_eq!(good.len(), 990, "every good record is delivered");
    assert_eq!(dead.len(), 10, "every poison record is dead-lettered");
    for d in &dead {
        assert_eq!(
            d.value.as_deref().map(|v| &v[..2]),
            Some(&[0xff, 0xfe][..]),
            "original bytes"
        );
        assert_eq!(
            d.headers.get(DLQ_ERROR_CODE).map(String::as_str),
            Some("decode_failed")
        );
        assert_eq!(d.headers.get(DLQ_ORIGIN_TOPIC), Some(&input));
        let mut h = Headers::new();
        for (k, v) in &d.headers {
            h.set(k.clone(), v.clone());
        }
        let parsed =
            DeadLetter::from_kafka(d.key.clone(), d.value.clone(), &h).expect("a Weft dead letter");
        assert_eq!(parsed.failure.field.as_deref(), Some("$"));
        assert_eq!(parsed.failure.service, "test");
        assert_eq!(
            d.headers
                .get(DLQ_ORIGIN_OFFSET)
                .map(|o| o.parse::<i64>().is_ok()),
            Some(true)
        );
        assert_eq!(parsed.original.value, d.value.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_without_a_dead_letter_topic_stops_the_loop_before_it() {
    let kafka = ensure_kafka().unwrap();
    let input = kafka.topic("stop-in", 1).await.unwrap();
    let output = kafka.topic("stop-out", 1).await.unwrap();
    let group = unique("stop-group");
    let mut records = keyed_records(100, 1);
    records[50].1 = vec![0xff];
    kafka.produce(&input, &records).await.unwrap();

    let mut opts = ConsumerOptions::new("test", "strict", &group, vec![input.clone()]);
    opts.concurrency = 1;
    let running = Running::start(&kafka.config, opts, Arc::new(Strict { to: output.clone() }));
    let result = tokio::time::timeout(Duration::from_secs(60), running.handle)
        .await
        .unwrap()
        .unwrap();
    let error = result.expect_err("the loop stops on the poison record");
    assert!(error.to_string().contains("decode_failed"), "{error}");
    // Nothing past the poison record is committed: a restart resumes at it.
    let committed = kafka.committed(&group, &input, 1).unwrap();
    assert_eq!(
        committed.get(&0),
        Some(&50),
        "committed up to the failed record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_name_that_is_not_utf8_is_read_without_stopping_the_loop() {
    // Kafka stores header names as bytes; Sarama or librdkafka's C API can write any. Such a
    // record is forwarded with U+FFFD in the name (as Java's clients read it), and the loop
    // goes on: rust-rdkafka's own header reader panics on it.
    let kafka = ensure_kafka().unwrap();
    let input = kafka.topic("rawname-in", 1).await.unwrap();
    let output = kafka.topic("rawname-out", 1).await.unwrap();
    kafka
        .produce(&input, &[("k1".into(), b"first".to_vec())])
        .await
        .unwrap();
    kafka
        .produce_raw_header(&input, b"k2", b"second", b"bin\xffname", b"v")
        .unwrap();
    kafka
        .produce(&input, &[("k3".into(), b"third".to_vec())])
        .await
        .unwrap();
    let group = unique("rawname-group");
    let mut opts = ConsumerOptions::new("pipe", "rawname-test", &group, vec![input.clone()]);
    // The three keys differ: partition order keeps them in input order on the output.
    opts.ordering = weft_kafka::Ordering::Partition;
    let running = Running::start(
        &kafka.config,
        opts,
        Arc::new(weft_pipe::PipeProcessor::new(&output)),
    );
    let seen = kafka
        .read_until_async(&output, true, Duration::from_secs(60), |s| s.len() >= 3)
        .await
        .expect("all three records are forwarded");
    running.stop().await.expect("the loop stops cleanly");
    let values: Vec<&[u8]> = seen.iter().filter_map(|s| s.value.as_deref()).collect();
    assert_eq!(values, [&b"first"[..], b"second", b"third"]);
    assert_eq!(
        seen[1].headers.get("bin\u{fffd}name").map(String::as_str),
        Some("v"),
        "headers of the second record: {:?}",
        seen[1].headers
    );
    let committed = kafka.committed(&group, &input, 1).unwrap();
    assert_eq!(
        committed.get(&0),
        Some(&3),
        "every input offset is committed"
    );
}
