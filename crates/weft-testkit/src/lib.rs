//! Test fixtures: the local Kafka (started through `deploy/local/kafka` when it is not
//! running), unique topic and group names, bounded waits, and real producers and readers.

pub mod kafka;
pub mod process;
pub mod proxy;
pub mod python;
pub mod raw;
pub mod registry;
pub mod wait;

pub use kafka::{ensure_kafka, repo_root, unique, weft_binary, TestKafka};
pub use wait::wait_for;

/// Installs a test log subscriber once (`RUST_LOG` sets the level; default `warn`).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
