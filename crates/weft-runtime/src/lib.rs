//! Weft's shared runtime: layered config, tracing, the Prometheus registry, the admin HTTP
//! server, readiness, and signal handling with a bounded, graceful shutdown.

pub mod admin;
pub mod config;
pub mod health;
pub mod shutdown;
pub mod telemetry;

pub use config::{load, AdminConfig, ConfigError, LogConfig, ShutdownConfig, Validate};
pub use health::Readiness;
pub use shutdown::Services;
