//! JWT bearer tokens: HS256 against a shared secret, RS256 against the keys of a JWKS file.

use std::collections::BTreeSet;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::JwtConfig;
use super::{codes, AuthError, Identity, Principal, PrincipalKind};

/// Base64url as JWKs write it (no padding), accepting padding too.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 4096;

struct RsaKey {
    kid: Option<String>,
    key: DecodingKey,
}

pub(super) struct JwtVerifier {
    hs256: Option<DecodingKey>,
    rs256: Vec<RsaKey>,
    hs256_validation: Validation,
    rs256_validation: Validation,
    topics_claim: String,
    tenant_claim: String,
}

/// The members of a JWK this module reads; the others are ignored.
#[derive(Deserialize)]
struct JwkEntry {
    kty: String,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

impl JwtVerifier {
    /// Reads the JWKS file; its problems are added to `errors` under `at` (`ingest.auth.jwt`).
    pub(super) fn new(cfg: &JwtConfig, at: &str, errors: &mut Vec<String>) -> Option<Self> {
        let before = errors.len();
        let hs256 = cfg
            .hs256_secret
            .as_ref()
            .map(|s| DecodingKey::from_secret(s.expose().as_bytes()));
        let rs256 = match &cfg.jwks_file {
            Some(path) => load_jwks(path, &format!("{at}.jwks_file"), errors),
            None => Vec::new(),
        };
        if errors.len() > before {
            return None;
        }
        let validation = |alg| {
            let mut v = Validation::new(alg);
            v.leeway = cfg.leeway.as_secs();
            v.validate_exp = true;
            v.validate_nbf = true;
            v.validate_aud = true;
            v.set_issuer(&[&cfg.issuer]);
            v.set_audience(&[&cfg.audience]);
            v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            v
        };
        Some(Self {
            hs256,
            rs256,
            hs256_validation: validation(Algorithm::HS256),
            rs256_validation: validation(Algorithm::RS256),
            topics_claim: cfg.topics_claim.clone(),
            tenant_claim: cfg.tenant_claim.clone(),
        })
    }

    pub(super) fn key_summary(&self) -> String {
        format!(
            "hs256: {}, rs256 keys: {}",
            self.hs256.is_some(),
            self.rs256.len()
        )
    }

    /// Checks the signature (with the key its `alg` and `kid` select), `exp`, `nbf`, `iss`,
    /// `aud`, then reads `sub`, the tenant and the topic patterns.
    pub(super) fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            invalid("the token is not a well-formed JWT or its algorithm is unknown")
        })?;
        let (validation, keys): (&Validation, Vec<&DecodingKey>) = match header.alg {
            Algorithm::HS256 => match &self.hs256 {
                Some(k) => (&self.hs256_validation, vec![k]),
                None => return Err(invalid("HS256 tokens are not accepted")),
            },
            Algorithm::RS256 if self.rs256.is_empty() => {
                return Err(invalid("RS256 tokens are not accepted"))
            }
            Algorithm::RS256 => {
                let keys: Vec<&DecodingKey> = match &header.kid {
                    Some(kid) => self
                        .rs256
                        .iter()
                        .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                        .map(|k| &k.key)
                        .collect(),
                    None => self.rs256.iter().map(|k| &k.key).collect(),
                };
                if keys.is_empty() {
                    return Err(invalid("the token's key id (kid) is not a known key"));
                }
                (&self.rs256_validation, keys)
            }
            other => {
                return Err(invalid_owned(format!(
                    "algorithm {other:?} is not accepted (HS256 or RS256)"
                )))
            }
        };
        let mut last = invalid("bad signature");
        for key in keys {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, validation) {
                Ok(data) => return self.identity(data.claims),
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {
                    last = invalid("bad signature");
                }
                Err(e) => return Err(map_error(e.kind())),
            }
        }
        Err(last)
    }

    fn identity(&self, claims: Map<String, Value>) -> Result<Identity, AuthError> {
        let sub = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(invalid("the sub claim must be a non-empty string")),
        };
        let tenant = match claims.get(&self.tenant_claim) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(invalid_owned(format!(
                    "the {:?} claim (tenant) must be a non-empty string",
                    self.tenant_claim
                )))
            }
        };
        let topics = match claims.get(&self.topics_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.bad_topics_claim())?,
            Some(_) => return Err(self.bad_topics_claim()),
        };
        Ok(Identity {
            principal: Principal {
                id: sub,
                tenant,
                kind: PrincipalKind::Jwt,
            },
            topics,
        })
    }

    fn bad_topics_claim(&self) -> AuthError {
        invalid_owned(format!(
            "the {:?} claim must be an array of topic patterns",
            self.topics_claim
        ))
    }
}

/// Whether `s` has the shape of a compact JWS (three base64url parts), so a bearer value is
/// told apart from an API key.
pub(super) fn looks_like_jwt(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('.') {
        parts += 1;
        if part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    parts == 3
}

fn map_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => {
            AuthError::unauthenticated(codes::TOKEN_EXPIRED, "the token has expired (exp)")
        }
        ErrorKind::ImmatureSignature => AuthError::unauthenticated(
            codes::TOKEN_NOT_YET_VALID,
            "the token is not valid yet (nbf)",
        ),
        ErrorKind::InvalidIssuer => {
            AuthError::unauthenticated(codes::WRONG_ISSUER, "the token's issuer is not accepted")
        }
        ErrorKind::InvalidAudience => AuthError::unauthenticated(
            codes::WRONG_AUDIENCE,
            "the token's audience is not accepted",
        ),
        ErrorKind::MissingRequiredClaim(c) => match c.as_str() {
            "exp" => invalid("the token has no exp claim"),
            "iss" => invalid("the token has no iss claim"),
            "aud" => invalid("the token has no aud claim"),
            "sub" => invalid("the token has no sub claim"),
            _ => invalid("the token lacks a required claim"),
        },
        ErrorKind::InvalidClaimFormat(_) => invalid("exp or nbf is not a number"),
        ErrorKind::InvalidSignature => invalid("bad signature"),
        ErrorKind::InvalidAlgorithm => invalid("the token's algorithm does not match its key"),
        _ => invalid("the token is malformed"),
    }
}

fn invalid(message: &'static str) -> AuthError {
    AuthError::unauthenticated(codes::INVALID_TOKEN, message)
}

fn invalid_owned(message: String) -> AuthError {
    AuthError::Unauthenticated {
        code: codes::INVALID_TOKEN,
        message,
    }
}

fn load_jwks(path: &std::path::Path, at: &str, errors: &mut Vec<String>) -> Vec<RsaKey> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(format!("{at}: cannot read {}: {e}", path.display()));
            return Vec::new();
        }
    };
    let set: JwkSet = match serde_json::from_slice(&text) {
        Ok(s) => s,
        Err(e) => {
            errors.push(format!(
                "{at}: {} is not a JWKS ({{\"keys\": [...]}}): {e}",
                path.display()
            ));
            return Vec::new();
        }
    };
    let mut keys = Vec::new();
    let mut kids = BTreeSet::new();
    for (i, raw) in set.keys.into_iter().enumerate() {
        let entry: JwkEntry = match serde_json::from_value(raw) {
            Ok(k) => k,
            Err(e) => {
                errors.push(format!("{at}: keys[{i}] in {}: {e}", path.display()));
                continue;
            }
        };
        let is_rs256_sig = entry.kty == "RSA"
            && entry.use_.as_deref().is_none_or(|u| u == "sig")
            && entry.alg.as_deref().is_none_or(|a| a == "RS256");
        if !is_rs256_sig {
            continue;
        }
        let name = match &entry.kid {
            Some(kid) => format!("keys[{i}] (kid {kid:?}) in {}", path.display()),
            None => format!("keys[{i}] in {}", path.display()),
        };
        match rsa_key(&entry) {
            Ok(key) => {
                if let Some(kid) = &entry.kid {
                    if !kids.insert(kid.clone()) {
                        errors.push(format!("{at}: {name}: the kid is used twice"));
                    }
                }
                keys.push(RsaKey {
                    kid: entry.kid,
                    key,
                });
            }
            Err(why) => errors.push(format!("{at}: {name}: {why}")),
        }
    }
    if keys.is_empty() && errors.is_empty() {
        errors.push(format!(
            "{at}: {} has no RSA signature key for RS256",
            path.display()
        ));
    }
    keys
}

fn rsa_key(entry: &JwkEntry) -> Result<DecodingKey, String> {
    let decode = |name: &str, v: &Option<String>| -> Result<Vec<u8>, String> {
        let v = v.as_deref().ok_or_else(|| format!("has no {name:?}"))?;
        let bytes = B64URL
            .decode(v)
            .map_err(|e| format!("{name:?} is not base64url: {e}"))?;
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Ok(bytes[first..].to_vec())
    };
    let n = decode("n", &entry.n)?;
    let e = decode("e", &entry.e)?;
    let bits = n
        .first()
        .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!(
            "the modulus has {bits} bits (between {MIN_RSA_BITS} and {MAX_RSA_BITS} accepted)"
        ));
    }
    let e_ok = e.len() <= 4 && e.last().is_some_and(|b| b & 1 == 1) && e != [1];
    if !e_ok {
        return Err("the exponent is not an odd number above 1 of at most 32 bits".into());
    }
    Ok(DecodingKey::from_rsa_raw_components(&n, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("eyJh.eyJz.c2ln"));
        assert!(!looks_like_jwt("eyJh.eyJz."));
        assert!(!looks_like_jwt("wk_live_0123456789"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt("a.b+c.d"));
    }
}
