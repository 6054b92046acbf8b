//! Dead letters after the fact: reading the dead-letter topic, selecting records by the
//! filters operators use, and summarising them (`weft dlq stats|list|show`). Weft's own dead
//! letters (`weft.dlq.*` headers) and those of Kafka Connect, Kafka Streams and Spring
//! (`weft_core::foreign_dlq`) are read alike.

pub mod config;
pub mod entry;
pub mod filter;
pub mod replay;
pub mod retry;
pub mod scan;
pub mod stats;

pub use entry::Entry;
pub use filter::Filter;
pub use scan::{read_one, scan, Position, ScanProgress};
pub use stats::Stats;
