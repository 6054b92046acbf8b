//! Python with Confluent's client (`confluent-kafka[avro]`), for the interoperability suites:
//! the virtualenv `deploy/local/python` makes, and the scripts under `tests/python/`.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::kafka::repo_root;

/// The virtualenv's `python`, installing the environment on first use (up to 15 minutes).
pub async fn path() -> anyhow::Result<PathBuf> {
    let script = repo_root().join("deploy/local/python");
    let out = tokio::time::timeout(
        Duration::from_secs(900),
        tokio::process::Command::new(&script).arg("path").output(),
    )
    .await
    .context("deploy/local/python path did not finish within 15 minutes")?
    .context("running deploy/local/python path")?;
    if !out.status.success() {
        bail!(
            "deploy/local/python path failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = String::from_utf8(out.stdout).context("the venv's path is not UTF-8")?;
    Ok(PathBuf::from(path.trim()))
}

/// Runs `tests/python/<script> <args>` with the virtualenv's python, for up to 5 minutes.
pub async fn run(script: &str, args: &[&str]) -> anyhow::Result<Output> {
    let file = repo_root().join("tests/python").join(script);
    tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new(path().await?)
            .arg(&file)
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .with_context(|| format!("{script} did not finish within 5 minutes"))?
    .with_context(|| format!("running {script}"))
}
