//! Configuration mistakes give one clear line naming the key and where it came from.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use weft_testkit::process::run_to_end;

fn one_line_error(config: &str, env: &[(&str, &str)]) -> String {
    let (status, _out, err) = run_to_end(config, &["config"], env).expect("weft runs");
    assert!(!status.success(), "weft config must fail for:\n{config}");
    assert_eq!(status.code(), Some(1));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr, got:\n{err}");
    lines[0].to_string()
}

#[test]
fn unknown_key_names_the_key_and_the_file() {
    let line = one_line_error("[kafka]\nbootstrap_server = \"127.0.0.1:9092\"\n", &[]);
    assert!(
        line.contains("kafka.bootstrap_server: unknown key"),
        "{line}"
    );
    assert!(
        line.contains("bootstrap_servers"),
        "suggests the valid keys: {line}"
    );
    assert!(line.contains("(in <weft.toml>)"), "{line}");
}

#[test]
fn wrong_type_names_the_key_and_the_file() {
    let cfg = "[[pipes]]\nname = \"p\"\nfrom = [\"a\"]\nto = \"b\"\nconcurrency = \"many\"\n";
    let line = one_line_error(cfg, &[]);
    assert!(line.contains("pipes.0.concurrency:"), "{line}");
    assert!(line.contains("many"), "{line}");
    assert!(line.contains("(in <weft.toml>)"), "{line}");
}

#[test]
fn missing_required_value_names_the_key() {
    let line = one_line_error("[[pipes]]\nname = \"p\"\nfrom = [\"a\"]\n", &[]);
    assert!(
        line.contains("pipes.0.to: required value is missing"),
        "{line}"
    );
}

#[test]
fn wrong_type_from_the_environment_names_the_variable() {
    let line = one_line_error("", &[("WEFT__SHUTDOWN__DRAIN_TIMEOUT", "soon")]);
    assert!(line.contains("shutdown.drain_timeout:"), "{line}");
    assert!(line.contains("WEFT__SHUTDOWN__DRAIN_TIMEOUT"), "{line}");
}

#[test]
fn semantic_errors_are_all_listed() {
    let cfg = "[kafka]\nbootstrap_servers = \"nohost\"\n[[pipes]]\nname = \"p\"\nfrom = [\"a\"]\nto = \"a\"\n";
    let (status, _out, err) = run_to_end(cfg, &["config"], &[]).expect("weft runs");
    assert!(!status.success());
    assert!(err.contains("2 problems"), "{err}");
    assert!(err.contains("kafka.bootstrap_servers"), "{err}");
    assert!(err.contains("pipes.0.to"), "{err}");
}

#[test]
fn a_valid_file_is_accepted_and_secrets_are_redacted() {
    let cfg = "[kafka]\nsecurity_protocol = \"sasl_ssl\"\n[kafka.sasl]\nmechanism = \"SCRAM-SHA-512\"\nusername = \"u\"\npassword = \"hunter2\"\n";
    let (status, out, err) = run_to_end(cfg, &["config"], &[]).expect("weft runs");
    assert!(status.success(), "{err}");
    assert!(out.contains("ScramSha512"), "{out}");
    assert!(
        !out.contains("hunter2"),
        "the password is never printed: {out}"
    );
}
