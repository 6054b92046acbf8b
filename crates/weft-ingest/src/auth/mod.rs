//! Who may publish: API keys (stored hashed) and JWT bearer tokens, each scoped to topics and a
//! tenant. Pure decisions: the HTTP layer hands over the `Authorization` and `X-Api-Key` header
//! values and maps [`AuthError`] to 401 or 403.
//!
//! A request presents one credential, `Authorization: Bearer <value>` or `X-Api-Key: <key>`
//! (both at once is refused as malformed). A bearer value shaped like a JWT (three base64url
//! parts) is checked as a token when `jwt` is configured; any other value, and every
//! `X-Api-Key`, is looked up as an API key by its SHA-256, compared in constant time.

mod api_key;
mod config;
mod jwt;

use std::fmt;

pub use api_key::hash_api_key;
pub use config::{
    topic_matches, ApiKeyConfig, AuthConfig, JwtConfig, MAX_LEEWAY, MIN_HS256_SECRET_BYTES,
};

use api_key::ApiKeys;
use jwt::JwtVerifier;

/// The stable `code`s of [`AuthError`] (metrics labels, error bodies).
pub mod codes {
    /// Neither `Authorization` nor `X-Api-Key` was sent.
    pub const MISSING_CREDENTIALS: &str = "missing_credentials";
    /// A header is there but unusable (not `Bearer`, empty, both headers at once).
    pub const MALFORMED_CREDENTIALS: &str = "malformed_credentials";
    /// No configured API key has this value.
    pub const INVALID_API_KEY: &str = "invalid_api_key";
    /// Bad signature, unknown key or algorithm, malformed token, missing or mistyped claims.
    pub const INVALID_TOKEN: &str = "invalid_token";
    pub const TOKEN_EXPIRED: &str = "token_expired";
    pub const TOKEN_NOT_YET_VALID: &str = "token_not_yet_valid";
    pub const WRONG_ISSUER: &str = "wrong_issuer";
    pub const WRONG_AUDIENCE: &str = "wrong_audience";
    /// The principal is valid but not allowed on this topic (403).
    pub const TOPIC_NOT_ALLOWED: &str = "topic_not_allowed";
}

/// The id and tenant of the principal of every request while auth is off.
pub const ANONYMOUS: &str = "anonymous";

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// Auth is off (`ingest.auth.enabled = false`).
    Anonymous,
    ApiKey,
    Jwt,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::ApiKey => "api_key",
            Self::Jwt => "jwt",
        }
    }
}

/// Who sent a request: the API key's `id` or the token's `sub`, and the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub id: String,
    pub tenant: String,
    pub kind: PrincipalKind,
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} (tenant {:?})",
            self.kind.as_str(),
            self.id,
            self.tenant
        )
    }
}

/// An authenticated principal and the topic patterns it may publish to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub principal: Principal,
    /// Topic names or prefix patterns (see [`topic_matches`]); ignored for anonymous principals.
    pub topics: Vec<String>,
}

impl Identity {
    /// Whether this principal may publish to `topic`.
    pub fn allows(&self, topic: &str) -> bool {
        self.principal.kind == PrincipalKind::Anonymous
            || self.topics.iter().any(|p| topic_matches(p, topic))
    }

    /// The principal, if it may publish to `topic`.
    pub fn authorize(self, topic: &str) -> Result<Principal, AuthError> {
        if self.allows(topic) {
            Ok(self.principal)
        } else {
            Err(AuthError::Forbidden {
                principal: self.principal,
                topic: topic.to_owned(),
            })
        }
    }
}

/// Why a request is refused. Messages name what was wrong, never the credential presented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No valid credential (HTTP 401); `code` is one of [`codes`].
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// A valid principal that may not publish to `topic` (HTTP 403, `topic_not_allowed`).
    #[error("{principal} may not publish to topic {topic:?}")]
    Forbidden { principal: Principal, topic: String },
}

impl AuthError {
    fn unauthenticated(code: &'static str, message: &str) -> Self {
        Self::Unauthenticated {
            code,
            message: message.to_owned(),
        }
    }

    /// The short stable code, for metrics labels and error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated { code, .. } => code,
            Self::Forbidden { .. } => codes::TOPIC_NOT_ALLOWED,
        }
    }

    /// Whether this is a 403 (the principal is valid) rather than a 401.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Forbidden { .. })
    }

    /// 401 or 403.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Unauthenticated { .. } => 401,
            Self::Forbidden { .. } => 403,
        }
    }
}

/// Checks credentials against [`AuthConfig`]; built once at start-up, shared by every request.
pub struct Authenticator {
    enabled: bool,
    api_keys: ApiKeys,
    jwt: Option<JwtVerifier>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("enabled", &self.enabled)
            .field("api_keys", &self.api_keys.ids().collect::<Vec<_>>())
            .field("jwt", &self.jwt.as_ref().map(JwtVerifier::key_summary))
            .finish()
    }
}

impl Authenticator {
    /// Validates `cfg` and reads the JWKS file; every problem is listed, each naming its key.
    pub fn new(cfg: &AuthConfig) -> Result<Self, Vec<String>> {
        let mut errors = cfg.validate();
        let jwt = match &cfg.jwt {
            Some(j) if errors.is_empty() => JwtVerifier::new(j, "ingest.auth.jwt", &mut errors),
            _ => None,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            enabled: cfg.enabled,
            api_keys: ApiKeys::new(&cfg.api_keys),
            jwt,
        })
    }

    /// An authenticator that lets everyone in as [`ANONYMOUS`].
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            api_keys: ApiKeys::default(),
            jwt: None,
        }
    }

    /// Whether credentials are required.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Who presents these headers (`Authorization`, `X-Api-Key` values), and what they may do.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Identity, AuthError> {
        if !self.enabled {
            return Ok(Identity {
                principal: Principal {
                    id: ANONYMOUS.into(),
                    tenant: ANONYMOUS.into(),
                    kind: PrincipalKind::Anonymous,
                },
                topics: Vec::new(),
            });
        }
        match (authorization, api_key) {
            (None, None) => Err(AuthError::unauthenticated(
                codes::MISSING_CREDENTIALS,
                "credentials required: send Authorization: Bearer <API key or token>, or X-Api-Key",
            )),
            (Some(_), Some(_)) => Err(malformed(
                "send one credential: Authorization or X-Api-Key, not both",
            )),
            (None, Some(key)) => self.api_key(key.trim()),
            (Some(header), None) => {
                let value = bearer_value(header)?;
                match &self.jwt {
                    Some(jwt) if self.api_keys.is_empty() || jwt::looks_like_jwt(value) => {
                        jwt.verify(value)
                    }
                    _ => self.api_key(value),
                }
            }
        }
    }

    /// [`Self::authenticate`], then whether the principal may publish to `topic`.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
        topic: &str,
    ) -> Result<Principal, AuthError> {
        self.authenticate(authorization, api_key)?.authorize(topic)
    }

    fn api_key(&self, key: &str) -> Result<Identity, AuthError> {
        if key.is_empty() {
            return Err(malformed("the API key is empty"));
        }
        match self.api_keys.find(key) {
            Some(k) => Ok(Identity {
                principal: Principal {
                    id: k.id.clone(),
                    tenant: k.tenant.clone(),
                    kind: PrincipalKind::ApiKey,
                },
                topics: k.topics.clone(),
            }),
            None => Err(AuthError::unauthenticated(
                codes::INVALID_API_KEY,
                "unknown API key",
            )),
        }
    }
}

fn malformed(message: &str) -> AuthError {
    AuthError::unauthenticated(codes::MALFORMED_CREDENTIALS, message)
}

/// The credential of `Authorization: Bearer <value>` (scheme case-insensitive, RFC 7235).
fn bearer_value(header: &str) -> Result<&str, AuthError> {
    let header = header.trim();
    let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed("the Authorization scheme must be Bearer"));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(malformed(
            "the Authorization header has no credential after Bearer",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_value("Bearer abc").ok(), Some("abc"));
        assert_eq!(bearer_value("bearer   abc ").ok(), Some("abc"));
        assert_eq!(
            bearer_value("Basic dXNlcjpwdw==").err().map(|e| e.code()),
            Some(codes::MALFORMED_CREDENTIALS)
        );
        assert!(bearer_value("Bearer").is_err());
        assert!(bearer_value("Bearer   ").is_err());
    }

    #[test]
    fn disabled_lets_everyone_in() {
        let a = Authenticator::new(&AuthConfig::default()).unwrap();
        assert!(!a.is_enabled());
        let p = a.authorize(None, None, "any.topic").unwrap();
        assert_eq!(p.kind, PrincipalKind::Anonymous);
        assert_eq!(p.id, ANONYMOUS);
        let p = Authenticator::disabled()
            .authorize(Some("Bearer junk"), None, "t")
            .unwrap();
        assert_eq!(p.kind, PrincipalKind::Anonymous);
    }
}
