//! Route conditions: boolean VRL expressions compiled read-only, evaluated on a borrowed
//! event.

use super::*;

/// A boolean VRL expression deciding whether a route takes a record.
#[derive(Debug, Clone)]
pub struct Condition {
    program: vrl::compiler::Program,
    source: Arc<str>,
    timezone: TimeZone,
    /// The same condition on the Avro value, when it has a simple form.
    simple: Option<super::simple::Simple>,
}

impl Condition {
    /// Whether the condition reads `%` (the Kafka metadata).
    pub fn uses_metadata(&self) -> bool {
        touches_metadata(self.program.info())
    }

    /// The top-level event fields the condition reads, or `None` when it reads the whole
    /// event (or a path VRL cannot name statically). Lets a caller convert only those fields.
    pub fn event_fields(&self) -> Option<Vec<String>> {
        use vrl::path::OwnedSegment;
        let mut names = Vec::new();
        for p in &self.program.info().target_queries {
            if p.prefix != PathPrefix::Event {
                continue;
            }
            match p.path.segments.first() {
                Some(OwnedSegment::Field(name)) => names.push(name.to_string()),
                _ => return None,
            }
        }
        names.sort();
        names.dedup();
        Some(names)
    }

    /// Compiles `expr` read-only (assigning to `.` or `%` is a compile error) and refuses an
    /// expression whose type cannot be boolean.
    pub fn compile(
        expr: &str,
        input: Option<(&Codec, NodeId)>,
        env: &ProgramEnv,
    ) -> Result<Condition, Vec<Diagnostic>> {
        let state = env.type_state(input);
        let mut config = CompileConfig::default();
        config.set_read_only();
        let result = compile_with_state(expr, &env.functions, &state, config)
            .map_err(|list| diagnostics(expr, &list))?;
        let kind = result.program.final_type_info().result.kind().clone();
        if !kind.contains_boolean() {
            return Err(vec![Diagnostic::at_start(format!(
                "a route condition must be a boolean expression, but this one gives {}",
                describe_kind(&kind)
            ))]);
        }
        Ok(Condition {
            program: result.program,
            source: Arc::from(expr),
            timezone: env.timezone,
            simple: input
                .and_then(|(codec, node)| super::simple::Simple::recognise(expr, codec, node)),
        })
    }

    /// Whether the condition has a simple form evaluated on the Avro value
    /// ([`Self::matches_value`]).
    pub fn is_simple(&self) -> bool {
        self.simple.is_some()
    }

    /// Evaluates a simple condition on the decoded event (a value of the schema it was
    /// compiled against) without VRL; `None` when VRL must decide ([`Self::matches`]).
    pub fn matches_value(&self, event: &weft_schema::codec::Value) -> Option<bool> {
        self.simple.as_ref()?.eval(event)
    }

    /// Evaluates the condition on a borrowed event and metadata.
    pub fn matches(&self, event: &VrlValue, metadata: &VrlValue) -> Result<bool, ProgramError> {
        let mut target = ReadOnlyTarget { event, metadata };
        match resolve(&self.program, &mut target, &self.timezone)? {
            Ok(VrlValue::Boolean(b))
            | Err(ExpressionError::Return {
                value: VrlValue::Boolean(b),
                ..
            }) => Ok(b),
            Ok(other) | Err(ExpressionError::Return { value: other, .. }) => {
                Err(ProgramError::new(format!(
                    "the route condition gave {}, not a boolean",
                    crate::vrl_value::describe(&other)
                )))
            }
            Err(ExpressionError::Abort { .. }) => {
                Err(ProgramError::new("the route condition aborted"))
            }
            Err(e) => Err(ProgramError::new(locate(&self.source, &e.to_string()))),
        }
    }
}

/// A target over borrowed values that refuses changes (conditions are compiled read-only,
/// so VRL never asks).
#[derive(Debug)]
struct ReadOnlyTarget<'a> {
    event: &'a VrlValue,
    metadata: &'a VrlValue,
}

const READ_ONLY: &str = "a route condition cannot change the event or its metadata";

impl Target for ReadOnlyTarget<'_> {
    fn target_insert(&mut self, _path: &OwnedTargetPath, _value: VrlValue) -> Result<(), String> {
        Err(READ_ONLY.to_string())
    }

    fn target_get(&self, path: &OwnedTargetPath) -> Result<Option<&VrlValue>, String> {
        Ok(match path.prefix {
            PathPrefix::Event => self.event.get(&path.path),
            PathPrefix::Metadata => self.metadata.get(&path.path),
        })
    }

    fn target_get_mut(&mut self, _path: &OwnedTargetPath) -> Result<Option<&mut VrlValue>, String> {
        Err(READ_ONLY.to_string())
    }

    fn target_remove(
        &mut self,
        _path: &OwnedTargetPath,
        _compact: bool,
    ) -> Result<Option<VrlValue>, String> {
        Err(READ_ONLY.to_string())
    }
}

impl SecretTarget for ReadOnlyTarget<'_> {
    fn get_secret(&self, _key: &str) -> Option<&str> {
        None
    }

    fn insert_secret(&mut self, _key: &str, _value: &str) {}

    fn remove_secret(&mut self, _key: &str) {}
}
