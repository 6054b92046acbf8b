//! Typed Kafka connection settings and the librdkafka configs built from them.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::Deserialize;
use weft_core::Secret;

/// How to reach and authenticate to the Kafka cluster (`[kafka]` in `weft.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// Prefix of every client id; the role and service are appended (`weft.pipe.consumer`).
    pub client_id: String,
    pub security_protocol: SecurityProtocol,
    pub sasl: Option<SaslConfig>,
    pub tls: Option<TlsConfig>,
    /// How often librdkafka reports statistics (exported as Prometheus metrics); 0 disables.
    #[serde(with = "humantime_serde")]
    pub statistics_interval: Duration,
    /// Extra librdkafka properties for every client, passed through as they are.
    pub properties: BTreeMap<String, String>,
    /// Extra librdkafka properties for consumers only.
    pub consumer_properties: BTreeMap<String, String>,
    /// Extra librdkafka properties for producers only.
    pub producer_properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: "127.0.0.1:9092".into(),
            client_id: "weft".into(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl: None,
            tls: None,
            statistics_interval: Duration::from_secs(5),
            properties: BTreeMap::new(),
            consumer_properties: BTreeMap::new(),
            producer_properties: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    pub mechanism: SaslMechanism,
    pub username: String,
    pub password: Secret,
}

/// TLS files are passed to librdkafka as they are (`ssl.*.location`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub ca_location: Option<String>,
    pub certificate_location: Option<String>,
    pub key_location: Option<String>,
    pub key_password: Option<Secret>,
    /// Set to false only for local testing against self-signed brokers.
    pub verify_hostname: Option<bool>,
}

/// Which kind of client a config is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Consumer,
    Producer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consumer => "consumer",
            Self::Producer => "producer",
            Self::Admin => "admin",
        }
    }
}

impl KafkaConfig {
    /// Every problem with these settings, each naming the key (`kafka.<key>`).
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.bootstrap_servers.trim().is_empty() {
            errors.push("kafka.bootstrap_servers: must name at least one host:port".to_string());
        }
        for server in self.bootstrap_servers.split(',').map(str::trim) {
            if !server.is_empty() && !server.contains(':') {
                errors.push(format!(
                    "kafka.bootstrap_servers: {server:?} has no port (expected host:port)"
                ));
            }
        }
        if self.client_id.trim().is_empty() {
            errors.push("kafka.client_id: must not be empty".to_string());
        }
        match (self.security_protocol.uses_sasl(), &self.sasl) {
            (true, None) => errors.push(format!(
                "kafka.sasl: required when kafka.security_protocol is {}",
                self.security_protocol.as_librdkafka()
            )),
            (false, Some(_)) => errors.push(format!(
                "kafka.sasl: set but kafka.security_protocol is {} (use sasl_plaintext or sasl_ssl)",
                self.security_protocol.as_librdkafka()
            )),
            _ => {}
        }
        if let Some(sasl) = &self.sasl {
            if sasl.username.is_empty() {
                errors.push("kafka.sasl.username: must not be empty".to_string());
            }
            if sasl.password.is_empty() {
                errors.push("kafka.sasl.password: must not be empty".to_string());
            }
        }
        errors
    }

    /// The librdkafka configuration for a client of `role`, named `<client_id>.<name>.<role>`.
    pub fn client_config(&self, role: Role, name: &str) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers);
        c.set(
            "client.id",
            format!("{}.{}.{}", self.client_id, name, role.as_str()),
        );
        c.set("security.protocol", self.security_protocol.as_librdkafka());
        if let Some(sasl) = &self.sasl {
            c.set("sasl.mechanism", sasl.mechanism.as_librdkafka());
            c.set("sasl.username", &sasl.username);
            c.set("sasl.password", sasl.password.expose());
        }
        if let Some(tls) = &self.tls {
            let mut set = |k: &str, v: &Option<String>| {
                if let Some(v) = v {
                    c.set(k, v);
                }
            };
            set("ssl.ca.location", &tls.ca_location);
            set("ssl.certificate.location", &tls.certificate_location);
            set("ssl.key.location", &tls.key_location);
            if let Some(p) = &tls.key_password {
                c.set("ssl.key.password", p.expose());
            }
            if tls.verify_hostname == Some(false) {
                c.set("ssl.endpoint.identification.algorithm", "none");
            }
        }
        if !self.statistics_interval.is_zero() && role != Role::Admin {
            c.set(
                "statistics.interval.ms",
                self.statistics_interval.as_millis().to_string(),
            );
        }
        if role == Role::Consumer {
            // librdkafka (2.3+) postpones the next fetch of a partition by
            // `fetch.queue.backoff.ms` once its local queue passed the prefetch thresholds; at
            // the default (1 s) a reader that takes records in bursts, or reads a backlog,
            // finds the queue empty and waits for most of that second. Prefetch up to 16 MiB
            // instead of 64: with the short backoff the queue refills quickly. Properties from
            // the configuration (below) still win.
            c.set("fetch.queue.backoff.ms", "10");
            c.set("queued.max.messages.kbytes", "16384");
        }
        let extra = match role {
            Role::Consumer => &self.consumer_properties,
            Role::Producer => &self.producer_properties,
            Role::Admin => &BTreeMap::new(),
        };
        for (k, v) in self.properties.iter().chain(extra.iter()) {
            c.set(k, v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_and_tls_settings_reach_librdkafka() {
        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl: Some(SaslConfig {
                mechanism: SaslMechanism::ScramSha512,
                username: "weft".into(),
                password: Secret::new("pw"),
            }),
            tls: Some(TlsConfig {
                ca_location: Some("/etc/ca.pem".into()),
                ..TlsConfig::default()
            }),
            ..KafkaConfig::default()
        };
        assert!(cfg.validate().is_empty());
        let c = cfg.client_config(Role::Producer, "pipe");
        assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(c.get("sasl.password"), Some("pw"));
        assert_eq!(c.get("ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(c.get("client.id"), Some("weft.pipe.producer"));
        assert!(
            !format!("{cfg:?}").contains("pw\""),
            "password is redacted in Debug"
        );
    }

    #[test]
    fn validation_lists_every_problem() {
        let cfg = KafkaConfig {
            bootstrap_servers: "localhost".into(),
            client_id: " ".into(),
            security_protocol: SecurityProtocol::SaslPlaintext,
            ..KafkaConfig::default()
        };
        let errors = cfg.validate();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("kafka.bootstrap_servers"));
        assert!(errors[2].starts_with("kafka.sasl"));
    }

    #[test]
    fn pass_through_properties_apply_per_role() {
        let mut cfg = KafkaConfig::default();
        cfg.properties
            .insert("socket.keepalive.enable".into(), "true".into());
        cfg.consumer_properties
            .insert("fetch.min.bytes".into(), "1024".into());
        let consumer = cfg.client_config(Role::Consumer, "x");
        let producer = cfg.client_config(Role::Producer, "x");
        assert_eq!(consumer.get("fetch.min.bytes"), Some("1024"));
        assert_eq!(producer.get("fetch.min.bytes"), None);
        assert_eq!(producer.get("socket.keepalive.enable"), Some("true"));
    }

    #[test]
    fn consumers_fetch_without_the_long_backoff_unless_configured() {
        let mut cfg = KafkaConfig::default();
        let consumer = cfg.client_config(Role::Consumer, "x");
        assert_eq!(consumer.get("fetch.queue.backoff.ms"), Some("10"));
        assert_eq!(consumer.get("queued.max.messages.kbytes"), Some("16384"));
        let producer = cfg.client_config(Role::Producer, "x");
        assert_eq!(producer.get("fetch.queue.backoff.ms"), None);
        cfg.consumer_properties
            .insert("fetch.queue.backoff.ms".into(), "500".into());
        let consumer = cfg.client_config(Role::Consumer, "x");
        assert_eq!(consumer.get("fetch.queue.backoff.ms"), Some("500"));
    }
}
