//! What a replay does with one selected dead letter: re-publish it (where), quarantine it,
//! or leave it (no destination, or already re-published by this replay).

use weft_core::dead_letter::DLQ_REPLAY_COUNT;
use weft_core::headers::replay;
use weft_core::Headers;

use crate::entry::Entry;

/// The replay's rules, the same for every record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// This replay's id (`weft.replay.id` on what it re-publishes).
    pub replay_id: String,
    /// `--to`: one destination for every record instead of each one's origin topic.
    pub to: Option<String>,
    /// A dead letter already replayed this many times is quarantined instead.
    pub max_replays: u32,
}

/// The decision for one selected dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Re-publish to `topic`; to `partition` when it is the record's origin topic and the
    /// origin partition is known (kept if the topic still has it).
    Replay {
        topic: String,
        partition: Option<i32>,
    },
    /// Replayed `count` times already, at or over the limit: copy it unchanged to the
    /// quarantine topic.
    Quarantine { count: u32 },
    /// No `--to` and no origin topic in any known header scheme.
    NoOrigin,
    /// It carries this replay's own id: it came back from this very replay.
    AlreadyReplayed,
}

impl Action {
    /// The name `--output json` and the counts use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Replay { .. } => "replay",
            Self::Quarantine { .. } => "quarantine",
            Self::NoOrigin => "no_origin",
            Self::AlreadyReplayed => "already_replayed",
        }
    }
}

/// How many times the record was replayed before: Weft's `weft.dlq.replay.count` (the
/// consumer loop copies an incoming `weft.replay.count` into it), else a `weft.replay.count`
/// the record still carries (a replayed record dead-lettered by another tool), else 0.
pub fn previous_replays(h: &Headers) -> u32 {
    h.get_parsed::<u32>(DLQ_REPLAY_COUNT)
        .or_else(|| h.get_parsed::<u32>(replay::COUNT))
        .unwrap_or(0)
}

/// The decision for `e` (already selected by the filter).
pub fn decide(e: &Entry, rules: &Rules) -> Action {
    let h = e.headers();
    if h.get_str(replay::ID) == Some(rules.replay_id.as_str()) {
        return Action::AlreadyReplayed;
    }
    let count = previous_replays(h);
    if count >= rules.max_replays {
        return Action::Quarantine { count };
    }
    if let Some(to) = &rules.to {
        return Action::Replay {
            topic: to.clone(),
            partition: None,
        };
    }
    match &e.origin {
        Some(o) => Action::Replay {
            topic: o.topic.clone(),
            partition: o.partition,
        },
        None => Action::NoOrigin,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use weft_core::foreign_dlq::{connect, spring, streams};
    use weft_kafka::Record;

    use super::*;

    fn entry(h: Headers) -> Entry {
        Entry::from_record(Record {
            topic: Arc::from("weft.dlq"),
            partition: 1,
            offset: 7,
            timestamp_ms: Some(1),
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            headers: h,
        })
    }

    fn rules() -> Rules {
        Rules {
            replay_id: "r-1".into(),
            to: None,
            max_replays: 3,
        }
    }

    fn weft_headers(count: &str) -> Headers {
        let mut h = Headers::new();
        h.set("weft.dlq.origin.topic", "orders");
        h.set("weft.dlq.origin.partition", "2");
        h.set(DLQ_REPLAY_COUNT, count.to_string());
        h
    }

    #[test]
    fn the_origin_topic_and_partition_are_the_destination_unless_to_is_given() {
        let e = entry(weft_headers("0"));
        let want = Action::Replay {
            topic: "orders".into(),
            partition: Some(2),
        };
        assert_eq!(decide(&e, &rules()), want);
        let to = Rules {
            to: Some("orders.retry".into()),
            ..rules()
        };
        assert_eq!(
            decide(&e, &to),
            Action::Replay {
                topic: "orders.retry".into(),
                partition: None
            }
        );
    }

    #[test]
    fn foreign_origins_are_destinations_too() {
        let mut c = Headers::new();
        c.set(connect::TOPIC, "crm.contacts");
        c.set(connect::PARTITION, "4");
        assert_eq!(
            decide(&entry(c), &rules()),
            Action::Replay {
                topic: "crm.contacts".into(),
                partition: Some(4)
            }
        );
        let mut s = Headers::new();
        s.set(streams::TOPIC, "clicks");
        s.set(streams::PARTITION, "1");
        assert_eq!(
            decide(&entry(s), &rules()),
            Action::Replay {
                topic: "clicks".into(),
                partition: Some(1)
            }
        );
        let mut sp = Headers::new();
        sp.set(spring::DLT_ORIGINAL_TOPIC, "billing");
        assert!(
            matches!(decide(&entry(sp), &rules()), Action::Replay { topic, .. } if topic == "billing")
        );
        assert_eq!(decide(&entry(Headers::new()), &rules()), Action::NoOrigin);
    }

    #[test]
    fn at_the_limit_a_dead_letter_is_quarantined() {
        assert!(matches!(
            decide(&entry(weft_headers("2")), &rules()),
            Action::Replay { .. }
        ));
        assert_eq!(
            decide(&entry(weft_headers("3")), &rules()),
            Action::Quarantine { count: 3 }
        );
        // Even with --to, and even without an origin.
        let to = Rules {
            to: Some("x".into()),
            ..rules()
        };
        assert_eq!(
            decide(&entry(weft_headers("9")), &to),
            Action::Quarantine { count: 9 }
        );
        let mut foreign = Headers::new();
        foreign.set(replay::COUNT, "3");
        assert_eq!(
            decide(&entry(foreign), &rules()),
            Action::Quarantine { count: 3 }
        );
        let zero = Rules {
            max_replays: 0,
            ..rules()
        };
        assert!(matches!(
            decide(&entry(weft_headers("0")), &zero),
            Action::Quarantine { .. }
        ));
    }

    #[test]
    fn a_record_of_this_very_replay_is_skipped() {
        let mut h = weft_headers("1");
        h.set(replay::ID, "r-1");
        assert_eq!(decide(&entry(h.clone()), &rules()), Action::AlreadyReplayed);
        h.set(replay::ID, "r-0");
        assert!(matches!(decide(&entry(h), &rules()), Action::Replay { .. }));
    }

    #[test]
    fn previous_replays_prefers_the_dead_letter_header() {
        let mut h = Headers::new();
        assert_eq!(previous_replays(&h), 0);
        h.set(replay::COUNT, "2");
        assert_eq!(previous_replays(&h), 2);
        h.set(DLQ_REPLAY_COUNT, "1");
        assert_eq!(previous_replays(&h), 1);
        h.set(DLQ_REPLAY_COUNT, "many");
        assert_eq!(previous_replays(&h), 2);
    }
}
