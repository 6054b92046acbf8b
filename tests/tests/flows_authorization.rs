//! Real authorisation failures (issue 5, errors). A destination: the broker's ACLs take
//! the flow's right to write to `orders.eu` away while it runs. The flow stops cleanly — one
//! log line naming it and the reason, `/ready` not ready, nothing dead-lettered, no partial
//! output, its input position not past what it delivered — and once the right is given back,
//! a restart delivers the refused orders exactly once. An input: the flow may not read it; it
//! stops at start with a line naming the input and the reason.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/flows.rs"]
mod flows_ws;

use std::time::Duration;

use flows_ws::{get, ids, input_schema, order, wait_flow_stopped, FlowWorkspace};
use weft_testkit::process::WeftProcess;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process};

#[tokio::test(flavor = "multi_thread")]
async fn exactly_once_a_destination_that_refuses_writes_stops_the_flow_and_a_restart_delivers_once()
{
    refused_destination("exactly_once").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn at_least_once_a_destination_that_refuses_writes_stops_the_flow_and_a_restart_delivers_once(
) {
    refused_destination("at_least_once").await;
}

/// The example flow in `mode`: two orders go through, the right to write to `orders.eu` is
/// taken away, two more European orders arrive.
async fn refused_destination(mode: &str) {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 1).await.unwrap();
    ws.edit_flow("mode = \"exactly_once\"", &format!("mode = \"{mode}\""))
        .unwrap();
    let (codec, id) = input_schema(&ws, &registry).await;
    let input = ws.topic("demo.orders");
    let eu = ws.topic("orders.eu");
    kafka
        .produce(
            &input,
            &[
                order(&codec, id, 0, "DE", 100),
                order(&codec, id, 1, "FR", 200),
            ],
        )
        .await
        .unwrap();

    let (config, ready) = ws.config_with_admin(&kafka, &registry.url).await;
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    assert_eq!(ids(&kafka, &eu, 2).await, ["o-0", "o-1"]);
    let (status, body) = get(&ready).await.unwrap();
    assert_eq!(status, 200, "{body}");

    // The right to write to orders.eu is taken away; the next European orders cannot go out.
    kafka.deny_writes(&eu, true).unwrap();
    kafka
        .produce(
            &input,
            &[
                order(&codec, id, 2, "DE", 300),
                order(&codec, id, 3, "ES", 400),
            ],
        )
        .await
        .unwrap();
    stopped_for_authorization(&ready, &mut weft, &eu).await;

    // Nothing half done: orders.eu holds only what went out before, a fatal error is not a dead
    // letter, and the group's position is not past the first refused order (at-least-once
    // stores only acknowledged positions; exactly-once commits them with the outputs).
    let before = kafka
        .read_all_async(&eu, true, Duration::from_secs(2), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(before.len(), 2);
    let dlq = kafka
        .read_all_async(
            &ws.topic("weft.dlq"),
            false,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(dlq.is_empty(), "{} dead letters", dlq.len());
    let committed = kafka
        .committed(&format!("{}.shop-orders", ws.prefix), &input, 1)
        .unwrap();
    assert!(
        committed.get(&0).copied().unwrap_or(0) <= 2,
        "committed past the refused order: {committed:?}"
    );

    // The right is given back: a restart delivers the refused orders, each once.
    kafka.deny_writes(&eu, false).unwrap();
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    assert_eq!(ids(&kafka, &eu, 4).await, ["o-0", "o-1", "o-2", "o-3"]);
    let after = kafka
        .read_all_async(&eu, true, Duration::from_secs(3), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(after.len(), 4, "no duplicate");
    weft.signal("TERM").unwrap();
    let (exit, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(exit.success(), "{exit:?}\n{}", weft.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_input_the_flow_may_not_read_stops_it_with_the_reason() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 1).await.unwrap();
    let (codec, id) = input_schema(&ws, &registry).await;
    let input = ws.topic("demo.orders");
    kafka
        .produce(&input, &[order(&codec, id, 0, "DE", 100)])
        .await
        .unwrap();
    kafka.deny(&input, "Read", true).unwrap();

    let (config, ready) = ws.config_with_admin(&kafka, &registry.url).await;
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    stopped_for_authorization(&ready, &mut weft, &input).await;
    let eu = kafka
        .read_all_async(
            &ws.topic("orders.eu"),
            false,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(eu.is_empty(), "{} records", eu.len());
    kafka.deny(&input, "Read", false).unwrap();
}

/// Waits for the example flow to stop, checks its one log line names the flow, `topic` and an
/// authorisation failure, and ends the process with SIGTERM (a clean exit).
async fn stopped_for_authorization(ready: &str, weft: &mut WeftProcess, topic: &str) {
    wait_flow_stopped(ready, "shop-orders", weft).await;
    let log = weft.stderr();
    let stopped: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Flow stopped on a fatal error"))
        .collect();
    assert_eq!(stopped.len(), 1, "{log}");
    assert!(
        stopped[0].contains("shop-orders")
            && stopped[0].to_lowercase().contains("authoriz")
            && stopped[0].contains(topic),
        "the line names the flow, the topic and the reason: {}\n{log}",
        stopped[0]
    );
    weft.signal("TERM").unwrap();
    let (exit, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(exit.success(), "{exit:?}\n{}", weft.stderr());
}
