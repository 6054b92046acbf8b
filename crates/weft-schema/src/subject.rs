//! Subject naming strategies, as Confluent's serializers define them.

use serde::Deserialize;

/// How a topic's key or value schema is named in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value` (Confluent's default, `TopicNameStrategy`).
    #[default]
    TopicName,
    /// The record's full name (`RecordNameStrategy`): one schema for the type on every topic.
    RecordName,
    /// `<topic>-<record full name>` (`TopicRecordNameStrategy`): several types per topic.
    TopicRecordName,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    #[error(
        "the {0:?} strategy needs the record's full name, and the schema is not a named record"
    )]
    NoRecordName(SubjectNameStrategy),
    #[error("topic name is empty")]
    EmptyTopic,
}

impl SubjectNameStrategy {
    /// The subject for `topic`'s key (`is_key`) or value schema whose record full name (if
    /// any) is `record`.
    pub fn subject(
        self,
        topic: &str,
        is_key: bool,
        record: Option<&str>,
    ) -> Result<String, SubjectError> {
        if topic.is_empty() && self != Self::RecordName {
            return Err(SubjectError::EmptyTopic);
        }
        match self {
            Self::TopicName => Ok(format!("{topic}-{}", if is_key { "key" } else { "value" })),
            Self::RecordName => record
                .map(str::to_string)
                .ok_or(SubjectError::NoRecordName(self)),
            Self::TopicRecordName => record
                .map(|r| format!("{topic}-{r}"))
                .ok_or(SubjectError::NoRecordName(self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluent_subject_names() {
        use SubjectNameStrategy::*;
        let rec = Some("com.acme.Order");
        assert_eq!(
            TopicName.subject("orders", false, rec).as_deref(),
            Ok("orders-value")
        );
        assert_eq!(
            TopicName.subject("orders", true, None).as_deref(),
            Ok("orders-key")
        );
        assert_eq!(
            RecordName.subject("orders", false, rec).as_deref(),
            Ok("com.acme.Order")
        );
        assert_eq!(
            TopicRecordName.subject("orders", false, rec).as_deref(),
            Ok("orders-com.acme.Order")
        );
        assert_eq!(
            RecordName.subject("orders", false, None),
            Err(SubjectError::NoRecordName(RecordName))
        );
        assert_eq!(
            TopicName.subject("", false, None),
            Err(SubjectError::EmptyTopic)
        );
    }

    #[test]
    fn strategies_read_from_config() {
        let s: SubjectNameStrategy = serde_json::from_str("\"topic_record_name\"").expect("valid");
        assert_eq!(s, SubjectNameStrategy::TopicRecordName);
        assert!(serde_json::from_str::<SubjectNameStrategy>("\"TopicName\"").is_err());
    }
}
