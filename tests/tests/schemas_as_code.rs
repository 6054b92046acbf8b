//! Schemas as code against a real registry (Weft's, on the real broker): `weft schemas
//! check|register|diff|list` over a folder of topic files and `.avsc` files.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use weft_testkit::process::run_to_end;
use weft_testkit::registry::TestRegistry;
use weft_testkit::unique;

struct Run {
    ok: bool,
    out: String,
    err: String,
}

fn weft(root: &Path, registry: &str, args: &[&str]) -> Run {
    let topics = root.join("topics").display().to_string();
    let schemas = root.join("schemas").display().to_string();
    let mut all: Vec<&str> = vec!["schemas"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--topics",
        &topics,
        "--schemas",
        &schemas,
        "--registry",
        registry,
    ]);
    let (status, out, err) = run_to_end("", &all, &[]).unwrap();
    Run {
        ok: status.success(),
        out,
        err,
    }
}

fn order_schema(name: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"record","name":"{name}","namespace":"com.acme","fields":[
  {{"name":"id","type":"string"}},
  {{"name":"amount","type":"long"}}{extra}
]}}"#
    )
}

#[tokio::test]
async fn check_register_and_diff_over_files() {
    let registry = TestRegistry::start().await.unwrap();
    let url = registry.url.clone();

    // A topic file binding a unique record to `<topic>-value`.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("topics")).unwrap();
    std::fs::create_dir_all(root.join("schemas")).unwrap();
    let topic = unique("orders");
    let name = format!("Order{}", topic.replace(['-', '.'], "_"));
    let full = format!("com.acme.{name}");
    std::fs::write(
        root.join("topics").join(format!("{topic}.toml")),
        format!(
            "name = \"{topic}\"\ndescription = \"orders\"\nowner = \"tests\"\npartitions = 1\n[value]\nschema = \"{full}\"\n"
        ),
    )
    .unwrap();
    let avsc = root.join("schemas").join(format!("{full}.avsc"));
    let subject = format!("{topic}-value");

    // v1: new subject, registered, then nothing left to do.
    std::fs::write(&avsc, order_schema(&name, "")).unwrap();
    let run = |args: &'static [&'static str]| {
        let (root, url) = (root.to_path_buf(), url.clone());
        tokio::task::spawn_blocking(move || weft(&root, &url, args))
    };
    let r = run(&["check"]).await.unwrap();
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(r.out.contains(&format!("new       {subject}")), "{}", r.out);
    let r = run(&["register"]).await.unwrap();
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(
        r.out.contains(&format!("registered {subject} as id")),
        "{}",
        r.out
    );
    let r = run(&["register"]).await.unwrap();
    assert!(r.ok && r.out.contains("no changes"), "{}{}", r.out, r.err);
    let r = run(&["list"]).await.unwrap();
    assert!(r.out.contains("version 1 (id"), "{}", r.out);

    // v2: a compatible change (optional field with a default): diff names it, register adds v2.
    std::fs::write(
        &avsc,
        order_schema(
            &name,
            r#",{"name":"note","type":["null","string"],"default":null}"#,
        ),
    )
    .unwrap();
    let r = run(&["diff"]).await.unwrap();
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(r.out.contains("version 1 ->"), "{}", r.out);
    assert!(
        r.out
            .contains(r#"+ note: ["null","string"] (default null)"#),
        "{}",
        r.out
    );
    let r = run(&["register"]).await.unwrap();
    assert!(r.ok, "{}{}", r.out, r.err);
    let versions: serde_json::Value = reqwest::get(format!("{url}/subjects/{subject}/versions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions, serde_json::json!([1, 2]));

    // v3: a breaking change (a required field without a default): check fails naming it,
    // and register refuses before writing anything.
    std::fs::write(
        &avsc,
        order_schema(
            &name,
            r#",{"name":"note","type":["null","string"],"default":null},{"name":"currency","type":"string"}"#,
        ),
    )
    .unwrap();
    let r = run(&["check"]).await.unwrap();
    assert!(!r.ok, "check must fail: {}", r.out);
    assert!(r.out.contains(&format!("REFUSED   {subject}")), "{}", r.out);
    assert!(r.out.contains("currency"), "{}", r.out);
    assert!(r.err.contains("would break compatibility"), "{}", r.err);
    let r = run(&["register"]).await.unwrap();
    assert!(!r.ok, "{}", r.out);
    let versions: serde_json::Value = reqwest::get(format!("{url}/subjects/{subject}/versions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions, serde_json::json!([1, 2]), "nothing registered");

    registry.stop().await.unwrap();
}
