//! Scheduled replays (`weft run replay`, `[[replay.schedules]]`) on a real broker: every turn
//! replays the dead letters of the window since the last one that match the schedule; dead
//! letters written later are picked up by a later turn; none twice, also across a restart of
//! the service (the windows are read back from the audit topic); SIGTERM stops it cleanly.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::producer::FutureRecord;
use weft_core::{DeadLetter, ErrorCode, Headers};
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, TestKafka};

#[path = "common/dead_letters.rs"]
mod dead_letters;
use dead_letters::owned;

/// The dead letter of record `i` (see `common/dead_letters.rs`) on partition 0, value `v-{i}`,
/// without headers, of stage `orders` in group `g`.
fn dead_letter(i: u32, code: ErrorCode, origin: &str) -> DeadLetter {
    let mut dl = dead_letters::dead_letter(i, code, origin, format!("v-{i}").into_bytes());
    dl.original.partition = 0;
    dl.original.headers = Headers::new();
    dl.failure.stage = "orders".into();
    dl.failure.group = Some("g".into());
    dl.failure.message = format!("record {i}");
    dl
}

async fn write(
    kafka: &TestKafka,
    dlq: &str,
    origin: &str,
    range: std::ops::Range<u32>,
    code: ErrorCode,
) {
    let producer = kafka.producer().unwrap();
    for i in range {
        let (k, v, h) = dead_letter(i, code, origin).to_kafka();
        producer
            .send(
                FutureRecord::to(dlq)
                    .key(k.as_deref().unwrap())
                    .payload(v.as_deref().unwrap())
                    .headers(owned(&h)),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

/// The keys re-published to `origin` so far (read_committed); fails on a duplicate.
async fn replayed(kafka: &TestKafka, origin: &str, want: usize) -> HashSet<String> {
    let seen = kafka
        .read_until_async(origin, true, Duration::from_secs(60), move |s| {
            s.len() >= want
        })
        .await
        .unwrap();
    let keys: Vec<String> = seen
        .iter()
        .map(|s| String::from_utf8(s.key.clone().unwrap().to_vec()).unwrap())
        .collect();
    let distinct: HashSet<String> = keys.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        keys.len(),
        "no dead letter replayed twice: {keys:?}"
    );
    distinct
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_replays_pick_up_each_dead_letter_once_across_restarts() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let dlq = kafka.topic("sched-dlq", 3).await.unwrap();
    let origin = kafka.topic("sched-origin", 3).await.unwrap();
    let audit = kafka.topic("sched-audit", 1).await.unwrap();
    let quarantine = kafka.topic("sched-quarantine", 1).await.unwrap();
    let config = format!(
        r#"
[kafka]
bootstrap_servers = "{}"
[admin]
enabled = false
[schema_registry]
url = "{}"
[replay]
topic = "{dlq}"
audit_topic = "{audit}"
quarantine_topic = "{quarantine}"
[[replay.schedules]]
name = "decode-failures"
every = "2s"
error_codes = ["decode_failed"]
"#,
        kafka.config.bootstrap_servers, registry.url
    );
    // 20 of the selected kind, 10 of another.
    write(&kafka, &dlq, &origin, 0..20, ErrorCode::DecodeFailed).await;
    write(&kafka, &dlq, &origin, 20..30, ErrorCode::SchemaMismatch).await;
    let mut service = process::spawn(&config, &["run", "replay"], &[]).unwrap();
    let first = replayed(&kafka, &origin, 20).await;
    assert_eq!(first, (0..20).map(|i| format!("k-{i}")).collect());

    // Written after the first turn: the next window takes them.
    write(&kafka, &dlq, &origin, 30..35, ErrorCode::DecodeFailed).await;
    let second = replayed(&kafka, &origin, 25).await;
    assert_eq!(second.len(), 25);
    assert!((30..35).all(|i| second.contains(&format!("k-{i}"))));
    service.signal("TERM").unwrap();
    let (status, _) = service.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(status.success(), "{}", service.stderr());

    // Restarted: it carries on after the last window (nothing again), and takes new ones.
    let mut service = process::spawn(&config, &["run", "replay"], &[]).unwrap();
    write(&kafka, &dlq, &origin, 35..38, ErrorCode::DecodeFailed).await;
    let third = replayed(&kafka, &origin, 28).await;
    assert_eq!(third.len(), 28);
    // A few more turns: still each once, none of the other error code.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let all = kafka
        .read_all_async(
            &origin,
            true,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        28,
        "each selected dead letter once, nothing else"
    );
    service.signal("TERM").unwrap();
    let (status, _) = service.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(status.success(), "{}", service.stderr());
    assert!(
        service.stderr().contains("Scheduled replay"),
        "{}",
        service.stderr()
    );
    registry.stop().await.unwrap();
}
