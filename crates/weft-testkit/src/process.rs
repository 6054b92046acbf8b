//! The `weft` binary as a child process with its own configuration file.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::kafka::weft_binary;

/// A running `weft` process. Killed on drop if still running.
pub struct WeftProcess {
    child: Child,
    pub stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Writes `config` to a temporary `weft.toml` and runs `weft -c <file> <args>`.
pub fn spawn(config: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<WeftProcess> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("weft.toml");
    std::fs::write(&file, config)?;
    let stderr_path = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path)?;
    let mut cmd = Command::new(weft_binary()?);
    cmd.arg("-c").arg(&file).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .context("starting weft")?;
    Ok(WeftProcess {
        child,
        stderr_path,
        _dir: dir,
    })
}

impl WeftProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`) with the `kill` command.
    pub fn signal(&self, name: &str) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -{name} {} failed", self.pid());
        }
        Ok(())
    }

    /// Waits for the process to exit, at most `timeout`; returns its status and how long it took.
    pub async fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok((status, start.elapsed()));
            }
            if start.elapsed() >= timeout {
                bail!(
                    "weft did not exit within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for WeftProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `weft -c <file> <args>` to completion: exit status, stdout, stderr.
pub fn run_to_end(
    config: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<(ExitStatus, String, String)> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("weft.toml");
    std::fs::write(&file, config)?;
    let mut cmd = Command::new(weft_binary()?);
    cmd.arg("-c").arg(&file).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    let text = |b: Vec<u8>| {
        String::from_utf8_lossy(&b).replace(&file.display().to_string(), "<weft.toml>")
    };
    Ok((out.status, text(out.stdout), text(out.stderr)))
}
