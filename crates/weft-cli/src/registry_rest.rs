//! The registry calls of the operator commands. Services use `weft-schema`'s client (built on
//! `schema_registry_converter`); the operator commands need what that crate does not return —
//! the verbose reasons of a compatibility refusal and Confluent's error codes — so they speak
//! the REST API directly.

use std::time::Duration;

use anyhow::{anyhow, Context};
use serde::Deserialize;
use serde_json::{json, Value};
use weft_schema::RegistryClientConfig;

const CT: &str = "application/vnd.schemaregistry.v1+json";

/// An error answer of the registry.
#[derive(Debug, Deserialize)]
pub struct RegistryError {
    pub error_code: u32,
    pub message: String,
}

/// A registered version.
#[derive(Debug, Clone, Deserialize)]
pub struct Version {
    pub version: i32,
    pub id: i32,
    pub schema: String,
}

pub struct Rest {
    http: reqwest::Client,
    base: String,
    auth: Option<(String, Option<String>)>,
}

impl Rest {
    pub fn new(cfg: &RegistryClientConfig) -> anyhow::Result<Self> {
        let base = cfg
            .url
            .split(',')
            .map(|u| u.trim().trim_end_matches('/'))
            .find(|u| !u.is_empty())
            .ok_or_else(|| anyhow!("schema_registry.url is empty"))?
            .to_string();
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout.max(Duration::from_secs(1)))
            .build()?;
        let auth = cfg
            .username
            .clone()
            .map(|u| (u, cfg.password.as_ref().map(|p| p.expose().to_string())));
        Ok(Self { http, base, auth })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Result<Value, RegistryError>> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url).header("Accept", CT);
        if let Some((u, p)) = &self.auth {
            req = req.basic_auth(u, p.as_ref());
        }
        if let Some(b) = body {
            req = req.header("Content-Type", CT).body(b.to_string());
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("schema registry {method} {url}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .with_context(|| format!("reading {url}"))?;
        if status.is_success() {
            let v = serde_json::from_str(&text)
                .with_context(|| format!("{method} {url}: the answer is not JSON: {text}"))?;
            return Ok(Ok(v));
        }
        match serde_json::from_str::<RegistryError>(&text) {
            Ok(e) => Ok(Err(e)),
            Err(_) => Err(anyhow!("{method} {url}: HTTP {status}: {text}")),
        }
    }

    /// The version of `subject` that holds `schema`: `None` when the subject or the schema is
    /// not there.
    pub async fn lookup(&self, subject: &str, schema: &str) -> anyhow::Result<Option<Version>> {
        let path = format!("/subjects/{}", enc(subject));
        match self
            .call(
                reqwest::Method::POST,
                &path,
                Some(json!({ "schema": schema })),
            )
            .await?
        {
            Ok(v) => Ok(Some(serde_json::from_value(v)?)),
            Err(e) if e.error_code == 40401 || e.error_code == 40403 => Ok(None),
            Err(e) => Err(anyhow!(
                "looking up {subject}: {} ({})",
                e.message,
                e.error_code
            )),
        }
    }

    /// The latest version of `subject`, `None` when it has none.
    pub async fn latest(&self, subject: &str) -> anyhow::Result<Option<Version>> {
        let path = format!("/subjects/{}/versions/latest", enc(subject));
        match self.call(reqwest::Method::GET, &path, None).await? {
            Ok(v) => Ok(Some(serde_json::from_value(v)?)),
            Err(e) if e.error_code == 40401 || e.error_code == 40402 => Ok(None),
            Err(e) => Err(anyhow!(
                "reading {subject}: {} ({})",
                e.message,
                e.error_code
            )),
        }
    }

    /// Whether `schema` may be registered under `subject` at its compatibility level, and the
    /// reasons when not.
    pub async fn compatible(
        &self,
        subject: &str,
        schema: &str,
    ) -> anyhow::Result<(bool, Vec<String>)> {
        let path = format!(
            "/compatibility/subjects/{}/versions?verbose=true",
            enc(subject)
        );
        match self
            .call(
                reqwest::Method::POST,
                &path,
                Some(json!({ "schema": schema })),
            )
            .await?
        {
            Ok(v) => {
                let ok = v["is_compatible"].as_bool().unwrap_or(false);
                let messages = v["messages"]
                    .as_array()
                    .map(|m| {
                        m.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok((ok, messages))
            }
            Err(e) if e.error_code == 40401 => Ok((true, Vec::new())),
            Err(e) => Err(anyhow!(
                "checking {subject}: {} ({})",
                e.message,
                e.error_code
            )),
        }
    }

    /// Registers `schema` under `subject`; its id.
    pub async fn register(
        &self,
        subject: &str,
        schema: &str,
    ) -> anyhow::Result<Result<i32, RegistryError>> {
        let path = format!("/subjects/{}/versions", enc(subject));
        Ok(self
            .call(
                reqwest::Method::POST,
                &path,
                Some(json!({ "schema": schema })),
            )
            .await?
            .map(|v| {
                v["id"]
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .unwrap_or(-1)
            }))
    }

    /// Every subject.
    pub async fn subjects(&self) -> anyhow::Result<Vec<String>> {
        match self.call(reqwest::Method::GET, "/subjects", None).await? {
            Ok(v) => Ok(serde_json::from_value(v)?),
            Err(e) => Err(anyhow!(
                "listing subjects: {} ({})",
                e.message,
                e.error_code
            )),
        }
    }
}

/// Percent-encodes a subject for a path segment.
fn enc(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len());
    for b in subject.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
