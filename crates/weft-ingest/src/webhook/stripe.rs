//! Stripe's `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` header and event envelope.

use serde::Deserialize;

/// Only the two fields Stripe deliveries are identified by; the rest of the body is skipped.
#[derive(Deserialize)]
pub(super) struct StripeEnvelope {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default, rename = "type")]
    pub(super) kind: Option<String>,
}

pub(super) struct StripeSignature {
    pub(super) timestamp: i64,
    /// The decoded `v1` values (other schemes, such as `v0`, are ignored).
    pub(super) signatures: Vec<Vec<u8>>,
}

pub(super) fn parse_stripe(value: &str) -> Result<StripeSignature, &'static str> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        let (key, v) = item
            .trim()
            .split_once('=')
            .ok_or("an item is not key=value")?;
        match key {
            "t" => {
                let t = v
                    .parse::<i64>()
                    .map_err(|_| "t is not a unix timestamp in seconds")?;
                if timestamp.replace(t).is_some() {
                    return Err("t appears twice");
                }
            }
            "v1" => {
                let sig = hex::decode(v).map_err(|_| "a v1 signature is not hex")?;
                if sig.len() != 32 {
                    return Err("a v1 signature is not 32 bytes (64 hex digits)");
                }
                signatures.push(sig);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no t=<timestamp>")?;
    if signatures.is_empty() {
        return Err("no v1 signature");
    }
    Ok(StripeSignature {
        timestamp,
        signatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_header_parsing() {
        let h = format!("t=1492774577,v1={},v0={}", "ab".repeat(32), "cd".repeat(32));
        let p = parse_stripe(&h).unwrap();
        assert_eq!(p.timestamp, 1492774577);
        assert_eq!(p.signatures.len(), 1);
        let two = format!("t=1, v1={}, v1={}", "ab".repeat(32), "cd".repeat(32));
        assert_eq!(parse_stripe(&two).unwrap().signatures.len(), 2);
        assert_eq!(
            parse_stripe("v1=00").err(),
            Some("a v1 signature is not 32 bytes (64 hex digits)")
        );
        assert_eq!(
            parse_stripe(&format!("v1={}", "ab".repeat(32))).err(),
            Some("no t=<timestamp>")
        );
        assert_eq!(parse_stripe("t=1").err(), Some("no v1 signature"));
        assert_eq!(
            parse_stripe("t=x,v1=00").err(),
            Some("t is not a unix timestamp in seconds")
        );
        assert_eq!(
            parse_stripe("garbage").err(),
            Some("an item is not key=value")
        );
        assert_eq!(parse_stripe("t=1,t=2").err(), Some("t appears twice"));
    }
}
