//! Webhook signatures: GitHub, Stripe and generic HMAC-SHA256 schemes, with several secrets valid
//! at once during a rotation. Pure decisions: the HTTP layer passes a header lookup and the raw
//! body, and answers 401 on any [`WebhookError`] (counted by [`WebhookError::code`]).
//!
//! | scheme | signature header (default) | signed bytes | event type / delivery id |
//! |---|---|---|---|
//! | `github` | `X-Hub-Signature-256: sha256=<hex>` | raw body | `X-GitHub-Event` / `X-GitHub-Delivery` |
//! | `stripe` | `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` | `"{t}.{raw body}"` | body's `type` / `id` |
//! | `hmac_sha256` | `header` (required), optional `prefix` | raw body | `event_type_header` / `id_header` |
//!
//! Every signature is HMAC-SHA256 keyed with a secret's bytes as written (a Stripe `whsec_…`
//! secret included), compared in constant time. `hmac_sha256` reads hex (either case) or, with
//! `encoding = "base64"`, standard base64 with padding (Shopify's `X-Shopify-Hmac-Sha256`).
//! Only Stripe signs a timestamp; the other schemes rely on the delivery id (idempotency key) to
//! drop replays.

mod config;
mod stripe;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use config::{Scheme, SignatureEncoding, WebhookConfig};
use stripe::{parse_stripe, StripeEnvelope};

/// What an authentic delivery says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_type: Option<String>,
    /// The idempotency key of the delivery.
    pub delivery_id: Option<String>,
    /// Which of [`WebhookConfig::secrets`] signed it (0 = the first): shows when an old secret
    /// is no longer used and can be removed.
    pub secret_index: usize,
}

/// Why a delivery is refused (always HTTP 401). Messages never include a secret or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no {header} header")]
    MissingSignature { header: String },
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader {
        header: String,
        reason: &'static str,
    },
    #[error("the signature does not match the body with any configured secret")]
    BadSignature,
    /// A correct signature over a timestamp `age_secs` old (negative: in the future).
    #[error("{}", stale_message(*age_secs, *tolerance_secs))]
    StaleTimestamp { age_secs: i64, tolerance_secs: u64 },
}

fn stale_message(age: i64, tolerance: u64) -> String {
    if age < 0 {
        format!(
            "the signed timestamp is {}s in the future (tolerance {tolerance}s)",
            age.unsigned_abs()
        )
    } else {
        format!("the signed timestamp is {age}s old (tolerance {tolerance}s)")
    }
}

impl WebhookError {
    /// The short stable code, for metrics labels and error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature { .. } => "missing_signature",
            Self::MalformedHeader { .. } => "malformed_signature",
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp { .. } => "stale_timestamp",
        }
    }

    /// Always 401.
    pub fn http_status(&self) -> u16 {
        401
    }
}

const GITHUB_HEADER: &str = "X-Hub-Signature-256";
const GITHUB_PREFIX: &str = "sha256=";
const GITHUB_EVENT: &str = "X-GitHub-Event";
const GITHUB_DELIVERY: &str = "X-GitHub-Delivery";
const STRIPE_HEADER: &str = "Stripe-Signature";

impl WebhookConfig {
    /// Checks the signature of a delivery: `headers` looks a request header up by name (as
    /// written here: `X-Hub-Signature-256`; case-insensitive lookup is the caller's), `body` is
    /// the raw body exactly as received, `now` the current time.
    ///
    /// Stripe's timestamp is checked after its signature, so `StaleTimestamp` always means an
    /// authentic delivery that is too old (a replay) or from a clock too far ahead.
    pub fn verify(
        &self,
        headers: &impl Fn(&str) -> Option<String>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery, WebhookError> {
        match self.scheme {
            Scheme::GitHub => {
                let header = self.header.as_deref().unwrap_or(GITHUB_HEADER);
                let prefix = self.prefix.as_deref().unwrap_or(GITHUB_PREFIX);
                let signature = signature_header(headers, header)?;
                let sig = decode_signature(&signature, header, prefix, SignatureEncoding::Hex)?;
                let secret_index = self.signed_by(&[body], &[sig])?;
                Ok(Delivery {
                    event_type: header_value(
                        headers,
                        self.event_type_header.as_deref().unwrap_or(GITHUB_EVENT),
                    ),
                    delivery_id: header_value(
                        headers,
                        self.id_header.as_deref().unwrap_or(GITHUB_DELIVERY),
                    ),
                    secret_index,
                })
            }
            Scheme::HmacSha256 => {
                let header = self.header.as_deref().unwrap_or("X-Signature");
                let prefix = self.prefix.as_deref().unwrap_or("");
                let signature = signature_header(headers, header)?;
                let sig = decode_signature(&signature, header, prefix, self.encoding)?;
                let secret_index = self.signed_by(&[body], &[sig])?;
                let optional =
                    |name: &Option<String>| name.as_deref().and_then(|n| header_value(headers, n));
                Ok(Delivery {
                    event_type: optional(&self.event_type_header),
                    delivery_id: optional(&self.id_header),
                    secret_index,
                })
            }
            Scheme::Stripe => {
                let header = self.header.as_deref().unwrap_or(STRIPE_HEADER);
                let value = signature_header(headers, header)?;
                let parsed =
                    parse_stripe(&value).map_err(|reason| WebhookError::MalformedHeader {
                        header: header.to_owned(),
                        reason,
                    })?;
                let t = parsed.timestamp.to_string();
                let secret_index =
                    self.signed_by(&[t.as_bytes(), b".", body], &parsed.signatures)?;
                let now = match now.duration_since(UNIX_EPOCH) {
                    Ok(d) => i128::from(d.as_secs()),
                    Err(e) => -i128::from(e.duration().as_secs()),
                };
                let age = now - i128::from(parsed.timestamp);
                let tolerance = self.tolerance.as_secs();
                if age.unsigned_abs() > u128::from(tolerance) {
                    let age_secs =
                        i64::try_from(age).unwrap_or(if age < 0 { i64::MIN } else { i64::MAX });
                    return Err(WebhookError::StaleTimestamp {
                        age_secs,
                        tolerance_secs: tolerance,
                    });
                }
                let envelope = serde_json::from_slice::<StripeEnvelope>(body).ok();
                Ok(Delivery {
                    event_type: envelope.as_ref().and_then(|e| e.kind.clone()),
                    delivery_id: envelope.and_then(|e| e.id),
                    secret_index,
                })
            }
        }
    }

    /// The index of the first secret whose HMAC over `parts` equals one of `candidates`. Every
    /// secret and candidate is tried, each comparison in constant time.
    fn signed_by(&self, parts: &[&[u8]], candidates: &[Vec<u8>]) -> Result<usize, WebhookError> {
        let mut matched = None;
        for (i, secret) in self.secrets.iter().enumerate() {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
                continue;
            };
            for p in parts {
                mac.update(p);
            }
            let tag = mac.finalize().into_bytes();
            let mut ok = subtle::Choice::from(0);
            for c in candidates {
                ok |= tag[..].ct_eq(&c[..]);
            }
            if matched.is_none() && bool::from(ok) {
                matched = Some(i);
            }
        }
        matched.ok_or(WebhookError::BadSignature)
    }
}

fn header_value(headers: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    headers(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn signature_header(
    headers: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<String, WebhookError> {
    header_value(headers, name).ok_or_else(|| WebhookError::MissingSignature {
        header: name.to_owned(),
    })
}

fn decode_signature(
    value: &str,
    header: &str,
    prefix: &str,
    encoding: SignatureEncoding,
) -> Result<Vec<u8>, WebhookError> {
    let malformed = |reason| WebhookError::MalformedHeader {
        header: header.to_owned(),
        reason,
    };
    let rest = value
        .strip_prefix(prefix)
        .ok_or_else(|| malformed("it does not start with the expected prefix"))?;
    let sig = match encoding {
        SignatureEncoding::Hex => {
            hex::decode(rest.trim()).map_err(|_| malformed("the signature is not hex"))?
        }
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| malformed("the signature is not base64"))?,
    };
    if sig.len() != 32 {
        return Err(malformed("the signature is not 32 bytes (an HMAC-SHA256)"));
    }
    Ok(sig)
}
