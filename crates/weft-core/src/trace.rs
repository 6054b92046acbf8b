//! W3C Trace Context (`traceparent`) carried in Kafka headers.
//!
//! Format: `00-<trace-id: 32 hex>-<parent-id: 16 hex>-<flags: 2 hex>`
//! (<https://www.w3.org/TR/trace-context/#traceparent-header>).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub flags: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid traceparent {value:?}: {reason}")]
pub struct TraceParentError {
    pub value: String,
    pub reason: &'static str,
}

impl TraceParent {
    /// Starts a new, sampled trace.
    pub fn new_root() -> Self {
        let mut trace_id = [0u8; 16];
        let mut parent_id = [0u8; 8];
        rand::fill(&mut trace_id);
        rand::fill(&mut parent_id);
        Self {
            trace_id,
            parent_id,
            flags: 0x01,
        }
    }

    /// The same trace with a new span id: what a stage writes on the records it produces.
    pub fn child(&self) -> Self {
        let mut parent_id = [0u8; 8];
        rand::fill(&mut parent_id);
        Self { parent_id, ..*self }
    }

    pub fn trace_id_hex(&self) -> String {
        let mut b = [0u8; 32];
        match hex::encode_to_slice(self.trace_id, &mut b) {
            Ok(()) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => hex::encode(self.trace_id),
        }
    }

    pub fn sampled(&self) -> bool {
        self.flags & 0x01 == 0x01
    }
}

impl fmt::Display for TraceParent {
    /// `00-<trace id>-<parent id>-<flags>`, lower-case hex. Written into one buffer: every
    /// record a stage produces carries one, and `hex::encode` goes through a char iterator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = *b"00-00000000000000000000000000000000-0000000000000000-00";
        // The slices have exactly twice the input's length, so the encodings cannot fail.
        let ok = hex::encode_to_slice(self.trace_id, &mut b[3..35]).is_ok()
            && hex::encode_to_slice(self.parent_id, &mut b[36..52]).is_ok()
            && hex::encode_to_slice([self.flags], &mut b[53..55]).is_ok();
        match std::str::from_utf8(&b) {
            Ok(text) if ok => f.write_str(text),
            _ => Err(fmt::Error),
        }
    }
}

impl FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| TraceParentError {
            value: s.to_string(),
            reason,
        };
        let parts: Vec<&str> = s.trim().split('-').collect();
        if parts.len() < 4 {
            return Err(err("expected version-traceid-parentid-flags"));
        }
        let version = parts[0];
        if version.len() != 2 || version == "ff" {
            return Err(err("unsupported version"));
        }
        // Version 00 has exactly four fields; later versions may append more.
        if version == "00" && parts.len() != 4 {
            return Err(err("version 00 has exactly four fields"));
        }
        let mut trace_id = [0u8; 16];
        hex::decode_to_slice(parts[1], &mut trace_id)
            .map_err(|_| err("trace-id is not 32 hex digits"))?;
        let mut parent_id = [0u8; 8];
        hex::decode_to_slice(parts[2], &mut parent_id)
            .map_err(|_| err("parent-id is not 16 hex digits"))?;
        let mut flags = [0u8; 1];
        hex::decode_to_slice(parts[3], &mut flags)
            .map_err(|_| err("flags are not 2 hex digits"))?;
        if trace_id == [0u8; 16] {
            return Err(err("trace-id is all zeros"));
        }
        if parent_id == [0u8; 8] {
            return Err(err("parent-id is all zeros"));
        }
        Ok(Self {
            trace_id,
            parent_id,
            flags: flags[0],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example() {
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let tp: TraceParent = s.parse().expect("valid");
        assert_eq!(tp.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(tp.sampled());
        assert_eq!(tp.to_string(), s);
    }

    #[test]
    fn child_keeps_trace_and_changes_span() {
        let root = TraceParent::new_root();
        let child = root.child();
        assert_eq!(root.trace_id, child.trace_id);
        assert_ne!(root.parent_id, child.parent_id);
        assert_eq!(child.to_string().parse::<TraceParent>().ok(), Some(child));
    }

    #[test]
    fn rejects_malformed_values_with_a_reason() {
        for (bad, why) in [
            ("garbage", "expected"),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                "trace-id",
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "all zeros",
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",
                "four fields",
            ),
        ] {
            let e = bad.parse::<TraceParent>().expect_err(bad);
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }
}
