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

// ---- the schemas -------------------------------------------------------------------------------

/// `com.acme.Order` with `id` and the given extra fields.
fn order(fields: &[&str]) -> String {
    named_order("Order", "", fields)
}

fn named_order(name: &str, aliases: &str, fields: &[&str]) -> String {
    let mut all = vec![r#"{"name":"id","type":"string"}"#];
    all.extend_from_slice(fields);
    format!(
        r#"{{"type":"record","name":"{name}","namespace":"com.acme"{aliases},"fields":[{}]}}"#,
        all.join(",")
    )
}

const NOTE: &str = r#"{"name":"note","type":"string"}"#;
const NOTE_DEFAULT: &str = r#"{"name":"note","type":"string","default":""}"#;
const QTY_INT: &str = r#"{"name":"qty","type":"int"}"#;
const QTY_LONG: &str = r#"{"name":"qty","type":"long"}"#;
const QUANTITY_ALIAS_QTY: &str = r#"{"name":"quantity","aliases":["qty"],"type":"int"}"#;
const QUANTITY: &str = r#"{"name":"quantity","type":"int"}"#;
const BODY_STRING: &str = r#"{"name":"body","type":"string"}"#;
const BODY_BYTES: &str = r#"{"name":"body","type":"bytes"}"#;
const COUPON_OPTIONAL: &str = r#"{"name":"coupon","type":["null","string"],"default":null}"#;
const COUPON_NULLABLE_NO_DEFAULT: &str = r#"{"name":"coupon","type":["null","string"]}"#;
const CONTACT_2: &str = r#"{"name":"contact","type":["null","string"],"default":null}"#;
const CONTACT_3: &str = r#"{"name":"contact","type":["null","string","long"],"default":null}"#;
const TAGS_INT: &str = r#"{"name":"tags","type":{"type":"array","items":"int"}}"#;
const TAGS_LONG: &str = r#"{"name":"tags","type":{"type":"array","items":"long"}}"#;
const ATTRS_STRING: &str = r#"{"name":"attributes","type":{"type":"map","values":"string"}}"#;
const ATTRS_INT: &str = r#"{"name":"attributes","type":{"type":"map","values":"int"}}"#;
const ATTRS_LONG: &str = r#"{"name":"attributes","type":{"type":"map","values":"long"}}"#;
const HASH_16: &str = r#"{"name":"hash","type":{"type":"fixed","name":"Hash","size":16}}"#;
const HASH_32: &str = r#"{"name":"hash","type":{"type":"fixed","name":"Hash","size":32}}"#;
const PLACED_MILLIS: &str =
    r#"{"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"}}"#;
const PLACED_MICROS: &str =
    r#"{"name":"placed","type":{"type":"long","logicalType":"timestamp-micros"}}"#;
const PLACED_STRING: &str = r#"{"name":"placed","type":"string"}"#;

fn status(symbols: &str, default: Option<&str>) -> String {
    let default = default
        .map(|d| format!(r#","default":"{d}""#))
        .unwrap_or_default();
    format!(
        r#"{{"name":"status","type":{{"type":"enum","name":"Status","symbols":[{symbols}]{default}}}}}"#
    )
}

fn customer(fields: &str) -> String {
    format!(
        r#"{{"name":"customer","type":{{"type":"record","name":"Customer","fields":[
            {{"name":"name","type":"string"}}{fields}]}}}}"#
    )
}

/// A recursive linked list `com.acme.Node`.
fn node(value: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"record","name":"Node","namespace":"com.acme","fields":[
            {{"name":"value","type":"{value}"}},
            {{"name":"next","type":["null","Node"],"default":null}}{extra}]}}"#
    )
}

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

fn rows() -> Vec<Row> {
    let base = order(&[]);
    let with = |f: &str| order(&[f]);
    let s_np = status(r#""NEW","PAID""#, None);
    let s_nps = status(r#""NEW","PAID","SHIPPED""#, None);
    let s_np_d = status(r#""NEW","PAID""#, Some("NEW"));
    let s_nps_d = status(r#""NEW","PAID","SHIPPED""#, Some("NEW"));
    let cust = customer("");
    let cust_email = customer(r#",{"name":"email","type":"string"}"#);
    let cust_email_d = customer(r#",{"name":"email","type":"string","default":""}"#);
    let cust_name_int = r#"{"name":"customer","type":{"type":"record","name":"Customer","fields":[
            {"name":"name","type":"int"}]}}"#;
    let purchase_alias = named_order("Purchase", r#","aliases":["com.acme.Order"]"#, &[]);
    let purchase = named_order("Purchase", "", &[]);
    let list_int = node("int", "");
    let list_long = node("long", "");
    let list_label_d = node("int", r#",{"name":"label","type":"string","default":""}"#);
    let list_label = node("int", r#",{"name":"label","type":"string"}"#);

    let (b, n, nd) = (base.as_str(), with(NOTE), with(NOTE_DEFAULT));
    let (n, nd) = (n.as_str(), nd.as_str());
    let (qi, ql) = (with(QTY_INT), with(QTY_LONG));
    let (qi, ql) = (qi.as_str(), ql.as_str());
    let (qa, qn) = (with(QUANTITY_ALIAS_QTY), with(QUANTITY));
    let (qa, qn) = (qa.as_str(), qn.as_str());
    let (bs, bb) = (with(BODY_STRING), with(BODY_BYTES));
    let (bs, bb) = (bs.as_str(), bb.as_str());
    let (sn, sns, snd, snsd) = (with(&s_np), with(&s_nps), with(&s_np_d), with(&s_nps_d));
    let (sn, sns, snd, snsd) = (sn.as_str(), sns.as_str(), snd.as_str(), snsd.as_str());
    let (c2, c3) = (with(CONTACT_2), with(CONTACT_3));
    let (c2, c3) = (c2.as_str(), c3.as_str());
    let (co, con) = (with(COUPON_OPTIONAL), with(COUPON_NULLABLE_NO_DEFAULT));
    let (co, con) = (co.as_str(), con.as_str());
    let (cu, cue, cued, cuni) = (
        with(&cust),
        with(&cust_email),
        with(&cust_email_d),
        with(cust_name_int),
    );
    let (cu, cue, cued, cuni) = (cu.as_str(), cue.as_str(), cued.as_str(), cuni.as_str());
    let (ti, tl) = (with(TAGS_INT), with(TAGS_LONG));
    let (ti, tl) = (ti.as_str(), tl.as_str());
    let (ms, mi, ml) = (with(ATTRS_STRING), with(ATTRS_INT), with(ATTRS_LONG));
    let (ms, mi, ml) = (ms.as_str(), mi.as_str(), ml.as_str());
    let (h16, h32) = (with(HASH_16), with(HASH_32));
    let (h16, h32) = (h16.as_str(), h32.as_str());
    let (pm, pu, ps) = (
        with(PLACED_MILLIS),
        with(PLACED_MICROS),
        with(PLACED_STRING),
    );
    let (pm, pu, ps) = (pm.as_str(), pu.as_str(), ps.as_str());
    let (pa, pn) = (purchase_alias.as_str(), purchase.as_str());
    let (li, ll, lld, lln) = (
        list_int.as_str(),
        list_long.as_str(),
        list_label_d.as_str(),
        list_label.as_str(),
    );

    vec![
        // ---- BACKWARD: the new schema reads data written with the latest one ----
        row(Backward, "add field with default", &[b, nd], Accept),
        row(
            Backward,
            "add field without default",
            &[b, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(Backward, "remove field with default", &[nd, b], Accept),
        row(Backward, "remove field without default", &[n, b], Accept),
        row(Backward, "int -> long", &[qi, ql], Accept),
        row(
            Backward,
            "long -> int",
            &[ql, qi],
            Refuse(TypeMismatch, Some("qty")),
        ),
        row(Backward, "string -> bytes", &[bs, bb], Accept),
        row(Backward, "enum symbol added", &[sn, sns], Accept),
        row(
            Backward,
            "enum symbol removed",
            &[sns, sn],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Backward,
            "enum symbol removed, reader enum has default",
            &[snsd, snd],
            Accept,
        ),
        row(Backward, "union branch added", &[c2, c3], Accept),
        row(
            Backward,
            "union branch removed",
            &[c3, c2],
            Refuse(MissingUnionBranch, Some("contact")),
        ),
        row(Backward, "optional field added", &[b, co], Accept),
        row(
            Backward,
            "nullable field added without default",
            &[b, con],
            Refuse(NoDefault, Some("coupon")),
        ),
        row(
            Backward,
            "nested field added without default",
            &[cu, cue],
            Refuse(NoDefault, Some("customer.email")),
        ),
        row(
            Backward,
            "nested field added with default",
            &[cu, cued],
            Accept,
        ),
        row(
            Backward,
            "nested field type string -> int",
            &[cu, cuni],
            Refuse(TypeMismatch, Some("customer.name")),
        ),
        row(Backward, "field renamed with alias", &[qi, qa], Accept),
        row(
            Backward,
            "field renamed without alias",
            &[qi, qn],
            Refuse(NoDefault, Some("quantity")),
        ),
        row(Backward, "array items int -> long", &[ti, tl], Accept),
        row(
            Backward,
            "array items long -> int",
            &[tl, ti],
            Refuse(TypeMismatch, Some("tags[]")),
        ),
        row(Backward, "map values int -> long", &[mi, ml], Accept),
        row(
            Backward,
            "map values string -> int",
            &[ms, mi],
            Refuse(TypeMismatch, Some("attributes{}")),
        ),
        row(
            Backward,
            "fixed size 16 -> 32",
            &[h16, h32],
            Refuse(FixedSizeMismatch, Some("hash")),
        ),
        row(Backward, "record renamed with alias", &[b, pa], Accept),
        row(
            Backward,
            "record renamed without alias",
            &[b, pn],
            Refuse(NameMismatch, None),
        ),
        row(
            Backward,
            "logical type timestamp-millis -> timestamp-micros",
            &[pm, pu],
            Accept,
        ),
        row(
            Backward,
            "timestamp-millis -> string",
            &[pm, ps],
            Refuse(TypeMismatch, Some("placed")),
        ),
        row(
            Backward,
            "recursive list value int -> long",
            &[li, ll],
            Accept,
        ),
        row(
            Backward,
            "recursive list field added with default",
            &[li, lld],
            Accept,
        ),
        row(
            Backward,
            "recursive list field added without default",
            &[li, lln],
            Refuse(NoDefault, Some("label")),
        ),
        // ---- FORWARD: the latest schema reads data written with the new one ----
        row(Forward, "add field with default", &[b, nd], Accept),
        row(Forward, "add field without default", &[b, n], Accept),
        row(Forward, "remove field with default", &[nd, b], Accept),
        row(
            Forward,
            "remove field without default",
            &[n, b],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            Forward,
            "int -> long",
            &[qi, ql],
            Refuse(TypeMismatch, Some("qty")),
        ),
        row(Forward, "long -> int", &[ql, qi], Accept),
        row(Forward, "string -> bytes", &[bs, bb], Accept),
        row(
            Forward,
            "enum symbol added",
            &[sn, sns],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Forward,
            "enum symbol added, old enum has default",
            &[snd, snsd],
            Accept,
        ),
        row(Forward, "enum symbol removed", &[sns, sn], Accept),
        row(
            Forward,
            "union branch added",
            &[c2, c3],
            Refuse(MissingUnionBranch, Some("contact")),
        ),
        row(Forward, "union branch removed", &[c3, c2], Accept),
        row(Forward, "optional field added", &[b, co], Accept),
        row(
            Forward,
            "nested field added without default",
            &[cu, cue],
            Accept,
        ),
        row(
            Forward,
            "field renamed with alias (old reader has no alias)",
            &[qi, qa],
            Refuse(NoDefault, Some("qty")),
        ),
        row(
            Forward,
            "array items int -> long",
            &[ti, tl],
            Refuse(TypeMismatch, Some("tags[]")),
        ),
        row(
            Forward,
            "map values int -> long",
            &[mi, ml],
            Refuse(TypeMismatch, Some("attributes{}")),
        ),
        row(
            Forward,
            "fixed size 16 -> 32",
            &[h16, h32],
            Refuse(FixedSizeMismatch, Some("hash")),
        ),
        row(
            Forward,
            "record renamed with alias (old reader has no alias)",
            &[b, pa],
            Refuse(NameMismatch, None),
        ),
        row(
            Forward,
            "recursive list value int -> long",
            &[li, ll],
            Refuse(TypeMismatch, Some("value")),
        ),
        // ---- FULL: both ----
        row(Full, "add field with default", &[b, nd], Accept),
        row(
            Full,
            "add field without default",
            &[b, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            Full,
            "remove field without default",
            &[n, b],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            Full,
            "int -> long",
            &[qi, ql],
            Refuse(TypeMismatch, Some("qty")),
        ),
        row(Full, "string -> bytes", &[bs, bb], Accept),
        row(Full, "optional field added", &[b, co], Accept),
        row(
            Full,
            "enum symbol added, both enums have a default",
            &[snd, snsd],
            Accept,
        ),
        row(
            Full,
            "enum symbol added, no default",
            &[sn, sns],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Full,
            "union branch added",
            &[c2, c3],
            Refuse(MissingUnionBranch, Some("contact")),
        ),
        row(
            Full,
            "field renamed with alias",
            &[qi, qa],
            Refuse(NoDefault, Some("qty")),
        ),
        row(
            Full,
            "recursive list field added with default",
            &[li, lld],
            Accept,
        ),
        // ---- NONE: anything goes ----
        row(CompatibilityLevel::None, "long -> int", &[ql, qi], Accept),
        row(
            CompatibilityLevel::None,
            "add field without default",
            &[b, n],
            Accept,
        ),
        row(
            CompatibilityLevel::None,
            "record renamed without alias",
            &[b, pn],
            Accept,
        ),
        // ---- transitive: v3 is fine with v2 but not with v1 ----
        row(
            Backward,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Accept,
        ),
        row(
            BackwardTransitive,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            BackwardTransitive,
            "v1 -> +note default -> +qty default",
            &[
                b,
                nd,
                &order(&[NOTE_DEFAULT, r#"{"name":"qty","type":"int","default":0}"#]),
            ],
            Accept,
        ),
        row(
            Backward,
            "enum [N,P,S] -> [N,P] default N -> [N,P]",
            &[sns, snd, sn],
            Accept,
        ),
        row(
            BackwardTransitive,
            "enum [N,P,S] -> [N,P] default N -> [N,P]",
            &[sns, snd, sn],
            Refuse(MissingEnumSymbols, Some("status")),
        ),
        row(
            Forward,
            "note required -> note default -> note removed",
            &[n, nd, b],
            Accept,
        ),
        row(
            ForwardTransitive,
            "note required -> note default -> note removed",
            &[n, nd, b],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            ForwardTransitive,
            "v1 -> +note -> +qty",
            &[b, n, &order(&[NOTE, QTY_INT])],
            Accept,
        ),
        row(
            Full,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Accept,
        ),
        row(
            FullTransitive,
            "v1 -> +note default -> note required",
            &[b, nd, n],
            Refuse(NoDefault, Some("note")),
        ),
        row(
            FullTransitive,
            "v1 -> +note default -> +coupon optional",
            &[b, nd, &order(&[NOTE_DEFAULT, COUPON_OPTIONAL])],
            Accept,
        ),
    ]
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
