//! What poison_e2e produces and what must become of each record: the inputs, their fates,
//! and the helpers that write them and wait for them to land.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;
use weft_schema::codec::{Codec, JsonOptions};
use weft_testkit::kafka::Seen;
use weft_testkit::process::WeftProcess;
use weft_testkit::TestKafka;

use super::flows_ws::FlowWorkspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Ingest,
    Flow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// In exactly this destination (short name), once.
    Delivered(&'static str),
    /// In the dead-letter topic, once, failed at this stage with this code.
    Dead(Stage, &'static str),
}

/// One produced record and what must become of it.
#[derive(Clone)]
pub struct Input {
    /// The `x-input` header.
    pub id: String,
    pub topic: String,
    pub key: String,
    pub value: Vec<u8>,
    pub fate: Fate,
    /// For valid orders: the order id the canonical order must carry.
    pub order_id: Option<String>,
    /// Where it was written (from the delivery report).
    pub partition: i32,
    pub offset: i64,
}

pub fn destination(country: Option<&str>) -> &'static str {
    match country {
        Some("DE" | "FR") => "orders.eu",
        Some("US") => "orders.us",
        _ => "orders.other",
    }
}

/// A demo.shop.Order as JSON; amounts stay below the high-value threshold (no fan-out).
pub fn order_json(
    order_id: &str,
    n: usize,
    country: Option<&str>,
    currency: &str,
    cents: i64,
) -> serde_json::Value {
    json!({
        "order_id": order_id,
        "customer": format!("c-{}", n % 16),
        "amount_cents": cents,
        "currency": currency,
        "note": null,
        "created_at": 1_763_800_000_000_i64 + i64::try_from(n).unwrap() * 60_000,
        "country": country,
        "email": null,
    })
}

pub fn encode(codec: &Codec, id: u32, json: &serde_json::Value) -> Vec<u8> {
    let v = codec.from_json(json, &JsonOptions::default()).unwrap();
    codec.encode_framed(id, &v).unwrap()
}

const COUNTRIES: [Option<&str>; 5] = [Some("DE"), Some("US"), Some("JP"), None, Some("FR")];

/// A valid order `o-<n>` of schema `codec` (id `id`) produced to `topic`.
pub fn valid(topic: &str, codec: &Codec, id: u32, prefix: &str, n: usize) -> Input {
    let country = COUNTRIES[n % COUNTRIES.len()];
    let order_id = format!("{prefix}-{n}");
    let cents = 100 + i64::try_from(n * 37 % 90_000).unwrap();
    Input {
        id: order_id.clone(),
        topic: topic.to_string(),
        key: format!("c-{}", n % 16),
        value: encode(codec, id, &order_json(&order_id, n, country, "EUR", cents)),
        fate: Fate::Delivered(destination(country)),
        order_id: Some(order_id),
        partition: -1,
        offset: -1,
    }
}

pub fn poison(topic: &str, id: &str, value: Vec<u8>, fate: Fate) -> Input {
    Input {
        id: id.to_string(),
        topic: topic.to_string(),
        key: format!("poison-{id}"),
        value,
        fate,
        order_id: None,
        partition: -1,
        offset: -1,
    }
}

/// Produces every input (in order, acknowledgements awaited together) and records where each
/// landed.
pub async fn produce(producer: &FutureProducer, inputs: &mut [Input]) {
    let mut pending = Vec::with_capacity(inputs.len());
    for i in inputs.iter() {
        let headers = OwnedHeaders::new().insert(Header {
            key: "x-input",
            value: Some(i.id.as_bytes()),
        });
        let record = FutureRecord::to(&i.topic)
            .key(&i.key)
            .payload(&i.value)
            .headers(headers);
        pending.push(producer.send_result(record).map_err(|(e, _)| e).unwrap());
    }
    for (i, f) in inputs.iter_mut().zip(pending) {
        let d = f.await.unwrap().map_err(|(e, _)| e).unwrap();
        i.partition = d.partition;
        i.offset = d.offset;
    }
}

/// Waits until each of `inputs` is in its destination or the dead-letter topic (by `x-input`).
pub async fn wait_landed(
    kafka: &TestKafka,
    ws: &FlowWorkspace,
    inputs: &[Input],
    weft: &WeftProcess,
) {
    let mut want: HashMap<String, HashSet<String>> = HashMap::new();
    for i in inputs {
        let topic = match i.fate {
            Fate::Delivered(to) => ws.topic(to),
            Fate::Dead(..) => ws.topic("weft.dlq"),
        };
        want.entry(topic).or_default().insert(i.id.clone());
    }
    for (topic, ids) in want {
        let n = ids.len();
        kafka
            .read_until_async(&topic, true, Duration::from_secs(90), move |s| {
                let have: HashSet<&String> =
                    s.iter().filter_map(|r| r.headers.get("x-input")).collect();
                ids.iter().all(|id| have.contains(id))
            })
            .await
            .unwrap_or_else(|e| panic!("{topic}, {n} given records: {e}\n{}", weft.stderr()));
    }
}

/// Waits until a retry tier holds a record of `group`; returns it.
pub async fn wait_tier(kafka: &TestKafka, tier: &str, group: &str, weft: &WeftProcess) -> Seen {
    let g = group.to_string();
    let seen = kafka
        .read_until_async(tier, true, Duration::from_secs(60), move |s| {
            s.iter()
                .any(|r| r.headers.get("weft.retry.group") == Some(&g))
        })
        .await
        .unwrap_or_else(|e| panic!("a record of {group} in {tier}: {e}\n{}", weft.stderr()));
    seen.into_iter()
        .find(|r| r.headers.get("weft.retry.group").map(String::as_str) == Some(group))
        .unwrap()
}
