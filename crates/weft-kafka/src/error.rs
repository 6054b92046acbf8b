//! Kafka errors, classified.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use weft_core::{Classify, ErrorClass, ErrorCode, StageError};

/// Errors of Weft's Kafka layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Kafka {
        context: String,
        #[source]
        source: KafkaError,
    },
    #[error("the producer queue stayed full for {0:?}")]
    QueueFull(std::time::Duration),
    #[error("{0}")]
    Stage(#[from] StageError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the consumer loop stopped unexpectedly: {0}")]
    Internal(String),
}

impl Error {
    pub fn kafka(context: impl Into<String>, source: KafkaError) -> Self {
        Self::Kafka {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable code of a librdkafka error.
pub fn kafka_error_code(e: &KafkaError) -> ErrorCode {
    use RDKafkaErrorCode as C;
    let Some(code) = e.rdkafka_error_code() else {
        return ErrorCode::KafkaOther;
    };
    match code {
        C::MessageTimedOut | C::RequestTimedOut | C::OperationTimedOut => {
            ErrorCode::KafkaDeliveryTimeout
        }
        C::QueueFull => ErrorCode::KafkaQueueFull,
        C::BrokerTransportFailure
        | C::AllBrokersDown
        | C::NetworkException
        | C::LeaderNotAvailable
        | C::NotLeaderForPartition
        | C::NotEnoughReplicas
        | C::NotEnoughReplicasAfterAppend
        | C::NotCoordinator
        | C::CoordinatorNotAvailable
        | C::CoordinatorLoadInProgress => ErrorCode::KafkaUnavailable,
        C::MessageSizeTooLarge | C::InvalidRecord | C::InvalidMessage => {
            ErrorCode::KafkaRecordRejected
        }
        C::UnknownTopicOrPartition | C::UnknownTopic => ErrorCode::KafkaUnknownTopic,
        C::TopicAuthorizationFailed
        | C::GroupAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::TransactionalIdAuthorizationFailed
        | C::SaslAuthenticationFailed => ErrorCode::KafkaNotAuthorized,
        C::Fenced | C::ProducerFenced | C::InvalidProducerEpoch => ErrorCode::KafkaFenced,
        _ => ErrorCode::KafkaOther,
    }
}

impl Classify for Error {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Kafka { source, .. } => kafka_error_code(source).default_class(),
            Self::QueueFull(_) => ErrorClass::Transient,
            Self::Stage(e) => e.class,
            Self::Config(_) | Self::Internal(_) => ErrorClass::Fatal,
        }
    }

    fn code(&self) -> ErrorCode {
        match self {
            Self::Kafka { source, .. } => kafka_error_code(source),
            Self::QueueFull(_) => ErrorCode::KafkaQueueFull,
            Self::Stage(e) => e.code,
            Self::Config(_) => ErrorCode::ConfigInvalid,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<&Error> for StageError {
    fn from(e: &Error) -> Self {
        match e {
            Error::Stage(s) => s.clone(),
            other => StageError::from_classified(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafka_codes_map_to_classes() {
        let timeout = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        assert_eq!(kafka_error_code(&timeout), ErrorCode::KafkaDeliveryTimeout);
        let too_big = Error::kafka(
            "send",
            KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge),
        );
        assert_eq!(too_big.class(), ErrorClass::Permanent);
        let denied = Error::kafka(
            "send",
            KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed),
        );
        assert_eq!(denied.class(), ErrorClass::Fatal);
        assert!(denied.to_string().starts_with("send: "));
    }
}
