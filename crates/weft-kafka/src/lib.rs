//! Weft's Kafka layer: client builders from typed config, an at-least-once consumer loop with
//! bounded concurrency and per-key order, a producer with backpressure, a transactional
//! (exactly-once) mode of the same loop, and admin helpers.

pub mod admin;
pub mod config;
pub mod consumer;
pub mod context;
pub mod error;
pub mod metrics;
pub mod native_headers;
pub mod options;
pub mod processor;
pub mod producer;
pub mod record;
pub mod retry_tiers;
pub mod tracker;
pub mod wait;

pub use config::{KafkaConfig, Role};
pub use error::{Error, Result};
pub use metrics::KafkaMetrics;
pub use options::{
    ConsumerOptions, DeadLetterOptions, DeliveryMode, Ordering, RetryPolicy, RetryTiers, Tier,
};
pub use processor::{Emitter, Processor};
pub use producer::{Producer, ProducerOptions};
pub use record::{OutRecord, Record};
pub use tracker::TopicPartition;
