//! A flow file (`flows/<name>.toml`) as written: strict serde types, no meaning yet.
//!
//! ```toml
//! description = "Shop orders to the canonical Order, routed by region and amount"
//! from = ["demo.orders"]
//!
//! [input]
//! schema = "demo.shop.Order"        # the flow's reader schema (schemas/<name>.avsc)
//! [output]
//! schema = "demo.canonical.Order"   # what the transform produces; every destination's value schema
//!
//! [transform]                        # field mappings and/or a VRL program
//! fields = { id = "order_id", customer_id = "customer" }
//! program = '''
//! .region = lookup("regions", .country, column: "region") ?? "OTHER"
//! '''
//! [tables.regions]
//! path = "tables/regions.csv"
//!
//! [[routes]]
//! name = "high-value"
//! when = ".amount >= 1000.0"
//! to = ["orders.high-value"]
//! continue = true                    # keep evaluating the next routes (fan-out)
//! [[routes]]
//! name = "eu"
//! when = '.region == "EU"'
//! to = ["orders.eu"]
//! [default]
//! to = ["orders.other"]              # or: drop = true
//! [errors]
//! policy = "dead_letter"             # or "stop"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use weft_kafka::options::defaults;

use serde::Deserialize;
use toml::Spanned;
use weft_kafka::{DeliveryMode, RetryPolicy};
use weft_transform::functions::TableSpec;
use weft_transform::mapping::FieldSource;

/// One flow file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Defaults to the file's stem; names the consumer group, the transactional id and
    /// `weft.dlq.stage`. Set it to keep the group when the file is renamed.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Input topics.
    pub from: Vec<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default = "defaults::exactly_once")]
    pub mode: DeliveryMode,
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    #[serde(default = "defaults::commit_interval", with = "humantime_serde")]
    pub commit_interval: Duration,
    #[serde(default = "defaults::auto_offset_reset")]
    pub auto_offset_reset: String,
    /// Exactly-once only; defaults to `weft.flow.<name>.<instance id>`.
    #[serde(default)]
    pub transactional_id: Option<String>,
    /// The time zone VRL's timestamp functions use when a call names none (IANA name).
    #[serde(default)]
    pub timezone: Option<String>,
    pub input: InputSpec,
    #[serde(default)]
    pub output: Option<OutputSpec>,
    #[serde(default)]
    pub transform: Option<TransformSpec>,
    #[serde(default)]
    pub tables: BTreeMap<String, TableSpec>,
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Where records no route matched go. Required: nothing is dropped by accident.
    pub default: Option<DefaultSpec>,
    #[serde(default)]
    pub errors: ErrorsSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Full name of the reader schema (`schemas/<name>.avsc`). Records written with any
    /// compatible version are read as it (Avro schema resolution).
    pub schema: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Full name of the output schema (`schemas/<name>.avsc`); every destination topic's value
    /// schema must be it.
    pub schema: String,
    /// The subject the output schema is registered under, per destination: `{topic}` is the
    /// destination topic. Default `{topic}-value` (TopicNameStrategy).
    #[serde(default = "default_subject")]
    pub subject: String,
}

/// The `[transform]` table: field mappings and an optional program.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformSpec {
    /// Output field = its source (see [`weft_transform::mapping`]).
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSource>,
    /// Input fields never copied to the output implicitly.
    #[serde(default)]
    pub drop: Vec<String>,
    /// A VRL program, inline (its position in the file is kept for error lines).
    #[serde(default)]
    pub program: Option<Spanned<String>>,
    /// A VRL program in a file, relative to the flow file.
    #[serde(default)]
    pub program_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Names the route in errors and metrics; defaults to `routes[<index>]`.
    #[serde(default)]
    pub name: Option<String>,
    /// A VRL boolean expression on the (transformed) event; `%kafka` holds the input record's
    /// coordinates, key and headers. Absent: the route always matches.
    #[serde(default)]
    pub when: Option<Spanned<String>>,
    pub to: Vec<String>,
    /// After this route matched, keep evaluating the routes after it (fan-out). Default:
    /// the first matching route wins.
    #[serde(default, rename = "continue")]
    pub continue_: bool,
    /// A field path of the event whose value becomes the record key (its text). Default: the
    /// input record's key.
    #[serde(default)]
    pub key: Option<String>,
    /// Headers to set: literal text with `{field.path}` placeholders of the event.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultSpec {
    #[serde(default)]
    pub to: Vec<String>,
    /// Drop what no route matched (counted as filtered).
    #[serde(default)]
    pub drop: bool,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// What happens to a record the flow cannot handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorPolicy {
    /// The original record goes to the dead-letter topic with the reason; the flow goes on.
    #[default]
    DeadLetter,
    /// The flow stops at the record, for flows where order matters more than progress: its
    /// group's committed position is at or before the record (exactly-once: the open
    /// transaction is aborted, so the records of it are read again after a restart;
    /// at-least-once: the acknowledged records before it are committed). The flow's `/ready`
    /// condition says why it stopped.
    Stop,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsSpec {
    #[serde(default)]
    pub policy: ErrorPolicy,
    #[serde(default = "defaults::dead_letter_topic")]
    pub topic: String,
    #[serde(default)]
    pub retry: RetryPolicy,
}

impl Default for ErrorsSpec {
    fn default() -> Self {
        Self {
            policy: ErrorPolicy::default(),
            topic: defaults::dead_letter_topic(),
            retry: RetryPolicy::default(),
        }
    }
}

fn default_subject() -> String {
    "{topic}-value".into()
}
