//! Masks of PII fields (`mask = "sha256" | "redact" | "keep_last_N"`).

use sha2::{Digest, Sha256};

/// How a string output is masked after it is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Lower-case hex SHA-256 of the UTF-8 text.
    Sha256,
    /// The text `[redacted]`.
    Redact,
    /// Every character but the last N replaced by `*` (text of N characters or fewer is kept).
    KeepLast(usize),
}

impl Mask {
    /// Parses `sha256`, `redact` or `keep_last_N`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(Self::Sha256),
            "redact" => Some(Self::Redact),
            _ => {
                let n = s.strip_prefix("keep_last_")?;
                if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                n.parse().ok().map(Self::KeepLast)
            }
        }
    }

    /// Masks a text.
    pub fn apply(self, s: &str) -> String {
        match self {
            Self::Sha256 => {
                let digest = Sha256::digest(s.as_bytes());
                // hex::encode goes through a char iterator; the slice form is a table loop.
                let mut hex = [0u8; 64];
                match hex::encode_to_slice(digest, &mut hex) {
                    Ok(()) => String::from_utf8_lossy(&hex).into_owned(),
                    Err(_) => hex::encode(digest),
                }
            }
            Self::Redact => "[redacted]".to_string(),
            Self::KeepLast(n) => {
                let count = s.chars().count();
                if count <= n {
                    return s.to_string();
                }
                const STARS: &str = "********************************";
                let hidden = count - n;
                let cut = s.char_indices().nth(hidden).map_or(s.len(), |(i, _)| i);
                let mut out = String::with_capacity(hidden + s.len() - cut);
                let mut left = hidden;
                while left > 0 {
                    let k = left.min(STARS.len());
                    out.push_str(&STARS[..k]);
                    left -= k;
                }
                out.push_str(&s[cut..]);
                out
            }
        }
    }
}
