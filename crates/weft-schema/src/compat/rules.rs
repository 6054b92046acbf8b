//! The reader/writer walk behind [`super::can_read`]: Avro's schema-resolution rules, with the
//! locations and wording Avro Java and Confluent use.

use std::collections::{HashMap, HashSet};

use apache_avro::schema::{
    Alias, DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, Name, RecordSchema,
    UuidSchema,
};
use apache_avro::Schema;

use super::{Incompatibility, IncompatibilityKind, SchemaSet};

/// At most this many incompatibilities are kept per compared pair (and so per answer): enough to
/// fix a schema, and a bound on the work a hostile schema (a named type reused everywhere) can
/// cause.
const MAX_INCOMPATIBILITIES: usize = 100;

/// What the messages call the reader's and the writer's schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Labels {
    reader: &'static str,
    writer: &'static str,
}

impl Labels {
    pub(crate) const READER_WRITER: Self = Self {
        reader: "reader",
        writer: "writer",
    };
    /// BACKWARD: the new schema reads what the old one wrote.
    pub(crate) const NEW_OLD: Self = Self {
        reader: "new",
        writer: "old",
    };
    /// FORWARD: the old schema reads what the new one writes.
    pub(crate) const OLD_NEW: Self = Self {
        reader: "old",
        writer: "new",
    };
}

pub(crate) fn can_read(
    writer: &SchemaSet,
    reader: &SchemaSet,
    labels: Labels,
) -> Vec<Incompatibility> {
    let mut walker = Walker {
        writer: Names::of(writer),
        reader: Names::of(reader),
        in_progress: HashSet::new(),
        done: HashMap::new(),
    };
    walker
        .walk(writer.root(), reader.root())
        .into_iter()
        .map(|found| found.render(labels))
        .collect()
}

/// The named types (records, enums, fixed) of one side, by full name and by alias.
struct Names<'a> {
    by_name: HashMap<String, &'a Schema>,
}

impl<'a> Names<'a> {
    fn of(set: &'a SchemaSet) -> Self {
        let mut definitions = Vec::new();
        collect_definitions(set.root(), &mut definitions);
        for schema in set.referenced() {
            collect_definitions(schema, &mut definitions);
        }
        let mut by_name = HashMap::new();
        for schema in &definitions {
            if let Some(name) = schema.name() {
                by_name.entry(name.fullname(None)).or_insert(*schema);
            }
        }
        // An alias never hides a real name.
        for schema in &definitions {
            let namespace = schema.namespace();
            for alias in schema.aliases().into_iter().flatten() {
                by_name
                    .entry(alias_fullname(alias, namespace))
                    .or_insert(*schema);
            }
        }
        Self { by_name }
    }

    /// The definition a `Schema::Ref` names; any other schema as it is.
    fn resolve(&self, schema: &'a Schema) -> &'a Schema {
        match schema {
            Schema::Ref { name } => self
                .by_name
                .get(&name.fullname(None))
                .copied()
                .unwrap_or(schema),
            _ => schema,
        }
    }
}

fn collect_definitions<'a>(schema: &'a Schema, out: &mut Vec<&'a Schema>) {
    match schema {
        Schema::Record(record) => {
            out.push(schema);
            for field in &record.fields {
                collect_definitions(&field.schema, out);
            }
        }
        Schema::Array(array) => collect_definitions(&array.items, out),
        Schema::Map(map) => collect_definitions(&map.types, out),
        Schema::Union(union) => {
            for variant in union.variants() {
                collect_definitions(variant, out);
            }
        }
        Schema::Ref { .. } => {}
        other if other.name().is_some() => out.push(other),
        _ => {}
    }
}

fn alias_fullname(alias: &Alias, namespace: Option<&str>) -> String {
    alias.fully_qualified_name(namespace).fullname(None)
}

/// A schema reduced to what resolution looks at: logical types become their underlying type.
#[derive(Clone, Copy)]
enum Node<'a> {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(&'a Schema),
    Map(&'a Schema),
    Union(&'a [Schema]),
    Record(&'a RecordSchema),
    Enum(&'a EnumSchema),
    Fixed(&'a FixedSchema),
    /// A name no schema of the set defines (only for sets built from parsed schemas).
    Unresolved(&'a Name),
}

impl<'a> Node<'a> {
    fn of(schema: &'a Schema) -> Self {
        match schema {
            Schema::Null => Self::Null,
            Schema::Boolean => Self::Boolean,
            Schema::Int | Schema::Date | Schema::TimeMillis => Self::Int,
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Self::Long,
            Schema::Float => Self::Float,
            Schema::Double => Self::Double,
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::Bytes)
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => Self::Bytes,
            Schema::String | Schema::Uuid(UuidSchema::String) => Self::String,
            Schema::Array(array) => Self::Array(&array.items),
            Schema::Map(map) => Self::Map(&map.types),
            Schema::Union(union) => Self::Union(union.variants()),
            Schema::Record(record) => Self::Record(record),
            Schema::Enum(enumeration) => Self::Enum(enumeration),
            Schema::Fixed(fixed)
            | Schema::Uuid(UuidSchema::Fixed(fixed))
            | Schema::Duration(fixed)
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(fixed),
                ..
            }) => Self::Fixed(fixed),
            Schema::Ref { name } => Self::Unresolved(name),
        }
    }

    /// Avro Java's `Schema.Type` name, which Confluent's `additionalInfo` quotes.
    fn type_name(self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::Boolean => "BOOLEAN",
            Self::Int => "INT",
            Self::Long => "LONG",
            Self::Float => "FLOAT",
            Self::Double => "DOUBLE",
            Self::Bytes => "BYTES",
            Self::String => "STRING",
            Self::Array(_) => "ARRAY",
            Self::Map(_) => "MAP",
            Self::Union(_) => "UNION",
            Self::Record(_) => "RECORD",
            Self::Enum(_) => "ENUM",
            Self::Fixed(_) => "FIXED",
            Self::Unresolved(_) => "NAMED",
        }
    }

    /// The unqualified name of a named type.
    fn short_name(self) -> Option<&'a str> {
        match self {
            Self::Record(r) => Some(r.name.name()),
            Self::Enum(e) => Some(e.name.name()),
            Self::Fixed(f) => Some(f.name.name()),
            Self::Unresolved(n) => Some(n.name()),
            _ => None,
        }
    }
}

/// A human description of a (resolved) schema: `long (timestamp-millis)`, `record a.B`.
fn describe(schema: &Schema) -> String {
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
fn describe_short(schema: &Schema) -> String {
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
struct Found {
    /// JSON-pointer tokens from the node.
    path: Vec<String>,
    /// Reader field names from the node (`[]` array items, `{}` map values).
    field: Vec<String>,
    detail: Detail,
}

#[derive(Debug, Clone)]
enum Detail {
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
    fn kind(&self) -> IncompatibilityKind {
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
    fn additional_info(&self) -> String {
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
    fn here(detail: Detail) -> Self {
        Self {
            path: Vec::new(),
            field: Vec::new(),
            detail,
        }
    }

    /// Locates this below `path` and (when given) the reader field `field`.
    fn under(mut self, path: &[&str], field: Option<&str>) -> Self {
        self.path
            .splice(0..0, path.iter().map(|t| (*t).to_string()));
        if let Some(field) = field {
            self.field.insert(0, field.to_string());
        }
        self
    }

    fn render(self, labels: Labels) -> Incompatibility {
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

fn json_pointer(tokens: &[String]) -> String {
    let escaped: Vec<String> = tokens
        .iter()
        .map(|t| t.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("/{}", escaped.join("/"))
}

fn dotted(field: &[String]) -> Option<String> {
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
fn confluent_description(
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
fn sentence(detail: &Detail, field: &[String], labels: Labels) -> String {
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

struct Walker<'a> {
    writer: Names<'a>,
    reader: Names<'a>,
    /// Record pairs being compared (by full name): met again below themselves, they count as
    /// compatible, which ends recursion.
    in_progress: HashSet<(String, String)>,
    /// Record pairs compared already, with what was found (relative to the record).
    done: HashMap<(String, String), Vec<Found>>,
}

impl<'a> Walker<'a> {
    fn walk(&mut self, writer: &'a Schema, reader: &'a Schema) -> Vec<Found> {
        let writer = self.writer.resolve(writer);
        let reader = self.reader.resolve(reader);
        let mut found = match (Node::of(writer), Node::of(reader)) {
            (Node::Union(writer_branches), Node::Union(reader_branches)) => {
                let mut found = Vec::new();
                for (i, branch) in writer_branches.iter().enumerate() {
                    if let Some(missing) = self.union_lacks(branch, Some(i), reader_branches) {
                        found.push(missing.under(&[i.to_string().as_str()], None));
                    }
                }
                found
            }
            (Node::Union(writer_branches), _) => {
                let mut found = Vec::new();
                for branch in writer_branches {
                    found.extend(self.walk(branch, reader));
                }
                found
            }
            (_, Node::Union(reader_branches)) => self
                .union_lacks(writer, None, reader_branches)
                .into_iter()
                .collect(),
            (Node::Null, Node::Null)
            | (Node::Boolean, Node::Boolean)
            | (Node::Int, Node::Int | Node::Long | Node::Float | Node::Double)
            | (Node::Long, Node::Long | Node::Float | Node::Double)
            | (Node::Float, Node::Float | Node::Double)
            | (Node::Double, Node::Double)
            | (Node::Bytes | Node::String, Node::Bytes | Node::String) => Vec::new(),
            (Node::Array(w), Node::Array(r)) => self
                .walk(w, r)
                .into_iter()
                .map(|f| f.under(&["items"], Some("[]")))
                .collect(),
            (Node::Map(w), Node::Map(r)) => self
                .walk(w, r)
                .into_iter()
                .map(|f| f.under(&["values"], Some("{}")))
                .collect(),
            (Node::Fixed(w), Node::Fixed(r)) => {
                let mut found: Vec<Found> =
                    name_check("fixed", &w.name, &r.name, r.aliases.as_ref())
                        .into_iter()
                        .collect();
                if w.size != r.size {
                    found.push(
                        Found::here(Detail::Size {
                            name: r.name.to_string(),
                            reader: r.size,
                            writer: w.size,
                        })
                        .under(&["size"], None),
                    );
                }
                found
            }
            (Node::Enum(w), Node::Enum(r)) => {
                let mut found: Vec<Found> =
                    name_check("enum", &w.name, &r.name, r.aliases.as_ref())
                        .into_iter()
                        .collect();
                let mut missing: Vec<String> = w
                    .symbols
                    .iter()
                    .filter(|s| !r.symbols.contains(s))
                    .cloned()
                    .collect();
                missing.sort();
                missing.dedup();
                let has_default = r.default.as_ref().is_some_and(|d| r.symbols.contains(d));
                if !missing.is_empty() && !has_default {
                    found.push(
                        Found::here(Detail::Symbols {
                            name: r.name.to_string(),
                            missing,
                        })
                        .under(&["symbols"], None),
                    );
                }
                found
            }
            (Node::Record(w), Node::Record(r)) => self.records(w, r),
            (Node::Unresolved(w), Node::Unresolved(r)) if w == r => Vec::new(),
            (w, r) => vec![Found::here(Detail::Type {
                reader: describe(reader),
                writer: describe(writer),
                reader_type: r.type_name(),
                writer_type: w.type_name(),
            })],
        };
        found.truncate(MAX_INCOMPATIBILITIES);
        found
    }

    /// `None` when some branch of the reader's union reads `writer` (a non-union type);
    /// otherwise the `MISSING_UNION_BRANCH` incompatibility, with the reason the branch of the
    /// same kind (same name first) fails, if there is one.
    fn union_lacks(
        &mut self,
        writer: &'a Schema,
        writer_branch: Option<usize>,
        reader_branches: &'a [Schema],
    ) -> Option<Found> {
        let resolved = self.writer.resolve(writer);
        let writer_node = Node::of(resolved);
        let mut same_name = None;
        let mut same_kind = None;
        for branch in reader_branches {
            let found = self.walk(writer, branch);
            if found.is_empty() {
                return None;
            }
            let branch_node = Node::of(self.reader.resolve(branch));
            if std::mem::discriminant(&branch_node) == std::mem::discriminant(&writer_node) {
                if same_name.is_none()
                    && branch_node.short_name().is_some()
                    && branch_node.short_name() == writer_node.short_name()
                {
                    same_name = found.first().cloned();
                }
                if same_kind.is_none() {
                    same_kind = found.into_iter().next();
                }
            }
        }
        Some(Found::here(Detail::Union {
            writer: describe(resolved),
            writer_type: writer_node.type_name(),
            writer_branch,
            cause: same_name.or(same_kind).map(Box::new),
        }))
    }

    fn records(&mut self, writer: &'a RecordSchema, reader: &'a RecordSchema) -> Vec<Found> {
        let key = (writer.name.fullname(None), reader.name.fullname(None));
        if let Some(found) = self.done.get(&key) {
            return found.clone();
        }
        if !self.in_progress.insert(key.clone()) {
            return Vec::new();
        }
        let mut found: Vec<Found> = name_check(
            "record",
            &writer.name,
            &reader.name,
            reader.aliases.as_ref(),
        )
        .into_iter()
        .collect();
        for (position, reader_field) in reader.fields.iter().enumerate() {
            let position = position.to_string();
            let writer_field = writer
                .fields
                .iter()
                .find(|f| f.name == reader_field.name)
                .or_else(|| {
                    reader_field
                        .aliases
                        .iter()
                        .find_map(|alias| writer.fields.iter().find(|f| &f.name == alias))
                });
            match writer_field {
                Some(writer_field) => {
                    let below = self.walk(&writer_field.schema, &reader_field.schema);
                    found.extend(below.into_iter().map(|f| {
                        f.under(
                            &["fields", position.as_str(), "type"],
                            Some(&reader_field.name),
                        )
                    }));
                }
                None if reader_field.default.is_none() => found.push(
                    Found::here(Detail::MissingDefault {
                        field: reader_field.name.clone(),
                    })
                    .under(&["fields", position.as_str()], Some(&reader_field.name)),
                ),
                None => {}
            }
        }
        found.truncate(MAX_INCOMPATIBILITIES);
        self.in_progress.remove(&key);
        self.done.insert(key, found.clone());
        found
    }
}

/// Avro Java's rule: the unqualified names are equal, or a reader alias is the writer's full
/// name.
fn name_check(
    what: &'static str,
    writer: &Name,
    reader: &Name,
    reader_aliases: Option<&Vec<Alias>>,
) -> Option<Found> {
    let writer_full = writer.fullname(None);
    let aliased = reader_aliases.is_some_and(|aliases| {
        aliases
            .iter()
            .any(|alias| alias_fullname(alias, reader.namespace()) == writer_full)
    });
    if writer.name() == reader.name() || aliased {
        return None;
    }
    Some(
        Found::here(Detail::Name {
            what,
            reader: reader.fullname(None),
            writer: writer_full,
        })
        .under(&["name"], None),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{can_read as check_read, SchemaSet};
    use super::*;

    fn set(text: &str) -> SchemaSet {
        SchemaSet::parse(text).expect("valid schema")
    }

    /// What a reader of `reader` finds wrong with data written as `writer`: (kind, path, field).
    fn problems(writer: &str, reader: &str) -> Vec<(IncompatibilityKind, String, Option<String>)> {
        check_read(&set(writer), &set(reader))
            .into_iter()
            .map(|i| (i.kind, i.path, i.field))
            .collect()
    }

    fn record(fields: &str) -> String {
        format!(r#"{{"type":"record","name":"R","namespace":"t","fields":[{fields}]}}"#)
    }

    use IncompatibilityKind::*;

    fn one(
        kind: IncompatibilityKind,
        path: &str,
        field: Option<&str>,
    ) -> Vec<(IncompatibilityKind, String, Option<String>)> {
        vec![(kind, path.to_string(), field.map(str::to_string))]
    }

    #[test]
    fn identical_schemas_are_compatible() {
        let s = record(r#"{"name":"a","type":"int"},{"name":"b","type":["null","string"]}"#);
        assert!(problems(&s, &s).is_empty());
    }

    #[test]
    fn reader_field_missing_in_writer_needs_a_default() {
        let w = record(r#"{"name":"a","type":"int"}"#);
        let with_default =
            record(r#"{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}"#);
        let without = record(r#"{"name":"a","type":"int"},{"name":"b","type":"string"}"#);
        let null_default = record(
            r#"{"name":"a","type":"int"},{"name":"b","type":["null","string"],"default":null}"#,
        );
        assert!(problems(&w, &with_default).is_empty());
        assert!(problems(&w, &null_default).is_empty());
        assert_eq!(
            problems(&w, &without),
            one(ReaderFieldMissingDefaultValue, "/fields/1", Some("b"))
        );
        // Writer fields the reader lacks are skipped.
        assert!(problems(&without, &w).is_empty());
    }

    #[test]
    fn fields_match_by_reader_alias() {
        let w = record(r#"{"name":"old","type":"int"}"#);
        let r = record(r#"{"name":"new","aliases":["old"],"type":"long"}"#);
        assert!(problems(&w, &r).is_empty());
        let wrong_type = record(r#"{"name":"new","aliases":["old"],"type":"string"}"#);
        assert_eq!(
            problems(&w, &wrong_type),
            one(TypeMismatch, "/fields/0/type", Some("new"))
        );
        // A writer alias does not help.
        let w_alias = record(r#"{"name":"old","aliases":["new"],"type":"int"}"#);
        let r_plain = record(r#"{"name":"new","type":"int"}"#);
        assert_eq!(
            problems(&w_alias, &r_plain),
            one(ReaderFieldMissingDefaultValue, "/fields/0", Some("new"))
        );
    }

    #[test]
    fn promotions_go_one_way() {
        let allowed = [
            ("int", "long"),
            ("int", "float"),
            ("int", "double"),
            ("long", "float"),
            ("long", "double"),
            ("float", "double"),
            ("string", "bytes"),
            ("bytes", "string"),
        ];
        for (w, r) in allowed {
            assert!(
                problems(&format!("\"{w}\""), &format!("\"{r}\"")).is_empty(),
                "{w}->{r}"
            );
        }
        let refused = [
            ("long", "int"),
            ("double", "float"),
            ("float", "long"),
            ("int", "string"),
            ("boolean", "int"),
            ("null", "string"),
        ];
        for (w, r) in refused {
            assert_eq!(
                problems(&format!("\"{w}\""), &format!("\"{r}\"")),
                one(TypeMismatch, "/", None),
                "{w}->{r}"
            );
        }
        let found = check_read(&set(r#""long""#), &set(r#""int""#));
        assert_eq!(
            found[0].additional_info,
            "reader type: INT not compatible with writer type: LONG"
        );
    }

    #[test]
    fn enums_need_every_writer_symbol_or_a_reader_default() {
        let abc = r#"{"type":"enum","name":"E","symbols":["A","B","C"]}"#;
        let ab = r#"{"type":"enum","name":"E","symbols":["A","B"]}"#;
        let ab_default = r#"{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}"#;
        assert!(problems(ab, abc).is_empty());
        assert!(problems(abc, ab_default).is_empty());
        assert_eq!(problems(abc, ab), one(MissingEnumSymbols, "/symbols", None));
        let found = check_read(&set(abc), &set(ab));
        assert_eq!(found[0].additional_info, "[C]");
        let renamed = r#"{"type":"enum","name":"F","symbols":["A","B","C"]}"#;
        assert_eq!(problems(abc, renamed), one(NameMismatch, "/name", None));
    }

    #[test]
    fn fixed_needs_same_size_and_name() {
        let f16 = r#"{"type":"fixed","name":"H","size":16}"#;
        let f32 = r#"{"type":"fixed","name":"H","size":32}"#;
        let g16 = r#"{"type":"fixed","name":"G","size":16}"#;
        let g16_alias = r#"{"type":"fixed","name":"G","aliases":["H"],"size":16}"#;
        assert_eq!(problems(f16, f32), one(FixedSizeMismatch, "/size", None));
        assert_eq!(
            check_read(&set(f16), &set(f32))[0].additional_info,
            "expected: 16, found: 32"
        );
        assert_eq!(problems(f16, g16), one(NameMismatch, "/name", None));
        assert!(problems(f16, g16_alias).is_empty());
    }

    #[test]
    fn records_match_by_unqualified_name_or_reader_alias() {
        let w = r#"{"type":"record","name":"Old","namespace":"a","fields":[]}"#;
        let other_ns = r#"{"type":"record","name":"Old","namespace":"b","fields":[]}"#;
        let renamed = r#"{"type":"record","name":"New","namespace":"a","fields":[]}"#;
        let aliased =
            r#"{"type":"record","name":"New","namespace":"a","aliases":["Old"],"fields":[]}"#;
        let aliased_full =
            r#"{"type":"record","name":"New","namespace":"b","aliases":["a.Old"],"fields":[]}"#;
        let aliased_wrong_ns =
            r#"{"type":"record","name":"New","namespace":"b","aliases":["Old"],"fields":[]}"#;
        assert!(problems(w, other_ns).is_empty());
        assert!(problems(w, aliased).is_empty());
        assert!(problems(w, aliased_full).is_empty());
        assert_eq!(problems(w, renamed), one(NameMismatch, "/name", None));
        assert_eq!(
            problems(w, aliased_wrong_ns),
            one(NameMismatch, "/name", None)
        );
        assert_eq!(
            check_read(&set(w), &set(renamed))[0].additional_info,
            "expected: a.Old"
        );
    }

    #[test]
    fn nested_records_report_the_dotted_field() {
        let w = record(
            r#"{"name":"customer","type":{"type":"record","name":"C","fields":[
                {"name":"name","type":"string"}]}}"#,
        );
        let r = record(
            r#"{"name":"customer","type":{"type":"record","name":"C","fields":[
                {"name":"name","type":"string"},{"name":"email","type":"string"}]}}"#,
        );
        assert_eq!(
            problems(&w, &r),
            one(
                ReaderFieldMissingDefaultValue,
                "/fields/0/type/fields/1",
                Some("customer.email")
            )
        );
        let found = check_read(&set(&w), &set(&r));
        assert!(
            found[0].message.contains("'customer.email'"),
            "{}",
            found[0].message
        );
        assert!(found[0]
            .message
            .contains("READER_FIELD_MISSING_DEFAULT_VALUE"));
    }

    #[test]
    fn arrays_and_maps_compare_items_and_values() {
        let arr = |t: &str| {
            record(&format!(
                r#"{{"name":"xs","type":{{"type":"array","items":"{t}"}}}}"#
            ))
        };
        let map = |t: &str| {
            record(&format!(
                r#"{{"name":"m","type":{{"type":"map","values":"{t}"}}}}"#
            ))
        };
        assert!(problems(&arr("int"), &arr("long")).is_empty());
        assert_eq!(
            problems(&arr("long"), &arr("int")),
            one(TypeMismatch, "/fields/0/type/items", Some("xs[]"))
        );
        assert!(problems(&map("float"), &map("double")).is_empty());
        assert_eq!(
            problems(&map("string"), &map("int")),
            one(TypeMismatch, "/fields/0/type/values", Some("m{}"))
        );
        assert_eq!(
            problems(&arr("int"), &map("int")),
            vec![(
                ReaderFieldMissingDefaultValue,
                "/fields/0".to_string(),
                Some("m".to_string())
            )]
        );
        let arr_as_map = record(r#"{"name":"xs","type":{"type":"map","values":"int"}}"#);
        assert_eq!(
            problems(&arr("int"), &arr_as_map),
            one(TypeMismatch, "/fields/0/type", Some("xs"))
        );
    }

    #[test]
    fn writer_union_needs_every_branch_readable() {
        let w = r#"["null","string","int"]"#;
        let r = r#"["null","string"]"#;
        assert_eq!(problems(w, r), one(MissingUnionBranch, "/2", None));
        let found = check_read(&set(w), &set(r));
        assert_eq!(
            found[0].additional_info,
            "reader union lacking writer type: INT"
        );
        // A wider reader union, and promotion into a branch, are fine.
        assert!(problems(r, w).is_empty());
        assert!(problems(r#"["null","int"]"#, r#"["null","long"]"#).is_empty());
        // A writer union read by a non-union reader: each branch on its own.
        assert_eq!(
            problems(r#"["null","string"]"#, r#""string""#),
            one(TypeMismatch, "/", None)
        );
        assert!(problems(r#"["int","long"]"#, r#""long""#).is_empty());
    }

    #[test]
    fn reader_union_needs_a_branch_for_the_writer() {
        assert!(problems(r#""string""#, r#"["null","string"]"#).is_empty());
        assert!(problems(r#""int""#, r#"["null","double"]"#).is_empty());
        assert_eq!(
            problems(r#""int""#, r#"["null","string"]"#),
            one(MissingUnionBranch, "/", None)
        );
    }

    #[test]
    fn a_union_branch_of_the_same_record_explains_itself() {
        let rec = |fields: &str| {
            record(&format!(
                r#"{{"name":"c","type":["null",{{"type":"record","name":"C","fields":[{fields}]}}],"default":null}}"#
            ))
        };
        let w = rec(r#"{"name":"id","type":"string"}"#);
        let r = rec(r#"{"name":"id","type":"string"},{"name":"n","type":"int"}"#);
        assert_eq!(
            problems(&w, &r),
            one(MissingUnionBranch, "/fields/0/type/1", Some("c"))
        );
        let message = &check_read(&set(&w), &set(&r))[0].message;
        assert!(message.contains("'c.n'"), "{message}");
        assert!(
            message.contains("READER_FIELD_MISSING_DEFAULT_VALUE"),
            "{message}"
        );
    }

    #[test]
    fn recursive_types_terminate_and_are_checked() {
        let list = |t: &str, extra: &str| {
            format!(
                r#"{{"type":"record","name":"Node","fields":[{{"name":"value","type":"{t}"}},
                {{"name":"next","type":["null","Node"],"default":null}}{extra}]}}"#
            )
        };
        assert!(problems(&list("int", ""), &list("long", "")).is_empty());
        assert_eq!(
            problems(&list("long", ""), &list("int", "")),
            one(TypeMismatch, "/fields/0/type", Some("value"))
        );
        assert_eq!(
            problems(
                &list("int", ""),
                &list("int", r#",{"name":"k","type":"string"}"#)
            ),
            one(ReaderFieldMissingDefaultValue, "/fields/2", Some("k"))
        );
        // Mutual recursion through a map.
        let tree = r#"{"type":"record","name":"Tree","fields":[
            {"name":"kids","type":{"type":"map","values":"Tree"}}]}"#;
        assert!(problems(tree, tree).is_empty());
    }

    #[test]
    fn named_types_resolve_wherever_they_are_defined() {
        // Reordered fields: the fixed is defined in the other field on each side.
        let w = r#"{"type":"record","name":"R","fields":[
            {"name":"a","type":{"type":"fixed","name":"F","size":4}},{"name":"b","type":"F"}]}"#;
        let r = r#"{"type":"record","name":"R","fields":[
            {"name":"b","type":{"type":"fixed","name":"F","size":4}},{"name":"a","type":"F"}]}"#;
        assert!(problems(w, r).is_empty());
        let r8 = r#"{"type":"record","name":"R","fields":[
            {"name":"b","type":{"type":"fixed","name":"F","size":8}},{"name":"a","type":"F"}]}"#;
        assert_eq!(
            problems(w, r8),
            vec![
                (
                    FixedSizeMismatch,
                    "/fields/0/type/size".to_string(),
                    Some("b".to_string())
                ),
                (
                    FixedSizeMismatch,
                    "/fields/1/type/size".to_string(),
                    Some("a".to_string())
                ),
            ]
        );
    }

    #[test]
    fn referenced_schemas_are_compared_too() {
        let root = r#"{"type":"record","name":"Customer","namespace":"c","fields":[
            {"name":"address","type":"c.Address"}]}"#;
        let a1 = r#"{"type":"record","name":"Address","namespace":"c","fields":[
            {"name":"city","type":"string"}]}"#;
        let a2 = r#"{"type":"record","name":"Address","namespace":"c","fields":[
            {"name":"city","type":"string"},{"name":"zip","type":"string"}]}"#;
        let w = SchemaSet::parse_with_references(root, [a1]).expect("valid");
        let r = SchemaSet::parse_with_references(root, [a2]).expect("valid");
        let found = check_read(&w, &r);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ReaderFieldMissingDefaultValue);
        assert_eq!(found[0].field.as_deref(), Some("address.zip"));
        assert!(check_read(&r, &w).is_empty());
    }

    #[test]
    fn logical_types_compare_by_their_underlying_type() {
        let ts = r#"{"type":"long","logicalType":"timestamp-millis"}"#;
        let date = r#"{"type":"int","logicalType":"date"}"#;
        let dec52 = r#"{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}"#;
        let dec73 = r#"{"type":"bytes","logicalType":"decimal","precision":7,"scale":3}"#;
        let uuid = r#"{"type":"string","logicalType":"uuid"}"#;
        assert!(problems(r#""long""#, ts).is_empty());
        assert!(problems(ts, r#""long""#).is_empty());
        assert!(problems(date, ts).is_empty());
        assert!(problems(dec52, dec73).is_empty());
        assert!(problems(uuid, r#""string""#).is_empty());
        assert_eq!(problems(ts, date), one(TypeMismatch, "/", None));
        let message = &check_read(&set(ts), &set(date))[0].message;
        assert!(message.contains("long (timestamp-millis)"), "{message}");
        assert!(message.contains("int (date)"), "{message}");
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let w = record(r#"{"name":"a","type":"long"},{"name":"b","type":"string"}"#);
        let r = record(
            r#"{"name":"a","type":"int"},{"name":"b","type":"int"},{"name":"c","type":"int"}"#,
        );
        assert_eq!(problems(&w, &r).len(), 3);
    }

    #[test]
    fn json_pointer_tokens_are_escaped() {
        assert_eq!(json_pointer(&["a/b".into(), "c~d".into()]), "/a~1b/c~0d");
        assert_eq!(json_pointer(&[]), "/");
        assert_eq!(
            dotted(&["xs".into(), "[]".into(), "id".into()]).as_deref(),
            Some("xs[].id")
        );
    }

    #[test]
    fn a_named_type_reused_many_times_stays_cheap() {
        // Ten levels, each holding the next twice: 2^10 paths, 10 record pairs.
        let mut types = Vec::new();
        types.push(
            r#"{"type":"record","name":"L0","fields":[{"name":"v","type":"long"}]}"#.to_string(),
        );
        for i in 1..10 {
            types.push(format!(
                r#"{{"type":"record","name":"L{i}","fields":[{{"name":"a","type":"L{p}"}},{{"name":"b","type":"L{p}"}}]}}"#,
                p = i - 1
            ));
        }
        let root = r#"{"type":"record","name":"Top","fields":[{"name":"x","type":"L9"}]}"#;
        let w = SchemaSet::parse_with_references(root, &types).expect("valid");
        types[0] =
            r#"{"type":"record","name":"L0","fields":[{"name":"v","type":"int"}]}"#.to_string();
        let r = SchemaSet::parse_with_references(root, &types).expect("valid");
        let found = check_read(&w, &r);
        assert_eq!(found.len(), MAX_INCOMPATIBILITIES);
        assert!(found.iter().all(|f| f.kind == TypeMismatch));
    }
}
