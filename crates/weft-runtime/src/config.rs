//! Layered configuration: compiled-in defaults, then `weft.toml`, then `WEFT__SECTION__KEY`
//! environment variables. Unknown keys are refused; every error names the key and where the
//! value came from (the file or the environment variable).

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Value;
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The environment prefix: `WEFT__KAFKA__BOOTSTRAP_SERVERS` sets `kafka.bootstrap_servers`.
pub const ENV_PREFIX: &str = "WEFT__";

/// Why the configuration could not be loaded: one readable line per problem.
#[derive(Debug)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid configuration: {one}"),
            many => write!(
                f,
                "invalid configuration ({} problems):\n  {}",
                many.len(),
                many.join("\n  ")
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(problems: Vec<String>) -> Self {
        Self { problems }
    }
}

/// Implemented by configuration types that check themselves after loading.
pub trait Validate {
    /// Every problem, each naming its key.
    fn validate(&self) -> Vec<String>;
}

/// Loads `T` from defaults, the file (when given; it must exist), and the environment.
pub fn load<T: DeserializeOwned + Validate>(file: Option<&Path>) -> Result<T, ConfigError> {
    load_from(file, ENV_PREFIX)
}

/// As [`load`], with another environment prefix (tests).
pub fn load_from<T: DeserializeOwned + Validate>(
    file: Option<&Path>,
    env_prefix: &str,
) -> Result<T, ConfigError> {
    let env = Env::prefixed(env_prefix).split("__");
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::new(vec![format!(
                "{}: configuration file not found",
                path.display()
            )]));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(env);
    let value: T = match figment.extract() {
        Ok(v) => v,
        Err(first) => {
            return Err(ConfigError::new(every_error::<T>(
                &figment, first, env_prefix,
            )))
        }
    };
    let problems = value.validate();
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(ConfigError::new(problems))
    }
}

/// Serde stops at the first error. To list every one, drop the key that failed (an unknown key,
/// a value of the wrong type) and extract again, until it succeeds or nothing more can be
/// dropped (a missing required value).
fn every_error<T: DeserializeOwned>(
    figment: &Figment,
    first: figment::Error,
    env_prefix: &str,
) -> Vec<String> {
    let mut problems = describe(first.clone(), figment, env_prefix);
    let Ok(mut tree) = figment.extract::<Value>() else {
        return problems;
    };
    let mut last = first;
    for _ in 0..64 {
        let mut dropped = false;
        for e in last.clone() {
            if !matches!(e.kind, Kind::MissingField(_)) {
                dropped |= remove_path(&mut tree, &e.path);
            }
        }
        if !dropped {
            break;
        }
        match Figment::from(Serialized::defaults(&tree)).extract::<T>() {
            Ok(_) => break,
            Err(e) => {
                let lines = describe(e.clone(), figment, env_prefix);
                if lines.iter().all(|l| problems.contains(l)) {
                    break;
                }
                problems.extend(
                    lines
                        .into_iter()
                        .filter(|l| !problems.contains(l))
                        .collect::<Vec<_>>(),
                );
                last = e;
            }
        }
    }
    problems
}

fn remove_path(tree: &mut Value, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = tree;
    for p in parents {
        cur = match cur {
            Value::Dict(_, d) => match d.get_mut(p) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(_, a) => match p.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Dict(_, d) => d.remove(last).is_some(),
        _ => false,
    }
}

/// One line per figment error: `<key>: <what is wrong> (in <source>)`, the source being the
/// provider that supplied the key (or its parent) in `figment`.
fn describe(errors: figment::Error, figment: &Figment, env_prefix: &str) -> Vec<String> {
    errors
        .into_iter()
        .map(|e| {
            let mut key = e.path.join(".");
            if let Kind::MissingField(field) = &e.kind {
                key = if key.is_empty() {
                    field.to_string()
                } else {
                    format!("{key}.{field}")
                };
            }
            let what = match &e.kind {
                Kind::UnknownField(_, expected) => {
                    format!("unknown key (expected one of: {})", expected.join(", "))
                }
                Kind::MissingField(_) => "required value is missing".to_string(),
                other => other.to_string(),
            };
            let parent = e.path.join(".");
            let metadata = figment
                .find_metadata(&key)
                .or_else(|| figment.find_metadata(&parent))
                .or(e.metadata.as_ref());
            let source = match metadata {
                Some(md) => match &md.source {
                    Some(figment::Source::File(p)) => format!(" (in {})", p.display()),
                    _ if md.name.contains("environment") => {
                        let var = key.to_uppercase().replace('.', "__");
                        format!(" (in environment variable {env_prefix}{var})")
                    }
                    _ => String::new(),
                },
                None => String::new(),
            };
            let key = if key.is_empty() {
                "<top level>".into()
            } else {
                key
            };
            format!("{key}: {what}{source}")
        })
        .collect()
}

/// Where the configuration file is looked for when none is named: `./weft.toml` if it exists.
pub fn default_file() -> Option<PathBuf> {
    let p = PathBuf::from("weft.toml");
    p.exists().then_some(p)
}

/// The admin HTTP server (`/metrics`, `/health`, `/ready`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// `host:port`; port 0 picks a free port (tests).
    pub listen: String,
    pub enabled: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
            enabled: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// Logging (`RUST_LOG` overrides `level` when set).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter: `info`, `weft_kafka=debug,info`, ...
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

/// Shutdown behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// How long services may take to drain, commit and flush after a signal.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain_timeout: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error.
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Debug, Deserialize, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Sample {
        admin: AdminConfig,
        shutdown: ShutdownConfig,
        things: Vec<Thing>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        name: String,
        #[allow(dead_code)]
        size: u32,
    }

    impl Validate for Sample {
        fn validate(&self) -> Vec<String> {
            self.things
                .iter()
                .enumerate()
                .filter(|(_, t)| t.name.is_empty())
                .map(|(i, _)| format!("things.{i}.name: must not be empty"))
                .collect()
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp file");
        f.write_all(text.as_bytes()).expect("write");
        f
    }

    fn no_env() -> &'static str {
        "WEFT_TEST_UNUSED_PREFIX__"
    }

    #[test]
    fn defaults_file_then_env() {
        let f = file("[admin]\nlisten = \"127.0.0.1:1\"\n[shutdown]\ndrain_timeout = \"3s\"\n");
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_T1__ADMIN__LISTEN", "127.0.0.1:2");
            let s: Sample = load_from(Some(f.path()), "WEFT_T1__").expect("loads");
            assert_eq!(s.admin.listen, "127.0.0.1:2", "env wins over the file");
            assert_eq!(s.shutdown.drain_timeout, Duration::from_secs(3));
            assert!(s.admin.enabled, "default kept");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_names_the_key_and_the_file() {
        let f = file("[admin]\nlisten = \"x:1\"\nlisen = \"typo\"\n");
        let e = load_from::<Sample>(Some(f.path()), no_env()).expect_err("unknown key");
        assert_eq!(e.problems.len(), 1, "{e}");
        let line = &e.problems[0];
        assert!(line.starts_with("admin.lisen: unknown key"), "{line}");
        assert!(line.contains(&f.path().display().to_string()), "{line}");
    }

    #[test]
    fn wrong_type_from_env_names_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_T2__SHUTDOWN__DRAIN_TIMEOUT", "soon");
            let e = load_from::<Sample>(None, "WEFT_T2__").expect_err("bad duration");
            let line = &e.problems[0];
            assert!(line.starts_with("shutdown.drain_timeout:"), "{line}");
            assert!(line.contains("WEFT_T2__SHUTDOWN__DRAIN_TIMEOUT"), "{line}");
            Ok(())
        });
    }

    #[test]
    fn missing_required_value_and_validation_errors() {
        let f = file("[[things]]\nname = \"a\"\n");
        let e = load_from::<Sample>(Some(f.path()), no_env()).expect_err("size missing");
        assert!(
            e.problems[0].starts_with("things.0.size: required value is missing"),
            "{e}"
        );

        let f = file("[[things]]\nname = \"\"\nsize = 1\n[[things]]\nname = \"\"\nsize = 2\n");
        let e = load_from::<Sample>(Some(f.path()), no_env()).expect_err("two empty names");
        assert_eq!(e.problems.len(), 2, "every validation error is listed: {e}");
    }

    #[test]
    fn every_structural_error_is_listed_at_once() {
        let f = file("[admin]\nlisen = \"typo\"\nenabled = \"yes\"\n[shutdown]\ndrain = \"1s\"\n");
        let e = load_from::<Sample>(Some(f.path()), no_env()).expect_err("three problems");
        assert_eq!(e.problems.len(), 3, "{e}");
        assert!(
            e.problems
                .iter()
                .any(|p| p.starts_with("admin.lisen: unknown key")),
            "{e}"
        );
        assert!(
            e.problems.iter().any(|p| p.starts_with("admin.enabled:")),
            "{e}"
        );
        assert!(
            e.problems
                .iter()
                .any(|p| p.starts_with("shutdown.drain: unknown key")),
            "{e}"
        );
        assert!(
            e.problems
                .iter()
                .all(|p| p.contains(&f.path().display().to_string())),
            "{e}"
        );
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let e = load_from::<Sample>(Some(Path::new("/nonexistent/weft.toml")), no_env())
            .expect_err("no file");
        assert!(e.to_string().contains("configuration file not found"));
    }
}
