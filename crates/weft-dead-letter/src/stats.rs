//! Counts of dead letters by what operators group them by.

use std::collections::BTreeMap;

use serde::Serialize;
use weft_core::time::format_millis;

use crate::entry::Entry;

/// Counts by source topic, stage, error code and fingerprint, with the oldest and newest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub total: u64,
    pub by_source_topic: BTreeMap<String, u64>,
    pub by_stage: BTreeMap<String, u64>,
    pub by_error_code: BTreeMap<String, u64>,
    pub by_fingerprint: BTreeMap<String, FingerprintCount>,
    /// Dead letters of each scheme (`weft`, `connect`, `streams`, `spring`, `unknown`).
    pub by_scheme: BTreeMap<String, u64>,
    pub oldest: Option<String>,
    pub newest: Option<String>,
    #[serde(skip)]
    oldest_ms: Option<i64>,
    #[serde(skip)]
    newest_ms: Option<i64>,
}

/// One fingerprint: how many, its error code and one message as an example.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FingerprintCount {
    pub count: u64,
    pub error_code: Option<String>,
    pub example: Option<String>,
}

const UNKNOWN: &str = "(unknown)";

impl Stats {
    pub fn add(&mut self, e: &Entry) {
        self.total += 1;
        let inc = |m: &mut BTreeMap<String, u64>, k: Option<&str>| {
            *m.entry(k.unwrap_or(UNKNOWN).to_string()).or_default() += 1;
        };
        inc(&mut self.by_source_topic, e.source_topic());
        inc(&mut self.by_stage, e.stage());
        inc(&mut self.by_error_code, e.error_code());
        inc(
            &mut self.by_scheme,
            Some(e.scheme().map_or("unknown", |s| s.as_str())),
        );
        if let Some(f) = e.fingerprint() {
            let c = self.by_fingerprint.entry(f).or_default();
            c.count += 1;
            if c.example.is_none() {
                c.error_code = e.error_code().map(str::to_string);
                c.example = e.message().map(str::to_string);
            }
        }
        if let Some(t) = e.timestamp_ms() {
            if self.oldest_ms.is_none_or(|o| t < o) {
                self.oldest_ms = Some(t);
                self.oldest = Some(format_millis(t));
            }
            if self.newest_ms.is_none_or(|n| t > n) {
                self.newest_ms = Some(t);
                self.newest = Some(format_millis(t));
            }
        }
    }

    /// The text `weft dlq stats` prints.
    pub fn to_text(&self, topic: &str) -> String {
        let mut s = format!("{} dead letters in {topic}", self.total);
        if let (Some(o), Some(n)) = (&self.oldest, &self.newest) {
            s.push_str(&format!(" (oldest {o}, newest {n})"));
        }
        s.push('\n');
        let table = |s: &mut String, title: &str, m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                return;
            }
            s.push_str(&format!("\nby {title}:\n"));
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (k, n) in rows {
                s.push_str(&format!("  {n:>10}  {k}\n"));
            }
        };
        table(&mut s, "source topic", &self.by_source_topic);
        table(&mut s, "stage", &self.by_stage);
        table(&mut s, "error code", &self.by_error_code);
        table(&mut s, "scheme", &self.by_scheme);
        if !self.by_fingerprint.is_empty() {
            s.push_str("\nby fingerprint:\n");
            let mut rows: Vec<_> = self.by_fingerprint.iter().collect();
            rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
            for (k, c) in rows {
                s.push_str(&format!(
                    "  {:>10}  {k}  {}  {}\n",
                    c.count,
                    c.error_code.as_deref().unwrap_or("-"),
                    c.example.as_deref().unwrap_or("").replace('\n', " ")
                ));
            }
        }
        s
    }
}
