//! The reader/writer walk behind [`super::can_read`]: Avro's schema-resolution rules, with the
//! locations and wording Avro Java and Confluent use.

use std::collections::{HashMap, HashSet};

use apache_avro::schema::{
    Alias, DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, Name, RecordSchema,
    UuidSchema,
};
use apache_avro::Schema;

use super::{Incompatibility, SchemaSet};

mod found;

use found::{describe, Detail, Found};

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
mod tests;
