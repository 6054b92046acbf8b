use super::super::{can_read as check_read, IncompatibilityKind, SchemaSet};
use super::found::{dotted, json_pointer};
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
    let null_default =
        record(r#"{"name":"a","type":"int"},{"name":"b","type":["null","string"],"default":null}"#);
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
    let aliased = r#"{"type":"record","name":"New","namespace":"a","aliases":["Old"],"fields":[]}"#;
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
    let r =
        record(r#"{"name":"a","type":"int"},{"name":"b","type":"int"},{"name":"c","type":"int"}"#);
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
    types
        .push(r#"{"type":"record","name":"L0","fields":[{"name":"v","type":"long"}]}"#.to_string());
    for i in 1..10 {
        types.push(format!(
            r#"{{"type":"record","name":"L{i}","fields":[{{"name":"a","type":"L{p}"}},{{"name":"b","type":"L{p}"}}]}}"#,
            p = i - 1
        ));
    }
    let root = r#"{"type":"record","name":"Top","fields":[{"name":"x","type":"L9"}]}"#;
    let w = SchemaSet::parse_with_references(root, &types).expect("valid");
    types[0] = r#"{"type":"record","name":"L0","fields":[{"name":"v","type":"int"}]}"#.to_string();
    let r = SchemaSet::parse_with_references(root, &types).expect("valid");
    let found = check_read(&w, &r);
    assert_eq!(found.len(), MAX_INCOMPATIBILITIES);
    assert!(found.iter().all(|f| f.kind == TypeMismatch));
}
