//! Exactly-once through the transactional consumer loop against the real broker: 100,000
//! records, 6 partitions, concurrency 64, instances joining and leaving, and an injected
//! failure that aborts a transaction mid-stream. A `read_committed` reader finds every record
//! exactly once.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{check_key_order, distinct, keyed_records, produce_gradually, wait_produced, Running};
use weft_core::{ErrorCode, StageError};
use weft_kafka::{ConsumerOptions, DeliveryMode, Emitter, Processor, Record};
use weft_pipe::PipeProcessor;
use weft_testkit::{ensure_kafka, unique};

const RECORDS: usize = 100_000;

/// The pipe, failing once (transiently) on its `fail_at`-th call.
struct FailOnce {
    inner: PipeProcessor,
    calls: AtomicUsize,
    fail_at: usize,
    failed: AtomicBool,
}

impl Processor for FailOnce {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if n >= self.fail_at && !self.failed.swap(true, Ordering::Relaxed) {
            return Err(StageError::new(
                ErrorCode::KafkaUnavailable,
                "injected failure",
            ));
        }
        self.inner.process(record, out).await
    }
}

fn options(group: &str, input: &str) -> ConsumerOptions {
    let mut o = ConsumerOptions::new("pipe", "eos-test", group, vec![input.to_string()]);
    o.mode = DeliveryMode::ExactlyOnce;
    o.transactional_id = Some(unique("eos-txn"));
    o.concurrency = 64;
    o.max_in_flight = 2_000;
    o.drain_timeout = Duration::from_secs(20);
    // No retry in place: the injected failure aborts the open transaction.
    o.retry.max_attempts = 1;
    o
}

fn aborts(r: &Running) -> u64 {
    r.metrics
        .transactions
        .with_label_values(&["pipe", "abort"])
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_record_exactly_once_through_aborts_rebalances_and_restarts() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let input = kafka.topic("eos-in", 6).await.expect("input topic");
    let output = kafka.topic("eos-out", 6).await.expect("output topic");
    let group = unique("eos-group");
    let producing = produce_gradually(&kafka, &input, keyed_records(RECORDS, 500), 5_000);

    let processor = Arc::new(FailOnce {
        inner: PipeProcessor::new(&output),
        calls: AtomicUsize::new(0),
        fail_at: 10_000,
        failed: AtomicBool::new(false),
    });
    let a = Running::start(&kafka.config, options(&group, &input), processor.clone());
    wait_produced(&a, &output, 20_000).await;
    assert!(
        processor.failed.load(Ordering::Relaxed),
        "the failure was injected"
    );
    let b = Running::start(&kafka.config, options(&group, &input), processor.clone());
    wait_produced(&b, &output, 5_000).await;
    let mut total_aborts = aborts(&a);
    a.stop().await.expect("A stops cleanly");
    wait_produced(&b, &output, 20_000).await;
    total_aborts += aborts(&b);
    b.stop().await.expect("B stops cleanly");
    let c = Running::start(&kafka.config, options(&group, &input), processor.clone());

    kafka
        .read_until_async(&output, true, Duration::from_secs(180), |s| {
            distinct(s) >= RECORDS
        })
        .await
        .expect("every record arrives");
    total_aborts += aborts(&c);
    c.stop().await.expect("C stops cleanly");
    producing
        .await
        .expect("producer task")
        .expect("input produced");

    // Everything is committed now: read the whole topic once more and count exactly.
    let seen = kafka
        .read_all_async(
            &output,
            true,
            Duration::from_secs(3),
            Duration::from_secs(120),
        )
        .await
        .expect("output read");
    eprintln!(
        "exactly-once: {} committed records, {} distinct, {total_aborts} aborted transactions",
        seen.len(),
        distinct(&seen)
    );
    assert!(
        total_aborts >= 1,
        "the injected failure aborted a transaction"
    );
    assert_eq!(distinct(&seen), RECORDS, "no record is lost");
    assert_eq!(
        seen.len(),
        RECORDS,
        "no record is duplicated for read_committed readers"
    );
    check_key_order(&seen).expect("per-key order");
}
