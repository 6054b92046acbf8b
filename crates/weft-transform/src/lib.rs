//! Transform: how an event of one Avro schema becomes an event of another.
//!
//! Two paths, one meaning:
//! - **field mappings** ([`mapping`]) declared in the flow file — rename/move, cast, default,
//!   constant, drop, mask — compiled against the input and output schemas at start-up into
//!   direct operations on decoded records (no intermediate value model);
//! - **programs** ([`program`]) in VRL, Vector's remap language, for what needs logic
//!   (conditions, arithmetic, timestamps and time zones, lookups in static tables), compiled
//!   once with the input schema's types, run on a VRL value converted from the record
//!   ([`vrl_value`]).

pub mod functions;
pub mod mapping;
pub mod program;
pub mod vrl_value;
