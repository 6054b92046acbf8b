//! Contracts as code: the files under `topics/` (and `schemas/`) and what they mean for the
//! cluster. Pure: reading files and deciding, no Kafka.

pub mod plan;
pub mod schemas;
pub mod topics;
