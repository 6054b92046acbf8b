//! Fixture cases of a flow (`flows/fixtures/<flow>.toml`), run without Kafka by
//! `weft flows test`, and read by the end-to-end tests to drive the running flow with the
//! same cases.
//!
//! ```toml
//! [[cases]]
//! name = "a German order goes to orders.eu"
//! key = "c-1"                          # the input record's key (optional)
//! input = { order_id = "o-1", customer = "c-1", amount_cents = 1250, created_at = "2026-11-02T10:00:00Z" }
//! [[cases.expect]]                     # every output, exactly (topic, value, and key/headers when given)
//! topic = "orders.eu"
//! key = "c-1"
//! value = { id = "o-1", amount = 12.5 }
//! headers = { "x-region" = "EU" }
//!
//! [[cases]]
//! name = "a negative amount is dead-lettered"
//! input = { order_id = "o-2", amount_cents = -5 }
//! dead_letter = "transform_failed"     # the error code; or: filtered = true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use weft_core::Headers;
use weft_schema::codec::{Codec, JsonOptions, Value};

use crate::engine::Decision;
use crate::flow::Flow;

/// A fixture file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The input event as a table of the flow's input schema (JSON rules: timestamps as
    /// RFC 3339 text or epoch numbers, unions as plain values).
    pub input: toml::Value,
    #[serde(default)]
    pub expect: Vec<Expected>,
    /// The error code the record is dead-lettered with.
    #[serde(default)]
    pub dead_letter: Option<String>,
    #[serde(default)]
    pub filtered: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub topic: String,
    #[serde(default)]
    pub key: Option<String>,
    pub value: toml::Value,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// The fixture file of a flow: `<flows dir>/fixtures/<flow name>.toml`.
pub fn fixture_file(flows_dir: &Path, flow: &str) -> PathBuf {
    flows_dir.join("fixtures").join(format!("{flow}.toml"))
}

/// Reads a fixture file.
pub fn read(file: &Path) -> Result<Fixtures, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            file.display(),
            e.to_string().trim_end().replace('\n', " ")
        )
    })
}

/// A TOML table as JSON (what the codec's JSON reader takes).
pub fn to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// The outcome of one case: empty `problems` means it passed.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub problems: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// An input event of a case as a value of the flow's input schema.
pub fn input_value(flow: &Flow, case: &Case) -> Result<Value, String> {
    flow.input
        .codec
        .from_json(&to_json(&case.input), &JsonOptions::default())
        .map_err(|e| format!("the case's input does not fit {}: {e}", flow.input.name))
}

/// Runs every case through the flow (no Kafka, no registry).
pub fn run(flow: &Flow, fixtures: &Fixtures) -> Vec<CaseResult> {
    fixtures
        .cases
        .iter()
        .enumerate()
        .map(|(i, case)| CaseResult {
            name: case.name.clone(),
            problems: run_case(flow, case, i),
        })
        .collect()
}

fn run_case(flow: &Flow, case: &Case, index: usize) -> Vec<String> {
    let kinds = usize::from(!case.expect.is_empty())
        + usize::from(case.dead_letter.is_some())
        + usize::from(case.filtered);
    if kinds != 1 {
        return vec!["say exactly one of: [[cases.expect]] outputs, dead_letter = \"<code>\", filtered = true".into()];
    }
    let input = match input_value(flow, case) {
        Ok(v) => v,
        Err(m) => return vec![m],
    };
    let mut headers = Headers::new();
    for (k, v) in &case.headers {
        headers.set(k.clone(), v.clone());
    }
    let topic = flow.spec.from.first().map_or("", String::as_str);
    let metadata = weft_transform::program::kafka_metadata(
        topic,
        0,
        i64::try_from(index).unwrap_or(i64::MAX),
        None,
        case.key.as_deref().map(str::as_bytes),
        &headers,
    );
    let decided = flow.decide(input, &metadata);
    match (decided, &case.dead_letter, case.filtered) {
        (Err(e), Some(code), _) if e.code.as_str() == code => Vec::new(),
        (Err(e), Some(code), _) => vec![format!(
            "expected a dead letter with code {code}, got {}: {}",
            e.code, e.message
        )],
        (Err(e), None, _) => vec![format!("dead-lettered ({}): {}", e.code, e.message)],
        (Ok(Decision::Filtered { .. }), None, true) => Vec::new(),
        (Ok(Decision::Filtered { by }), _, _) => {
            vec![format!("filtered (by the {by}), not expected")]
        }
        (Ok(Decision::Routed { outputs, .. }), _, true) => vec![format!(
            "expected the event to be filtered, it went to {}",
            topics(&outputs)
        )],
        (Ok(Decision::Routed { outputs, .. }), Some(code), _) => vec![format!(
            "expected a dead letter with code {code}, it went to {}",
            topics(&outputs)
        )],
        (Ok(Decision::Routed { event, outputs, .. }), None, false) => {
            compare(flow, case, &event, &outputs)
        }
    }
}

fn topics(outputs: &[crate::engine::Output]) -> String {
    let t: Vec<&str> = outputs.iter().map(|o| o.topic.as_ref()).collect();
    if t.is_empty() {
        "nowhere".into()
    } else {
        t.join(", ")
    }
}

fn compare(
    flow: &Flow,
    case: &Case,
    event: &Value,
    outputs: &[crate::engine::Output],
) -> Vec<String> {
    let mut p = Vec::new();
    let codec = &flow.event_schema().codec;
    let got: Vec<&str> = outputs.iter().map(|o| o.topic.as_ref()).collect();
    let want: Vec<&str> = case.expect.iter().map(|e| e.topic.as_str()).collect();
    let (mut g, mut w) = (got.clone(), want.clone());
    g.sort_unstable();
    w.sort_unstable();
    if g != w {
        p.push(format!(
            "destinations: expected {}, got {}",
            want.join(", "),
            topics(outputs)
        ));
    }
    for exp in &case.expect {
        let Some(out) = outputs.iter().find(|o| o.topic.as_ref() == exp.topic) else {
            continue;
        };
        let at = &exp.topic;
        match codec.from_json(&to_json(&exp.value), &JsonOptions::default()) {
            Err(e) => p.push(format!(
                "{at}: the expected value does not fit {}: {e}",
                flow.event_schema().name
            )),
            Ok(expected) if &expected != event => {
                p.extend(
                    value_diff(codec, &expected, event)
                        .into_iter()
                        .map(|d| format!("{at}: {d}")),
                );
            }
            Ok(_) => {}
        }
        if let Some(k) = &exp.key {
            let got_key = match &out.key {
                None => case.key.clone(),
                Some(k) => k.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
            };
            if got_key.as_deref() != Some(k.as_str()) {
                p.push(format!("{at}: key: expected {k:?}, got {got_key:?}"));
            }
        }
        for (name, v) in &exp.headers {
            let got_h = out.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
            if got_h != Some(v) {
                p.push(format!(
                    "{at}: header {name}: expected {v:?}, got {got_h:?}"
                ));
            }
        }
    }
    p
}

/// Field by field, as JSON text: `amount: expected 12.5, got 1250.0`.
pub fn value_diff(codec: &Codec, expected: &Value, got: &Value) -> Vec<String> {
    let (Ok(e), Ok(g)) = (codec.to_json(expected), codec.to_json(got)) else {
        return vec!["the values differ (not printable as JSON)".into()];
    };
    let mut out = Vec::new();
    diff_json("", &e, &g, &mut out);
    if out.is_empty() {
        out.push(format!("value: expected {e}, got {g}"));
    }
    out
}

fn diff_json(path: &str, e: &serde_json::Value, g: &serde_json::Value, out: &mut Vec<String>) {
    match (e, g) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let null = serde_json::Value::Null;
                diff_json(
                    &p,
                    a.get(k).unwrap_or(&null),
                    b.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        _ if e != g => out.push(format!("{path}: expected {e}, got {g}")),
        _ => {}
    }
}
