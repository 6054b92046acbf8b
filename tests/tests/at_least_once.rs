//! At-least-once through the consumer loop against the real broker: 100,000 records, 6
//! partitions, concurrency 64; instances join and leave mid-stream (rebalances, drains,
//! shutdowns); every record arrives, per-key order holds, duplicates stay within the window.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{check_key_order, distinct, keyed_records, produce_gradually, wait_produced, Running};
use weft_kafka::ConsumerOptions;
use weft_pipe::PipeProcessor;
use weft_testkit::{ensure_kafka, unique};

const RECORDS: usize = 100_000;
const WINDOW: usize = 2_000;

fn options(group: &str, input: &str) -> ConsumerOptions {
    let mut o = ConsumerOptions::new("pipe", "alo-test", group, vec![input.to_string()]);
    o.concurrency = 64;
    o.max_in_flight = WINDOW;
    o.drain_timeout = Duration::from_secs(20);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_record_arrives_through_rebalances_and_restarts() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let input = kafka.topic("alo-in", 6).await.expect("input topic");
    let output = kafka.topic("alo-out", 6).await.expect("output topic");
    let group = unique("alo-group");
    // The stream keeps arriving while instances come and go (about 20 s of input).
    let producing = produce_gradually(&kafka, &input, keyed_records(RECORDS, 500), 5_000);

    let processor = Arc::new(PipeProcessor::new(&output));
    // A alone, then B joins (A's partitions are revoked: drain + commit), then A leaves
    // (B takes everything over), then B stops and C finishes the stream.
    let a = Running::start(&kafka.config, options(&group, &input), processor.clone());
    wait_produced(&a, &output, 20_000).await;
    let b = Running::start(&kafka.config, options(&group, &input), processor.clone());
    wait_produced(&b, &output, 5_000).await;
    a.stop().await.expect("A stops cleanly");
    wait_produced(&b, &output, 20_000).await;
    b.stop().await.expect("B stops cleanly");
    let c = Running::start(&kafka.config, options(&group, &input), processor.clone());

    let seen = kafka
        .read_until_async(&output, true, Duration::from_secs(180), |s| {
            distinct(s) >= RECORDS
        })
        .await
        .expect("every record arrives");
    c.stop().await.expect("C stops cleanly");
    producing
        .await
        .expect("producer task")
        .expect("input produced");

    let unique_values = distinct(&seen);
    let duplicates = seen.len() - unique_values;
    eprintln!(
        "at-least-once: {} records read, {unique_values} distinct, {duplicates} duplicates",
        seen.len()
    );
    assert_eq!(unique_values, RECORDS, "no record is lost");
    assert!(
        duplicates <= WINDOW,
        "duplicates ({duplicates}) are bounded by the in-flight window ({WINDOW})"
    );
    check_key_order(&seen).expect("per-key order");
    assert!(seen
        .iter()
        .all(|s| s.headers.get("weft.origin.topic") == Some(&input)));

    // Every input offset is committed at the end: nothing would be re-read.
    let committed = kafka
        .committed(&group, &input, 6)
        .expect("committed offsets");
    let total: i64 = committed.values().sum();
    assert_eq!(
        total, RECORDS as i64,
        "committed offsets cover every record: {committed:?}"
    );
}
