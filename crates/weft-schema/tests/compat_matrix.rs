//! The compatibility matrix: for each of Confluent's seven levels, schema changes v1 → v2 [→ v3]
//! with the expected answer — accepted, or refused with the rule (Confluent's `errorType`) and
//! the field that broke it. The newest version is checked against the older ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use weft_schema::compat::{self, check, check_versions};
use weft_schema::{CompatibilityLevel, IncompatibilityKind, SchemaSet};

use CompatibilityLevel::{
    Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive,
};
use IncompatibilityKind::{
    FixedSizeMismatch, MissingEnumSymbols, MissingUnionBranch, NameMismatch,
    ReaderFieldMissingDefaultValue as NoDefault, TypeMismatch,
};

#[path = "compat_matrix/schemas.rs"]
mod schemas;
#[path = "compat_matrix/table.rs"]
mod table;

use schemas::*;
use table::rows;

// ---- the table ---------------------------------------------------------------------------------

enum Expect {
    Accept,
    /// Refused, with this rule, at this dotted field (`None` = the root schema).
    Refuse(IncompatibilityKind, Option<&'static str>),
}
use Expect::{Accept, Refuse};

struct Row {
    level: CompatibilityLevel,
    change: &'static str,
    /// Oldest first; the last one is the new schema.
    versions: Vec<String>,
    expect: Expect,
}

fn row(level: CompatibilityLevel, change: &'static str, versions: &[&str], expect: Expect) -> Row {
    Row {
        level,
        change,
        versions: versions.iter().map(|v| (*v).to_string()).collect(),
        expect,
    }
}

#[test]
fn the_compatibility_matrix() {
    let rows = rows();
    let mut failures = Vec::new();
    let mut table = String::new();
    for (i, row) in rows.iter().enumerate() {
        let sets: Vec<SchemaSet> = row
            .versions
            .iter()
            .map(|v| {
                SchemaSet::parse(v).unwrap_or_else(|e| panic!("row {i} ({}): {e}", row.change))
            })
            .collect();
        let (new, previous) = sets.split_last().expect("at least one version");
        let found = check(row.level, new, previous);
        let got = match found.first() {
            None => "accept".to_string(),
            Some(first) => format!(
                "refuse {} at {} ({})",
                first.kind,
                first.field.as_deref().unwrap_or("<root>"),
                first.path
            ),
        };
        let ok = match &row.expect {
            Accept => found.is_empty(),
            Refuse(kind, field) => found
                .iter()
                .any(|f| f.kind == *kind && f.field.as_deref() == *field),
        };
        let wanted = match &row.expect {
            Accept => "accept".to_string(),
            Refuse(kind, field) => format!("refuse {kind} at {}", field.unwrap_or("<root>")),
        };
        table.push_str(&format!(
            "{:>3} {:<20} {:<55} v{} wanted {:<50} got {}\n",
            i,
            row.level,
            row.change,
            row.versions.len(),
            wanted,
            got
        ));
        if !ok {
            failures.push(format!(
                "row {i}: {} {}: wanted {wanted}, got {found:#?}",
                row.level, row.change
            ));
        }
        // Every refusal explains itself.
        for f in &found {
            assert!(!f.message.is_empty() && f.path.starts_with('/'), "{f:?}");
            assert!(f.message.contains(f.kind.as_str()), "{}", f.message);
            if let Some(field) = &f.field {
                assert!(f.message.contains(field.as_str()), "{}", f.message);
            }
        }
    }
    println!("{table}");
    assert!(rows.len() >= 50, "the matrix has {} rows", rows.len());
    for level in CompatibilityLevel::ALL {
        assert!(rows.iter().any(|r| r.level == level), "no row for {level}");
    }
    assert!(failures.is_empty(), "{}\n\n{table}", failures.join("\n"));
}

#[test]
fn a_transitive_refusal_names_the_version_it_broke() {
    let v1 = SchemaSet::parse(&order(&[])).unwrap();
    let v2 = SchemaSet::parse(&order(&[NOTE_DEFAULT])).unwrap();
    let v3 = SchemaSet::parse(&order(&[NOTE])).unwrap();
    let found = check_versions(BackwardTransitive, &v3, &[(1, &v1), (2, &v2)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].version, Some(1));
    assert_eq!(found[0].path, "/fields/1");
    assert_eq!(
        found[0].confluent_message(),
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'note' at path \
         '/fields/1' in the new schema has no default value and is missing in the old schema', \
         additionalInfo:'note'}"
    );
}

#[test]
fn full_reports_both_directions() {
    // qty int -> long and a new required field: forward breaks on qty, backward on note.
    let v1 = SchemaSet::parse(&order(&[QTY_INT])).unwrap();
    let v2 = SchemaSet::parse(&order(&[QTY_LONG, NOTE])).unwrap();
    let found = check(Full, &v2, std::slice::from_ref(&v1));
    let kinds: Vec<_> = found.iter().map(|f| (f.kind, f.field.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (NoDefault, Some("note".to_string())),
            (TypeMismatch, Some("qty".to_string())),
        ]
    );
    assert!(found[0].description.contains("in the new schema"));
    assert!(found[1].description.contains("in the old schema"));
    assert_eq!(compat::can_read(&v1, &v2).len(), 1);
}

#[test]
fn schemas_with_references_are_checked_through_them() {
    let root = r#"{"type":"record","name":"Order","namespace":"com.acme","fields":[
        {"name":"id","type":"string"},{"name":"customer","type":"com.acme.Customer"}]}"#;
    let c1 = r#"{"type":"record","name":"Customer","namespace":"com.acme","fields":[
        {"name":"name","type":"string"}]}"#;
    let c2 = r#"{"type":"record","name":"Customer","namespace":"com.acme","fields":[
        {"name":"name","type":"string"},{"name":"email","type":"string"}]}"#;
    let v1 = SchemaSet::parse_with_references(root, [c1]).unwrap();
    let v2 = SchemaSet::parse_with_references(root, [c2]).unwrap();
    let found = check(Backward, &v2, std::slice::from_ref(&v1));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, NoDefault);
    assert_eq!(found[0].field.as_deref(), Some("customer.email"));
    assert_eq!(found[0].path, "/fields/1/type/fields/1");
    assert!(check(Forward, &v2, std::slice::from_ref(&v1)).is_empty());
}
