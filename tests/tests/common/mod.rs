//! Helpers shared by the end-to-end suites.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use prometheus::Registry;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use weft_kafka::{ConsumerOptions, KafkaConfig, KafkaMetrics, Processor};
use weft_testkit::kafka::Seen;

/// `count` records over `keys` keys; the value is `<key>:<sequence within key>`.
pub fn keyed_records(count: usize, keys: usize) -> Vec<(String, Vec<u8>)> {
    (0..count)
        .map(|i| {
            let key = format!("key-{}", i % keys);
            let value = format!("{key}:{:08}", i / keys).into_bytes();
            (key, value)
        })
        .collect()
}

/// Produces `records` in the background at about `per_second`, in order.
pub fn produce_gradually(
    kafka: &weft_testkit::TestKafka,
    topic: &str,
    records: Vec<(String, Vec<u8>)>,
    per_second: usize,
) -> JoinHandle<anyhow::Result<()>> {
    let (kafka, topic) = (kafka.clone(), topic.to_string());
    tokio::spawn(async move {
        let producer = kafka.producer()?;
        let batch = (per_second / 20).max(1);
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        for chunk in records.chunks(batch) {
            tick.tick().await;
            weft_testkit::kafka::produce_with(&producer, &topic, chunk).await?;
        }
        Ok(())
    })
}

/// A consumer loop running in the background with its own shutdown token and metrics. Dropping
/// it (a failed test) cancels the loop.
pub struct Running {
    pub token: CancellationToken,
    _guard: tokio_util::sync::DropGuard,
    pub handle: JoinHandle<weft_kafka::Result<()>>,
    pub metrics: KafkaMetrics,
}

impl Running {
    pub fn start<P: Processor>(
        kafka: &KafkaConfig,
        opts: ConsumerOptions,
        processor: Arc<P>,
    ) -> Self {
        let metrics = KafkaMetrics::register(&Registry::new()).expect("metrics");
        let token = CancellationToken::new();
        let (k, m, t) = (kafka.clone(), metrics.clone(), token.clone());
        let handle = tokio::spawn(async move {
            weft_kafka::consumer::run(&k, opts, processor, Some(m), t).await
        });
        Self {
            _guard: token.clone().drop_guard(),
            token,
            handle,
            metrics,
        }
    }

    pub fn produced(&self, service: &str, topic: &str) -> u64 {
        self.metrics
            .produced
            .with_label_values(&[service, topic])
            .get()
    }

    pub async fn stop(self) -> weft_kafka::Result<()> {
        self.token.cancel();
        tokio::time::timeout(Duration::from_secs(60), self.handle)
            .await
            .expect("the loop stops within 60 s")
            .expect("the loop task does not panic")
    }
}

/// Distinct values seen.
pub fn distinct(seen: &[Seen]) -> usize {
    seen.iter()
        .filter_map(|s| s.value.as_ref())
        .collect::<HashSet<_>>()
        .len()
}

/// Checks per-key order: for every key, the first occurrences of its sequence numbers appear
/// in increasing order (re-deliveries after a restart may repeat earlier ones). Returns the
/// first violation.
pub fn check_key_order(seen: &[Seen]) -> Result<(), String> {
    let mut firsts: HashMap<&[u8], Vec<u64>> = HashMap::new();
    let mut seen_values: HashSet<&[u8]> = HashSet::new();
    let mut by_partition: Vec<&Seen> = seen.iter().collect();
    by_partition.sort_by_key(|s| (s.partition, s.offset));
    for s in by_partition {
        let (Some(k), Some(v)) = (&s.key, &s.value) else {
            continue;
        };
        if !seen_values.insert(v) {
            continue;
        }
        let text = std::str::from_utf8(v).map_err(|e| e.to_string())?;
        let seq: u64 = text
            .rsplit(':')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("unexpected value {text}"))?;
        let list = firsts.entry(k).or_default();
        if let Some(last) = list.last() {
            if seq <= *last {
                return Err(format!(
                    "key {}: sequence {seq} first seen after {last} (partition {} offset {})",
                    String::from_utf8_lossy(k),
                    s.partition,
                    s.offset
                ));
            }
        }
        list.push(seq);
    }
    Ok(())
}

/// Waits until `r` has produced at least `at_least` records to `output` (per its metrics).
pub async fn wait_produced(r: &Running, output: &str, at_least: u64) {
    weft_testkit::wait_for(
        &format!("{at_least} records produced to {output}"),
        Duration::from_secs(120),
        Duration::from_millis(20),
        || async { (r.produced("pipe", output) >= at_least).then_some(()) },
    )
    .await
    .expect("progress");
}
