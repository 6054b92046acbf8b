//! `[ingest.auth]` in `weft.toml`: API keys (stored hashed) and JWT bearer tokens.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use weft_core::Secret;

/// Who may use the event API.
///
/// Authentication is switched on and off explicitly with `enabled`. It defaults to `false`: every
/// request is then an anonymous principal. `enabled = true` with neither API keys nor JWT set,
/// and `enabled = false` with API keys or JWT set, are both configuration errors, so a
/// half-written `[ingest.auth]` can neither lock everyone out nor leave the API open silently.
///
/// ```toml
/// [ingest.auth]
/// enabled = true
///
/// [[ingest.auth.api_keys]]
/// id = "ci"
/// sha256 = "<hex SHA-256 of the key, from `hash_api_key`>"
/// tenant = "acme"
/// topics = ["orders.*", "audit.login"]
///
/// [ingest.auth.jwt]
/// issuer = "https://login.example.com/"
/// audience = "weft-ingest"
/// jwks_file = "/etc/weft/jwks.json"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Require credentials on the event API.
    pub enabled: bool,
    pub api_keys: Vec<ApiKeyConfig>,
    pub jwt: Option<JwtConfig>,
}

/// One API key. The key itself is never in the configuration, only its SHA-256.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// A name for the key (logs, metrics, rate limits); not secret.
    pub id: String,
    /// Hex of the SHA-256 of the key ([`super::hash_api_key`]); either case.
    pub sha256: String,
    pub tenant: String,
    /// Topic names or prefix patterns (`orders.*`; `*` alone allows every topic).
    pub topics: Vec<String>,
}

/// JWT bearer tokens: HS256 with a shared secret, RS256 with the keys of a JWKS file, or both.
/// A token's `alg` picks the key: HS256 tokens are checked only against `hs256_secret`, RS256
/// tokens only against the JWKS keys; `none` and every other algorithm are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The required `iss`.
    pub issuer: String,
    /// The required `aud` (one of the token's audiences).
    pub audience: String,
    /// Shared secret of HS256 tokens: at least 32 bytes (RFC 7518 §3.2).
    #[serde(default)]
    pub hs256_secret: Option<Secret>,
    /// A JWKS JSON file (`{"keys": [...]}`) read at start-up. Its RSA signature keys (`kty` RSA,
    /// `use` absent or `sig`, `alg` absent or RS256) verify RS256 tokens, chosen by the token's
    /// `kid` when it has one; other keys are skipped.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Clock skew allowed on `exp` and `nbf` (at most 10 minutes).
    #[serde(with = "humantime_serde", default = "default_leeway")]
    pub leeway: Duration,
    /// Claim holding the array of topic patterns the token may publish to.
    #[serde(default = "default_topics_claim")]
    pub topics_claim: String,
    /// Claim holding the tenant (a string).
    #[serde(default = "default_tenant_claim")]
    pub tenant_claim: String,
}

/// Largest accepted [`JwtConfig::leeway`].
pub const MAX_LEEWAY: Duration = Duration::from_secs(600);
/// Smallest accepted HS256 secret, in bytes.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

fn default_leeway() -> Duration {
    Duration::from_secs(60)
}

fn default_topics_claim() -> String {
    "weft_topics".into()
}

fn default_tenant_claim() -> String {
    "tenant".into()
}

impl JwtConfig {
    /// A configuration with the defaults for everything but issuer and audience.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            hs256_secret: None,
            jwks_file: None,
            leeway: default_leeway(),
            topics_claim: default_topics_claim(),
            tenant_claim: default_tenant_claim(),
        }
    }
}

impl AuthConfig {
    /// Every problem with this section, each naming its key (`ingest.auth.<key>`). Does not read
    /// the JWKS file: [`super::Authenticator::new`] does, and adds its problems to these.
    pub fn validate(&self) -> Vec<String> {
        let at = "ingest.auth";
        let mut e = Vec::new();
        let configured = !self.api_keys.is_empty() || self.jwt.is_some();
        if self.enabled && !configured {
            e.push(format!(
                "{at}.enabled: true, but neither {at}.api_keys nor {at}.jwt is set \
                 (configure one, or set enabled = false to accept anonymous requests)"
            ));
        }
        if !self.enabled && configured {
            e.push(format!(
                "{at}.enabled: false, but {at}.api_keys or {at}.jwt is set \
                 (set enabled = true to require them, or remove them)"
            ));
        }
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        let mut hashes: BTreeMap<String, usize> = BTreeMap::new();
        for (i, k) in self.api_keys.iter().enumerate() {
            let at = format!("{at}.api_keys.{i}");
            if k.id.trim().is_empty() {
                e.push(format!("{at}.id: must not be empty"));
            } else if let Some(first) = ids.insert(&k.id, i) {
                e.push(format!(
                    "{at}.id: {:?} is also the id of api_keys.{first}",
                    k.id
                ));
            }
            if !is_sha256_hex(&k.sha256) {
                e.push(format!(
                    "{at}.sha256: must be the 64 hex digits of a SHA-256 (see `hash_api_key`)"
                ));
            } else if let Some(first) = hashes.insert(k.sha256.to_ascii_lowercase(), i) {
                e.push(format!(
                    "{at}.sha256: the same key as api_keys.{first} (each key must be unique)"
                ));
            }
            if k.tenant.trim().is_empty() {
                e.push(format!("{at}.tenant: must not be empty"));
            }
            if k.topics.is_empty() {
                e.push(format!(
                    "{at}.topics: name at least one topic or pattern (\"orders.*\", \"*\")"
                ));
            }
            for (j, p) in k.topics.iter().enumerate() {
                if let Err(why) = check_topic_pattern(p) {
                    e.push(format!("{at}.topics.{j}: {p:?} {why}"));
                }
            }
        }
        if let Some(jwt) = &self.jwt {
            jwt.validate_into(&format!("{at}.jwt"), &mut e);
        }
        e
    }
}

impl JwtConfig {
    fn validate_into(&self, at: &str, e: &mut Vec<String>) {
        if self.issuer.trim().is_empty() {
            e.push(format!("{at}.issuer: must not be empty"));
        }
        if self.audience.trim().is_empty() {
            e.push(format!("{at}.audience: must not be empty"));
        }
        if self.hs256_secret.is_none() && self.jwks_file.is_none() {
            e.push(format!(
                "{at}: set hs256_secret (HS256 tokens) or jwks_file (RS256 tokens), or both"
            ));
        }
        if let Some(s) = &self.hs256_secret {
            if s.expose().len() < MIN_HS256_SECRET_BYTES {
                e.push(format!(
                    "{at}.hs256_secret: must be at least {MIN_HS256_SECRET_BYTES} bytes"
                ));
            }
        }
        if self.leeway > MAX_LEEWAY {
            e.push(format!(
                "{at}.leeway: {} is more than the {} allowed",
                humantime_serde::re::humantime::format_duration(self.leeway),
                humantime_serde::re::humantime::format_duration(MAX_LEEWAY),
            ));
        }
        if self.topics_claim.trim().is_empty() {
            e.push(format!("{at}.topics_claim: must not be empty"));
        }
        if self.tenant_claim.trim().is_empty() {
            e.push(format!("{at}.tenant_claim: must not be empty"));
        }
        if !self.topics_claim.is_empty() && self.topics_claim == self.tenant_claim {
            e.push(format!(
                "{at}.tenant_claim: must differ from topics_claim ({:?})",
                self.topics_claim
            ));
        }
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `pattern` is a topic name (Kafka's characters: letters, digits, `.`, `_`, `-`),
/// optionally ending in `*`.
fn check_topic_pattern(pattern: &str) -> Result<(), &'static str> {
    let body = pattern.strip_suffix('*').unwrap_or(pattern);
    if pattern.is_empty() {
        return Err("is empty");
    }
    if !body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("is not a topic name or a prefix pattern ending in '*' (letters, digits, '.', '_', '-')");
    }
    Ok(())
}

/// Whether `topic` is allowed by `pattern`: equal to it, or starting with what comes before a
/// trailing `*` (`orders.*` allows `orders.created` but not `orders`; `*` allows every topic).
pub fn topic_matches(pattern: &str, topic: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => topic.starts_with(prefix),
        None => pattern == topic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, sha: &str, topics: &[&str]) -> ApiKeyConfig {
        ApiKeyConfig {
            id: id.into(),
            sha256: sha.into(),
            tenant: "acme".into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn patterns() {
        assert!(topic_matches("orders.*", "orders.created"));
        assert!(!topic_matches("orders.*", "orders"));
        assert!(!topic_matches("orders.*", "ordersx.created"));
        assert!(topic_matches("orders*", "orders"));
        assert!(topic_matches("*", "anything"));
        assert!(topic_matches("audit.login", "audit.login"));
        assert!(!topic_matches("audit.login", "audit.login2"));
        assert!(check_topic_pattern("orders.*").is_ok());
        assert!(check_topic_pattern("*").is_ok());
        assert!(check_topic_pattern("or*ders").is_err());
        assert!(check_topic_pattern("a b").is_err());
        assert!(check_topic_pattern("").is_err());
    }

    #[test]
    fn default_is_off_and_valid() {
        let c = AuthConfig::default();
        assert!(!c.enabled);
        assert!(c.validate().is_empty());
    }

    #[test]
    fn toml_shape() {
        let c: AuthConfig = toml::from_str(
            r#"
            enabled = true
            [[api_keys]]
            id = "ci"
            sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
            tenant = "acme"
            topics = ["orders.*"]
            [jwt]
            issuer = "https://issuer.example/"
            audience = "weft"
            hs256_secret = "0123456789abcdef0123456789abcdef"
            leeway = "30s"
            "#,
        )
        .unwrap();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        let jwt = c.jwt.as_ref().unwrap();
        assert_eq!(jwt.leeway, Duration::from_secs(30));
        assert_eq!(jwt.topics_claim, "weft_topics");
        assert_eq!(jwt.tenant_claim, "tenant");
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
        let unknown = toml::from_str::<AuthConfig>("enabled = true\nkeys = []");
        assert!(unknown.is_err());
    }

    #[test]
    fn validation_lists_every_problem() {
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let mut jwt = JwtConfig::new("", "weft");
        jwt.hs256_secret = Some(Secret::new("short"));
        jwt.leeway = Duration::from_secs(3600);
        jwt.tenant_claim = "weft_topics".into();
        let c = AuthConfig {
            enabled: true,
            api_keys: vec![
                key("ci", sha, &["orders.*"]),
                key("ci", &sha.to_uppercase(), &[]),
                key("", "xyz", &["bad topic"]),
            ],
            jwt: Some(jwt),
        };
        let e = c.validate();
        let expect = [
            "ingest.auth.api_keys.1.id: \"ci\" is also the id of api_keys.0",
            "ingest.auth.api_keys.1.sha256: the same key as api_keys.0",
            "ingest.auth.api_keys.1.topics: name at least one",
            "ingest.auth.api_keys.2.id: must not be empty",
            "ingest.auth.api_keys.2.sha256: must be the 64 hex digits",
            "ingest.auth.api_keys.2.topics.0: \"bad topic\" is not a topic name",
            "ingest.auth.jwt.issuer: must not be empty",
            "ingest.auth.jwt.hs256_secret: must be at least 32 bytes",
            "ingest.auth.jwt.leeway: 1h is more than the 10m allowed",
            "ingest.auth.jwt.tenant_claim: must differ from topics_claim",
        ];
        for x in expect {
            assert!(
                e.iter().any(|m| m.starts_with(x)),
                "missing {x:?} in {e:#?}"
            );
        }
        assert_eq!(e.len(), expect.len(), "{e:#?}");
        assert!(!e.iter().any(|m| m.contains("short")), "secret echoed");
    }

    #[test]
    fn enabled_must_agree_with_what_is_configured() {
        let on_empty = AuthConfig {
            enabled: true,
            ..AuthConfig::default()
        };
        assert!(on_empty.validate()[0].starts_with("ingest.auth.enabled: true, but"));
        let off_with_keys = AuthConfig {
            enabled: false,
            api_keys: vec![key("ci", &"a".repeat(64), &["*"])],
            jwt: None,
        };
        assert!(off_with_keys.validate()[0].starts_with("ingest.auth.enabled: false, but"));
        let no_keys = AuthConfig {
            enabled: true,
            api_keys: vec![],
            jwt: Some(JwtConfig::new("i", "a")),
        };
        assert!(no_keys.validate()[0].starts_with("ingest.auth.jwt: set hs256_secret"));
    }
}
