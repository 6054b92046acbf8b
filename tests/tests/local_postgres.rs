//! The local PostgreSQL that CDC will read: started by the project's script, logical
//! replication enabled, a pgoutput slot can be created.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;

use weft_testkit::{repo_root, unique};

fn psql(sql: &str) -> String {
    let out = Command::new(repo_root().join("deploy/local/postgres"))
        .args(["psql", "-tA", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn postgres_starts_with_logical_replication() {
    let script = repo_root().join("deploy/local/postgres");
    let status = Command::new(&script)
        .arg("start")
        .status()
        .expect("script runs");
    assert!(status.success(), "deploy/local/postgres start");
    // Idempotent: a second start reports the running server and succeeds.
    assert!(Command::new(&script)
        .arg("start")
        .status()
        .unwrap()
        .success());

    assert_eq!(psql("SHOW wal_level"), "logical");
    let slot = unique("weft_test").replace('-', "_");
    let created = psql(&format!(
        "SELECT slot_name FROM pg_create_logical_replication_slot('{slot}', 'pgoutput')"
    ));
    assert_eq!(created, slot);
    psql(&format!("SELECT pg_drop_replication_slot('{slot}')"));
}
