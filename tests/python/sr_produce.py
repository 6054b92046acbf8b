#!/usr/bin/env python3
"""Produces Avro records with Confluent's own client: confluent-kafka's Producer + AvroSerializer, registering
the schema in a schema registry (Confluent's or Weft's) the way every Confluent user does.

Records are either generated deterministically from their index (--count N, from --start) or read as JSON
lines (--records FILE, "-" for stdin; see avro_json.py for the JSON convention). The subject comes from the
subject name strategy (TopicNameStrategy by default: <topic>-value). Each record's key is its index as a UTF-8
string unless --no-key.

On success prints one JSON line on stdout:
    {"count": 100, "schema_id": 7, "subject": "orders-value", "topic": "orders"}

Exit status: 0 every record acknowledged; 1 bad input (schema, JSON line, a record the schema refuses);
2 usage; 3 timed out waiting for acknowledgements; 4 the registry refused or failed; 5 Kafka refused a record.

Run it with the venv from deploy/local/python:
    $(deploy/local/python path) tests/python/sr_produce.py --bootstrap-servers 127.0.0.1:9092 \\
        --registry http://127.0.0.1:8081 --topic orders --schema schemas/order.avsc --count 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Iterator, List, Optional, Tuple

import avro_json

from confluent_kafka import KafkaException, Producer
from confluent_kafka.error import KafkaError
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

# "default" leaves the serializer's own default: in confluent-kafka 2.16 that is the ASSOCIATED strategy, which
# first asks the registry for the topic's associations (GET /associations/resources/-/<topic>) and falls back to
# TopicNameStrategy on a 404. That is what an unconfigured Confluent user runs, so it is the default here too.
STRATEGIES = {
    "default": None,
    "topic": topic_subject_name_strategy,
    "record": record_subject_name_strategy,
    "topic_record": topic_record_subject_name_strategy,
}


class Failure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Produce Avro records with confluent-kafka's AvroSerializer (schema auto-registered).",
        epilog="Prints {count, schema_id, subject, topic} as one JSON line. Exit: 0 ok, 1 bad input, 2 usage, "
               "3 timeout, 4 registry error, 5 Kafka error.")
    p.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers, e.g. 127.0.0.1:9092")
    p.add_argument("--registry", required=True, help="schema registry URL, e.g. http://127.0.0.1:8081")
    p.add_argument("--topic", required=True)
    p.add_argument("--schema", required=True, help="the writer schema (.avsc file)")
    p.add_argument("--count", type=int, help="records to produce (default: every line of --records)")
    p.add_argument("--start", type=int, default=0, help="index of the first generated record (default 0)")
    p.add_argument("--records", help="JSON lines to produce instead of generated records ('-' for stdin)")
    p.add_argument("--echo", help="also write each produced record to this file as a JSON line")
    p.add_argument("--no-key", action="store_true", help="produce records without a key")
    p.add_argument("--subject-strategy", choices=sorted(STRATEGIES), default="default",
                   help="subject name strategy: the client's default (associated, falling back to topic, i.e. "
                        "<topic>-value), topic, record or topic_record")
    p.add_argument("--no-auto-register", action="store_true",
                   help="look the schema up instead of registering it (auto.register.schemas=false)")
    p.add_argument("--normalize", action="store_true", help="normalize.schemas=true")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for acknowledgements (default 60)")
    args = p.parse_args(argv)
    if args.count is None and args.records is None:
        p.error("give --count N (generated records) or --records FILE")
    if args.count is not None and args.count < 0:
        p.error("--count must be >= 0")
    return args


def load_schema(path: str) -> Tuple[str, avro_json.Schema]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise Failure(1, f"cannot read schema {path}: {e}") from e
    try:
        return text, avro_json.Schema(text)
    except avro_json.SchemaError as e:
        raise Failure(1, f"schema {path}: {e}") from e


def records(args: argparse.Namespace, schema: avro_json.Schema) -> Iterator[Tuple[int, Any]]:
    """(index, value) pairs to produce."""
    if args.records is None:
        for i in range(args.start, args.start + args.count):
            yield i, avro_json.generate(schema, i)
        return
    source = sys.stdin if args.records == "-" else open(args.records, encoding="utf-8")
    try:
        produced = 0
        for line_no, line in enumerate(source, 1):
            if args.count is not None and produced >= args.count:
                break
            if not line.strip():
                continue
            try:
                value = avro_json.from_json(schema, json.loads(line))
            except (ValueError, avro_json.SchemaError) as e:
                raise Failure(1, f"{args.records}:{line_no}: {e}") from e
            yield args.start + produced, value
            produced += 1
        if args.count is not None and produced < args.count:
            raise Failure(1, f"{args.records} holds {produced} records, --count asked for {args.count}")
    finally:
        if source is not sys.stdin:
            source.close()


def run(args: argparse.Namespace) -> dict:
    schema_text, schema = load_schema(args.schema)
    registry = SchemaRegistryClient({"url": args.registry})
    conf: dict = {"auto.register.schemas": not args.no_auto_register, "normalize.schemas": args.normalize}
    if STRATEGIES[args.subject_strategy] is not None:
        conf["subject.name.strategy"] = STRATEGIES[args.subject_strategy]
    serializer = AvroSerializer(registry, schema_text, conf=conf)
    producer = Producer({
        "bootstrap.servers": args.bootstrap_servers,
        "enable.idempotence": True,
        "linger.ms": 5,
        "message.timeout.ms": max(1000, int(args.timeout * 1000)),
    })
    errors: List[str] = []

    def delivered(err: Optional[KafkaError], msg: Any) -> None:
        if err is not None:
            errors.append(f"record {msg.key()!r} to {msg.topic()}: {err}")

    echo = open(args.echo, "w", encoding="utf-8") if args.echo else None
    schema_id: Optional[int] = None
    count = 0
    try:
        for index, value in records(args, schema):
            ctx = SerializationContext(args.topic, MessageField.VALUE)
            try:
                payload = serializer(value, ctx)
            except SchemaRegistryError as e:
                raise Failure(4, f"registry {args.registry} refused the schema: HTTP {e.http_status_code}, "
                                 f"error_code {e.error_code}: {e.error_message}") from e
            except (SerializationError, ValueError, TypeError, KeyError, AttributeError) as e:
                raise Failure(1, f"record {index} does not fit the schema: {e}") from e
            if payload is None or len(payload) < 5 or payload[0] != 0:
                raise Failure(1, f"record {index}: the serializer did not frame the value ({payload!r:.40})")
            this_id = int.from_bytes(payload[1:5], "big")
            if schema_id is None:
                schema_id = this_id
            elif this_id != schema_id:
                raise Failure(1, f"record {index} was framed with schema id {this_id}, earlier ones with {schema_id}")
            key = None if args.no_key else str(index).encode()
            while True:
                try:
                    producer.produce(args.topic, key=key, value=payload, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            if echo is not None:
                echo.write(avro_json.dumps(value) + "\n")
            count += 1
    finally:
        if echo is not None:
            echo.close()
    remaining = producer.flush(args.timeout)
    if errors:
        raise Failure(5, f"{len(errors)} records were refused; first: {errors[0]}")
    if remaining:
        raise Failure(3, f"{remaining} of {count} records not acknowledged by {args.bootstrap_servers} "
                         f"within {args.timeout:g}s")
    subject = None
    if count:
        subject_fn = STRATEGIES[args.subject_strategy] or topic_subject_name_strategy
        root = schema.deref(schema.root, None)
        name = None
        if isinstance(root, dict) and root.get("type") in ("record", "error"):
            ns = root.get("namespace")
            name = root["name"] if "." in root["name"] or not ns else f"{ns}.{root['name']}"
        subject = subject_fn(SerializationContext(args.topic, MessageField.VALUE), name)
    return {"count": count, "schema_id": schema_id, "subject": subject, "topic": args.topic}


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        summary = run(args)
    except Failure as e:
        print(f"sr_produce: {e}", file=sys.stderr)
        return e.code
    except KafkaException as e:
        print(f"sr_produce: Kafka error: {e}", file=sys.stderr)
        return 5
    except SchemaRegistryError as e:
        print(f"sr_produce: registry error: HTTP {e.http_status_code}, error_code {e.error_code}: "
              f"{e.error_message}", file=sys.stderr)
        return 4
    except Exception as e:  # the registry client raises plain httpx errors when it cannot connect
        print(f"sr_produce: {type(e).__name__}: {e}", file=sys.stderr)
        return 4 if "httpx" in type(e).__module__ else 1
    print(json.dumps(summary, sort_keys=True))
    print(f"sr_produce: {summary['count']} records to {args.topic} with schema id {summary['schema_id']} "
          f"in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
