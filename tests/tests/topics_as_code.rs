//! Topics as code against the real broker: `weft topics plan|apply` over a folder of topic
//! files creates topics, adds partitions and alters configs, says "no changes" the second
//! time, refuses what Kafka cannot do, and lists every problem of invalid files.
//!
//! Every test plans with `--scope <unique prefix>` so other tests' topics on the shared broker
//! are neither reported nor touched.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use weft_kafka::admin::configs::ConfigOrigin;
use weft_kafka::admin::{Admin, TopicSpec};
use weft_testkit::process::run_to_end;
use weft_testkit::{ensure_kafka, repo_root, unique, wait_for, TestKafka};

/// A folder with `topics/` and `schemas/`, and the broker to apply it to.
struct Contracts {
    kafka: TestKafka,
    root: tempfile::TempDir,
    prefix: String,
}

struct Run {
    status: ExitStatus,
    out: String,
    err: String,
}

impl Contracts {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("topics")).unwrap();
        std::fs::create_dir_all(root.path().join("schemas")).unwrap();
        Self {
            kafka: ensure_kafka().unwrap(),
            root,
            prefix: unique("tac"),
        }
    }

    fn topics(&self) -> PathBuf {
        self.root.path().join("topics")
    }

    fn topic(&self, short: &str) -> String {
        format!("{}.{short}", self.prefix)
    }

    /// Writes `topics/<topic>.toml` with the required keys and `body`.
    fn write(&self, short: &str, body: &str) {
        let name = self.topic(short);
        let text =
            format!("name = \"{name}\"\ndescription = \"test topic\"\nowner = \"tests\"\n{body}");
        std::fs::write(self.topics().join(format!("{name}.toml")), text).unwrap();
    }

    /// Runs `weft topics <args> --dir <topics> --scope <prefix>`.
    async fn weft(&self, args: &[&str]) -> Run {
        let config = format!(
            "[kafka]\nbootstrap_servers = \"{}\"\n",
            self.kafka.config.bootstrap_servers
        );
        let dir = self.topics().display().to_string();
        let mut all: Vec<String> = vec!["topics".into()];
        all.extend(args.iter().map(|a| (*a).to_string()));
        all.extend(["--dir".into(), dir, "--scope".into(), self.prefix.clone()]);
        let (status, out, err) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            run_to_end(&config, &refs, &[])
        })
        .await
        .unwrap()
        .unwrap();
        Run { status, out, err }
    }

    fn admin(&self) -> Admin {
        self.kafka.admin().unwrap()
    }

    /// Partitions and the configs set on the topic (not defaults), as the cluster reports them.
    async fn read_back(&self, short: &str) -> (i32, BTreeMap<String, String>) {
        let admin = self.admin();
        let name = self.topic(short);
        let info = admin
            .describe(Some(&name), Duration::from_secs(10))
            .unwrap();
        let partitions = info.first().map(|t| t.partitions).unwrap_or(0);
        let configs = admin.describe_topic_configs(&[&name]).await.unwrap();
        let set = configs[&name]
            .iter()
            .filter(|(_, v)| v.origin == ConfigOrigin::Topic)
            .map(|(k, v)| (k.clone(), v.value.clone().unwrap_or_default()))
            .collect();
        (partitions, set)
    }

    async fn cleanup(&self, shorts: &[&str]) {
        let names: Vec<String> = shorts.iter().map(|s| self.topic(s)).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let _ = self.admin().delete_topics(&refs).await;
    }
}

/// The plan lines that are changes (`+`, `~`, `-`), in order.
fn change_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("+ ") || l.starts_with("~ ") || l.starts_with("- "))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_then_no_changes_then_grow_and_refuse_to_shrink() {
    let c = Contracts::new();
    let (orders, state) = (c.topic("orders"), c.topic("state"));
    c.write(
        "orders",
        "partitions = 3\ncleanup_policy = \"delete\"\nretention = \"1d\"\n[config]\n\"segment.bytes\" = \"10485760\"\n",
    );
    c.write(
        "state",
        "partitions = 1\ncleanup_policy = \"compact\"\nmin_insync_replicas = 1\n",
    );

    // plan: two creations, nothing made yet.
    let r = c.weft(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(r.status.code(), Some(2), "{}{}", r.out, r.err);
    assert_eq!(
        change_lines(&r.out),
        vec![
            format!("+ create {orders}: 3 partitions, the cluster's default replication factor"),
            format!("+ create {state}: 1 partition, the cluster's default replication factor"),
        ],
        "{}",
        r.out
    );
    assert!(
        r.out.contains("    retention.ms = 86400000 (1d)"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("Plan: 2 to create, 0 to add partitions to, 0 to alter, 0 to delete."),
        "{}",
        r.out
    );
    assert!(c
        .admin()
        .describe(Some(&orders), Duration::from_secs(5))
        .unwrap()
        .is_empty());

    // apply: created with the right partitions and configs.
    let r = c.weft(&["apply"]).await;
    assert!(r.status.success(), "{}{}", r.out, r.err);
    assert_eq!(change_lines(&r.out).len(), 2, "{}", r.out);
    assert!(r.out.contains("Applied: 2 to create"), "{}", r.out);
    let (p, set) = c.read_back("orders").await;
    assert_eq!(p, 3);
    assert_eq!(
        set,
        map(&[
            ("cleanup.policy", "delete"),
            ("retention.ms", "86400000"),
            ("segment.bytes", "10485760")
        ])
    );
    let (p, set) = c.read_back("state").await;
    assert_eq!(p, 1);
    assert_eq!(
        set,
        map(&[("cleanup.policy", "compact"), ("min.insync.replicas", "1")])
    );

    // Someone sets a config no file manages: apply must never reset it.
    let extra = map(&[("max.message.bytes", "2000000")]);
    c.admin()
        .alter_topic_configs(&orders, &extra, false)
        .await
        .unwrap();
    let before = c.read_back("orders").await;
    assert_eq!(
        before.1.get("retention.ms").map(String::as_str),
        Some("86400000")
    );
    assert_eq!(
        before.1.get("max.message.bytes").map(String::as_str),
        Some("2000000")
    );

    // A second apply changes nothing and says so.
    let r = c.weft(&["apply"]).await;
    assert!(r.status.success(), "{}{}", r.out, r.err);
    assert!(change_lines(&r.out).is_empty(), "{}", r.out);
    assert!(
        r.out.contains("No changes: the cluster matches"),
        "{}",
        r.out
    );
    assert_eq!(c.read_back("orders").await, before);
    let r = c.weft(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(r.status.code(), Some(0), "{}{}", r.out, r.err);

    // More partitions and another retention: the plan shows exactly those.
    c.write(
        "orders",
        "partitions = 5\ncleanup_policy = \"delete\"\nretention = \"2d\"\n[config]\n\"segment.bytes\" = \"10485760\"\n",
    );
    let r = c.weft(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(r.status.code(), Some(2), "{}{}", r.out, r.err);
    assert_eq!(
        change_lines(&r.out),
        vec![
            format!("~ partitions {orders}: 3 -> 5"),
            format!("~ config {orders} retention.ms: 86400000 (1d) -> 172800000 (2d)"),
        ],
        "{}",
        r.out
    );
    let r = c.weft(&["apply"]).await;
    assert!(r.status.success(), "{}{}", r.out, r.err);
    let (p, set) = c.read_back("orders").await;
    assert_eq!(p, 5);
    assert_eq!(
        set,
        map(&[
            ("cleanup.policy", "delete"),
            ("max.message.bytes", "2000000"),
            ("retention.ms", "172800000"),
            ("segment.bytes", "10485760")
        ]),
        "the change is made and the unmanaged override is kept"
    );

    // Fewer partitions (with a retention change in the same edit): refused, nothing changes.
    c.write(
        "orders",
        "partitions = 2\ncleanup_policy = \"delete\"\nretention = \"3d\"\n[config]\n\"segment.bytes\" = \"10485760\"\n",
    );
    let before = c.read_back("orders").await;
    let r = c.weft(&["apply"]).await;
    assert_eq!(r.status.code(), Some(1), "{}{}", r.out, r.err);
    assert!(
        r.out.contains(&format!(
            "! refused {orders}: the file asks for 2 partitions, the cluster has 5; Kafka cannot \
             remove partitions"
        )),
        "{}",
        r.out
    );
    assert_eq!(
        r.err.trim(),
        "weft: 1 change refused; nothing was changed",
        "one line on stderr"
    );
    assert_eq!(c.read_back("orders").await, before);
    let r = c.weft(&["plan"]).await;
    assert_eq!(
        r.status.code(),
        Some(1),
        "a refused plan fails too: {}",
        r.out
    );
    assert!(r.out.contains(&format!("! refused {orders}")), "{}", r.out);

    c.cleanup(&["orders", "state"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmanaged_topics_are_reported_and_deleted_only_when_asked() {
    let c = Contracts::new();
    let stray = c.topic("stray");
    c.write("kept", "partitions = 1\n");
    c.admin()
        .create_topics(&[TopicSpec::new(&stray, 2)])
        .await
        .unwrap();

    let r = c.weft(&["apply"]).await;
    assert!(r.status.success(), "{}{}", r.out, r.err);
    assert!(
        r.out.contains(&format!(
            "? unmanaged, kept (on the cluster, in no file of {}; --delete-unmanaged deletes \
             them): {stray}",
            c.topics().display()
        )),
        "{}",
        r.out
    );
    assert_eq!(
        c.admin()
            .describe(Some(&stray), Duration::from_secs(5))
            .unwrap()
            .len(),
        1,
        "kept"
    );

    let r = c.weft(&["plan", "--delete-unmanaged"]).await;
    assert_eq!(
        change_lines(&r.out),
        vec![format!(
            "- delete {stray}: 2 partitions and every record in them"
        )],
        "{}",
        r.out
    );
    let r = c.weft(&["apply", "--delete-unmanaged"]).await;
    assert!(r.status.success(), "{}{}", r.out, r.err);
    let admin = c.admin();
    wait_for(
        "the stray topic to go",
        Duration::from_secs(20),
        Duration::from_millis(200),
        || {
            let gone = admin
                .describe(Some(&stray), Duration::from_secs(5))
                .is_ok_and(|t| t.is_empty());
            async move { gone.then_some(()) }
        },
    )
    .await
    .unwrap();
    assert_eq!(c.read_back("kept").await.0, 1);

    c.cleanup(&["kept"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_files_list_every_problem_and_change_nothing() {
    let c = Contracts::new();
    c.write("good", "partitions = 1\n");
    c.write(
        "bad",
        "partitions = 0\nretention = \"soon\"\nreplicas = 3\n[value]\nschema = \"weft.Missing\"\n",
    );
    std::fs::write(c.topics().join("broken.toml"), "name = \n").unwrap();
    let r = c.weft(&["apply"]).await;
    assert_eq!(r.status.code(), Some(1), "{}{}", r.out, r.err);
    let t = c.topics().display().to_string();
    let bad = format!("{t}/{}.toml", c.topic("bad"));
    for expect in [
        "weft: invalid topic files (5 problems):".to_string(),
        format!("{t}/broken.toml: line 1, column 8: "),
        format!("{bad}: partitions: must be at least 1 (found 0)"),
        format!("{bad}: retention: \"soon\" is not a duration"),
        format!("{bad}: replicas: unknown key"),
        format!(
            "{bad}: value.schema: no schema file {}/weft.Missing.avsc",
            c.root.path().join("schemas").display()
        ),
    ] {
        assert!(r.err.contains(&expect), "missing {expect:?} in:\n{}", r.err);
    }
    assert!(
        c.admin()
            .describe(Some(&c.topic("good")), Duration::from_secs(5))
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_checks_the_plan_before_anything_is_made() {
    let c = Contracts::new();
    c.write("good", "partitions = 1\n");
    c.write(
        "odd",
        "partitions = 1\n[config]\n\"no.such.config\" = \"1\"\n",
    );
    let r = c.weft(&["apply"]).await;
    assert_eq!(r.status.code(), Some(1), "{}{}", r.out, r.err);
    assert!(r.out.contains("! the broker refuses this:"), "{}", r.out);
    assert!(
        r.err
            .contains("weft: the broker refuses 1 change; nothing was changed"),
        "{}",
        r.err
    );
    assert!(
        c.admin()
            .describe(Some(&c.topic("good")), Duration::from_secs(5))
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repositorys_own_topic_files_plan_against_the_broker() {
    let kafka = ensure_kafka().unwrap();
    let config = format!(
        "[kafka]\nbootstrap_servers = \"{}\"\n",
        kafka.config.bootstrap_servers
    );
    let dir: PathBuf = repo_root().join("topics");
    let dir = dir.display().to_string();
    let (status, out, err) = tokio::task::spawn_blocking(move || {
        run_to_end(
            &config,
            &["topics", "plan", "--dir", &dir, "--detailed-exitcode"],
            &[],
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        matches!(status.code(), Some(0 | 2)),
        "every file loads and the broker accepts every change:\n{out}{err}"
    );
    assert!(Path::new(&repo_root().join("topics/weft.dlq.toml")).exists());
}
