//! Tests of `foreign_dlq`: header sets as each tool writes them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::dead_letter::{Failure, OriginalRecord};
use crate::error::ErrorClass;

fn utf8(h: &mut Headers, k: &'static str, v: &str) {
    h.push(k, Some(Bytes::from(v.to_string())));
}

fn raw(h: &mut Headers, k: &'static str, v: &[u8]) {
    h.push(k, Some(Bytes::copy_from_slice(v)));
}

/// The original record's own headers, kept by every tool.
fn original_headers() -> Headers {
    let mut h = Headers::new();
    utf8(
        &mut h,
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    h.push("nullable", None);
    h
}

/// As `DeadLetterQueueReporter.populateContextHeaders` writes them for a converter error.
fn connect_headers() -> Headers {
    let mut h = original_headers();
    utf8(&mut h, "__connect.errors.topic", "orders");
    utf8(&mut h, "__connect.errors.partition", "3");
    utf8(&mut h, "__connect.errors.offset", "42");
    utf8(
        &mut h,
        "__connect.errors.connector.name",
        "orders-jdbc-sink",
    );
    utf8(&mut h, "__connect.errors.task.id", "0");
    utf8(&mut h, "__connect.errors.stage", "VALUE_CONVERTER");
    utf8(
        &mut h,
        "__connect.errors.class.name",
        "io.confluent.connect.avro.AvroConverter",
    );
    utf8(
        &mut h,
        "__connect.errors.exception.class.name",
        "org.apache.kafka.connect.errors.DataException",
    );
    utf8(
        &mut h,
        "__connect.errors.exception.message",
        "Failed to deserialize data for topic orders to Avro",
    );
    utf8(
        &mut h,
        "__connect.errors.exception.stacktrace",
        "org.apache.kafka.connect.errors.DataException: Failed\n\tat io.confluent.X.y(X.java:1)\n",
    );
    h
}

/// As `ExceptionHandlerUtils.buildDeadLetterQueueRecord` writes them (current source).
fn streams_headers() -> Headers {
    let mut h = original_headers();
    utf8(
        &mut h,
        "__streams.errors.exception",
        "org.apache.kafka.common.errors.SerializationException",
    );
    utf8(&mut h, "__streams.errors.message", "Unknown magic byte!");
    utf8(
        &mut h,
        "__streams.errors.stacktrace",
        "org.apache.kafka.common.errors.SerializationException: Unknown magic byte!\n",
    );
    utf8(&mut h, "__streams.errors.topic", "clicks");
    utf8(&mut h, "__streams.errors.partition", "0");
    utf8(&mut h, "__streams.errors.offset", "7");
    h
}

/// As `DeadLetterRecordManager` / `DeadLetterPublishingRecoverer` write them.
fn spring_headers() -> Headers {
    let mut h = original_headers();
    utf8(
        &mut h,
        "kafka_dlt-exception-fqcn",
        "org.springframework.kafka.listener.ListenerExecutionFailedException",
    );
    utf8(
        &mut h,
        "kafka_dlt-exception-cause-fqcn",
        "java.lang.NumberFormatException",
    );
    utf8(
        &mut h,
        "kafka_dlt-exception-message",
        "Listener failed; For input string: \"x\"",
    );
    utf8(
        &mut h,
        "kafka_dlt-exception-stacktrace",
        "org.springframework.kafka.listener.ListenerExecutionFailedException: Listener failed\n",
    );
    utf8(&mut h, "kafka_dlt-original-topic", "payments");
    raw(&mut h, "kafka_dlt-original-partition", &[0, 0, 0, 5]);
    raw(
        &mut h,
        "kafka_dlt-original-offset",
        &[0, 0, 0, 0, 0, 0, 0x30, 0x39],
    );
    raw(
        &mut h,
        "kafka_dlt-original-timestamp",
        &1_795_314_600_000_i64.to_be_bytes(),
    );
    utf8(&mut h, "kafka_dlt-original-timestamp-type", "CreateTime");
    utf8(&mut h, "kafka_dlt-original-consumer-group", "payments-app");
    h
}

fn dead_letter() -> DeadLetter {
    DeadLetter {
        original: OriginalRecord {
            topic: "ingest.orders".into(),
            partition: 2,
            offset: 1234,
            timestamp_ms: Some(1_795_314_600_000),
            key: Some(Bytes::from_static(b"order-1")),
            value: Some(Bytes::from_static(&[0, 0, 0, 0, 7, 2, 4])),
            headers: original_headers(),
        },
        failure: Failure {
            service: "transform".into(),
            stage: "orders-canonical".into(),
            group: Some("weft.transform.orders".into()),
            class: ErrorClass::Permanent,
            code: ErrorCode::SchemaMismatch,
            message: "field amount: expected double, found string".into(),
            field: Some("amount".into()),
            schema_id: Some(7),
            attempt: 1,
            first_failure_ms: 1_795_314_600_500,
            last_failure_ms: 1_795_314_601_500,
            replay_count: 0,
        },
    }
}

fn count(h: &Headers, key: &str) -> usize {
    h.iter().filter(|x| x.key == key).count()
}

#[test]
fn reads_kafka_connect_context_headers() {
    let o = detect(&connect_headers()).expect("connect");
    assert_eq!(
        o,
        ForeignOrigin {
            scheme: Scheme::Connect,
            topic: "orders".into(),
            partition: Some(3),
            offset: Some(42),
            timestamp_ms: None,
            group: None,
            error_class: Some("org.apache.kafka.connect.errors.DataException".into()),
            message: Some("Failed to deserialize data for topic orders to Avro".into()),
        }
    );
}

#[test]
fn reads_kafka_streams_headers_in_both_exception_forms() {
    let o = detect(&streams_headers()).expect("streams");
    assert_eq!(o.scheme, Scheme::Streams);
    assert_eq!(
        (o.topic.as_str(), o.partition, o.offset),
        ("clicks", Some(0), Some(7))
    );
    assert_eq!(
        o.error_class.as_deref(),
        Some("org.apache.kafka.common.errors.SerializationException")
    );
    assert_eq!(o.message.as_deref(), Some("Unknown magic byte!"));
    assert_eq!((o.timestamp_ms, o.group), (None, None));

    // The first KIP-1034 release wrote Throwable.toString(): "<class>: <message>".
    let mut h = streams_headers();
    h.set(
        streams::EXCEPTION,
        "org.apache.kafka.common.errors.SerializationException: Unknown magic byte!",
    );
    let o = detect(&h).expect("streams");
    assert_eq!(
        o.error_class.as_deref(),
        Some("org.apache.kafka.common.errors.SerializationException")
    );
}

#[test]
fn streams_punctuation_failures_have_no_origin() {
    // A punctuation has no input record: null topic, partition and offset -1.
    let mut h = original_headers();
    utf8(
        &mut h,
        streams::EXCEPTION,
        "java.lang.IllegalStateException",
    );
    h.push(streams::MESSAGE, None);
    h.push(streams::TOPIC, None);
    utf8(&mut h, streams::PARTITION, "-1");
    utf8(&mut h, streams::OFFSET, "-1");
    assert_eq!(detect(&h), None);
}

#[test]
fn reads_spring_dlt_headers_with_binary_numbers() {
    let o = detect(&spring_headers()).expect("spring");
    assert_eq!(
        o,
        ForeignOrigin {
            scheme: Scheme::Spring,
            topic: "payments".into(),
            partition: Some(5),
            offset: Some(12345),
            timestamp_ms: Some(1_795_314_600_000),
            group: Some("payments-app".into()),
            error_class: Some("java.lang.NumberFormatException".into()),
            message: Some("Listener failed; For input string: \"x\"".into()),
        }
    );
}

#[test]
fn reads_spring_retry_topic_headers() {
    // @RetryableTopic's recoverer: kafka_original-* and kafka_exception-*, no cause.
    let mut h = original_headers();
    utf8(
        &mut h,
        "kafka_exception-fqcn",
        "java.lang.IllegalArgumentException",
    );
    utf8(&mut h, "kafka_exception-message", "bad amount");
    utf8(&mut h, "kafka_original-topic", "payments");
    raw(&mut h, "kafka_original-partition", &1_i32.to_be_bytes());
    raw(&mut h, "kafka_original-offset", &99_i64.to_be_bytes());
    raw(&mut h, "kafka_original-timestamp", &(-1_i64).to_be_bytes());
    utf8(&mut h, "kafka_original-timestamp-type", "NoTimestampType");
    utf8(&mut h, "kafka_dlt-original-consumer-group", "payments-app");
    let o = detect(&h).expect("spring");
    assert_eq!(o.scheme, Scheme::Spring);
    assert_eq!(
        (o.topic.as_str(), o.partition, o.offset, o.timestamp_ms),
        ("payments", Some(1), Some(99), None)
    );
    assert_eq!(o.group.as_deref(), Some("payments-app"));
    assert_eq!(
        o.error_class.as_deref(),
        Some("java.lang.IllegalArgumentException")
    );
    assert_eq!(o.message.as_deref(), Some("bad amount"));
}

#[test]
fn spring_families_are_not_mixed() {
    // kafka_dlt-* wins; its missing offset is not taken from kafka_original-*.
    let mut h = Headers::new();
    utf8(&mut h, "kafka_original-topic", "main");
    raw(&mut h, "kafka_original-offset", &5_i64.to_be_bytes());
    utf8(&mut h, "kafka_dlt-original-topic", "main-retry-0");
    let o = detect(&h).expect("spring");
    assert_eq!((o.topic.as_str(), o.offset), ("main-retry-0", None));
}

#[test]
fn the_latest_of_repeated_headers_counts() {
    // Spring appends *original* headers on every hop (appendOriginalHeaders=true).
    let mut h = spring_headers();
    utf8(&mut h, "kafka_dlt-original-topic", "payments.DLT");
    raw(&mut h, "kafka_dlt-original-partition", &[0, 0, 0, 0]);
    let o = detect(&h).expect("spring");
    assert_eq!((o.topic.as_str(), o.partition), ("payments.DLT", Some(0)));
}

#[test]
fn malformed_values_read_as_absent() {
    let mut h = connect_headers();
    h.set(connect::PARTITION, "three");
    h.set(connect::OFFSET, "-1");
    h.remove(connect::EXCEPTION_MESSAGE);
    h.push(connect::EXCEPTION_MESSAGE, None);
    let o = detect(&h).expect("topic still reads");
    assert_eq!((o.partition, o.offset, o.message), (None, None, None));

    let mut h = spring_headers();
    h.remove(spring::DLT_ORIGINAL_PARTITION);
    utf8(&mut h, spring::DLT_ORIGINAL_PARTITION, "5"); // decimal text, not 4 bytes
    h.remove(spring::DLT_ORIGINAL_OFFSET);
    raw(&mut h, spring::DLT_ORIGINAL_OFFSET, &[0, 0, 0, 1]); // 4 bytes, not 8
    h.remove(spring::DLT_ORIGINAL_TIMESTAMP);
    raw(
        &mut h,
        spring::DLT_ORIGINAL_TIMESTAMP,
        &(-1_i64).to_be_bytes(),
    );
    h.remove(spring::DLT_ORIGINAL_CONSUMER_GROUP);
    raw(&mut h, spring::DLT_ORIGINAL_CONSUMER_GROUP, &[0xff, 0xfe]);
    let o = detect(&h).expect("topic still reads");
    assert_eq!(
        (o.partition, o.offset, o.timestamp_ms, o.group),
        (None, None, None, None)
    );
    assert_eq!(o.topic, "payments");

    let mut h = streams_headers();
    h.set(streams::PARTITION, "0x1");
    h.set(streams::OFFSET, "99999999999999999999999");
    let o = detect(&h).expect("topic still reads");
    assert_eq!((o.partition, o.offset), (None, None));
}

#[test]
fn a_scheme_without_a_readable_topic_is_not_detected() {
    let bad_topics: [Option<&[u8]>; 5] = [
        None,
        Some(b""),
        Some(b"not a topic"),
        Some(&[0xff, 0xfe]),
        Some(b".."),
    ];
    for bad in bad_topics {
        let mut h = connect_headers();
        h.remove(connect::TOPIC);
        h.push(connect::TOPIC, bad.map(Bytes::copy_from_slice));
        assert_eq!(detect(&h), None, "{bad:?}");
    }
    let mut h = connect_headers();
    h.remove(connect::TOPIC);
    assert_eq!(detect(&h), None);
    assert_eq!(detect(&original_headers()), None);
    assert_eq!(detect(&Headers::new()), None);
}

#[test]
fn weft_wins_then_connect_then_streams_then_spring() {
    let dl = dead_letter();
    let (_, _, weft) = dl.to_kafka();
    let mut all = weft;
    for other in [connect_headers(), streams_headers(), spring_headers()] {
        for x in other {
            all.push(x.key, x.value);
        }
    }
    let order: Vec<Scheme> = std::iter::from_fn({
        let mut h = all;
        move || {
            let o = detect(&h)?;
            let prefix = match o.scheme {
                Scheme::Weft => "weft.dlq.",
                Scheme::Connect => connect::PREFIX,
                Scheme::Streams => streams::PREFIX,
                Scheme::Spring => "kafka_",
            };
            h.retain(|x| !x.key.starts_with(prefix));
            Some(o.scheme)
        }
    })
    .collect();
    assert_eq!(order, Scheme::ALL.to_vec());
}

#[test]
fn a_malformed_weft_origin_falls_through_to_the_next_scheme() {
    let (_, _, mut h) = dead_letter().to_kafka();
    for x in connect_headers() {
        h.push(x.key, x.value);
    }
    h.set(DLQ_ORIGIN_TOPIC, "no spaces allowed");
    assert_eq!(detect(&h).map(|o| o.scheme), Some(Scheme::Connect));
}

#[test]
fn reads_weft_own_headers() {
    let dl = dead_letter();
    let (_, _, h) = dl.to_kafka();
    let o = detect(&h).expect("weft");
    assert_eq!(
        o,
        ForeignOrigin {
            scheme: Scheme::Weft,
            topic: "ingest.orders".into(),
            partition: Some(2),
            offset: Some(1234),
            timestamp_ms: Some(1_795_314_600_000),
            group: Some("weft.transform.orders".into()),
            error_class: Some("weft.schema_mismatch".into()),
            message: Some("field amount: expected double, found string".into()),
        }
    );
}

#[test]
fn connect_headers_round_trip_with_connect_encodings() {
    let dl = dead_letter();
    let mut h = dl.original.headers.clone();
    write_connect(&dl, &mut h);
    // Exactly what Connect itself would have written: decimal UTF-8 strings.
    assert_eq!(h.get(connect::TOPIC), Some(&b"ingest.orders"[..]));
    assert_eq!(h.get(connect::PARTITION), Some(&b"2"[..]));
    assert_eq!(h.get(connect::OFFSET), Some(&b"1234"[..]));
    assert_eq!(h.get_str(connect::TASK_ID), Some("0"));
    assert_eq!(h.get_str(connect::STAGE), Some("VALUE_CONVERTER"));
    assert_eq!(h.get_str(connect::CONNECTOR_NAME), Some("orders-canonical"));
    assert_eq!(h.get_str(connect::CLASS_NAME), Some("weft.transform"));
    assert!(!h.contains(connect::EXCEPTION_STACKTRACE));
    assert_eq!(
        h.get_str("traceparent"),
        dl.original.headers.get_str("traceparent")
    );

    let o = detect(&h).expect("connect");
    assert_eq!(o.scheme, Scheme::Connect);
    assert_eq!(
        (o.topic.as_str(), o.partition, o.offset),
        ("ingest.orders", Some(2), Some(1234))
    );
    assert_eq!(o.error_class.as_deref(), Some("weft.schema_mismatch"));
    assert_eq!(o.message.as_deref(), Some(dl.failure.message.as_str()));
}

#[test]
fn spring_headers_round_trip_with_spring_encodings() {
    let dl = dead_letter();
    let mut h = dl.original.headers.clone();
    write_spring(&dl, &mut h);
    assert_eq!(
        h.get(spring::DLT_ORIGINAL_TOPIC),
        Some(&b"ingest.orders"[..])
    );
    assert_eq!(
        h.get(spring::DLT_ORIGINAL_PARTITION),
        Some(&[0, 0, 0, 2][..])
    );
    assert_eq!(
        h.get(spring::DLT_ORIGINAL_OFFSET),
        Some(&[0, 0, 0, 0, 0, 0, 0x04, 0xd2][..])
    );
    assert_eq!(
        h.get(spring::DLT_ORIGINAL_TIMESTAMP),
        Some(&1_795_314_600_000_i64.to_be_bytes()[..])
    );
    assert!(!h.contains(spring::DLT_ORIGINAL_TIMESTAMP_TYPE));
    assert_eq!(
        h.get_str(spring::DLT_EXCEPTION_CAUSE_FQCN),
        Some("weft.schema_mismatch")
    );

    let o = detect(&h).expect("spring");
    assert_eq!(
        o,
        ForeignOrigin {
            scheme: Scheme::Spring,
            topic: "ingest.orders".into(),
            partition: Some(2),
            offset: Some(1234),
            timestamp_ms: Some(1_795_314_600_000),
            group: Some("weft.transform.orders".into()),
            error_class: Some("weft.schema_mismatch".into()),
            message: Some(dl.failure.message.clone()),
        }
    );
}

#[test]
fn every_scheme_tells_the_same_origin_of_a_weft_dead_letter() {
    let dl = dead_letter();
    let (_, _, mut h) = dl.to_kafka();
    write_connect(&dl, &mut h);
    write_spring(&dl, &mut h);
    let weft = read(Scheme::Weft, &h).expect("weft");
    assert_eq!(detect(&h), Some(weft.clone()));
    for scheme in [Scheme::Connect, Scheme::Spring] {
        let o = read(scheme, &h).expect("written");
        assert_eq!(o.scheme, scheme);
        assert_eq!(
            (&o.topic, o.partition, o.offset, &o.error_class, &o.message),
            (
                &weft.topic,
                weft.partition,
                weft.offset,
                &weft.error_class,
                &weft.message
            ),
            "{scheme}"
        );
    }
    // The Weft dead letter itself still reads back unchanged.
    let back = DeadLetter::from_kafka(dl.original.key.clone(), dl.original.value.clone(), &h)
        .expect("weft dead letter");
    assert_eq!(back.failure, dl.failure);
}

#[test]
fn writing_replaces_an_earlier_failure_and_never_duplicates_names() {
    let mut dl = dead_letter();
    dl.original.timestamp_ms = None;
    dl.failure.group = None;
    let mut h = connect_headers();
    for x in spring_headers() {
        h.push(x.key, x.value);
    }
    utf8(&mut h, connect::TOPIC, "orders-again"); // already repeated once
    write_connect(&dl, &mut h);
    write_spring(&dl, &mut h);
    for name in connect::ALL.iter().chain(spring::DLT_ALL.iter()) {
        assert!(count(&h, name) <= 1, "{name} repeated");
    }
    // What described the earlier failure and is not rewritten is gone.
    assert!(!h.contains(connect::EXCEPTION_STACKTRACE));
    assert!(!h.contains(spring::DLT_EXCEPTION_STACKTRACE));
    assert!(!h.contains(spring::DLT_ORIGINAL_TIMESTAMP));
    assert!(!h.contains(spring::DLT_ORIGINAL_TIMESTAMP_TYPE));
    assert!(!h.contains(spring::DLT_ORIGINAL_CONSUMER_GROUP));
    assert_eq!(count(&h, "traceparent"), 2, "other headers are untouched");
    let o = read(Scheme::Spring, &h).expect("spring");
    assert_eq!((o.timestamp_ms, o.group), (None, None));
    assert_eq!(
        read(Scheme::Connect, &h).map(|o| o.topic).as_deref(),
        Some("ingest.orders")
    );
}

#[test]
fn connect_stage_follows_the_error_code() {
    assert_eq!(connect_stage(ErrorCode::BadMagicByte), "VALUE_CONVERTER");
    assert_eq!(connect_stage(ErrorCode::SchemaMismatch), "VALUE_CONVERTER");
    assert_eq!(connect_stage(ErrorCode::TransformFailed), "TRANSFORMATION");
    assert_eq!(connect_stage(ErrorCode::NoRoute), "TRANSFORMATION");
    assert_eq!(connect_stage(ErrorCode::KafkaOther), "KAFKA_PRODUCE");
    assert_eq!(
        connect_stage(ErrorCode::KafkaRecordRejected),
        "KAFKA_PRODUCE"
    );
    assert_eq!(connect_stage(ErrorCode::Internal), "TASK_PUT");
    // Every code maps to one of Connect's Stage names.
    let stages = [
        "VALUE_CONVERTER",
        "TRANSFORMATION",
        "KAFKA_PRODUCE",
        "TASK_PUT",
    ];
    assert!(ErrorCode::ALL
        .iter()
        .all(|c| stages.contains(&connect_stage(*c))));
}

#[test]
fn long_messages_are_cut_like_weft_headers() {
    let mut dl = dead_letter();
    dl.failure.message = "é".repeat(MAX_MESSAGE_BYTES);
    let mut h = Headers::new();
    write_connect(&dl, &mut h);
    write_spring(&dl, &mut h);
    let (_, _, weft) = dl.to_kafka();
    let cut = weft.get_str(DLQ_ERROR_MESSAGE).expect("message");
    assert_eq!(h.get_str(connect::EXCEPTION_MESSAGE), Some(cut));
    assert_eq!(h.get_str(spring::DLT_EXCEPTION_MESSAGE), Some(cut));
}

#[test]
fn scheme_names() {
    let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, ["weft", "connect", "streams", "spring"]);
    assert_eq!(Scheme::Spring.to_string(), "spring");
}
