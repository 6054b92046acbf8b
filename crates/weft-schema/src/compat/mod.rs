//! Avro schema compatibility, as the Confluent Schema Registry decides it.
//!
//! [`can_read`] answers one question: can a reader holding schema `reader` decode every datum
//! written with schema `writer`? It walks both schemas by the Avro specification's "Schema
//! Resolution" rules, the way Avro Java's `SchemaCompatibility` does (Confluent's registry
//! delegates to that class), and returns every incompatibility found, each with Confluent's
//! `errorType`, a JSON-pointer location, the dotted field path and a readable sentence.
//! [`check`] applies a [`CompatibilityLevel`] to a new schema and the previous versions of a
//! subject.
//!
//! # Rules
//! - Records match when their unqualified names are equal or a reader alias equals the writer's
//!   full name (so a namespace change alone is accepted, as in Avro Java and the spec). Reader
//!   fields find their writer field by name, then by the reader field's aliases; a reader field
//!   the writer lacks needs a default; writer fields the reader lacks are skipped.
//! - Promotions: int → long/float/double, long → float/double, float → double, string ↔ bytes.
//! - Enums: same name rule; a writer symbol the reader lacks is an error unless the reader enum
//!   has a default symbol. Fixed: same name rule and equal size.
//! - Arrays by items, maps by values.
//! - Unions: a writer union needs every branch readable by the reader (branch `i` missing →
//!   `MISSING_UNION_BRANCH` at `…/i`); a reader union needs some branch that reads the writer
//!   type (any branch, as Avro Java checks it; for the cases a union can hold this is the branch
//!   resolution picks). A writer union read by a non-union reports each failing branch's own
//!   incompatibility.
//! - Named types are resolved through the [`SchemaSet`]: the root and every schema it references
//!   (Confluent `references`). Recursive types terminate: a (writer, reader) record pair already
//!   being compared counts as compatible, and each pair is compared once and reused.
//! - Logical types are ignored: each schema is compared by its underlying Avro type, as Avro
//!   Java (and so Confluent) does. `timestamp-millis` → `long` is accepted, `int` (`date`) →
//!   `long` (`timestamp-millis`) too, and so is a decimal precision or scale change on the same
//!   bytes/fixed (Confluent accepts it; the data stay decodable, their meaning is the producer's
//!   business).
//!
//! # Why not `apache_avro::schema_compatibility`
//! apache-avro 0.22's `SchemaCompatibility::can_read` was evaluated first. It cannot serve here:
//! it returns the first error only, with no location and no field path beyond nested field
//! names; it ignores reader aliases on named types (a record renamed with an alias is refused
//! with `NameMismatch`); it compares `Schema::Ref`s by name without resolving them, so a
//! referenced type (Confluent `references`) that gained a field without a default is reported
//! fully compatible, and a named type defined at another position in the reader (fields
//! reordered) is refused as a wrong type; a removed enum symbol yields `Ok(Partial)` instead of
//! an error; and it refuses decimal precision/scale changes that Confluent accepts.

mod rules;

use std::fmt;
use std::str::FromStr;

use apache_avro::Schema;
use serde::{Deserialize, Serialize};

/// A subject's compatibility level, with Confluent's names and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    /// The new schema can read data written with the latest previous one (Confluent's default).
    #[default]
    Backward,
    /// The new schema can read data written with every previous one.
    BackwardTransitive,
    /// The latest previous schema can read data written with the new one.
    Forward,
    /// Every previous schema can read data written with the new one.
    ForwardTransitive,
    /// Backward and forward, against the latest previous schema.
    Full,
    /// Backward and forward, against every previous schema.
    FullTransitive,
    /// No check.
    None,
}

impl CompatibilityLevel {
    /// Every level, in Confluent's documentation order.
    pub const ALL: [Self; 7] = [
        Self::Backward,
        Self::BackwardTransitive,
        Self::Forward,
        Self::ForwardTransitive,
        Self::Full,
        Self::FullTransitive,
        Self::None,
    ];

    /// Confluent's spelling: `BACKWARD`, `FULL_TRANSITIVE`, `NONE`…
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
            Self::None => "NONE",
        }
    }

    /// Whether the new schema is checked against every previous version, not only the latest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    /// Whether the new schema must read data written with the previous ones.
    pub fn checks_backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    /// Whether the previous schemas must read data written with the new one.
    pub fn checks_forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A compatibility level name that is none of Confluent's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown compatibility level {0:?}: expected one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, \
     FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE"
)]
pub struct UnknownCompatibilityLevel(pub String);

impl FromStr for CompatibilityLevel {
    type Err = UnknownCompatibilityLevel;

    /// Accepts Confluent's names in any letter case (`BACKWARD`, `full_transitive`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownCompatibilityLevel(s.to_string()))
    }
}

/// Which rule an incompatibility broke: Avro Java's `SchemaIncompatibilityType`, the
/// `errorType` Confluent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncompatibilityKind {
    /// A record, enum or fixed whose name the reader neither has nor lists among its aliases.
    NameMismatch,
    /// Two fixed types of different sizes.
    FixedSizeMismatch,
    /// The writer's enum has symbols the reader's lacks, and the reader has no default symbol.
    MissingEnumSymbols,
    /// A reader field the writer does not have, with no default value.
    ReaderFieldMissingDefaultValue,
    /// Types that are neither equal nor an allowed promotion.
    TypeMismatch,
    /// A writer type (or union branch) that no branch of the reader's union can read.
    MissingUnionBranch,
}

impl IncompatibilityKind {
    /// Confluent's `errorType` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NameMismatch => "NAME_MISMATCH",
            Self::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            Self::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            Self::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            Self::TypeMismatch => "TYPE_MISMATCH",
            Self::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

impl fmt::Display for IncompatibilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One reason a reader cannot read what a writer wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incompatibility {
    pub kind: IncompatibilityKind,
    /// Where, as Avro Java reports it: a JSON pointer built from the reader's field positions
    /// (`/fields/2/type/fields/0`), ending in `/name`, `/size` or `/symbols` for those checks and
    /// in the writer's branch index for a missing union branch. `/` is the root.
    pub path: String,
    /// The dotted path of reader field names (`customer.email`; `lines[]` is an array's items,
    /// `attributes{}` a map's values); `None` at the root.
    pub field: Option<String>,
    /// One readable sentence naming the field, the two schemas and the rule.
    pub message: String,
    /// Confluent's `description` for this incompatibility, word for word.
    pub description: String,
    /// Confluent's `additionalInfo` (the field name, the missing symbols, the two types…).
    pub additional_info: String,
    /// The previous version this was found against, when the caller numbered them
    /// ([`check_versions`]).
    pub version: Option<i32>,
}

impl Incompatibility {
    /// The message Confluent's registry puts in its verbose compatibility answer and its 409
    /// error: `{errorType:'…', description:'…', additionalInfo:'…'}`.
    pub fn confluent_message(&self) -> String {
        format!(
            "{{errorType:'{}', description:'{}', additionalInfo:'{}'}}",
            self.kind, self.description, self.additional_info
        )
    }
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A parsed schema with the schemas it references (Confluent `references`), so named types
/// defined in a referenced schema resolve.
#[derive(Debug, Clone)]
pub struct SchemaSet {
    root: Schema,
    referenced: Vec<Schema>,
}

/// Why a schema (or one it references) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaSetError {
    #[error("invalid Avro schema: {0}")]
    Root(String),
    #[error("invalid referenced Avro schema: {0}")]
    References(String),
}

impl SchemaSet {
    /// Parses a schema text that references no other schema.
    pub fn parse(text: &str) -> Result<Self, SchemaSetError> {
        Self::parse_with_references(text, std::iter::empty::<&str>())
    }

    /// Parses a root schema text and the texts of the named schemas it references (all of them,
    /// transitively, in any order). An error names which side was refused and why.
    pub fn parse_with_references<I, S>(root: &str, references: I) -> Result<Self, SchemaSetError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let references: Vec<S> = references.into_iter().collect();
        if references.is_empty() {
            let root = Schema::parse_str(root).map_err(|e| SchemaSetError::Root(e.to_string()))?;
            return Ok(Self {
                root,
                referenced: Vec::new(),
            });
        }
        // The references alone first, so an error in one is not blamed on the root.
        Schema::parse_list(references.iter().map(AsRef::as_ref))
            .map_err(|e| SchemaSetError::References(e.to_string()))?;
        let (root, referenced) =
            Schema::parse_str_with_list(root, references.iter().map(AsRef::as_ref))
                .map_err(|e| SchemaSetError::Root(e.to_string()))?;
        Ok(Self { root, referenced })
    }

    /// A set from schemas already parsed. Names the walk cannot resolve compare by full name.
    pub fn new(root: Schema, referenced: Vec<Schema>) -> Self {
        Self { root, referenced }
    }

    pub fn root(&self) -> &Schema {
        &self.root
    }

    pub fn referenced(&self) -> &[Schema] {
        &self.referenced
    }
}

impl From<Schema> for SchemaSet {
    fn from(root: Schema) -> Self {
        Self::new(root, Vec::new())
    }
}

/// Every reason a reader holding `reader` cannot decode data written with `writer`; empty when
/// it can. Messages call the two sides "reader" and "writer".
pub fn can_read(writer: &SchemaSet, reader: &SchemaSet) -> Vec<Incompatibility> {
    rules::can_read(writer, reader, rules::Labels::READER_WRITER)
}

/// Checks `new` against the previous versions of a subject (`previous` oldest first, deleted
/// versions already left out) at `level`; empty when compatible. Non-transitive levels look at
/// the last version only. Messages call the two sides "new" and "old", as Confluent does.
pub fn check(
    level: CompatibilityLevel,
    new: &SchemaSet,
    previous: &[SchemaSet],
) -> Vec<Incompatibility> {
    let numbered: Vec<(Option<i32>, &SchemaSet)> = previous.iter().map(|s| (None, s)).collect();
    check_inner(level, new, &numbered)
}

/// [`check`] with the previous versions numbered (oldest first); every incompatibility carries
/// the version it was found against.
pub fn check_versions(
    level: CompatibilityLevel,
    new: &SchemaSet,
    previous: &[(i32, &SchemaSet)],
) -> Vec<Incompatibility> {
    let numbered: Vec<(Option<i32>, &SchemaSet)> =
        previous.iter().map(|(v, s)| (Some(*v), *s)).collect();
    check_inner(level, new, &numbered)
}

/// Like Confluent's registry, the previous versions are tried newest first and the answer is
/// the incompatibilities with the first version that has any (both directions for FULL).
fn check_inner(
    level: CompatibilityLevel,
    new: &SchemaSet,
    previous: &[(Option<i32>, &SchemaSet)],
) -> Vec<Incompatibility> {
    if level == CompatibilityLevel::None {
        return Vec::new();
    }
    let against: &[(Option<i32>, &SchemaSet)] = if level.is_transitive() {
        previous
    } else {
        match previous.split_last() {
            Some((last, _)) => std::slice::from_ref(last),
            None => &[],
        }
    };
    for (version, old) in against.iter().rev() {
        let mut found = Vec::new();
        if level.checks_backward() {
            found.extend(rules::can_read(old, new, rules::Labels::NEW_OLD));
        }
        if level.checks_forward() {
            found.extend(rules::can_read(new, old, rules::Labels::OLD_NEW));
        }
        if !found.is_empty() {
            for incompatibility in &mut found {
                incompatibility.version = *version;
            }
            return found;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> SchemaSet {
        SchemaSet::parse(text).expect("valid schema")
    }

    const V1: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
    const V2_REQUIRED_B: &str = r#"{"type":"record","name":"R","fields":[
        {"name":"a","type":"int"},{"name":"b","type":"string"}]}"#;

    #[test]
    fn level_names_round_trip_in_any_case() {
        for level in CompatibilityLevel::ALL {
            assert_eq!(level.to_string().parse::<CompatibilityLevel>(), Ok(level));
            assert_eq!(
                level
                    .to_string()
                    .to_lowercase()
                    .parse::<CompatibilityLevel>(),
                Ok(level)
            );
            let json = serde_json::to_string(&level).expect("serialises");
            assert_eq!(json, format!("\"{level}\""));
            let back: CompatibilityLevel = serde_json::from_str(&json).expect("deserialises");
            assert_eq!(back, level);
        }
        assert_eq!(CompatibilityLevel::default(), CompatibilityLevel::Backward);
        let err = "SIDEWAYS"
            .parse::<CompatibilityLevel>()
            .expect_err("unknown");
        assert!(err.to_string().contains("SIDEWAYS"), "{err}");
        assert!(err.to_string().contains("FULL_TRANSITIVE"), "{err}");
    }

    #[test]
    fn kinds_display_confluent_names() {
        assert_eq!(
            IncompatibilityKind::ReaderFieldMissingDefaultValue.to_string(),
            "READER_FIELD_MISSING_DEFAULT_VALUE"
        );
        assert_eq!(
            serde_json::to_string(&IncompatibilityKind::MissingUnionBranch).expect("json"),
            "\"MISSING_UNION_BRANCH\""
        );
    }

    #[test]
    fn none_accepts_anything_and_no_previous_is_always_compatible() {
        let int = set(r#""int""#);
        let string = set(r#""string""#);
        assert!(check(
            CompatibilityLevel::None,
            &int,
            std::slice::from_ref(&string)
        )
        .is_empty());
        for level in CompatibilityLevel::ALL {
            assert!(check(level, &int, &[]).is_empty(), "{level}");
        }
    }

    #[test]
    fn backward_and_forward_swap_the_roles_and_the_words() {
        let v1 = set(V1);
        let v2 = set(V2_REQUIRED_B);
        let backward = check(CompatibilityLevel::Backward, &v2, std::slice::from_ref(&v1));
        assert_eq!(backward.len(), 1, "{backward:?}");
        assert_eq!(
            backward[0].description,
            "The field 'b' at path '/fields/1' in the new schema has no default value and is \
             missing in the old schema"
        );
        assert_eq!(
            backward[0].confluent_message(),
            "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path \
             '/fields/1' in the new schema has no default value and is missing in the old \
             schema', additionalInfo:'b'}"
        );
        // Removing b again: the old (v2) reader misses it.
        let forward = check(CompatibilityLevel::Forward, &v1, std::slice::from_ref(&v2));
        assert_eq!(forward.len(), 1, "{forward:?}");
        assert!(
            forward[0]
                .description
                .contains("in the old schema has no default value"),
            "{}",
            forward[0].description
        );
        let plain = can_read(&v1, &v2);
        assert!(
            plain[0].message.contains("reader schema"),
            "{}",
            plain[0].message
        );
    }

    #[test]
    fn versions_are_stamped_and_the_newest_failing_version_answers() {
        let v1 = set(V1);
        let v2 = set(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},
            {"name":"b","type":"string","default":""}]}"#,
        );
        let v3 = set(V2_REQUIRED_B);
        let found = check_versions(
            CompatibilityLevel::BackwardTransitive,
            &v3,
            &[(1, &v1), (2, &v2)],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].version, Some(1));
        assert!(check(CompatibilityLevel::Backward, &v3, &[v1, v2]).is_empty());
    }

    #[test]
    fn parse_errors_say_which_schema() {
        let err = SchemaSet::parse(r#"{"type":"record","name":"R"}"#).expect_err("no fields");
        assert!(matches!(err, SchemaSetError::Root(_)), "{err}");
        assert!(
            err.to_string().starts_with("invalid Avro schema: "),
            "{err}"
        );

        let root = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"com.x.A"}]}"#;
        let err = SchemaSet::parse_with_references(root, [r#"{"type":"enum","name":"A"}"#])
            .expect_err("enum without symbols");
        assert!(matches!(err, SchemaSetError::References(_)), "{err}");

        let err = SchemaSet::parse(root).expect_err("unknown type");
        assert!(err.to_string().contains("com.x.A"), "{err}");

        let ok = SchemaSet::parse_with_references(
            root,
            [r#"{"type":"enum","name":"A","namespace":"com.x","symbols":["X"]}"#],
        )
        .expect("resolves");
        assert_eq!(ok.referenced().len(), 1);
    }
}
