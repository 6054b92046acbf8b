//! API keys, kept only as SHA-256 digests and looked up in constant time.

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::config::ApiKeyConfig;

/// Hex (lowercase) of the SHA-256 of an API key: what `ingest.auth.api_keys.*.sha256` holds.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub(super) struct StoredKey {
    pub(super) id: String,
    pub(super) tenant: String,
    pub(super) topics: Vec<String>,
    digest: [u8; 32],
}

/// The configured keys.
#[derive(Default)]
pub(super) struct ApiKeys {
    keys: Vec<StoredKey>,
}

impl ApiKeys {
    /// Keys whose `sha256` does not decode are skipped: `AuthConfig::validate` reports them.
    pub(super) fn new(configs: &[ApiKeyConfig]) -> Self {
        let keys = configs
            .iter()
            .filter_map(|c| {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(&c.sha256, &mut digest).ok()?;
                Some(StoredKey {
                    id: c.id.clone(),
                    tenant: c.tenant.clone(),
                    topics: c.topics.clone(),
                    digest,
                })
            })
            .collect();
        Self { keys }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(super) fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// The key whose digest is the SHA-256 of `presented`. Every stored digest is compared, in
    /// constant time, whatever matches: the time taken says nothing about the keys.
    pub(super) fn find(&self, presented: &str) -> Option<&StoredKey> {
        let digest = Sha256::digest(presented.as_bytes());
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, k) in self.keys.iter().enumerate() {
            let eq = k.digest[..].ct_eq(&digest[..]);
            index.conditional_assign(&(i as u64), eq);
            found |= eq;
        }
        if bool::from(found) {
            usize::try_from(index).ok().and_then(|i| self.keys.get(i))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_hex_sha256() {
        // SHA-256("test"), a well-known vector.
        assert_eq!(
            hash_api_key("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn finds_by_digest_in_either_case() {
        let cfg = |id: &str, key: &str, upper: bool| ApiKeyConfig {
            id: id.into(),
            sha256: if upper {
                hash_api_key(key).to_uppercase()
            } else {
                hash_api_key(key)
            },
            tenant: "t".into(),
            topics: vec!["*".into()],
        };
        let keys = ApiKeys::new(&[cfg("a", "alpha", false), cfg("b", "beta", true)]);
        assert_eq!(keys.find("alpha").map(|k| k.id.as_str()), Some("a"));
        assert_eq!(keys.find("beta").map(|k| k.id.as_str()), Some("b"));
        assert!(keys.find("gamma").is_none());
        assert!(keys.find("").is_none());
    }
}
