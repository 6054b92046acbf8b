//! VRL programs and route conditions, compiled once at start-up.
//!
//! A [`Program`] is compiled with the input schema's types (from
//! [`kind_of`](crate::vrl_value::kind_of)) as the type of `.`, so VRL's type checker knows
//! that `.amount_cents` is an integer and refuses `upcase(.amount_cents)` at start-up, and
//! with the type of the Kafka metadata `%kafka` ([`kafka_metadata`]). It runs on the VRL
//! value of a record and yields the event after the program ([`Outcome::Event`]) or
//! [`Outcome::Dropped`] when the program `abort`s (an intentional drop: filtered, not an
//! error).
//!
//! A [`Condition`] is a boolean expression for a route
//! (`.country == "US" && .amount_cents >= 100000`), compiled read-only (it cannot assign to
//! `.` or `%`) and evaluated on a borrowed event: no copy per route and record.

mod condition;
mod output_check;
mod simple;
#[cfg(test)]
mod simple_tests;
#[cfg(test)]
mod tests;

pub use condition::Condition;
use output_check::{check_record, describe_kind};

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use vrl::compiler::state::{ExternalEnv, LocalEnv, RuntimeState};
use vrl::compiler::{
    compile_with_state, CompileConfig, Context, ExpressionError, Function, SecretTarget, Target,
    TargetValue, TimeZone, TypeState,
};
use vrl::diagnostic::DiagnosticList;
use vrl::path::{OwnedTargetPath, PathPrefix};
use vrl::prelude::{Bytes, Collection, Field};
use vrl::value::{KeyString, Kind as VrlKind, ObjectMap, Secrets, Value as VrlValue};
use weft_core::{Classify, ErrorClass, ErrorCode, Headers};
use weft_schema::codec::{Codec, FieldNode, Kind, NodeId, NodeRef};

use crate::functions::{functions, Tables};
use crate::vrl_value::{accepted_kind, expected, kind_of};

// ---------------------------------------------------------------------------------------
// Environment and diagnostics

/// What programs and conditions are compiled with: the function list (VRL's standard
/// library and Weft's functions), the static tables, and the default time zone.
#[derive(Debug)]
pub struct ProgramEnv {
    functions: Vec<Box<dyn Function>>,
    tables: Arc<Tables>,
    timezone: TimeZone,
    timezone_name: String,
}

impl ProgramEnv {
    /// An environment with `tables` and a default time zone (an IANA name like
    /// `Europe/Berlin`; UTC when `None`), used by functions that parse or format times
    /// without an explicit `timezone` argument.
    pub fn new(tables: Arc<Tables>, timezone: Option<&str>) -> Result<Self, String> {
        let name = timezone.unwrap_or("UTC");
        // VRL reads "" and "local" as the machine's zone; a flow must not depend on that.
        let tz = match name {
            "" | "local" => None,
            _ => TimeZone::parse(name),
        }
        .ok_or_else(|| {
            format!(
                "unknown time zone {name:?} (use an IANA name like \"Europe/Berlin\" or \"UTC\")"
            )
        })?;
        Ok(Self {
            functions: functions(Arc::clone(&tables)),
            tables,
            timezone: tz,
            timezone_name: name.to_string(),
        })
    }

    pub fn tables(&self) -> &Arc<Tables> {
        &self.tables
    }

    /// The default time zone's name (`UTC` unless configured).
    pub fn timezone(&self) -> &str {
        &self.timezone_name
    }

    fn type_state(&self, input: Option<(&Codec, NodeId)>) -> TypeState {
        let target = match input {
            Some((codec, node)) => {
                let kind = kind_of(codec, node);
                if kind.is_object() {
                    kind
                } else {
                    VrlKind::object(Collection::any())
                }
            }
            None => VrlKind::object(Collection::any()),
        };
        TypeState {
            local: LocalEnv::default(),
            external: ExternalEnv::new_with_kind(target, metadata_kind()),
        }
    }
}

impl Default for ProgramEnv {
    /// No tables, UTC.
    fn default() -> Self {
        let tables = Arc::new(Tables::empty());
        Self {
            functions: functions(Arc::clone(&tables)),
            tables,
            timezone: TimeZone::parse("UTC").unwrap_or_default(),
            timezone_name: "UTC".to_string(),
        }
    }
}

/// A compile error (or warning) at a 1-based line and column (in characters) of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl Diagnostic {
    fn from_vrl(source: &str, d: &vrl::diagnostic::Diagnostic) -> Self {
        let primary: Vec<_> = d.labels.iter().filter(|l| l.primary).collect();
        let offset = primary
            .first()
            .copied()
            .or(d.labels.first())
            .map_or(0, |l| l.span.start());
        let (line, column) = line_column(source, offset);
        let mut message = d.message.trim();
        // A function's own compile error reads better without VRL's wrapper.
        if let Some(rest) = message.strip_prefix("function compilation error: error[E") {
            if let Some((_, inner)) = rest.split_once("] ") {
                message = inner;
            }
        }
        let mut message = message.to_string();
        let labels = primary
            .into_iter()
            .chain(d.labels.iter().filter(|l| !l.primary));
        let mut first = true;
        for label in labels {
            let text = label.message.trim();
            if text.is_empty() || message.contains(text) {
                continue;
            }
            // "message: label; label" — or a space after a label that ends with a colon.
            message.push_str(match (first, message.ends_with(':')) {
                (_, true) => " ",
                (true, false) => ": ",
                (false, false) => "; ",
            });
            message.push_str(text);
            first = false;
        }
        Self {
            line,
            column,
            message: one_line(&message),
        }
    }

    fn at_start(message: String) -> Self {
        Self {
            line: 1,
            column: 1,
            message,
        }
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A run-time error message with VRL's byte span `at (12:30)` turned into `at line 2,
/// column 5` of `source`.
fn locate(source: &str, message: &str) -> String {
    if let Some(start) = message.find(" at (") {
        let rest = &message[start + 5..];
        if let Some(end) = rest.find(')') {
            if let Some((a, b)) = rest[..end].split_once(':') {
                if let (Ok(a), Ok(_)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    let (line, column) = line_column(source, a);
                    return format!(
                        "{} at line {line}, column {column}{}",
                        &message[..start],
                        &rest[end + 1..]
                    );
                }
            }
        }
    }
    message.to_string()
}

/// Whitespace runs (newlines included) collapsed to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn diagnostics(source: &str, list: &DiagnosticList) -> Vec<Diagnostic> {
    list.iter()
        .filter(|d| d.is_problem())
        .map(|d| Diagnostic::from_vrl(source, d))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Kafka metadata

/// The metadata a program sees: `%kafka = { topic, partition, offset, timestamp, key,
/// headers }`. `timestamp` is a timestamp or null, `key` a string (bytes when not UTF-8) or
/// null, `headers` an object of header name → value (a repeated header keeps its last
/// value; a header without a value is null).
pub fn kafka_metadata(
    topic: &str,
    partition: i32,
    offset: i64,
    timestamp_ms: Option<i64>,
    key: Option<&[u8]>,
    headers: &Headers,
) -> VrlValue {
    let mut h = ObjectMap::new();
    for header in headers.iter() {
        let value = match &header.value {
            Some(v) => VrlValue::from_utf8_or_bytes(v.clone()),
            None => VrlValue::Null,
        };
        h.insert(KeyString::from(header.key.as_ref()), value);
    }
    let mut kafka = ObjectMap::new();
    kafka.insert("topic".into(), VrlValue::from(topic));
    kafka.insert("partition".into(), VrlValue::Integer(i64::from(partition)));
    kafka.insert("offset".into(), VrlValue::Integer(offset));
    kafka.insert(
        "timestamp".into(),
        timestamp_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map_or(VrlValue::Null, VrlValue::Timestamp),
    );
    kafka.insert(
        "key".into(),
        key.map_or(VrlValue::Null, |k| {
            VrlValue::from_utf8_or_bytes(Bytes::copy_from_slice(k))
        }),
    );
    kafka.insert("headers".into(), VrlValue::Object(h));
    let mut root = ObjectMap::new();
    root.insert("kafka".into(), VrlValue::Object(kafka));
    VrlValue::Object(root)
}

/// The VRL type of [`kafka_metadata`] (other metadata keys a program sets are `any`).
pub fn metadata_kind() -> VrlKind {
    let kafka = VrlKind::object(Collection::from_parts(
        [
            ("topic", VrlKind::bytes()),
            ("partition", VrlKind::integer()),
            ("offset", VrlKind::integer()),
            ("timestamp", VrlKind::timestamp().or_null()),
            ("key", VrlKind::bytes().or_null()),
            (
                "headers",
                VrlKind::object(Collection::from_unknown(VrlKind::bytes().or_null())),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (Field::from(k), v))
        .collect(),
        VrlKind::undefined(),
    ));
    VrlKind::object(Collection::from_parts(
        [(Field::from("kafka"), kafka)].into_iter().collect(),
        VrlKind::any(),
    ))
}

// ---------------------------------------------------------------------------------------
// Run-time errors

/// A program (or condition) that failed on a record: an `error` from a `!` function, an
/// `assert!` failure, a condition that did not give a boolean. One readable line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProgramError {
    pub message: String,
    /// Always `"program_error"`.
    pub code: &'static str,
}

impl ProgramError {
    fn new(message: impl AsRef<str>) -> Self {
        Self {
            message: one_line(message.as_ref()),
            code: "program_error",
        }
    }
}

impl Classify for ProgramError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Permanent
    }

    fn code(&self) -> ErrorCode {
        ErrorCode::TransformFailed
    }
}

/// What running a program on a record gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The event (`.`) after the program.
    Event(VrlValue),
    /// The program called `abort`: the record is dropped on purpose.
    Dropped,
}

/// Runs a compiled VRL program on a target, turning panics (a VRL bug) into errors.
fn resolve(
    program: &vrl::compiler::Program,
    target: &mut dyn Target,
    timezone: &TimeZone,
) -> Result<Result<VrlValue, ExpressionError>, ProgramError> {
    let mut state = RuntimeState::default();
    let mut ctx = Context::new(target, &mut state, timezone);
    catch_unwind(AssertUnwindSafe(|| program.resolve(&mut ctx)))
        .map_err(|_| ProgramError::new("the program panicked (a bug in VRL or a Weft function)"))
}

// ---------------------------------------------------------------------------------------
// Programs

/// A VRL program compiled once.
#[derive(Debug, Clone)]
pub struct Program {
    program: vrl::compiler::Program,
    /// For the positions of run-time errors.
    source: Arc<str>,
    timezone: TimeZone,
    /// The type of `.` after the program.
    final_kind: VrlKind,
    warnings: Vec<Diagnostic>,
}

impl Program {
    /// Compiles `source`; `input` is the input schema and the node of the event (its root
    /// record), so the program is type-checked against it (`.` is any object when `None`).
    pub fn compile(
        source: &str,
        input: Option<(&Codec, NodeId)>,
        env: &ProgramEnv,
    ) -> Result<Program, Vec<Diagnostic>> {
        Self::compile_with_fields(source, input, &[], env)
    }

    /// [`Program::compile`] for a program that runs after field mappings: `set` names the
    /// fields the mappings put into the event before the program, with their schema types
    /// (they are known to the type checker and count as set by the output check).
    pub fn compile_with_fields(
        source: &str,
        input: Option<(&Codec, NodeId)>,
        set: &[(&str, &Codec, NodeId)],
        env: &ProgramEnv,
    ) -> Result<Program, Vec<Diagnostic>> {
        let mut state = env.type_state(input);
        if !set.is_empty() {
            let mut target = state.external.target_kind().clone();
            if let Some(object) = target.as_object_mut() {
                for (name, codec, node) in set {
                    object
                        .known_mut()
                        .insert(Field::from(name.to_string()), kind_of(codec, *node));
                }
            }
            state.external = ExternalEnv::new_with_kind(target, metadata_kind());
        }
        let result = compile_with_state(source, &env.functions, &state, CompileConfig::default())
            .map_err(|list| diagnostics(source, &list))?;
        let final_kind = result
            .program
            .final_type_info()
            .state
            .external
            .target_kind()
            .clone();
        let warnings = result
            .warnings
            .iter()
            .filter(|d| d.is_warning())
            .map(|d| Diagnostic::from_vrl(source, d))
            .collect();
        Ok(Program {
            program: result.program,
            source: Arc::from(source),
            timezone: env.timezone,
            final_kind,
            warnings,
        })
    }

    /// Compiler warnings (not errors), to log at start-up.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Whether the program can drop records (it contains `abort`).
    pub fn can_drop(&self) -> bool {
        self.program.info().abortable
    }

    /// The VRL type of the event after the program.
    pub fn output_kind(&self) -> &VrlKind {
        &self.final_kind
    }

    /// Runs the program on `event` with `metadata` (see [`kafka_metadata`]).
    pub fn run(&self, event: VrlValue, metadata: VrlValue) -> Result<Outcome, ProgramError> {
        let mut target = TargetValue {
            value: event,
            metadata,
            secrets: Secrets::new(),
        };
        match resolve(&self.program, &mut target, &self.timezone)? {
            Ok(_) | Err(ExpressionError::Return { .. }) => Ok(Outcome::Event(target.value)),
            Err(ExpressionError::Abort { .. }) => Ok(Outcome::Dropped),
            Err(e) => Err(ProgramError::new(locate(&self.source, &e.to_string()))),
        }
    }

    /// Whether the program reads or writes `%` (the Kafka metadata), so callers build it
    /// per record only when needed (an empty object will do otherwise).
    pub fn uses_metadata(&self) -> bool {
        touches_metadata(self.program.info())
    }

    /// Start-up check of the program's final type against the output schema: one line per
    /// field the program certainly sets to something the field can never take (`field
    /// amount: the program sets a string, the output schema wants a double`), or certainly
    /// leaves unset when the field has no default. Fields whose type is unknown (`any`) or
    /// could be right are not reported.
    pub fn output_problems(&self, output: &Codec) -> Vec<String> {
        let mut problems = Vec::new();
        let root = output.root();
        if let Kind::Record(_) = root.kind() {
            check_record(output, root, &self.final_kind, "", &mut problems, 0);
        }
        problems
    }
}

/// Whether a compiled program queries or assigns a metadata (`%`) path.
fn touches_metadata(info: &vrl::compiler::ProgramInfo) -> bool {
    info.target_queries
        .iter()
        .chain(&info.target_assignments)
        .any(|p| p.prefix == PathPrefix::Metadata)
}
