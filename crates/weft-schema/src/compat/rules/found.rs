//! What the walk finds and how it is worded: the incompatibility found below a node, located
//! relative to it, and its sentence in Avro Java's and Confluent's terms.

use apache_avro::schema::{InnerDecimalSchema, UuidSchema};
use apache_avro::Schema;

use super::super::{Incompatibility, IncompatibilityKind};
use super::Labels;

/// A human description of a (resolved) schema: `long (timestamp-millis)`, `record a.B`.
pub(super) fn describe(schema: &Schema) -> String {
    match schema {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int => "int".into(),
        Schema::Long => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes => "bytes".into(),
        Schema::String => "string".into(),
        Schema::Date => "int (date)".into(),
        Schema::TimeMillis => "int (time-millis)".into(),
        Schema::TimeMicros => "long (time-micros)".into(),
        Schema::TimestampMillis => "long (timestamp-millis)".into(),
        Schema::TimestampMicros => "long (timestamp-micros)".into(),
        Schema::TimestampNanos => "long (timestamp-nanos)".into(),
        Schema::LocalTimestampMillis => "long (local-timestamp-millis)".into(),
        Schema::LocalTimestampMicros => "long (local-timestamp-micros)".into(),
        Schema::LocalTimestampNanos => "long (local-timestamp-nanos)".into(),
        Schema::BigDecimal => "bytes (big-decimal)".into(),
        Schema::Uuid(UuidSchema::String) => "string (uuid)".into(),
        Schema::Uuid(UuidSchema::Bytes) => "bytes (uuid)".into(),
        Schema::Uuid(UuidSchema::Fixed(fixed)) => {
            format!("fixed {} ({} bytes, uuid)", fixed.name, fixed.size)
        }
        Schema::Duration(fixed) => {
            format!("fixed {} ({} bytes, duration)", fixed.name, fixed.size)
        }
        Schema::Decimal(decimal) => match &decimal.inner {
            InnerDecimalSchema::Bytes => {
                format!("bytes (decimal({}, {}))", decimal.precision, decimal.scale)
            }
            InnerDecimalSchema::Fixed(fixed) => format!(
                "fixed {} ({} bytes, decimal({}, {}))",
                fixed.name, fixed.size, decimal.precision, decimal.scale
            ),
        },
        Schema::Array(array) => format!("array of {}", describe_short(&array.items)),
        Schema::Map(map) => format!("map of {}", describe_short(&map.types)),
        Schema::Union(union) => {
            let branches: Vec<String> = union.variants().iter().map(describe_short).collect();
            format!("union [{}]", branches.join(", "))
        }
        Schema::Record(record) => format!("record {}", record.name),
        Schema::Enum(enumeration) => format!("enum {}", enumeration.name),
        Schema::Fixed(fixed) => format!("fixed {} ({} bytes)", fixed.name, fixed.size),
        Schema::Ref { name } => name.to_string(),
    }
}

/// Like [`describe`] without looking inside complex types.
pub(super) fn describe_short(schema: &Schema) -> String {
    match schema {
        Schema::Array(_) => "array".into(),
        Schema::Map(_) => "map".into(),
        Schema::Union(_) => "union".into(),
        Schema::Ref { name } => name.to_string(),
        other => other
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|| describe(other)),
    }
}

/// An incompatibility found below some node, located relative to it.
#[derive(Debug, Clone)]
pub(super) struct Found {
    /// JSON-pointer tokens from the node.
    path: Vec<String>,
    /// Reader field names from the node (`[]` array items, `{}` map values).
    field: Vec<String>,
    detail: Detail,
}

#[derive(Debug, Clone)]
pub(super) enum Detail {
    MissingDefault {
        field: String,
    },
    Type {
        reader: String,
        writer: String,
        reader_type: &'static str,
        writer_type: &'static str,
    },
    Name {
        what: &'static str,
        reader: String,
        writer: String,
    },
    Size {
        name: String,
        reader: usize,
        writer: usize,
    },
    Symbols {
        name: String,
        missing: Vec<String>,
    },
    Union {
        /// The writer's type that no reader branch reads.
        writer: String,
        writer_type: &'static str,
        /// Its position when it is a branch of the writer's own union.
        writer_branch: Option<usize>,
        /// Why the reader's branch of the same kind cannot read it, if the union has one.
        cause: Option<Box<Found>>,
    },
}

impl Detail {
    pub(super) fn kind(&self) -> IncompatibilityKind {
        match self {
            Self::MissingDefault { .. } => IncompatibilityKind::ReaderFieldMissingDefaultValue,
            Self::Type { .. } => IncompatibilityKind::TypeMismatch,
            Self::Name { .. } => IncompatibilityKind::NameMismatch,
            Self::Size { .. } => IncompatibilityKind::FixedSizeMismatch,
            Self::Symbols { .. } => IncompatibilityKind::MissingEnumSymbols,
            Self::Union { .. } => IncompatibilityKind::MissingUnionBranch,
        }
    }

    /// Avro Java's `Incompatibility.getMessage()`, Confluent's `additionalInfo`.
    pub(super) fn additional_info(&self) -> String {
        match self {
            Self::MissingDefault { field } => field.clone(),
            Self::Type {
                reader_type,
                writer_type,
                ..
            } => {
                format!("reader type: {reader_type} not compatible with writer type: {writer_type}")
            }
            Self::Name { writer, .. } => format!("expected: {writer}"),
            Self::Size { reader, writer, .. } => format!("expected: {writer}, found: {reader}"),
            Self::Symbols { missing, .. } => format!("[{}]", missing.join(", ")),
            Self::Union { writer_type, .. } => {
                format!("reader union lacking writer type: {writer_type}")
            }
        }
    }
}

impl Found {
    pub(super) fn here(detail: Detail) -> Self {
        Self {
            path: Vec::new(),
            field: Vec::new(),
            detail,
        }
    }

    /// Locates this below `path` and (when given) the reader field `field`.
    pub(super) fn under(mut self, path: &[&str], field: Option<&str>) -> Self {
        self.path
            .splice(0..0, path.iter().map(|t| (*t).to_string()));
        if let Some(field) = field {
            self.field.insert(0, field.to_string());
        }
        self
    }

    pub(super) fn render(self, labels: Labels) -> Incompatibility {
        let path = json_pointer(&self.path);
        let field = dotted(&self.field);
        let kind = self.detail.kind();
        let additional_info = self.detail.additional_info();
        let description = confluent_description(kind, &path, &additional_info, labels);
        let message = sentence(&self.detail, &self.field, labels);
        Incompatibility {
            kind,
            path,
            field,
            message,
            description,
            additional_info,
            version: None,
        }
    }
}

pub(super) fn json_pointer(tokens: &[String]) -> String {
    let escaped: Vec<String> = tokens
        .iter()
        .map(|t| t.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("/{}", escaped.join("/"))
}

pub(super) fn dotted(field: &[String]) -> Option<String> {
    let mut out = String::new();
    for segment in field {
        if !out.is_empty() && segment != "[]" && segment != "{}" {
            out.push('.');
        }
        out.push_str(segment);
    }
    (!out.is_empty()).then_some(out)
}

/// Confluent's `description` text (`io.confluent.kafka.schemaregistry.avro.Difference`).
pub(super) fn confluent_description(
    kind: IncompatibilityKind,
    path: &str,
    info: &str,
    Labels { reader, writer }: Labels,
) -> String {
    match kind {
        IncompatibilityKind::FixedSizeMismatch => format!(
            "The size of FIXED type field at path '{path}' in the {reader} schema does not match \
             with the {writer} schema"
        ),
        IncompatibilityKind::TypeMismatch => format!(
            "The type (path '{path}') of a field in the {reader} schema does not match with the \
             {writer} schema"
        ),
        IncompatibilityKind::NameMismatch => {
            format!("The name of the schema has changed (path '{path}')")
        }
        IncompatibilityKind::MissingEnumSymbols => format!(
            "The {reader} schema is missing enum symbols '{info}' at path '{path}' in the \
             {writer} schema"
        ),
        IncompatibilityKind::MissingUnionBranch => format!(
            "The {reader} schema is missing a type inside a union field at path '{path}' in the \
             {writer} schema"
        ),
        IncompatibilityKind::ReaderFieldMissingDefaultValue => format!(
            "The field '{info}' at path '{path}' in the {reader} schema has no default value and \
             is missing in the {writer} schema"
        ),
    }
}

/// Our own sentence: the field, what each side has, the rule.
pub(super) fn sentence(detail: &Detail, field: &[String], labels: Labels) -> String {
    let Labels { reader, writer } = labels;
    let subject = match dotted(field) {
        Some(f) => format!("Field '{f}'"),
        None => "The root schema".to_string(),
    };
    let rule = detail.kind();
    match detail {
        Detail::MissingDefault { .. } => format!(
            "{subject} has no default value in the {reader} schema and is missing in the \
             {writer} schema, so a {reader}-schema reader has no value for it ({rule})"
        ),
        Detail::Type {
            reader: r,
            writer: w,
            ..
        } => format!(
            "{subject} is {r} in the {reader} schema, which cannot read the {w} the {writer} \
             schema writes: neither the same type nor an allowed promotion ({rule})"
        ),
        Detail::Name {
            what,
            reader: r,
            writer: w,
        } => format!(
            "{subject} is {what} {r} in the {reader} schema and {what} {w} in the {writer} \
             schema, and {r} has no alias {w} ({rule})"
        ),
        Detail::Size {
            name,
            reader: r,
            writer: w,
        } => format!(
            "{subject} is fixed {name} of {r} bytes in the {reader} schema and {w} bytes in the \
             {writer} schema ({rule})"
        ),
        Detail::Symbols { name, missing } => format!(
            "{subject} is enum {name}, which in the {reader} schema lacks the {writer} schema's \
             symbol{} {} and has no default symbol ({rule})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ),
        Detail::Union {
            writer: w,
            writer_branch,
            cause,
            ..
        } => {
            let what = match writer_branch {
                Some(i) => format!("the {w} of branch {i} of the {writer} schema's union"),
                None => format!("the {w} the {writer} schema writes"),
            };
            let mut out = format!(
                "{subject}: no branch of the {reader} schema's union can read {what} ({rule})"
            );
            if let Some(cause) = cause {
                let mut inner = field.to_vec();
                inner.extend(cause.field.iter().cloned());
                out.push_str(&format!(
                    "; the branch of the same kind fails: {}",
                    sentence(&cause.detail, &inner, labels)
                ));
            }
            out
        }
    }
}
