//! The records of the registry's log (`_schemas`).
//!
//! The log is not Confluent's `_schemas` format: Confluent elects a leader that assigns ids and
//! writes final records. Weft's registry has no leader. Every process appends *requests*, and
//! every process folds the same single-partition log in the same order with the same pure
//! function ([`crate::state::State::apply`]), so all of them reach the same ids and versions —
//! state-machine replication with Kafka as the sequencer. Request keys are unique, so
//! compaction never removes one; only `CONFIG` records (last value wins) are compacted.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The key of every record, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keytype", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogKey {
    /// A request (register, delete): unique per request, never compacted away.
    Request { request: Uuid },
    /// A compatibility level: `subject` absent for the global level. A tombstone removes it.
    Config {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
    },
}

/// A schema reference, as Confluent's API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// The value of a request record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Register `schema` under `subject`, if the subject's newest version is still
    /// `expect_latest` (the version the requester checked compatibility against); otherwise the
    /// fold answers `Conflict` and the requester checks again.
    Register {
        subject: String,
        #[serde(rename = "schemaType")]
        schema_type: String,
        schema: String,
        /// The identity of the schema (normalised text, with type and references), computed
        /// by the requester so that the fold does not depend on the Avro library's version.
        identity: String,
        #[serde(default)]
        references: Vec<Reference>,
        expect_latest: Option<i32>,
    },
    /// Delete one version (`permanent` only after a soft delete).
    DeleteVersion {
        subject: String,
        version: i32,
        permanent: bool,
    },
    /// Delete every version of a subject.
    DeleteSubject { subject: String, permanent: bool },
}

/// The value of a `CONFIG` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    #[serde(rename = "compatibilityLevel")]
    pub compatibility_level: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_tagged_json() {
        let k = LogKey::Config { subject: None };
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            r#"{"keytype":"CONFIG"}"#
        );
        let r = LogKey::Request {
            request: Uuid::nil(),
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"keytype":"REQUEST","request":"00000000-0000-0000-0000-000000000000"}"#
        );
        assert_eq!(serde_json::from_str::<LogKey>(&text).unwrap(), r);
    }

    #[test]
    fn requests_round_trip() {
        let r = Request::Register {
            subject: "orders-value".into(),
            schema_type: "AVRO".into(),
            schema: "\"string\"".into(),
            identity: "AVRO\n\"string\"".into(),
            references: vec![],
            expect_latest: Some(2),
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.starts_with(r#"{"op":"register""#), "{text}");
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), r);
    }
}
