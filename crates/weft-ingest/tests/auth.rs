//! API keys and JWT bearer tokens: 401 vs 403, each refusal with its stable code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use weft_core::Secret;
use weft_ingest::auth::{
    codes, hash_api_key, ApiKeyConfig, AuthConfig, AuthError, Authenticator, JwtConfig,
    PrincipalKind,
};

const ISSUER: &str = "https://login.example.test/";
const AUDIENCE: &str = "weft-ingest";
const HS_SECRET: &str = "an-hs256-test-secret-of-32-bytes-or-more";
const CI_KEY: &str = "wk_test_3c6f1f0e8d2b4a59";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn api_key(id: &str, key: &str, tenant: &str, topics: &[&str]) -> ApiKeyConfig {
    ApiKeyConfig {
        id: id.into(),
        sha256: hash_api_key(key),
        tenant: tenant.into(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
    }
}

fn jwt_config(hs: bool, rs: bool) -> JwtConfig {
    let mut j = JwtConfig::new(ISSUER, AUDIENCE);
    j.hs256_secret = hs.then(|| Secret::new(HS_SECRET));
    j.jwks_file = rs.then(|| fixture("jwks.json"));
    j
}

fn authenticator(api_keys: Vec<ApiKeyConfig>, jwt: Option<JwtConfig>) -> Authenticator {
    Authenticator::new(&AuthConfig {
        enabled: true,
        api_keys,
        jwt,
    })
    .unwrap()
}

fn claims() -> Value {
    json!({
        "sub": "svc-orders",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 600,
        "iat": now(),
        "tenant": "acme",
        "weft_topics": ["orders.*", "audit.login"],
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn hs256(claims: &Value) -> String {
    hs256_with(claims, HS_SECRET.as_bytes())
}

fn hs256_with(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn rs256(claims: &Value, key_file: &str, kid: Option<&str>) -> String {
    let pem = std::fs::read(fixture(key_file)).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn code_of(r: Result<impl std::fmt::Debug, AuthError>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn api_keys_bearer_or_header_scoped_by_topic() {
    let a = authenticator(
        vec![
            api_key("ci", CI_KEY, "acme", &["orders.*", "audit.login"]),
            api_key("admin", "wk_admin_0000", "ops", &["*"]),
        ],
        None,
    );
    let p = a
        .authorize(Some(&bearer(CI_KEY)), None, "orders.created")
        .unwrap();
    assert_eq!((p.id.as_str(), p.tenant.as_str()), ("ci", "acme"));
    assert_eq!(p.kind, PrincipalKind::ApiKey);
    let p = a.authorize(None, Some(CI_KEY), "audit.login").unwrap();
    assert_eq!(p.id, "ci");
    assert_eq!(
        a.authorize(None, Some("wk_admin_0000"), "x.y").unwrap().id,
        "admin"
    );

    // 403: a valid key on a topic outside its patterns.
    for topic in [
        "orders",
        "ordersx.created",
        "audit.logout",
        "payments.created",
    ] {
        let e = a.authorize(None, Some(CI_KEY), topic).unwrap_err();
        assert_eq!(e.code(), codes::TOPIC_NOT_ALLOWED, "{topic}");
        assert_eq!(e.http_status(), 403);
        assert!(e.is_forbidden());
        assert!(e.to_string().contains(topic), "{e}");
    }

    // 401s.
    let e = a.authorize(None, None, "orders.created").unwrap_err();
    assert_eq!(
        (e.code(), e.http_status()),
        (codes::MISSING_CREDENTIALS, 401)
    );
    let e = a
        .authorize(None, Some("wk_test_wrong"), "orders.created")
        .unwrap_err();
    assert_eq!((e.code(), e.http_status()), (codes::INVALID_API_KEY, 401));
    assert!(!e.to_string().contains("wk_test_wrong"), "{e}");
    assert_eq!(
        code_of(a.authorize(Some(&bearer("wk_test_wrong")), None, "orders.x")),
        codes::INVALID_API_KEY
    );
    for malformed in ["Basic Y2k6cHc=", "Bearer", "Bearer   ", CI_KEY] {
        assert_eq!(
            code_of(a.authorize(Some(malformed), None, "orders.x")),
            codes::MALFORMED_CREDENTIALS,
            "{malformed}"
        );
    }
    assert_eq!(
        code_of(a.authorize(None, Some("  "), "orders.x")),
        codes::MALFORMED_CREDENTIALS
    );
    assert_eq!(
        code_of(a.authorize(Some(&bearer(CI_KEY)), Some(CI_KEY), "orders.x")),
        codes::MALFORMED_CREDENTIALS
    );
    // Debug output names key ids, never hashes.
    let debug = format!("{a:?}");
    assert!(
        debug.contains("\"ci\"") && !debug.contains(&hash_api_key(CI_KEY)),
        "{debug}"
    );
}

#[test]
fn hs256_tokens() {
    let a = authenticator(vec![], Some(jwt_config(true, false)));
    let p = a
        .authorize(Some(&bearer(&hs256(&claims()))), None, "orders.created")
        .unwrap();
    assert_eq!(p.kind, PrincipalKind::Jwt);
    assert_eq!((p.id.as_str(), p.tenant.as_str()), ("svc-orders", "acme"));

    let check =
        |claims: &Value, topic: &str| a.authorize(Some(&bearer(&hs256(claims))), None, topic);
    // Topic scoping: 403 with a valid token.
    let e = check(&claims(), "payments.created").unwrap_err();
    assert_eq!((e.code(), e.http_status()), (codes::TOPIC_NOT_ALLOWED, 403));
    // No topics claim: authenticated, allowed nothing.
    assert_eq!(
        code_of(check(&without(claims(), "weft_topics"), "orders.created")),
        codes::TOPIC_NOT_ALLOWED
    );

    // Time: well past the default 60 s leeway either way.
    let expired = with(claims(), "exp", json!(now() - 3600));
    let e = check(&expired, "orders.created").unwrap_err();
    assert_eq!((e.code(), e.http_status()), (codes::TOKEN_EXPIRED, 401));
    let within_leeway = with(claims(), "exp", json!(now() - 10));
    assert!(check(&within_leeway, "orders.created").is_ok());
    let early = with(claims(), "nbf", json!(now() + 3600));
    assert_eq!(
        code_of(check(&early, "orders.created")),
        codes::TOKEN_NOT_YET_VALID
    );
    let started = with(claims(), "nbf", json!(now() - 5));
    assert!(check(&started, "orders.created").is_ok());

    // Issuer and audience.
    let iss = with(claims(), "iss", json!("https://evil.example/"));
    assert_eq!(code_of(check(&iss, "orders.created")), codes::WRONG_ISSUER);
    let aud = with(claims(), "aud", json!("another-api"));
    assert_eq!(
        code_of(check(&aud, "orders.created")),
        codes::WRONG_AUDIENCE
    );
    let auds = with(claims(), "aud", json!(["another-api", AUDIENCE]));
    assert!(check(&auds, "orders.created").is_ok());

    // Required claims and their types.
    for missing in ["exp", "iss", "aud", "sub", "tenant"] {
        let e = check(&without(claims(), missing), "orders.created").unwrap_err();
        assert_eq!(e.code(), codes::INVALID_TOKEN, "{missing}");
        assert!(e.to_string().contains(missing), "{missing}: {e}");
    }
    let bad_topics = with(claims(), "weft_topics", json!("orders.*"));
    assert_eq!(
        code_of(check(&bad_topics, "orders.created")),
        codes::INVALID_TOKEN
    );
    let bad_tenant = with(claims(), "tenant", json!(7));
    assert_eq!(
        code_of(check(&bad_tenant, "orders.created")),
        codes::INVALID_TOKEN
    );

    // Signed with another secret; payload altered after signing.
    let forged = hs256_with(&claims(), b"another-secret-another-secret-another");
    let e = a
        .authorize(Some(&bearer(&forged)), None, "orders.created")
        .unwrap_err();
    assert_eq!((e.code(), e.http_status()), (codes::INVALID_TOKEN, 401));
    assert!(!e.to_string().contains(&forged), "{e}");
    let token = hs256(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let widened = with(claims(), "weft_topics", json!(["*"]));
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(widened.to_string());
    let tampered = format!("{}.{}.{}", parts[0], body, parts[2]);
    assert_eq!(
        code_of(a.authorize(Some(&bearer(&tampered)), None, "payments.x")),
        codes::INVALID_TOKEN
    );
    // RS256 tokens are not accepted by an HS256-only configuration.
    let rs = rs256(&claims(), "test-private.pem", Some("weft-test-1"));
    assert_eq!(
        code_of(a.authorize(Some(&bearer(&rs)), None, "orders.created")),
        codes::INVALID_TOKEN
    );
    // Garbage in the bearer position, with JWT only configured.
    assert_eq!(
        code_of(a.authorize(Some("Bearer not-a-token"), None, "orders.created")),
        codes::INVALID_TOKEN
    );
}

/// A token with `alg: none` and no signature, as an attacker would send it.
fn unsigned(claims: &Value, alg: &str) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        b64(&json!({"alg": alg, "typ": "JWT"})),
        b64(claims)
    )
}

#[test]
fn alg_none_is_refused() {
    let a = authenticator(vec![], Some(jwt_config(true, true)));
    for alg in ["none", "None", "NONE"] {
        let token = unsigned(&claims(), alg);
        assert_eq!(
            code_of(a.authorize(Some(&bearer(&token)), None, "orders.created")),
            codes::INVALID_TOKEN,
            "{alg}"
        );
        // With a dummy signature part too.
        let token = format!("{token}c2ln");
        assert_eq!(
            code_of(a.authorize(Some(&bearer(&token)), None, "orders.created")),
            codes::INVALID_TOKEN,
            "{alg}"
        );
    }
}

#[test]
fn rs256_tokens_from_a_jwks_file() {
    let a = authenticator(vec![], Some(jwt_config(false, true)));
    let ok = |token: &str| a.authorize(Some(&bearer(token)), None, "orders.created");
    let with_kid = rs256(&claims(), "test-private.pem", Some("weft-test-1"));
    let p = ok(&with_kid).unwrap();
    assert_eq!((p.id.as_str(), p.kind), ("svc-orders", PrincipalKind::Jwt));
    // Without a kid every RS256 key is tried.
    assert!(ok(&rs256(&claims(), "test-private.pem", None)).is_ok());
    // Unknown kid, unknown key.
    assert_eq!(
        code_of(ok(&rs256(
            &claims(),
            "test-private.pem",
            Some("rotated-away")
        ))),
        codes::INVALID_TOKEN
    );
    let e = ok(&rs256(&claims(), "other-private.pem", None)).unwrap_err();
    assert_eq!(e.code(), codes::INVALID_TOKEN);
    assert!(e.to_string().contains("bad signature"), "{e}");
    assert_eq!(
        code_of(ok(&rs256(
            &claims(),
            "other-private.pem",
            Some("weft-test-1")
        ))),
        codes::INVALID_TOKEN
    );
    // Claims are checked as for HS256.
    let expired = rs256(
        &with(claims(), "exp", json!(now() - 3600)),
        "test-private.pem",
        None,
    );
    assert_eq!(code_of(ok(&expired)), codes::TOKEN_EXPIRED);
    let wrong_aud = rs256(&with(claims(), "aud", json!("x")), "test-private.pem", None);
    assert_eq!(code_of(ok(&wrong_aud)), codes::WRONG_AUDIENCE);
    let e = a
        .authorize(Some(&bearer(&with_kid)), None, "payments.created")
        .unwrap_err();
    assert_eq!((e.code(), e.http_status()), (codes::TOPIC_NOT_ALLOWED, 403));

    // HS256 against an RS256-only configuration, including the classic confusion attack: an
    // HMAC keyed with the public key's bytes.
    assert_eq!(code_of(ok(&hs256(&claims()))), codes::INVALID_TOKEN);
    let jwks = std::fs::read(fixture("jwks.json")).unwrap();
    let jwks: Value = serde_json::from_slice(&jwks).unwrap();
    let n = jwks["keys"][0]["n"].as_str().unwrap();
    for secret in [n.as_bytes(), &jwks.to_string().into_bytes()[..]] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("weft-test-1".into());
        let t =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(code_of(ok(&t)), codes::INVALID_TOKEN);
    }
}

#[test]
fn hs256_and_rs256_together_each_with_its_own_key() {
    let a = authenticator(vec![], Some(jwt_config(true, true)));
    let ok = |token: &str| a.authorize(Some(&bearer(token)), None, "orders.created");
    assert!(ok(&hs256(&claims())).is_ok());
    assert!(ok(&rs256(&claims(), "test-private.pem", Some("weft-test-1"))).is_ok());
    // The HS256 secret does not verify RS256-labelled tokens, and vice versa.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("weft-test-1".into());
    let hs_with_kid = jsonwebtoken::encode(
        &header,
        &claims(),
        &EncodingKey::from_secret(HS_SECRET.as_bytes()),
    )
    .unwrap();
    assert!(
        ok(&hs_with_kid).is_ok(),
        "HS256 tokens use the HS256 secret, kid or not"
    );
    let hs_sig = hs256(&claims()).rsplit_once('.').unwrap().1.to_owned();
    let rs = rs256(&claims(), "test-private.pem", None);
    let relabelled = format!("{}.{}", rs.rsplit_once('.').unwrap().0, hs_sig);
    assert_eq!(code_of(ok(&relabelled)), codes::INVALID_TOKEN);
    // Other HMAC algorithms are refused even with the right secret.
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(),
        &EncodingKey::from_secret(HS_SECRET.as_bytes()),
    )
    .unwrap();
    let e = ok(&hs512).unwrap_err();
    assert_eq!(e.code(), codes::INVALID_TOKEN);
    assert!(e.to_string().contains("HS512"), "{e}");
}

#[test]
fn api_keys_and_tokens_side_by_side() {
    let a = authenticator(
        vec![api_key("ci", CI_KEY, "acme", &["audit.*"])],
        Some(jwt_config(true, false)),
    );
    assert_eq!(
        a.authorize(Some(&bearer(CI_KEY)), None, "audit.x")
            .unwrap()
            .kind,
        PrincipalKind::ApiKey
    );
    assert_eq!(
        a.authorize(Some(&bearer(&hs256(&claims()))), None, "orders.x")
            .unwrap()
            .kind,
        PrincipalKind::Jwt
    );
    assert_eq!(
        code_of(a.authorize(Some("Bearer wk_nope"), None, "audit.x")),
        codes::INVALID_API_KEY
    );
    let expired = hs256(&with(claims(), "exp", json!(now() - 3600)));
    assert_eq!(
        code_of(a.authorize(Some(&bearer(&expired)), None, "orders.x")),
        codes::TOKEN_EXPIRED
    );
}

#[test]
fn start_up_errors_name_the_key() {
    let mut j = jwt_config(false, false);
    j.jwks_file = Some(fixture("does-not-exist.json"));
    let cfg = AuthConfig {
        enabled: true,
        api_keys: vec![],
        jwt: Some(j),
    };
    let e = Authenticator::new(&cfg).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("ingest.auth.jwt.jwks_file: cannot read "),
        "{e:?}"
    );
    assert!(e[0].contains("does-not-exist.json"), "{e:?}");

    let dir = std::env::temp_dir().join(format!("weft-ingest-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let cases = [
        (
            "ec-only.json",
            json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}),
            "has no RSA signature key for RS256",
        ),
        (
            "small.json",
            json!({"keys": [{"kty": "RSA", "kid": "k", "n": b64(&[0xc5; 128]), "e": "AQAB"}]}),
            "the modulus has 1024 bits",
        ),
        (
            "bad-e.json",
            json!({"keys": [{"kty": "RSA", "n": b64(&[0xc5; 256]), "e": "Ag"}]}),
            "the exponent is not an odd number",
        ),
        (
            "not-b64.json",
            json!({"keys": [{"kty": "RSA", "n": "!!!", "e": "AQAB"}]}),
            "\"n\" is not base64url",
        ),
        ("no-keys.json", json!({"kids": []}), "is not a JWKS"),
    ];
    for (name, content, expect) in cases {
        let mut j = jwt_config(false, false);
        j.jwks_file = Some(write(name, &content));
        let cfg = AuthConfig {
            enabled: true,
            api_keys: vec![],
            jwt: Some(j),
        };
        let e = Authenticator::new(&cfg).unwrap_err();
        assert!(
            e.iter()
                .any(|m| m.starts_with("ingest.auth.jwt.jwks_file: ") && m.contains(expect)),
            "{name}: {e:?}"
        );
    }
    // Encryption keys and keys for other algorithms are skipped, not refused.
    let n = b64(&[0xc5; 256]);
    let mut j = jwt_config(false, false);
    j.jwks_file = Some(write(
        "mixed.json",
        &json!({"keys": [
            {"kty": "RSA", "use": "enc", "alg": "RSA-OAEP-256", "n": "AA", "e": "AQAB"},
            {"kty": "RSA", "alg": "PS256", "n": "AA", "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "a", "n": n, "e": "AQAB"},
        ]}),
    ));
    let cfg = AuthConfig {
        enabled: true,
        api_keys: vec![],
        jwt: Some(j),
    };
    let a = Authenticator::new(&cfg).unwrap();
    assert!(format!("{a:?}").contains("rs256 keys: 1"), "{a:?}");
    std::fs::remove_dir_all(&dir).unwrap();

    // Config errors are listed together, without the secret.
    let mut j = jwt_config(false, false);
    j.hs256_secret = Some(Secret::new("too-short"));
    let e = Authenticator::new(&AuthConfig {
        enabled: true,
        api_keys: vec![ApiKeyConfig {
            id: "ci".into(),
            sha256: "not-hex".into(),
            tenant: "".into(),
            topics: vec!["orders.*".into()],
        }],
        jwt: Some(j),
    })
    .unwrap_err();
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(!e.iter().any(|m| m.contains("too-short")), "{e:#?}");
}

#[test]
fn auth_off_is_explicit() {
    let off = Authenticator::new(&AuthConfig::default()).unwrap();
    let p = off.authorize(None, None, "anything").unwrap();
    assert_eq!(p.kind, PrincipalKind::Anonymous);
    // Credentials configured but not enabled, or enabled with nothing: refused at start-up.
    let e = Authenticator::new(&AuthConfig {
        enabled: false,
        api_keys: vec![api_key("ci", CI_KEY, "acme", &["*"])],
        jwt: None,
    })
    .unwrap_err();
    assert!(e[0].starts_with("ingest.auth.enabled: false"), "{e:?}");
    let e = Authenticator::new(&AuthConfig {
        enabled: true,
        ..AuthConfig::default()
    })
    .unwrap_err();
    assert!(e[0].starts_with("ingest.auth.enabled: true"), "{e:?}");
}
