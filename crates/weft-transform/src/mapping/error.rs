//! Errors of field mappings: found when a mapping is compiled (every problem is listed), or
//! when a record is mapped (the record goes to the dead-letter topic).

use weft_core::{Classify, ErrorClass, ErrorCode};

/// What went wrong, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingErrorKind {
    /// The mapping does not fit the schemas (found at compile time).
    Invalid,
    /// A value could not be converted to the output type (text that is not a number, a number
    /// out of range, an unknown enum symbol…).
    CastFailed,
    /// A null input (or a null record on the path) for an output field that takes no null
    /// and has no default.
    NullNotAllowed,
    /// An output field with no source and no default (left to run time because a program
    /// follows the mapping).
    MissingField,
    /// The input value does not have the shape of the input schema the mapping was compiled
    /// for (a bug in the caller).
    InputMismatch,
}

impl MappingErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "mapping_invalid",
            Self::CastFailed => "cast_failed",
            Self::NullNotAllowed => "null_not_allowed",
            Self::MissingField => "missing_field",
            Self::InputMismatch => "input_mismatch",
        }
    }

    /// Every code [`code`](Self::code) returns.
    pub const CODES: &'static [&'static str] = &[
        "mapping_invalid",
        "cast_failed",
        "null_not_allowed",
        "missing_field",
        "input_mismatch",
    ];
}

/// A mapping problem: the output field it concerns, the input path it read (when there is
/// one) and a readable line.
///
/// Compile-time messages start with where the problem is in the flow file
/// (`transform.fields.amount: ...`, `transform.drop: ...`) or name the output field
/// (`output field x (a long) has no mapping and ...`); run-time messages start with the input
/// path (`amount_cents: "12x" is not a long`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct MappingError {
    /// The output field (empty when the problem is not about one, e.g. a bad `drop` entry or
    /// an input that is not a record).
    pub field: String,
    /// The input path that was read, when there is one.
    pub input: Option<String>,
    pub message: String,
    pub kind: MappingErrorKind,
}

impl MappingError {
    #[cold]
    pub(crate) fn new(
        kind: MappingErrorKind,
        field: &str,
        input: Option<&str>,
        message: String,
    ) -> Self {
        Self {
            field: field.to_owned(),
            input: input.map(str::to_owned),
            message,
            kind,
        }
    }

    /// A compile-time problem.
    #[cold]
    pub(crate) fn invalid(field: &str, message: String) -> Self {
        Self::new(MappingErrorKind::Invalid, field, None, message)
    }

    /// A short stable code for metrics labels and dead-letter headers: `mapping_invalid`,
    /// `cast_failed`, `null_not_allowed`, `missing_field`, `input_mismatch`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl Classify for MappingError {
    fn class(&self) -> ErrorClass {
        match self.kind {
            MappingErrorKind::Invalid => ErrorClass::Fatal,
            _ => ErrorClass::Permanent,
        }
    }

    fn code(&self) -> ErrorCode {
        match self.kind {
            MappingErrorKind::Invalid => ErrorCode::ConfigInvalid,
            _ => ErrorCode::TransformFailed,
        }
    }
}
