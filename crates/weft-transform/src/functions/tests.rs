#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use vrl::value;
use vrl::value::Value as VrlValue;

use super::*;

fn field<'a>(v: &'a VrlValue, name: &str) -> Option<&'a VrlValue> {
    v.as_object().and_then(|o| o.get(name))
}
use crate::program::{Diagnostic, Outcome, Program, ProgramEnv};

/// A fresh folder under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "weft-transform-tables-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.0.join(name), text).unwrap();
        self
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn spec(path: &str, key: Option<&str>) -> TableSpec {
    TableSpec {
        path: path.into(),
        key: key.map(str::to_string),
    }
}

fn specs(list: &[(&str, TableSpec)]) -> BTreeMap<String, TableSpec> {
    list.iter()
        .map(|(n, s)| (n.to_string(), s.clone()))
        .collect()
}

const REGIONS: &str = "code,name,region\nDE,Germany,eu\nUS,United States,na\n49,Phone,eu\n";

fn env_with_tables() -> (TempDir, ProgramEnv) {
    let dir = TempDir::new();
    dir.write("regions.csv", REGIONS).write(
        "tiers.json",
        r#"{"gold": {"discount": 10, "label": "Gold", "perks": ["lounge"]}, "silver": {"discount": 5}}"#,
    );
    let tables = Tables::load(
        dir.path(),
        &specs(&[
            ("regions", spec("regions.csv", None)),
            ("tiers", spec("tiers.json", None)),
        ]),
    )
    .unwrap();
    assert_eq!(tables.names().collect::<Vec<_>>(), ["regions", "tiers"]);
    let env = ProgramEnv::new(Arc::new(tables), None).unwrap();
    (dir, env)
}

/// The input schema programs are compiled with (so `.card` is known to be a string).
fn input() -> weft_schema::codec::Codec {
    weft_schema::codec::Codec::parse(
        r#"{"type":"record","name":"In","fields":[
            {"name":"country","type":"string"},
            {"name":"card","type":"string"},
            {"name":"none","type":["null","string"],"default":null}]}"#,
        &[],
    )
    .unwrap()
}

fn run_with(env: &ProgramEnv, source: &str, event: VrlValue) -> VrlValue {
    let c = input();
    let p = Program::compile(source, Some((&c, c.root().id())), env)
        .unwrap_or_else(|d| panic!("{source}: {d:?}"));
    match p.run(event, value!({})).unwrap() {
        Outcome::Event(v) => v,
        Outcome::Dropped => panic!("dropped"),
    }
}

fn compile_errors(env: &ProgramEnv, source: &str) -> Vec<Diagnostic> {
    Program::compile(source, None, env).unwrap_err()
}

#[test]
fn lookup_rows_and_columns() {
    let (_dir, env) = env_with_tables();
    let v = run_with(
        &env,
        r#"
        .row = lookup("regions", .country)
        .name = lookup("regions", .country, "name")
        .missing = lookup("regions", "FR")
        .missing_col = lookup("regions", "FR", column: "name")
        .by_int = lookup("regions", 49, "name")
        .null_key = lookup("regions", null)
        .tier = lookup("tiers", "gold")
        .discount = lookup("tiers", "silver", "discount")
        "#,
        value!({"country": "DE"}),
    );
    assert_eq!(
        field(&v, "row"),
        Some(&value!({"code": "DE", "name": "Germany", "region": "eu"}))
    );
    assert_eq!(field(&v, "name"), Some(&value!("Germany")));
    assert_eq!(field(&v, "missing"), Some(&value!(null)));
    assert_eq!(field(&v, "missing_col"), Some(&value!(null)));
    assert_eq!(field(&v, "by_int"), Some(&value!("Phone")));
    assert_eq!(field(&v, "null_key"), Some(&value!(null)));
    assert_eq!(
        field(&v, "tier"),
        Some(&value!({"discount": 10, "label": "Gold", "perks": ["lounge"]}))
    );
    assert_eq!(field(&v, "discount"), Some(&value!(5)));
}

#[test]
fn lookup_is_checked_at_compile_time() {
    let (_dir, env) = env_with_tables();
    let e = compile_errors(&env, ".x = 1\n.r = lookup(\"regoins\", .country)");
    assert_eq!(e[0].line, 2, "{e:?}");
    assert_eq!(
        e[0].message,
        r#"unknown table "regoins" (known tables: regions, tiers)"#
    );
    assert!(
        e[0].message.contains("known tables: regions, tiers"),
        "{e:?}"
    );
    let e = compile_errors(&env, r#".r = lookup("regions", .country, "nmae")"#);
    assert!(e[0].message.contains(r#"no column "nmae""#), "{e:?}");
    assert!(e[0].message.contains("code, name, region"), "{e:?}");
    let e = compile_errors(&env, r#".r = lookup(.table, .country)"#);
    assert!(!e.is_empty());
    // A float key is a type error.
    let e = compile_errors(&env, r#".r = lookup("regions", 1.5)"#);
    assert!(e[0].message.contains("invalid argument type"), "{e:?}");
    // No tables at all.
    let e = compile_errors(&ProgramEnv::default(), r#".r = lookup("regions", "DE")"#);
    assert!(
        e[0].message.contains("the flow declares no tables"),
        "{e:?}"
    );
    // The column's type is known for CSV tables: a string or null.
    let e = compile_errors(&env, r#".r = lookup("regions", "DE", "name") + 1"#);
    assert!(!e.is_empty());
    assert!(Program::compile(
        r#".r = upcase(lookup("regions", "DE", "name") || "none")"#,
        None,
        &env
    )
    .is_ok());
}

#[test]
fn mask_keeps_the_last_characters() {
    let env = ProgramEnv::default();
    let v = run_with(
        &env,
        r##"
        .a = mask(.card, keep_last: 4)
        .b = mask(.card)
        .c = mask("äöü€x", 2, "#")
        .d = mask("ab", keep_last: 10)
        .e = mask(.none)
        .f = mask("abc", -1)
        "##,
        value!({"card": "4111111111111111", "none": null}),
    );
    assert_eq!(field(&v, "a"), Some(&value!("************1111")));
    assert_eq!(field(&v, "b"), Some(&value!("****************")));
    assert_eq!(field(&v, "c"), Some(&value!("###€x")));
    assert_eq!(field(&v, "d"), Some(&value!("ab")));
    assert_eq!(field(&v, "e"), Some(&value!(null)));
    assert_eq!(field(&v, "f"), Some(&value!("***")));
    assert_eq!(mask_text("", 3, "*"), "");
    // mask of an integer is a type error.
    let e = compile_errors(&env, ".a = mask(5)");
    assert!(e[0].message.contains("invalid argument type"), "{e:?}");
}

#[test]
fn table_loading_errors_name_file_and_line() {
    let dir = TempDir::new();
    dir.write("dup.csv", "code,name\nDE,Germany\nUS,USA\nDE,Again\n")
        .write("ragged.csv", "code,name\nDE,Germany\nUS\n")
        .write("keyed.csv", "name,code\nGermany,DE\n")
        .write("bad.json", "{\"a\": {\"x\": 1},\n \"b\": [1]}")
        .write("broken.json", "{\"a\": \n")
        .write("table.txt", "x");
    let load = |name: &str, key: Option<&str>| {
        Tables::load(dir.path(), &specs(&[("t", spec(name, key))])).map(|_| ())
    };
    let e = load("dup.csv", None).unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(
        e[0].contains("dup.csv, line 4: duplicate key \"DE\" (first on line 2)"),
        "{e:?}"
    );
    let e = load("ragged.csv", None).unwrap_err();
    assert!(
        e[0].contains("ragged.csv, line 3: 1 fields, but the header has 2 columns"),
        "{e:?}"
    );
    let e = load("keyed.csv", Some("id")).unwrap_err();
    assert!(
        e[0].contains("no key column \"id\" (the columns are name, code)"),
        "{e:?}"
    );
    let e = load("bad.json", None).unwrap_err();
    assert!(
        e[0].contains("bad.json: the row \"b\" is not an object"),
        "{e:?}"
    );
    let e = load("broken.json", None).unwrap_err();
    assert!(e[0].contains("broken.json, line 2"), "{e:?}");
    let e = load("table.txt", None).unwrap_err();
    assert!(e[0].contains("unknown format"), "{e:?}");
    let e = load("absent.csv", None).unwrap_err();
    assert!(e[0].contains("absent.csv: cannot read it"), "{e:?}");
    let e = load("bad.json", Some("x")).unwrap_err();
    assert!(e[0].contains("JSON table"), "{e:?}");
    // Every table's problems are reported together.
    let e = Tables::load(
        dir.path(),
        &specs(&[
            ("a", spec("dup.csv", None)),
            ("b", spec("ragged.csv", None)),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.len(), 2);
    // A named key column.
    let t = Tables::load(
        dir.path(),
        &specs(&[("t", spec("keyed.csv", Some("code")))]),
    )
    .unwrap();
    let table = t.get("t").unwrap();
    assert_eq!(table.cell("DE", "name"), Some(&value!("Germany")));
    assert_eq!(table.len(), 1);
    assert_eq!(table.columns(), ["name", "code"]);
}

#[test]
fn table_specs_are_strict_toml() {
    #[derive(serde::Deserialize)]
    struct Flow {
        tables: BTreeMap<String, TableSpec>,
    }
    let flow: Flow =
        toml::from_str("[tables.regions]\npath = \"regions.csv\"\nkey = \"code\"\n").unwrap();
    assert_eq!(flow.tables["regions"], spec("regions.csv", Some("code")));
    assert!(
        toml::from_str::<Flow>("[tables.regions]\npath = \"r.csv\"\nkye = \"code\"\n").is_err()
    );
}
