//! Prometheus metrics of Weft's Kafka clients, registered once per process.
//!
//! Names follow `weft_<thing>_<unit>_total`; labels are bounded (`service`, `topic`,
//! `error_code`, `class`, `outcome`, `client`, `broker`, `partition`).

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use rdkafka::Statistics;

pub mod names {
    pub const CONSUMED: &str = "weft_consumed_records_total";
    pub const PRODUCED: &str = "weft_produced_records_total";
    pub const COMMITTED: &str = "weft_committed_records_total";
    pub const COMMITS: &str = "weft_offset_commits_total";
    pub const ERRORS: &str = "weft_processing_errors_total";
    pub const DEAD_LETTERED: &str = "weft_dead_lettered_records_total";
    pub const TRANSACTIONS: &str = "weft_transactions_total";
    pub const REBALANCES: &str = "weft_rebalances_total";
    pub const IN_FLIGHT: &str = "weft_in_flight_records";
    pub const RDKAFKA_PREFIX: &str = "weft_librdkafka_";
}

/// Counters and gauges shared by every Kafka client of the process.
#[derive(Clone)]
pub struct KafkaMetrics {
    pub consumed: IntCounterVec,
    pub produced: IntCounterVec,
    pub committed: IntCounterVec,
    pub commits: IntCounterVec,
    pub errors: IntCounterVec,
    pub dead_lettered: IntCounterVec,
    pub transactions: IntCounterVec,
    pub rebalances: IntCounterVec,
    pub in_flight: IntGaugeVec,
    rdkafka: RdKafkaGauges,
}

#[derive(Clone)]
struct RdKafkaGauges {
    client: IntGaugeVec,
    broker: IntGaugeVec,
    partition: IntGaugeVec,
}

fn counter(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntGaugeVec> {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

impl KafkaMetrics {
    /// Creates and registers every metric. Call once per registry.
    pub fn register(r: &Registry) -> prometheus::Result<Self> {
        use names::*;
        Ok(Self {
            consumed: counter(
                r,
                CONSUMED,
                "Records consumed from Kafka",
                &["service", "topic"],
            )?,
            produced: counter(
                r,
                PRODUCED,
                "Records acknowledged by Kafka",
                &["service", "topic"],
            )?,
            committed: counter(
                r,
                COMMITTED,
                "Records whose offsets were committed (or stored for commit)",
                &["service", "topic"],
            )?,
            commits: counter(
                r,
                COMMITS,
                "Synchronous offset commits",
                &["service", "outcome"],
            )?,
            errors: counter(
                r,
                ERRORS,
                "Processing errors by class and code",
                &["service", "class", "error_code"],
            )?,
            dead_lettered: counter(
                r,
                DEAD_LETTERED,
                "Records written to the dead-letter topic",
                &["service", "topic", "error_code"],
            )?,
            transactions: counter(
                r,
                TRANSACTIONS,
                "Kafka transactions by outcome",
                &["service", "outcome"],
            )?,
            rebalances: counter(
                r,
                REBALANCES,
                "Consumer group rebalances",
                &["service", "kind"],
            )?,
            in_flight: gauge(
                r,
                IN_FLIGHT,
                "Records consumed but not yet acknowledged",
                &["service"],
            )?,
            rdkafka: RdKafkaGauges {
                client: gauge(
                    r,
                    "weft_librdkafka_client",
                    "librdkafka client statistics (see librdkafka STATISTICS.md), by stat",
                    &["client", "stat"],
                )?,
                broker: gauge(
                    r,
                    "weft_librdkafka_broker",
                    "librdkafka per-broker statistics, by stat (latencies in microseconds)",
                    &["client", "broker", "stat"],
                )?,
                partition: gauge(
                    r,
                    "weft_librdkafka_partition",
                    "librdkafka per-partition statistics, by stat",
                    &["client", "topic", "partition", "stat"],
                )?,
            },
        })
    }

    /// Exports a librdkafka statistics report. Never panics (runs in a librdkafka callback).
    pub fn record_statistics(&self, s: &Statistics) {
        let g = &self.rdkafka;
        let client = s.name.as_str();
        let set = |vec: &IntGaugeVec, labels: &[&str], v: i64| {
            if let Ok(m) = vec.get_metric_with_label_values(labels) {
                m.set(v);
            }
        };
        let sat = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        for (stat, v) in [
            ("replyq", s.replyq),
            ("msg_cnt", sat(s.msg_cnt)),
            ("msg_size", sat(s.msg_size)),
            ("tx", s.tx),
            ("tx_bytes", s.tx_bytes),
            ("rx", s.rx),
            ("rx_bytes", s.rx_bytes),
            ("txmsgs", s.txmsgs),
            ("txmsg_bytes", s.txmsg_bytes),
            ("rxmsgs", s.rxmsgs),
            ("rxmsg_bytes", s.rxmsg_bytes),
        ] {
            set(&g.client, &[client, stat], v);
        }
        if let Some(cg) = &s.cgrp {
            set(&g.client, &[client, "rebalance_cnt"], cg.rebalance_cnt);
            set(
                &g.client,
                &[client, "assignment_size"],
                i64::from(cg.assignment_size),
            );
        }
        for b in s.brokers.values().filter(|b| b.nodeid >= 0) {
            let broker = b.nodename.as_str();
            set(&g.broker, &[client, broker, "outbuf_cnt"], b.outbuf_cnt);
            set(&g.broker, &[client, broker, "waitresp_cnt"], b.waitresp_cnt);
            set(&g.broker, &[client, broker, "txerrs"], sat(b.txerrs));
            set(&g.broker, &[client, broker, "rxerrs"], sat(b.rxerrs));
            set(
                &g.broker,
                &[client, broker, "req_timeouts"],
                sat(b.req_timeouts),
            );
            if let Some(rtt) = &b.rtt {
                set(&g.broker, &[client, broker, "rtt_avg_us"], rtt.avg);
                set(&g.broker, &[client, broker, "rtt_p99_us"], rtt.p99);
            }
            if let Some(lat) = &b.int_latency {
                set(&g.broker, &[client, broker, "int_latency_p99_us"], lat.p99);
            }
        }
        for t in s.topics.values() {
            for p in t.partitions.values().filter(|p| p.partition >= 0) {
                let part = p.partition.to_string();
                let labels = |stat| [client, t.topic.as_str(), part.as_str(), stat];
                if s.client_type == "consumer" {
                    set(&g.partition, &labels("consumer_lag"), p.consumer_lag);
                    set(
                        &g.partition,
                        &labels("committed_offset"),
                        p.committed_offset,
                    );
                    set(&g.partition, &labels("fetchq_cnt"), p.fetchq_cnt);
                } else {
                    set(&g.partition, &labels("msgq_cnt"), p.msgq_cnt);
                    set(&g.partition, &labels("txmsgs"), sat(p.txmsgs));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_once_and_refuses_twice() {
        let r = Registry::new();
        let m = KafkaMetrics::register(&r).expect("first registration");
        m.consumed.with_label_values(&["pipe", "t"]).inc();
        assert!(
            KafkaMetrics::register(&r).is_err(),
            "duplicate names are refused"
        );
        let names: Vec<String> = r.gather().iter().map(|f| f.name().to_string()).collect();
        assert!(names.contains(&names::CONSUMED.to_string()), "{names:?}");
    }

    #[test]
    fn statistics_become_gauges() {
        let r = Registry::new();
        let m = KafkaMetrics::register(&r).expect("registers");
        let json = r#"{"name":"weft.pipe.consumer#consumer-1","client_id":"c","type":"consumer",
            "ts":1,"time":1,"age":1,"replyq":0,"msg_cnt":3,"msg_size":30,"msg_max":1,"msg_size_max":1,
            "tx":5,"tx_bytes":50,"rx":6,"rx_bytes":60,"txmsgs":0,"txmsg_bytes":0,"rxmsgs":7,
            "rxmsg_bytes":70,"simple_cnt":0,"metadata_cache_cnt":1,"brokers":{},"topics":{}}"#;
        let s: Statistics = serde_json::from_str(json).expect("valid statistics");
        m.record_statistics(&s);
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&r.gather())
            .expect("encodes");
        assert!(
            text.contains(
                r#"weft_librdkafka_client{client="weft.pipe.consumer#consumer-1",stat="rxmsgs"} 7"#
            ),
            "{text}"
        );
    }
}
