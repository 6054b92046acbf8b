//! `[[ingest.webhooks]]`: one webhook source, its scheme and secrets.

use std::time::Duration;

use serde::Deserialize;
use weft_core::Secret;

/// The signature scheme of a webhook source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Scheme {
    #[serde(rename = "github")]
    GitHub,
    #[serde(rename = "stripe")]
    Stripe,
    #[serde(rename = "hmac_sha256")]
    HmacSha256,
}

/// How a `hmac_sha256` signature is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    #[default]
    Hex,
    Base64,
}

/// One webhook source (`POST /v1/webhooks/{source}`; `[[ingest.webhooks]]` in `weft.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The `{source}` of the URL.
    pub source: String,
    pub scheme: Scheme,
    /// Valid secrets; a delivery signed with any of them passes (two during a rotation).
    pub secrets: Vec<Secret>,
    /// Where accepted deliveries are produced.
    pub topic: String,
    /// The signature header; required for `hmac_sha256`, overrides the default of the others.
    #[serde(default)]
    pub header: Option<String>,
    /// Text before the signature in the header (`github`: default `sha256=`; not for `stripe`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// `hex` (default) or `base64`; `base64` only for `hmac_sha256`.
    #[serde(default)]
    pub encoding: SignatureEncoding,
    /// `stripe`: how far the signed timestamp may be from now, either way (default 5 minutes).
    #[serde(with = "humantime_serde", default = "default_tolerance")]
    pub tolerance: Duration,
    /// Header naming the event type (`github`: default `X-GitHub-Event`; not for `stripe`).
    #[serde(default)]
    pub event_type_header: Option<String>,
    /// Header holding the delivery id, the idempotency key (`github`: default
    /// `X-GitHub-Delivery`; not for `stripe`).
    #[serde(default)]
    pub id_header: Option<String>,
}

fn default_tolerance() -> Duration {
    Duration::from_secs(300)
}

impl WebhookConfig {
    /// A source with the defaults of `scheme` for everything optional.
    pub fn new(
        source: impl Into<String>,
        scheme: Scheme,
        secrets: Vec<Secret>,
        topic: impl Into<String>,
    ) -> Self {
        Self {
            source: source.into(),
            scheme,
            secrets,
            topic: topic.into(),
            header: None,
            prefix: None,
            encoding: SignatureEncoding::Hex,
            tolerance: default_tolerance(),
            event_type_header: None,
            id_header: None,
        }
    }

    /// Every problem with this source, each naming its key relative to the source's table
    /// (`secrets: ...`); the caller prefixes `ingest.webhooks.<index>.`.
    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        if self.source.is_empty()
            || !self
                .source
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            e.push(format!(
                "source: {:?} must be a non-empty URL segment (letters, digits, '.', '_', '-')",
                self.source
            ));
        }
        if self.secrets.is_empty() {
            e.push("secrets: name at least one secret".into());
        }
        for (i, s) in self.secrets.iter().enumerate() {
            if s.is_empty() {
                e.push(format!("secrets.{i}: must not be empty"));
            }
        }
        if self.topic.trim().is_empty() {
            e.push("topic: must not be empty".into());
        }
        for (key, value) in [
            ("header", &self.header),
            ("event_type_header", &self.event_type_header),
            ("id_header", &self.id_header),
        ] {
            if let Some(v) = value {
                if !is_header_name(v) {
                    e.push(format!("{key}: {v:?} is not an HTTP header name"));
                }
            }
        }
        let is = |s| self.scheme == s;
        if is(Scheme::HmacSha256) && self.header.is_none() {
            e.push("header: required with scheme hmac_sha256".into());
        }
        if is(Scheme::Stripe) {
            if self.prefix.is_some() {
                e.push("prefix: not used with scheme stripe (its header is t=...,v1=...)".into());
            }
            for (key, value) in [
                ("event_type_header", &self.event_type_header),
                ("id_header", &self.id_header),
            ] {
                if value.is_some() {
                    e.push(format!(
                        "{key}: not used with scheme stripe (type and id come from the body)"
                    ));
                }
            }
            if self.tolerance.is_zero() {
                e.push("tolerance: must be more than zero".into());
            }
        }
        if !is(Scheme::HmacSha256) && self.encoding != SignatureEncoding::Hex {
            e.push("encoding: base64 is only for scheme hmac_sha256".into());
        }
        e
    }
}

/// RFC 9110 token characters.
fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names() {
        assert!(is_header_name("X-Hub-Signature-256"));
        assert!(!is_header_name("X Hub"));
        assert!(!is_header_name(""));
    }

    #[test]
    fn validation_lists_every_problem() {
        let mut c = WebhookConfig::new("bad source", Scheme::Stripe, vec![Secret::new("")], " ");
        c.prefix = Some("sha256=".into());
        c.id_header = Some("X-Id".into());
        c.event_type_header = Some("bad header".into());
        c.encoding = SignatureEncoding::Base64;
        c.tolerance = Duration::ZERO;
        let e = c.validate();
        let expect = [
            "source: \"bad source\" must be a non-empty URL segment",
            "secrets.0: must not be empty",
            "topic: must not be empty",
            "event_type_header: \"bad header\" is not an HTTP header name",
            "prefix: not used with scheme stripe",
            "event_type_header: not used with scheme stripe",
            "id_header: not used with scheme stripe",
            "tolerance: must be more than zero",
            "encoding: base64 is only for scheme hmac_sha256",
        ];
        for x in expect {
            assert!(
                e.iter().any(|m| m.starts_with(x)),
                "missing {x:?} in {e:#?}"
            );
        }
        assert_eq!(e.len(), expect.len(), "{e:#?}");
        let h = WebhookConfig::new("shop", Scheme::HmacSha256, vec![], "t");
        assert_eq!(
            h.validate(),
            vec![
                "secrets: name at least one secret".to_string(),
                "header: required with scheme hmac_sha256".to_string()
            ]
        );
    }

    #[test]
    fn toml_shape() {
        let c: WebhookConfig = toml::from_str(
            r#"
            source = "stripe"
            scheme = "stripe"
            secrets = ["whsec_new", "whsec_old"]
            topic = "ingest.stripe"
            tolerance = "2m"
            "#,
        )
        .unwrap();
        assert_eq!(c.scheme, Scheme::Stripe);
        assert_eq!(c.tolerance, Duration::from_secs(120));
        assert!(c.validate().is_empty());
        assert!(!format!("{c:?}").contains("whsec"));
        let g: WebhookConfig = toml::from_str(
            "source = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\ntopic = \"t\"",
        )
        .unwrap();
        assert_eq!(g.tolerance, Duration::from_secs(300));
        let h: WebhookConfig = toml::from_str(
            "source = \"shop\"\nscheme = \"hmac_sha256\"\nsecrets = [\"s\"]\ntopic = \"t\"\n\
             header = \"X-Shopify-Hmac-Sha256\"\nencoding = \"base64\"",
        )
        .unwrap();
        assert!(h.validate().is_empty());
        assert!(toml::from_str::<WebhookConfig>(
            "source = \"gh\"\nscheme = \"github\"\nsecrets = []\ntopic = \"t\"\nsecret = \"x\""
        )
        .is_err());
    }
}
