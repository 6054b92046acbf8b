use super::*;
use weft_kafka::admin::configs::{ConfigOrigin, ConfigValue};

fn desired(name: &str, partitions: i32, configs: &[(&str, &str)]) -> Desired {
    Desired {
        name: name.into(),
        partitions,
        replication_factor: None,
        configs: configs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    }
}

/// A topic with every config at its default except `set`.
fn actual(name: &str, partitions: i32, set: &[(&str, &str)]) -> Actual {
    let mut configs = TopicConfigs::new();
    for (k, v) in [
        ("cleanup.policy", "delete"),
        ("retention.ms", "604800000"),
        ("min.insync.replicas", "1"),
        ("segment.bytes", "1073741824"),
    ] {
        configs.insert(
            k.into(),
            ConfigValue {
                value: Some(v.into()),
                is_default: true,
                origin: ConfigOrigin::Default,
                read_only: false,
                sensitive: false,
            },
        );
    }
    for (k, v) in set {
        configs.insert(
            (*k).into(),
            ConfigValue {
                value: Some((*v).into()),
                is_default: false,
                origin: ConfigOrigin::Topic,
                read_only: false,
                sensitive: false,
            },
        );
    }
    Actual {
        name: name.into(),
        partitions,
        replication_factor: 1,
        configs,
    }
}

#[test]
fn a_missing_topic_is_created_with_its_configs() {
    let d = [desired("a", 3, &[("retention.ms", "1000")])];
    let p = plan(&d, &[], &Options::default());
    assert_eq!(
        p.actions,
        vec![Action::Create {
            topic: "a".into(),
            partitions: 3,
            replication_factor: None,
            configs: d[0].configs.clone()
        }]
    );
    assert_eq!(
        p.summary(),
        "1 to create, 0 to add partitions to, 0 to alter, 0 to delete"
    );
    assert_eq!(
        p.actions[0].to_string(),
        "+ create a: 3 partitions, the cluster's default replication factor\n    retention.ms = 1000 (1s)"
    );
}

#[test]
fn a_matching_cluster_needs_nothing() {
    let d = [desired(
        "a",
        3,
        &[
            ("cleanup.policy", "compact,delete"),
            ("retention.ms", "604800000"),
        ],
    )];
    let a = [actual("a", 3, &[("cleanup.policy", "delete,compact")])];
    let p = plan(&d, &a, &Options::default());
    assert!(p.is_empty(), "{p:#?}");
    assert!(p.refusals.is_empty());
}

#[test]
fn more_partitions_and_changed_configs_are_exactly_the_actions() {
    let d = [desired(
        "a",
        6,
        &[("retention.ms", "1209600000"), ("min.insync.replicas", "1")],
    )];
    let a = [actual("a", 3, &[("segment.bytes", "1048576")])];
    let p = plan(&d, &a, &Options::default());
    assert_eq!(
        p.actions,
        vec![
            Action::AddPartitions {
                topic: "a".into(),
                from: 3,
                to: 6
            },
            Action::AlterConfigs {
                topic: "a".into(),
                changes: vec![ConfigChange {
                    key: "retention.ms".into(),
                    from: Some("604800000".into()),
                    from_default: true,
                    to: "1209600000".into()
                }]
            }
        ]
    );
    assert_eq!(p.actions[0].to_string(), "~ partitions a: 3 -> 6");
    assert_eq!(
        p.actions[1].to_string(),
        "~ config a retention.ms: 604800000 (7d, the default) -> 1209600000 (14d)"
    );
}

#[test]
fn fewer_partitions_and_another_replication_factor_are_refused() {
    let mut d = desired("a", 2, &[]);
    d.replication_factor = Some(3);
    let p = plan(&[d], &[actual("a", 3, &[])], &Options::default());
    assert!(p.actions.is_empty());
    assert_eq!(
        p.refusals,
        vec![
            Refusal::Shrink {
                topic: "a".into(),
                file: 2,
                cluster: 3
            },
            Refusal::ReplicationFactor {
                topic: "a".into(),
                file: 3,
                cluster: 1
            }
        ]
    );
    assert!(p.refusals[0]
        .to_string()
        .contains("Kafka cannot remove partitions"));
}

#[test]
fn unmanaged_topics_are_kept_unless_asked_and_internal_ones_always() {
    let d = [desired("a", 1, &[])];
    let a = [
        actual("a", 1, &[]),
        actual("old", 2, &[]),
        actual("__consumer_offsets", 50, &[]),
        actual("_schemas", 1, &[]),
    ];
    let p = plan(&d, &a, &Options::default());
    assert!(p.is_empty());
    assert_eq!(p.unmanaged, vec!["old".to_string()]);
    let p = plan(
        &d,
        &a,
        &Options {
            delete_unmanaged: true,
            scope: None,
        },
    );
    assert_eq!(
        p.actions,
        vec![Action::Delete {
            topic: "old".into(),
            partitions: 2
        }]
    );
    assert!(p.unmanaged.is_empty());
}

#[test]
fn a_scope_limits_both_sides() {
    let d = [desired("team.a", 1, &[]), desired("other", 1, &[])];
    let a = [actual("team.old", 1, &[]), actual("unrelated", 1, &[])];
    let opts = Options {
        delete_unmanaged: true,
        scope: Some("team.".into()),
    };
    let p = plan(&d, &a, &opts);
    let topics: Vec<&str> = p.actions.iter().map(Action::topic).collect();
    assert_eq!(topics, vec!["team.a", "team.old"]);
    assert_eq!(p.skipped, vec!["other".to_string()]);
}

#[test]
fn config_values_compare_by_meaning() {
    assert!(same_value(
        "cleanup.policy",
        "delete,compact",
        "compact, delete"
    ));
    assert!(same_value("preallocate", "True", "true"));
    assert!(!same_value("retention.ms", "1000", "1001"));
    assert_eq!(show_value("retention.ms", "-1"), "-1 (forever)");
    assert_eq!(show_value("segment.bytes", "5"), "5");
    assert_eq!(human_ms("31536000000").as_deref(), Some("365d"));
    assert_eq!(human_ms("129600000").as_deref(), Some("1d 12h"));
    assert_eq!(human_ms("1500").as_deref(), Some("1s 500ms"));
    assert_eq!(human_ms("0"), None);
}
