//! `weft run pipe` as a real process: SIGTERM with records in flight, `/metrics`, `/ready`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{keyed_records, produce_gradually};
use tokio_util::sync::CancellationToken;
use weft_testkit::process::spawn;
use weft_testkit::proxy::{self, free_port};
use weft_testkit::{ensure_kafka, unique, wait_for};

fn config(bootstrap: &str, admin_port: u16, input: &str, output: &str, group: &str) -> String {
    format!(
        r#"
[kafka]
bootstrap_servers = "{bootstrap}"
statistics_interval = "1s"
[admin]
listen = "127.0.0.1:{admin_port}"
[shutdown]
drain_timeout = "10s"
[[pipes]]
name = "sigterm"
from = ["{input}"]
to = "{output}"
group = "{group}"
concurrency = 8
max_in_flight = 1000
"#
    )
}

async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

/// The value of one sample (`name{labels} value`) in Prometheus text, summed over label sets
/// containing `label_filter`.
fn metric(text: &str, name: &str, label_filter: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label_filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Waits until the process behind `admin_port` reports `at_least` records produced to `output`.
async fn wait_produced_over_http(admin_port: u16, output: &str, at_least: u64) {
    let url = format!("http://127.0.0.1:{admin_port}/metrics");
    wait_for(
        &format!("{at_least} records through the process"),
        Duration::from_secs(60),
        Duration::from_millis(100),
        || async {
            let (_, text) = get(&url).await?;
            (metric(&text, "weft_produced_records_total", output) >= at_least).then_some(())
        },
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_commits_and_exits_zero_and_nothing_is_lost() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let input = kafka.topic("term-in", 3).await.unwrap();
    let output = kafka.topic("term-out", 3).await.unwrap();
    let group = unique("term-group");
    let total = 20_000;
    let producing = produce_gradually(&kafka, &input, keyed_records(total, 100), 2_000);

    let port = free_port().await.unwrap();
    let cfg = config(
        &kafka.config.bootstrap_servers,
        port,
        &input,
        &output,
        &group,
    );
    let mut first = spawn(&cfg, &["run", "pipe"], &[]).unwrap();
    wait_produced_over_http(port, &output, 3_000).await;

    // Records are still arriving and in flight: SIGTERM must drain, commit and exit 0.
    first.signal("TERM").unwrap();
    let (status, took) = first.wait_exit(Duration::from_secs(15)).await.unwrap();
    assert!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        first.stderr()
    );
    assert!(
        took <= Duration::from_secs(10),
        "exited within the drain timeout (took {took:?})"
    );
    let committed: i64 = kafka.committed(&group, &input, 3).unwrap().values().sum();
    assert!(
        committed >= 3_000,
        "offsets were committed on shutdown ({committed})"
    );
    producing.await.unwrap().unwrap();

    // A new process continues from the committed offsets: everything arrives, nothing twice.
    let _second = spawn(&cfg, &["run", "pipe"], &[]).unwrap();
    let seen = kafka
        .read_until_async(&output, true, Duration::from_secs(120), move |s| {
            s.len() >= total
        })
        .await
        .unwrap();
    let distinct: HashSet<_> = seen.iter().map(|s| s.value.clone()).collect();
    assert_eq!(distinct.len(), total, "nothing lost across the restart");
    assert_eq!(
        seen.len(),
        total,
        "a clean shutdown commits everything it delivered: no duplicates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_waits_for_kafka_and_metrics_expose_counters_and_librdkafka_statistics() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let input = kafka.topic("ready-in", 1).await.unwrap();
    let output = kafka.topic("ready-out", 1).await.unwrap();
    let group = unique("ready-group");

    // Kafka is configured behind a port nobody listens on yet.
    let kafka_port = free_port().await.unwrap();
    let admin_port = free_port().await.unwrap();
    let cfg = config(
        &format!("127.0.0.1:{kafka_port}"),
        admin_port,
        &input,
        &output,
        &group,
    );
    let _weft = spawn(&cfg, &["run", "pipe"], &[]).unwrap();
    let base = format!("http://127.0.0.1:{admin_port}");

    let (status, body) = wait_for(
        "the admin server",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || {
            let url = format!("{base}/ready");
            async move { get(&url).await }
        },
    )
    .await
    .unwrap();
    assert_eq!(status, 503, "not ready while Kafka is unreachable: {body}");
    assert!(body.contains("kafka"), "{body}");
    // Still not ready a few checks later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, _) = get(&format!("{base}/ready")).await.unwrap();
    assert_eq!(status, 503);
    assert_eq!(
        get(&format!("{base}/health")).await.map(|r| r.0),
        Some(200),
        "alive all the same"
    );

    // Kafka becomes reachable through the port: ready, without a restart.
    let stop = CancellationToken::new();
    proxy::start(
        kafka_port,
        kafka.config.bootstrap_servers.clone(),
        stop.clone(),
    )
    .await
    .unwrap();
    wait_for(
        "/ready to turn 200",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let (status, _) = get(&format!("{base}/ready")).await?;
            (status == 200).then_some(())
        },
    )
    .await
    .unwrap();

    kafka.produce(&input, &keyed_records(50, 5)).await.unwrap();
    let text = wait_for(
        "counters and statistics in /metrics",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let (_, text) = get(&format!("{base}/metrics")).await?;
            let done = metric(&text, "weft_consumed_records_total", &input) == 50
                && metric(&text, "weft_produced_records_total", &output) == 50
                && metric(&text, "weft_committed_records_total", &input) == 50
                && text.contains("weft_librdkafka_client{")
                && text.contains("weft_librdkafka_broker{");
            done.then_some(text)
        },
    )
    .await
    .unwrap();
    assert!(
        text.contains(r#"stat="rxmsgs""#),
        "consumer statistics are exported"
    );
    assert!(
        text.contains("weft_librdkafka_broker{"),
        "per-broker statistics are exported"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_exactly_once_pipe_restarts_without_duplicates_or_loss() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let input = kafka.topic("kill-in", 3).await.unwrap();
    let output = kafka.topic("kill-out", 3).await.unwrap();
    let group = unique("kill-group");
    let total = 20_000;
    let producing = produce_gradually(&kafka, &input, keyed_records(total, 100), 2_000);

    let port = free_port().await.unwrap();
    let cfg = format!(
        "{}mode = \"exactly_once\"\ntransactional_id = \"{}\"\n",
        config(
            &kafka.config.bootstrap_servers,
            port,
            &input,
            &output,
            &group
        ),
        unique("kill-txn")
    );
    let mut first = spawn(&cfg, &["run", "pipe"], &[]).unwrap();
    wait_produced_over_http(port, &output, 4_000).await;

    // A crash with a transaction open: no drain, no commit, no abort.
    first.signal("KILL").unwrap();
    first.wait_exit(Duration::from_secs(10)).await.unwrap();

    // The restarted process (same transactional id) fences the old one, aborting its open
    // transaction, and resumes from the last committed offsets.
    let mut second = spawn(&cfg, &["run", "pipe"], &[]).unwrap();
    producing.await.unwrap().unwrap();
    kafka
        .read_until_async(&output, true, Duration::from_secs(120), move |s| {
            s.iter().map(|r| &r.value).collect::<HashSet<_>>().len() >= total
        })
        .await
        .unwrap();
    second.signal("TERM").unwrap();
    let (status, _) = second.wait_exit(Duration::from_secs(15)).await.unwrap();
    assert!(status.success(), "stderr:\n{}", second.stderr());

    let committed = kafka
        .read_all_async(
            &output,
            true,
            Duration::from_secs(3),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let everything = kafka
        .read_all_async(
            &output,
            false,
            Duration::from_secs(3),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let distinct: HashSet<_> = committed.iter().map(|s| s.value.clone()).collect();
    eprintln!(
        "after kill -9: {} committed records ({} distinct); {} records including aborted ones",
        committed.len(),
        distinct.len(),
        everything.len()
    );
    assert_eq!(distinct.len(), total, "nothing lost");
    assert_eq!(
        committed.len(),
        total,
        "read_committed sees no duplicate after the crash"
    );
}
