#!/usr/bin/env python3
"""Consumes Avro records with Confluent's own client: confluent-kafka's Consumer + AvroDeserializer, fetching
each writer schema from a schema registry (Confluent's or Weft's) by the id in the record's framing.

Reads every partition of --topic from the beginning (no group offsets are used or committed) until --count
records were decoded, and prints each decoded value as one JSON line with sorted keys (convention in
avro_json.py), in the order consumed; with several partitions that order interleaves partitions. With --meta
each line is {"headers", "key", "offset", "partition", "schema_id", "value"} instead.

Exit status: 0 --count records decoded; 1 bad input (reader schema); 2 usage; 3 timed out before --count
records arrived; 4 a record could not be decoded (bad framing, unknown schema id, registry error, bad Avro);
5 Kafka error.

    $(deploy/local/python path) tests/python/sr_consume.py --bootstrap-servers 127.0.0.1:9092 \\
        --registry http://127.0.0.1:8081 --topic orders --count 100
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from typing import Any, List, Optional

import avro_json

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext


class Failure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Consume and decode Avro records with confluent-kafka's AvroDeserializer.",
        epilog="Prints one JSON line per record. Exit: 0 ok, 1 bad input, 2 usage, 3 timeout, "
               "4 decode failure, 5 Kafka error.")
    p.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers, e.g. 127.0.0.1:9092")
    p.add_argument("--registry", required=True, help="schema registry URL, e.g. http://127.0.0.1:8081")
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True, help="records to decode before exiting")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to wait for --count records in all (default 60)")
    p.add_argument("--reader-schema", help="decode into this reader schema (.avsc) instead of the writer's")
    p.add_argument("--meta", action="store_true", help="print key, headers, partition, offset and schema id as well")
    args = p.parse_args(argv)
    if args.count < 0:
        p.error("--count must be >= 0")
    return args


def partitions(consumer: Consumer, topic: str, deadline: float) -> List[TopicPartition]:
    """The topic's partitions, waiting (until `deadline`) for the topic to exist."""
    last = "no metadata"
    while True:
        try:
            md = consumer.list_topics(topic, timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            t = md.topics.get(topic)
            if t is not None and t.error is None and t.partitions:
                return [TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(t.partitions)]
            last = str(t.error) if t is not None and t.error is not None else "topic not found"
        except KafkaException as e:
            last = str(e)
        if time.monotonic() >= deadline:
            raise Failure(3, f"topic {topic} is not available: {last}")
        time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    reader = None
    if args.reader_schema:
        try:
            with open(args.reader_schema, encoding="utf-8") as f:
                reader = f.read()
            avro_json.Schema(reader)
        except (OSError, avro_json.SchemaError) as e:
            raise Failure(1, f"reader schema {args.reader_schema}: {e}") from e
    registry = SchemaRegistryClient({"url": args.registry})
    deserializer = AvroDeserializer(registry, reader)
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap_servers,
        "group.id": f"sr-consume-{uuid.uuid4().hex[:12]}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })
    deadline = time.monotonic() + args.timeout
    decoded = 0
    try:
        consumer.assign(partitions(consumer, args.topic, deadline))
        while decoded < args.count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure(3, f"timed out after {args.timeout:g}s: {decoded} of {args.count} records "
                                 f"decoded from {args.topic}")
            msg = consumer.poll(min(remaining, 0.5))
            if msg is None:
                continue
            if msg.error():
                if msg.error().fatal() or not msg.error().retriable():
                    raise Failure(5, f"consuming {args.topic}: {msg.error()}")
                continue
            where = f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"
            raw = msg.value()
            ctx = SerializationContext(msg.topic(), MessageField.VALUE, msg.headers())
            try:
                value = deserializer(raw, ctx)
            except SchemaRegistryError as e:
                raise Failure(4, f"record {where}: registry {args.registry} answered HTTP "
                                 f"{e.http_status_code}, error_code {e.error_code}: {e.error_message}") from e
            except Exception as e:  # serialization errors, fastavro errors, httpx errors
                raise Failure(4, f"record {where} cannot be decoded: {type(e).__name__}: {e} "
                                 f"(first bytes: {raw[:16].hex() if raw else None})") from e
            if args.meta:
                key = msg.key()
                line = avro_json.dumps({
                    "key": key.decode("utf-8", "backslashreplace") if key is not None else None,
                    "partition": msg.partition(),
                    "offset": msg.offset(),
                    "schema_id": int.from_bytes(raw[1:5], "big") if raw and len(raw) >= 5 else None,
                    "headers": {k: (v.decode("utf-8", "backslashreplace") if v is not None else None)
                                for k, v in (msg.headers() or [])},
                    "value": value,
                })
            else:
                line = avro_json.dumps(value)
            sys.stdout.write(line + "\n")
            decoded += 1
        sys.stdout.flush()
    finally:
        consumer.close()
    return decoded


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(encoding="utf-8")
    started = time.monotonic()
    try:
        decoded = run(args)
    except Failure as e:
        sys.stdout.flush()
        print(f"sr_consume: {e}", file=sys.stderr)
        return e.code
    except KafkaException as e:
        sys.stdout.flush()
        print(f"sr_consume: Kafka error: {e}", file=sys.stderr)
        return 5
    print(f"sr_consume: {decoded} records decoded from {args.topic} in {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
