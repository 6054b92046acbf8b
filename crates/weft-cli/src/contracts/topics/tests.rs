use super::parse::check_full_name;
use super::*;
use weft_core::topic::check_name as check_topic_name;

const FULL: &str = r#"
name = "orders"
description = "Orders accepted by the shop"
owner = "team-shop"
partitions = 3
replication_factor = 3
cleanup_policy = "compact,delete"
retention = "7d"
min_insync_replicas = 2

[config]
"segment.bytes" = "104857600"
max.message.bytes = 2097152
unclean.leader.election.enable = false

[key]
schema = "com.acme.OrderKey"
strategy = "record_name"

[value]
schema = "com.acme.Order"
"#;

fn file() -> &'static Path {
    Path::new("topics/orders.toml")
}

fn problems(text: &str) -> Vec<String> {
    parse(file(), text).expect_err("must be refused")
}

#[test]
fn a_full_file_is_read() {
    let t = parse(file(), FULL).unwrap();
    assert_eq!(t.name, "orders");
    assert_eq!(t.partitions, 3);
    assert_eq!(t.replication_factor, Some(3));
    assert_eq!(t.cleanup_policy, Some(CleanupPolicy::CompactDelete));
    assert_eq!(
        t.retention,
        Some(Retention::For(Duration::from_secs(7 * 86_400)))
    );
    assert_eq!(
        t.key,
        Some(SchemaRef {
            schema: "com.acme.OrderKey".into(),
            subject: "com.acme.OrderKey".into()
        })
    );
    assert_eq!(
        t.value.as_ref().map(|v| v.subject.as_str()),
        Some("orders-value")
    );
    let c = t.configs();
    let expect: BTreeMap<String, String> = [
        ("cleanup.policy", "compact,delete"),
        ("max.message.bytes", "2097152"),
        ("min.insync.replicas", "2"),
        ("retention.ms", "604800000"),
        ("segment.bytes", "104857600"),
        ("unclean.leader.election.enable", "false"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
    .collect();
    assert_eq!(c, expect);
}

#[test]
fn optional_keys_may_be_left_out() {
    let t = parse(
        file(),
        "name = \"a\"\ndescription = \"d\"\nowner = \"o\"\npartitions = 1\nretention = \"forever\"\n",
    )
    .unwrap();
    assert_eq!(t.replication_factor, None);
    assert_eq!(t.cleanup_policy, None);
    assert_eq!(t.key, None);
    assert_eq!(
        t.configs().get("retention.ms").map(String::as_str),
        Some("-1")
    );
}

#[test]
fn every_problem_of_a_file_is_listed_with_its_key() {
    let p = problems(
        r#"
name = "bad name"
owner = 7
partitions = 0
replicas = 3
cleanup_policy = "sometimes"
retention = "a while"
[config]
"retention.ms" = "5"
"segment.bytes" = 1.5
[value]
shema = "x"
"#,
    );
    let expect = [
        "topics/orders.toml: name: \"bad name\" has ' '",
        "topics/orders.toml: description: required value is missing",
        "topics/orders.toml: owner: expected a string, found integer",
        "topics/orders.toml: partitions: must be at least 1 (found 0)",
        "topics/orders.toml: replicas: unknown key (expected one of: name,",
        "topics/orders.toml: cleanup_policy: \"sometimes\" is not one of",
        "topics/orders.toml: retention: \"a while\" is not a duration",
        "topics/orders.toml: config.retention.ms: set it with the `retention` key instead",
        "topics/orders.toml: config.segment.bytes: expected a string, found float",
        "topics/orders.toml: value.schema: required value is missing",
        "topics/orders.toml: value.shema: unknown key (expected one of: schema, subject, strategy)",
    ];
    for e in expect {
        assert!(
            p.iter().any(|l| l.starts_with(e)),
            "missing {e:?} in {p:#?}"
        );
    }
    assert_eq!(p.len(), expect.len(), "{p:#?}");
}

#[test]
fn impossible_combinations_are_refused() {
    let p = problems(
        "name = \"a\"\ndescription = \"d\"\nowner = \"o\"\npartitions = 1\nreplication_factor = 1\nmin_insync_replicas = 2\ncleanup_policy = \"compact\"\nretention = \"1d\"\n[key]\nschema = \"a.B\"\nsubject = \"s\"\nstrategy = \"topic_name\"\n",
    );
    assert_eq!(p.len(), 3, "{p:#?}");
    for e in [
        "min_insync_replicas: 2 is more than replication_factor 1",
        "retention: has no effect with cleanup_policy = \"compact\"",
        "key.subject: give a subject or a strategy, not both",
    ] {
        assert!(p.iter().any(|l| l.contains(e)), "missing {e:?} in {p:#?}");
    }
}

#[test]
fn syntax_errors_name_the_line() {
    let p = problems("name = \"a\"\npartitions = \n");
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("topics/orders.toml: line 2, column"),
        "{p:?}"
    );
    assert!(!p[0].contains('\n'));
}

#[test]
fn topic_and_schema_names_are_checked() {
    assert!(check_topic_name("weft.retry.10s").is_ok());
    assert!(check_topic_name("_schemas").is_ok());
    assert!(check_topic_name("..").is_err());
    assert!(check_topic_name(&"x".repeat(250)).is_err());
    assert!(check_full_name("weft.DeadLetter").is_ok());
    assert!(check_full_name("weft.9lives").is_err());
    assert!(check_full_name("a..b").is_err());
}

#[test]
fn retention_and_cleanup_policy_values() {
    assert_eq!(
        Retention::parse("14d").map(Retention::as_millis),
        Ok(1_209_600_000)
    );
    assert_eq!(
        Retention::parse("10s").map(Retention::as_millis),
        Ok(10_000)
    );
    assert_eq!(
        Retention::parse("forever").map(Retention::as_millis),
        Ok(-1)
    );
    assert!(Retention::parse("0s").is_err());
    assert_eq!(
        CleanupPolicy::parse("delete, compact"),
        Some(CleanupPolicy::CompactDelete)
    );
    assert_eq!(CleanupPolicy::parse("compact,compact"), None);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_folder_lists_the_problems_of_every_file_and_across_files() {
    let root = tempfile::tempdir().unwrap();
    let topics = root.path().join("topics");
    let schemas = root.path().join("schemas");
    std::fs::create_dir_all(&topics).unwrap();
    std::fs::create_dir_all(&schemas).unwrap();
    let base = "description = \"d\"\nowner = \"o\"\npartitions = 1\n";
    write(
        &topics,
        "a.toml",
        &format!("name = \"a.b\"\n{base}[value]\nschema = \"x.Y\"\n"),
    );
    write(&topics, "b.toml", &format!("name = \"a.b\"\n{base}"));
    write(&topics, "c.toml", &format!("name = \"a_b\"\n{base}"));
    write(&topics, "d.toml", "name = \"d\"\npartitions = -1\n");
    write(
        &topics,
        "e.toml",
        &format!("name = \"e\"\n{base}[value]\nschema = \"x.Z\"\n"),
    );
    write(&topics, "README.md", "not a topic");
    write(
        &schemas,
        "x.Z.avsc",
        r#"{"type":"record","name":"Other","namespace":"x","fields":[]}"#,
    );
    let e = load_dir(&topics, &schemas).expect_err("invalid");
    let t = topics.display().to_string();
    let s = schemas.display().to_string();
    let expect = [
        format!("{t}/a.toml: value.schema: no schema file {s}/x.Y.avsc for \"x.Y\""),
        format!("{t}/d.toml: description: required value is missing"),
        format!("{t}/d.toml: owner: required value is missing"),
        format!("{t}/d.toml: partitions: must be at least 1 (found -1)"),
        format!("{t}/e.toml: value.schema: {s}/x.Z.avsc declares \"x.Other\", not \"x.Z\""),
        format!("{t}/b.toml: name: topic \"a.b\" is also defined in {t}/a.toml"),
        format!("{t}/c.toml: name: \"a_b\" collides with \"a.b\" in {t}/a.toml"),
    ];
    for x in &expect {
        assert!(
            e.problems.iter().any(|p| p.starts_with(x.as_str())),
            "missing {x:?} in {:#?}",
            e.problems
        );
    }
    assert_eq!(e.problems.len(), expect.len(), "{:#?}", e.problems);
    assert!(e
        .to_string()
        .starts_with("invalid topic files (7 problems):"));
}

#[test]
fn an_empty_or_missing_folder_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let e = load_dir(root.path(), root.path()).expect_err("empty");
    assert!(e.to_string().contains("no topic files"), "{e}");
    let e = load_dir(&root.path().join("nope"), root.path()).expect_err("missing");
    assert!(e.to_string().contains("cannot read the folder"), "{e}");
}

#[test]
fn the_example_of_the_topics_readme_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("topics/README.md")).unwrap();
    let example = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block");
    let t = parse(Path::new("README.md"), example).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(t.name, "orders");
    assert_eq!(t.value.map(|v| v.subject).as_deref(), Some("orders-value"));
}

#[test]
fn the_repositorys_own_topics_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let topics =
        load_dir(&root.join("topics"), &root.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    for n in [
        "weft.dlq",
        "_schemas",
        "ingest.github",
        "demo.github.events",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}
