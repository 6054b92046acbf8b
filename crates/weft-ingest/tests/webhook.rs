//! Webhook signature schemes against known vectors and real payloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use weft_core::Secret;
use weft_ingest::webhook::{Scheme, SignatureEncoding, WebhookConfig, WebhookError};

/// The Stripe event of `fixtures/stripe/` (stripe/openapi `fixtures3.json`, MIT).
const STRIPE_EVENT: &[u8] = include_bytes!("fixtures/stripe/event.plan.created.json");
const STRIPE_SECRET: &str = "whsec_weft_test_secret";
/// HMAC-SHA256(STRIPE_SECRET, "1700000000." + STRIPE_EVENT), computed with Python's `hmac`.
const STRIPE_V1_AT_1700000000: &str =
    "d63696b399c1ba2b5bb973b66a593c750e5c448080a22122c61e87b21247639f";

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    hex::encode(hmac_bytes(secret, parts))
}

fn hmac_bytes(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    move |name: &str| map.get(&name.to_ascii_lowercase()).cloned()
}

fn secrets(s: &[&str]) -> Vec<Secret> {
    s.iter().map(|s| Secret::new(*s)).collect()
}

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}

fn github(s: &[&str]) -> WebhookConfig {
    WebhookConfig::new("github", Scheme::GitHub, secrets(s), "ingest.github")
}

fn stripe(s: &[&str]) -> WebhookConfig {
    WebhookConfig::new("stripe", Scheme::Stripe, secrets(s), "ingest.stripe")
}

fn stripe_header(t: u64, secrets: &[&str]) -> String {
    let ts = t.to_string();
    let mut h = format!("t={t}");
    for s in secrets {
        h.push_str(&format!(
            ",v1={}",
            hmac_hex(s, &[ts.as_bytes(), b".", STRIPE_EVENT])
        ));
    }
    h
}

#[test]
fn github_documented_example() {
    // docs.github.com "Validating webhook deliveries": this secret and payload give this header.
    let secret = "It's a Secret to Everybody";
    let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(
        format!("sha256={}", hmac_hex(secret, &[b"Hello, World!"])),
        expected
    );
    let h = headers(&[
        ("X-Hub-Signature-256", expected),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ]);
    let d = github(&[secret])
        .verify(&h, b"Hello, World!", SystemTime::now())
        .unwrap();
    assert_eq!(d.event_type.as_deref(), Some("push"));
    assert_eq!(
        d.delivery_id.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert_eq!(d.secret_index, 0);
    // Upper-case hex is the same signature.
    let upper = format!("sha256={}", &expected[7..].to_uppercase());
    let h = headers(&[("X-Hub-Signature-256", &upper)]);
    let d = github(&[secret]).verify(&h, b"Hello, World!", SystemTime::now());
    assert_eq!(d.map(|d| d.event_type), Ok(None));
}

#[test]
fn github_refusals() {
    let secret = "It's a Secret to Everybody";
    let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let cfg = github(&[secret]);
    let now = SystemTime::now();
    let check = |pairs: &[(&str, &str)], body: &[u8]| cfg.verify(&headers(pairs), body, now);

    let e = check(&[], b"Hello, World!").unwrap_err();
    assert_eq!(
        e,
        WebhookError::MissingSignature {
            header: "X-Hub-Signature-256".into()
        }
    );
    assert_eq!(e.code(), "missing_signature");
    assert_eq!(e.http_status(), 401);
    assert_eq!(
        check(&[("X-Hub-Signature-256", "  ")], b"Hello, World!")
            .unwrap_err()
            .code(),
        "missing_signature"
    );

    let tampered = check(&[("X-Hub-Signature-256", good)], b"Hello, World?").unwrap_err();
    assert_eq!(tampered, WebhookError::BadSignature);
    assert_eq!(tampered.code(), "bad_signature");

    // The SHA-1 header style, or no prefix at all, is refused as malformed.
    let sha1 = good.replacen("sha256=", "sha1=", 1);
    let e = check(&[("X-Hub-Signature-256", &sha1)], b"Hello, World!").unwrap_err();
    assert_eq!(e.code(), "malformed_signature");
    assert!(e.to_string().contains("prefix"), "{e}");
    let bare = &good[7..];
    assert_eq!(
        check(&[("X-Hub-Signature-256", bare)], b"Hello, World!")
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
    assert_eq!(
        check(&[("X-Hub-Signature-256", "sha256=zz")], b"Hello, World!")
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
    assert_eq!(
        check(&[("X-Hub-Signature-256", "sha256=abcd")], b"Hello, World!")
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
    // A signature made with another secret.
    let other = format!("sha256={}", hmac_hex("another secret", &[b"Hello, World!"]));
    assert_eq!(
        check(&[("X-Hub-Signature-256", &other)], b"Hello, World!"),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn github_real_payload_and_rotation() {
    // octokit/webhooks `payload-examples/api.github.com/push/payload.json` (MIT).
    let body = include_bytes!("fixtures/github/push.payload.json");
    let sign = |s: &str| format!("sha256={}", hmac_hex(s, &[body]));
    let now = SystemTime::now();
    let rotating = github(&["new-secret", "old-secret"]);
    let by_old = sign("old-secret");
    let by_new = sign("new-secret");
    let d = rotating
        .verify(&headers(&[("X-Hub-Signature-256", &by_old)]), body, now)
        .unwrap();
    assert_eq!(d.secret_index, 1);
    let d = rotating
        .verify(&headers(&[("X-Hub-Signature-256", &by_new)]), body, now)
        .unwrap();
    assert_eq!(d.secret_index, 0);
    // After the rotation the old secret no longer passes.
    let rotated = github(&["new-secret"]);
    assert_eq!(
        rotated.verify(&headers(&[("X-Hub-Signature-256", &by_old)]), body, now),
        Err(WebhookError::BadSignature)
    );
    assert!(rotated
        .verify(&headers(&[("X-Hub-Signature-256", &by_new)]), body, now)
        .is_ok());
}

#[test]
fn stripe_independent_vector_on_a_real_event() {
    let t = 1_700_000_000;
    let h = format!("t={t},v1={STRIPE_V1_AT_1700000000}");
    assert_eq!(h, stripe_header(t, &[STRIPE_SECRET]));
    let d = stripe(&[STRIPE_SECRET])
        .verify(
            &headers(&[("Stripe-Signature", &h)]),
            STRIPE_EVENT,
            at(t + 10),
        )
        .unwrap();
    assert_eq!(d.event_type.as_deref(), Some("plan.created"));
    assert_eq!(
        d.delivery_id.as_deref(),
        Some("evt_1Pgc76B7WZ01zgkWwyRHS12y")
    );
    assert_eq!(d.secret_index, 0);
}

#[test]
fn stripe_signatures_and_rotation() {
    let t = 1_700_000_000;
    let now = at(t);
    let verify = |cfg: &WebhookConfig, h: &str, body: &[u8]| {
        cfg.verify(&headers(&[("Stripe-Signature", h)]), body, now)
    };
    // Stripe signs with every active secret during a rotation: any v1 may match any secret.
    let both = stripe_header(t, &["whsec_old", "whsec_new"]);
    let d = verify(&stripe(&["whsec_new"]), &both, STRIPE_EVENT).unwrap();
    assert_eq!(d.secret_index, 0);
    let d = verify(&stripe(&["whsec_other", "whsec_old"]), &both, STRIPE_EVENT).unwrap();
    assert_eq!(d.secret_index, 1);
    let old_only = stripe_header(t, &["whsec_old"]);
    assert_eq!(
        verify(&stripe(&["whsec_new"]), &old_only, STRIPE_EVENT),
        Err(WebhookError::BadSignature)
    );
    // v0 (and other schemes) are ignored; a header with only v0 has no usable signature.
    let v0 = format!("t={t},v0={}", hmac_hex("whsec_old", &[b"x"]));
    let e = verify(&stripe(&["whsec_old"]), &v0, STRIPE_EVENT).unwrap_err();
    assert_eq!(e.code(), "malformed_signature");
    let with_v0 = format!("{old_only},v0={}", "00".repeat(32));
    assert!(verify(&stripe(&["whsec_old"]), &with_v0, STRIPE_EVENT).is_ok());
    // Tampered body: one byte changed.
    let mut tampered = STRIPE_EVENT.to_vec();
    let pos = tampered.iter().position(|b| *b == b'2').unwrap();
    tampered[pos] = b'3';
    assert_eq!(
        verify(&stripe(&["whsec_old"]), &old_only, &tampered),
        Err(WebhookError::BadSignature)
    );
    // The timestamp is signed too: changing it breaks the signature.
    let moved = old_only.replacen(&format!("t={t}"), &format!("t={}", t + 1), 1);
    assert_eq!(
        verify(&stripe(&["whsec_old"]), &moved, STRIPE_EVENT),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        stripe(&["whsec_old"])
            .verify(&headers(&[]), STRIPE_EVENT, now)
            .unwrap_err(),
        WebhookError::MissingSignature {
            header: "Stripe-Signature".into()
        }
    );
    for bad in ["v1=00", "t=abc,v1=00", "t=1", "nonsense"] {
        assert_eq!(
            verify(&stripe(&["whsec_old"]), bad, STRIPE_EVENT)
                .unwrap_err()
                .code(),
            "malformed_signature",
            "{bad}"
        );
    }
}

#[test]
fn stripe_timestamp_tolerance() {
    let t = 1_700_000_000;
    let cfg = stripe(&[STRIPE_SECRET]);
    let h = stripe_header(t, &[STRIPE_SECRET]);
    let verify = |now| cfg.verify(&headers(&[("Stripe-Signature", &h)]), STRIPE_EVENT, now);
    assert!(verify(at(t + 300)).is_ok(), "exactly the tolerance passes");
    assert!(verify(at(t - 300)).is_ok());
    let stale = verify(at(t + 301)).unwrap_err();
    assert_eq!(
        stale,
        WebhookError::StaleTimestamp {
            age_secs: 301,
            tolerance_secs: 300
        }
    );
    assert_eq!(stale.code(), "stale_timestamp");
    assert_eq!(stale.http_status(), 401);
    assert!(stale.to_string().contains("301s old"), "{stale}");
    let future = verify(at(t - 3600)).unwrap_err();
    assert_eq!(
        future,
        WebhookError::StaleTimestamp {
            age_secs: -3600,
            tolerance_secs: 300
        }
    );
    assert!(future.to_string().contains("in the future"), "{future}");
    // A stale header with a wrong signature is a bad signature: the signature is checked first.
    let forged = format!("t={t},v1={}", "00".repeat(32));
    assert_eq!(
        cfg.verify(
            &headers(&[("Stripe-Signature", &forged)]),
            STRIPE_EVENT,
            at(t + 3600)
        ),
        Err(WebhookError::BadSignature)
    );
    // A configured tolerance.
    let mut strict = stripe(&[STRIPE_SECRET]);
    strict.tolerance = Duration::from_secs(10);
    assert_eq!(
        strict
            .verify(
                &headers(&[("Stripe-Signature", &h)]),
                STRIPE_EVENT,
                at(t + 11)
            )
            .unwrap_err()
            .code(),
        "stale_timestamp"
    );
}

#[test]
fn stripe_body_that_is_not_an_event() {
    let t = 1_700_000_000;
    let body = b"not json";
    let ts = t.to_string();
    let h = format!(
        "t={t},v1={}",
        hmac_hex(STRIPE_SECRET, &[ts.as_bytes(), b".", body])
    );
    let d = stripe(&[STRIPE_SECRET])
        .verify(&headers(&[("Stripe-Signature", &h)]), body, at(t))
        .unwrap();
    assert_eq!((d.event_type, d.delivery_id), (None, None));
}

#[test]
fn generic_hmac_hex_and_base64() {
    let body = br#"{"id":1,"topic":"orders/create"}"#;
    let now = SystemTime::now();
    let mut hexed = WebhookConfig::new(
        "acme",
        Scheme::HmacSha256,
        secrets(&["s3cret"]),
        "ingest.acme",
    );
    hexed.header = Some("X-Acme-Signature".into());
    hexed.prefix = Some("hmac-sha256=".into());
    hexed.event_type_header = Some("X-Acme-Event".into());
    hexed.id_header = Some("X-Acme-Delivery".into());
    assert!(hexed.validate().is_empty());
    let sig = format!("hmac-sha256={}", hmac_hex("s3cret", &[body]));
    let d = hexed
        .verify(
            &headers(&[
                ("x-acme-signature", &sig),
                ("X-Acme-Event", "order.created"),
                ("X-Acme-Delivery", "d-1"),
            ]),
            body,
            now,
        )
        .unwrap();
    assert_eq!(d.event_type.as_deref(), Some("order.created"));
    assert_eq!(d.delivery_id.as_deref(), Some("d-1"));
    let no_prefix = hmac_hex("s3cret", &[body]);
    assert_eq!(
        hexed
            .verify(&headers(&[("X-Acme-Signature", &no_prefix)]), body, now)
            .unwrap_err()
            .code(),
        "malformed_signature"
    );

    // Shopify style: X-Shopify-Hmac-Sha256 holds standard base64, no prefix.
    let mut b64 = WebhookConfig::new(
        "shop",
        Scheme::HmacSha256,
        secrets(&["shpss_new", "shpss_old"]),
        "ingest.shop",
    );
    b64.header = Some("X-Shopify-Hmac-Sha256".into());
    b64.encoding = SignatureEncoding::Base64;
    b64.id_header = Some("X-Shopify-Webhook-Id".into());
    assert!(b64.validate().is_empty());
    let sig = base64::engine::general_purpose::STANDARD.encode(hmac_bytes("shpss_old", &[body]));
    let d = b64
        .verify(
            &headers(&[
                ("X-Shopify-Hmac-Sha256", &sig),
                ("X-Shopify-Webhook-Id", "w-9"),
            ]),
            body,
            now,
        )
        .unwrap();
    assert_eq!(d.secret_index, 1);
    assert_eq!(d.delivery_id.as_deref(), Some("w-9"));
    assert_eq!(d.event_type, None);
    assert_eq!(
        b64.verify(&headers(&[("X-Shopify-Hmac-Sha256", &sig)]), b"{}", now),
        Err(WebhookError::BadSignature)
    );
    let hex_sig = hmac_hex("shpss_old", &[body]);
    assert_eq!(
        b64.verify(&headers(&[("X-Shopify-Hmac-Sha256", &hex_sig)]), body, now)
            .unwrap_err()
            .code(),
        "malformed_signature"
    );
}

#[test]
fn errors_never_show_secrets_or_signatures() {
    let body = b"payload";
    let sig = format!("sha256={}", hmac_hex("topsecret", &[b"other"]));
    let e = github(&["topsecret"])
        .verify(
            &headers(&[("X-Hub-Signature-256", &sig)]),
            body,
            SystemTime::now(),
        )
        .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("topsecret") && !text.contains(&sig[7..]),
        "{text}"
    );
}
