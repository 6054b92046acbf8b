//! What a replay commits beside each dead-letter partition's offset (Kafka's offset metadata,
//! in the same transaction as the records it re-published): the end of the partition when the
//! replay started, the selection it was started with, and the partition's counts so far. A
//! resumed run reads it back, so it reads up to the same end, refuses another selection, and
//! reports totals over every run of the replay — exact, because they commit with the offsets.

use std::collections::BTreeMap;

/// The first word of the metadata; anything else is not a replay checkpoint.
pub const VERSION: &str = "weft.replay/1";

/// How many dead letters a replay read and what became of the selected ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Records read from the dead-letter topic.
    pub read: u64,
    /// Read and matching the filter.
    pub selected: u64,
    /// Re-published to their destination.
    pub replayed: u64,
    /// Over the replay limit: copied to the quarantine topic instead.
    pub quarantined: u64,
    /// Already re-published by this replay (they came back to the dead-letter topic).
    pub skipped: u64,
    /// No destination: no `--to` and no origin topic in the headers.
    pub no_origin: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.read += o.read;
        self.selected += o.selected;
        self.replayed += o.replayed;
        self.quarantined += o.quarantined;
        self.skipped += o.skipped;
        self.no_origin += o.no_origin;
    }

    /// What was counted since `before` (an earlier snapshot of the same counts).
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            read: self.read.saturating_sub(before.read),
            selected: self.selected.saturating_sub(before.selected),
            replayed: self.replayed.saturating_sub(before.replayed),
            quarantined: self.quarantined.saturating_sub(before.quarantined),
            skipped: self.skipped.saturating_sub(before.skipped),
            no_origin: self.no_origin.saturating_sub(before.no_origin),
        }
    }
}

/// One partition's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The partition's end offset (exclusive) when the replay started.
    pub end: i64,
    /// When the replay started (ms since the epoch).
    pub started_ms: i64,
    /// [`selection_fingerprint`] of the replay's selection.
    pub selection: String,
    /// The time window as the first run resolved it (`--since 2h` means the same on resume).
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// The partition's counts, every run included.
    pub counts: Counts,
}

impl Checkpoint {
    /// `weft.replay/1 end=… started=… sel=… [since=…] [until=…] read=… selected=… …`
    pub fn encode(&self) -> String {
        let c = &self.counts;
        let mut s = format!(
            "{VERSION} end={} started={} sel={}",
            self.end, self.started_ms, self.selection
        );
        if let Some(t) = self.since_ms {
            s.push_str(&format!(" since={t}"));
        }
        if let Some(t) = self.until_ms {
            s.push_str(&format!(" until={t}"));
        }
        s.push_str(&format!(
            " read={} selected={} replayed={} quarantined={} skipped={} no_origin={}",
            c.read, c.selected, c.replayed, c.quarantined, c.skipped, c.no_origin
        ));
        s
    }

    /// Reads metadata written by [`encode`](Self::encode); `None` for anything else (no
    /// metadata, or an offset some other tool committed for the group).
    pub fn decode(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        if words.next() != Some(VERSION) {
            return None;
        }
        let fields: BTreeMap<&str, &str> = words.filter_map(|w| w.split_once('=')).collect();
        let num = |k: &str| fields.get(k).and_then(|v| v.parse::<i64>().ok());
        let count = |k: &str| {
            fields
                .get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Some(Self {
            end: num("end")?,
            started_ms: num("started")?,
            selection: (*fields.get("sel")?).to_string(),
            since_ms: num("since"),
            until_ms: num("until"),
            counts: Counts {
                read: count("read"),
                selected: count("selected"),
                replayed: count("replayed"),
                quarantined: count("quarantined"),
                skipped: count("skipped"),
                no_origin: count("no_origin"),
            },
        })
    }
}

/// What a resumed run must agree on with the first, as 16 hex digits (FNV-1a): the
/// dead-letter topic, the criteria but the time window (see [`Checkpoint::since_ms`]), the
/// destination override, the replay limit and the quarantine topic.
pub fn selection_fingerprint(
    dlq_topic: &str,
    criteria: &BTreeMap<String, String>,
    to: Option<&str>,
    max_replays: u32,
    quarantine_topic: &str,
) -> String {
    let mut parts: Vec<String> = vec![dlq_topic.to_string()];
    for (k, v) in criteria {
        if k != "since" && k != "until" {
            parts.push(format!("{k}={v}"));
        }
    }
    parts.push(format!("to={}", to.unwrap_or("")));
    parts.push(format!("max_replays={max_replays}"));
    parts.push(format!("quarantine={quarantine_topic}"));
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.join("\u{1f}").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_and_other_metadata_is_not_one() {
        let cp = Checkpoint {
            end: 25_000,
            started_ms: 1_795_341_600_000,
            selection: "00ff00ff00ff00ff".into(),
            since_ms: Some(1_795_300_000_000),
            until_ms: None,
            counts: Counts {
                read: 10,
                selected: 8,
                replayed: 5,
                quarantined: 1,
                skipped: 1,
                no_origin: 1,
            },
        };
        let text = cp.encode();
        assert!(text.starts_with("weft.replay/1 end=25000 "), "{text}");
        assert!(text.len() < 256, "well within offset.metadata.max.bytes");
        assert_eq!(Checkpoint::decode(&text), Some(cp));
        assert_eq!(Checkpoint::decode(""), None);
        assert_eq!(Checkpoint::decode("some other tool"), None);
        assert_eq!(Checkpoint::decode("weft.replay/1 started=1 sel=x"), None);
        let bare = Checkpoint::decode("weft.replay/1 end=3 started=1 sel=x").unwrap();
        assert_eq!(bare.counts, Counts::default());
    }

    #[test]
    fn the_selection_ignores_the_time_window_but_nothing_else() {
        let mut m = BTreeMap::from([("error_code".to_string(), "decode_failed".to_string())]);
        let a = selection_fingerprint("weft.dlq", &m, None, 3, "q");
        m.insert("since".into(), "2026-11-22T10:00:00Z".into());
        assert_eq!(selection_fingerprint("weft.dlq", &m, None, 3, "q"), a);
        assert_ne!(selection_fingerprint("weft.dlq", &m, Some("t"), 3, "q"), a);
        assert_ne!(selection_fingerprint("weft.dlq", &m, None, 4, "q"), a);
        assert_ne!(selection_fingerprint("other", &m, None, 3, "q"), a);
        m.insert("key".into(), "k".into());
        assert_ne!(selection_fingerprint("weft.dlq", &m, None, 3, "q"), a);
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn counts_add_up() {
        let mut a = Counts {
            read: 1,
            replayed: 1,
            ..Counts::default()
        };
        a.add(&Counts {
            read: 2,
            selected: 2,
            no_origin: 1,
            ..Counts::default()
        });
        assert_eq!((a.read, a.selected, a.replayed, a.no_origin), (3, 2, 1, 1));
    }
}
