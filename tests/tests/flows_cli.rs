//! The flow tooling and the flow service's failure behaviour, through the `weft` binary:
//! - `weft flows check` lists every problem of every flow file, each naming the file and the
//!   key, the route or the line and column;
//! - `weft flows dry-run` reads the newest records of the real input topic and prints what
//!   each would become and where it would go, and produces, commits and registers nothing;
//! - a flow that stops (error policy `stop`) marks itself not ready on `/ready`, while the
//!   other flow of the same process keeps routing.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/flows.rs"]
mod flows_ws;

use std::path::Path;
use std::time::Duration;

use flows_ws::{get, ids, input_schema, order, wait_flow_stopped, FlowWorkspace};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use weft_kafka::admin::TopicSpec;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, repo_root};

/// A flow file with one problem of each kind a file alone can have.
const BROKEN: &str = r#"from = ["demo.orderz"]

[input]
schema = "demo.shop.Order"

[output]
schema = "demo.canonical.Order"

[transform.fields]
id = "order_no"
customer_id = { from = "customer", cast = "boolean" }

[transform]
program = '''
.amount = to_float(.amount_cents) / 100.0
.region = upcase(.country) ++ "x"
'''

[[routes]]
name = "big"
when = ".amount >= "
to = ["orders.eu"]

[[routes]]
name = "somewhere"
when = '.region == "EU"'
to = ["orders.nowhere", "demo.github.events"]
key = "missing_field"
"#;

/// A program that compiles only if VRL's type checking is skipped.
const TYPES: &str = r#"from = ["demo.orders"]
[input]
schema = "demo.shop.Order"
[output]
schema = "demo.canonical.Order"
[transform]
program = '''
.amount = to_float(.amount_cents) / 100.0

.region = .amount_cents + "x"
'''
[default]
to = ["orders.other"]
"#;

/// A program whose output does not fit the output schema.
const OUTPUT: &str = r#"from = ["demo.orders"]
[input]
schema = "demo.shop.Order"
[output]
schema = "demo.canonical.Order"
[transform]
program = '''
.region = "EU"
.order_day = 5
'''
[default]
to = ["orders.other"]
"#;

const SYNTAX: &str = "from = [\"demo.orders\"]\n[input]\nschema = \"demo.shop.Order\"\n[[routes]\n";

#[test]
fn flows_check_lists_every_problem_with_the_file_and_the_key_route_or_position() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(flows.join("tables")).unwrap();
    let root = repo_root();
    // The example flow is valid and must not be mentioned.
    std::fs::copy(
        root.join("flows/shop-orders.toml"),
        flows.join("shop-orders.toml"),
    )
    .unwrap();
    std::fs::copy(
        root.join("flows/tables/regions.csv"),
        flows.join("tables/regions.csv"),
    )
    .unwrap();
    for (name, text) in [
        ("broken", BROKEN),
        ("types", TYPES),
        ("output", OUTPUT),
        ("syntax", SYNTAX),
    ] {
        std::fs::write(flows.join(format!("{name}.toml")), text).unwrap();
    }
    let (status, _, stderr) = process::run_to_end(
        "",
        &[
            "flows",
            "check",
            "--dir",
            flows.to_str().unwrap(),
            "--topics",
            root.join("topics").to_str().unwrap(),
            "--schemas",
            root.join("schemas").to_str().unwrap(),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("weft: invalid flows (16 problems):\n"),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().skip(1).collect();
    assert_eq!(lines.len(), 16, "{stderr}");
    let expected: &[(&str, &[&str])] = &[
        ("broken", &["from: unknown topic \"demo.orderz\""]),
        (
            "broken",
            &["transform.fields.customer_id: cast = \"boolean\" does not name the type of output field customer_id (a string)"],
        ),
        (
            "broken",
            &["transform.fields.id: input field order_no does not exist (did you mean order_id?)"],
        ),
        (
            "broken",
            &["transform.program, line 16, column 28: syntax error"],
        ),
        ("broken", &["routes[0] (big).when, line 21, column 19: syntax error"]),
        (
            "broken",
            &["routes[1] (somewhere).to: unknown topic \"orders.nowhere\""],
        ),
        (
            "broken",
            &[
                "routes[1] (somewhere).to: \"demo.github.events\" carries demo.github.WebhookEvent",
                "the transform's output must be the destination's schema",
            ],
        ),
        (
            "broken",
            &["routes[1] (somewhere).key: no field \"missing_field\" in demo.canonical.Order"],
        ),
        ("broken", &["[default] is missing"]),
        (
            "types",
            &["transform.program, line 10, column 11: unhandled fallible assignment"],
        ),
        (
            "output",
            &["transform.program: field order_day: the program sets an integer, the output schema wants a string"],
        ),
        (
            "output",
            &["transform.program: field id: the program never sets it and the output schema has no default for it"],
        ),
        ("syntax", &["TOML parse error at line 4, column 9"]),
    ];
    for (file, fragments) in expected {
        let prefix = format!("  {}: ", flows.join(format!("{file}.toml")).display());
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&prefix) && fragments.iter().all(|f| l.contains(f))),
            "no line for {file}.toml with {fragments:?} in:\n{stderr}"
        );
    }
    for l in &lines {
        assert!(l.starts_with(&format!("  {}/", flows.display())), "{l}");
        assert!(!l.contains("shop-orders.toml"), "the valid flow: {l}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn flows_dry_run_shows_the_newest_records_and_produces_nothing() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 1).await.unwrap();
    let (codec, id) = input_schema(&ws, &registry).await;
    let input = ws.topic("demo.orders");
    // Written in a transaction, as an exactly-once stage upstream would: the partition ends
    // with a commit marker that no reader is given.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.config.bootstrap_servers)
        .set("transactional.id", weft_testkit::unique("dry-run-tx"))
        .create()
        .unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    producer.begin_transaction().unwrap();
    let records = [
        order(&codec, id, 0, "DE", 100),
        order(&codec, id, 1, "DE", 2_500),
        order(&codec, id, 2, "US", 150_000),
        order(&codec, id, 3, "BR", 999),
        order(&codec, id, 4, "DE", -5),
    ];
    for (key, value) in &records {
        producer
            .send(
                FutureRecord::to(&input).key(key).payload(value),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer
        .commit_transaction(Duration::from_secs(30))
        .unwrap();

    let (status, stdout, stderr) = process::run_to_end(
        &ws.config(&kafka, &registry.url, ""),
        &["flows", "dry-run", "shop-orders", "--limit", "4"],
        &[],
    )
    .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("4 records read from {input}")),
        "{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "the newest 4 of 5, oldest first:\n{stdout}");
    let t = |name: &str| ws.topic(name);
    let expect = [
        (
            1,
            vec![
                format!("-> {} (route eu)", t("orders.eu")),
                "\"id\":\"o-1\"".into(),
                "\"amount\":25.0".into(),
            ],
        ),
        (
            2,
            vec![format!(
                "-> {} (route high-value), {} (route us)",
                t("orders.high-value"),
                t("orders.us")
            )],
        ),
        (3, vec![format!("-> {} (route default)", t("orders.other"))]),
        (
            4,
            vec![
                "-> dead letter (transform_failed)".into(),
                "amount_cents must not be negative".into(),
            ],
        ),
    ];
    for (line, (offset, fragments)) in lines.iter().zip(expect) {
        assert!(line.starts_with(&format!("{input}-0@{offset}  ")), "{line}");
        for f in fragments {
            assert!(line.contains(&f), "{f:?} not in {line}");
        }
    }

    // Nothing produced anywhere, not even uncommitted; nothing committed; nothing registered.
    for name in [
        "orders.eu",
        "orders.us",
        "orders.high-value",
        "orders.other",
        "weft.dlq",
    ] {
        let seen = kafka
            .read_all_async(
                &t(name),
                false,
                Duration::from_secs(1),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        assert!(seen.is_empty(), "{name}: {} records", seen.len());
    }
    let committed = kafka
        .committed(&format!("{}.shop-orders", ws.prefix), &input, 1)
        .unwrap();
    assert!(committed.is_empty(), "{committed:?}");
    let subjects: Vec<String> = reqwest::get(format!("{}/subjects", registry.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        subjects,
        vec![format!("{input}-value")],
        "only the input's subject"
    );
}

/// A second flow on the same input with error policy `stop` and its own destination: the
/// example flow up to its routes, then everything to `strict.out`.
fn add_strict_flow(ws: &FlowWorkspace, out: &str) {
    let text = std::fs::read_to_string(ws.flows().join("shop-orders.toml")).unwrap();
    let head = &text[..text.find("# Routes in order").unwrap()];
    let p = &ws.prefix;
    let head = head
        .replace(&format!("\"{p}.shop-orders\""), &format!("\"{p}.strict\""))
        .replace(
            &format!("\"{p}.shop-orders.tx\""),
            &format!("\"{p}.strict.tx\""),
        );
    assert!(head.contains(&format!("\"{p}.strict.tx\"")));
    std::fs::write(
        ws.flows().join("strict.toml"),
        format!("{head}\n[default]\nto = [\"{out}\"]\n\n[errors]\npolicy = \"stop\"\n"),
    )
    .unwrap();
    std::fs::write(
        Path::new(ws.dir.path())
            .join("topics")
            .join(format!("{out}.toml")),
        format!(
            "name = \"{out}\"\ndescription = \"test\"\nowner = \"tests\"\npartitions = 1\n\n[value]\nschema = \"demo.canonical.Order\"\n"
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_flow_is_not_ready_and_the_other_flow_goes_on() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 1).await.unwrap();
    let out = ws.topic("strict.out");
    kafka
        .admin()
        .unwrap()
        .create_topics(&[TopicSpec::new(out.clone(), 1)])
        .await
        .unwrap();
    add_strict_flow(&ws, &out);
    let (codec, id) = input_schema(&ws, &registry).await;
    let input = ws.topic("demo.orders");
    // Three good orders, one the program refuses, two good ones.
    let first = [
        order(&codec, id, 0, "DE", 100),
        order(&codec, id, 1, "DE", 200),
        order(&codec, id, 2, "DE", 300),
        order(&codec, id, 3, "DE", -1),
        order(&codec, id, 4, "DE", 400),
        order(&codec, id, 5, "DE", 500),
    ];
    kafka.produce(&input, &first).await.unwrap();

    let (config, ready) = ws.config_with_admin(&kafka, &registry.url).await;
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    let body = wait_flow_stopped(&ready, "strict", &weft).await;
    assert!(!body.contains("flow:shop-orders"), "{body}");
    let log = weft.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains("Flow stopped on a fatal error")
                && l.contains("strict")
                && l.contains("amount_cents must not be negative")),
        "{log}"
    );

    // Exactly-once: the stopped flow's open transaction was aborted. Its group's committed
    // position is at or before the refused record, and its destination holds exactly the
    // orders before that position — no partial output, nothing lost for a restart.
    let committed = kafka
        .committed(&format!("{}.strict", ws.prefix), &input, 1)
        .unwrap();
    let at = committed.get(&0).copied().unwrap_or(0);
    assert!(at <= 3, "committed past the refused record: {committed:?}");
    let all = kafka
        .read_all_async(&out, true, Duration::from_secs(2), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(all.len(), usize::try_from(at).unwrap(), "committed {at}");
    let want: Vec<String> = (0..at).map(|n| format!("o-{n}")).collect();
    assert_eq!(ids(&kafka, &out, all.len()).await, want);

    // The example flow in the same process goes on: it dead-letters the refused order and
    // routes the ones produced after the other flow stopped.
    kafka
        .produce(&input, &[order(&codec, id, 6, "DE", 600)])
        .await
        .unwrap();
    assert_eq!(
        ids(&kafka, &ws.topic("orders.eu"), 6).await,
        ["o-0", "o-1", "o-2", "o-4", "o-5", "o-6"]
    );
    let dlq = kafka
        .read_until_async(&ws.topic("weft.dlq"), true, Duration::from_secs(30), |s| {
            !s.is_empty()
        })
        .await
        .unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].value.as_deref(), Some(first[3].1.as_slice()));
    let (status, _) = get(&ready).await.unwrap();
    assert_eq!(
        status, 503,
        "still not ready: the stopped flow stays stopped"
    );

    weft.signal("TERM").unwrap();
    let (exit, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(exit.success(), "{exit:?}\n{}", weft.stderr());
}
