"""Avro values as JSON lines, shared by sr_produce.py and sr_consume.py.

One convention both ways, so that what sr_consume.py prints can be fed back to sr_produce.py --records and
compared field by field by the Rust suites:

* null, boolean, int, long, float, double, string, enum: the plain JSON value.
* bytes and fixed: lowercase hex.
* record and map: a JSON object; array: a JSON array.
* union: the value of the branch, untagged (not Avro's {"type": value} JSON encoding).
* logical types, as fastavro decodes them: timestamp-* and local-timestamp-* as Python's
  datetime.isoformat() ("2023-11-14T22:13:20.123000+00:00"; no fraction when it is zero), date as
  "YYYY-MM-DD", time-* as "HH:MM:SS[.ffffff]", decimal as its decimal string, uuid as its string.

On input (sr_produce.py --records), timestamp/date/time values may also be given as the raw Avro number
(epoch milliseconds/microseconds, days, milliseconds/microseconds of the day).

The deterministic generator (`generate`) derives every value from a record index, so two runs with the same
schema and index range produce the same records.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any, Dict, List, Optional

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)


class SchemaError(ValueError):
    """The .avsc file is not a schema these tools understand."""


class Names:
    """Named types (record, enum, fixed) of one schema, by full and by short name."""

    def __init__(self) -> None:
        self.types: Dict[str, dict] = {}

    def add(self, node: dict, namespace: Optional[str]) -> Optional[str]:
        name = node.get("name")
        if not isinstance(name, str):
            raise SchemaError(f"a {node.get('type')} without a name: {json.dumps(node)[:200]}")
        if "." in name:
            full = name
            namespace = name.rsplit(".", 1)[0]
        else:
            ns = node.get("namespace", namespace)
            full = f"{ns}.{name}" if ns else name
            namespace = ns
        self.types[full] = node
        self.types.setdefault(full.rsplit(".", 1)[-1], node)
        return namespace

    def resolve(self, ref: str, namespace: Optional[str]) -> dict:
        for candidate in (f"{namespace}.{ref}" if namespace and "." not in ref else None, ref):
            if candidate and candidate in self.types:
                return self.types[candidate]
        raise SchemaError(f"unknown type name '{ref}'")


def index_names(node: Any, names: Names, namespace: Optional[str] = None) -> None:
    """Registers every named type in `node` (depth first, in declaration order)."""
    if isinstance(node, list):
        for branch in node:
            index_names(branch, names, namespace)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            namespace = names.add(node, namespace)
        if kind in ("record", "error"):
            for field in node.get("fields", []):
                index_names(field.get("type"), names, namespace)
        elif kind == "array":
            index_names(node.get("items"), names, namespace)
        elif kind == "map":
            index_names(node.get("values"), names, namespace)
        elif isinstance(kind, (dict, list)):
            index_names(kind, names, namespace)


class Schema:
    """A parsed .avsc document plus its named types."""

    def __init__(self, text: str) -> None:
        try:
            self.root = json.loads(text)
        except json.JSONDecodeError as e:
            # A bare primitive name such as `string` is not JSON but is a valid schema.
            stripped = text.strip()
            if stripped in PRIMITIVES:
                self.root = stripped
            else:
                raise SchemaError(f"not JSON: {e}") from e
        self.names = Names()
        index_names(self.root, self.names)

    def deref(self, node: Any, namespace: Optional[str]) -> Any:
        if isinstance(node, str) and node not in PRIMITIVES:
            return self.names.resolve(node, namespace)
        if isinstance(node, dict) and isinstance(node.get("type"), (dict, list)):
            return node["type"]
        if isinstance(node, dict) and isinstance(node.get("type"), str) and node["type"] not in PRIMITIVES \
                and node["type"] not in ("record", "error", "enum", "fixed", "array", "map"):
            return self.names.resolve(node["type"], namespace)
        return node


def _kind(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "union"
    return node.get("type")


def _logical(node: Any) -> Optional[str]:
    return node.get("logicalType") if isinstance(node, dict) else None


def _child_namespace(node: Any, namespace: Optional[str]) -> Optional[str]:
    if isinstance(node, dict) and node.get("type") in ("record", "error", "enum", "fixed"):
        name = node.get("name", "")
        if "." in name:
            return name.rsplit(".", 1)[0]
        return node.get("namespace", namespace)
    return namespace


# ------------------------------------------------------------------------------------------------------------------
# Values -> JSON


def to_json(value: Any) -> Any:
    """A decoded value (as fastavro returns it) in the JSON convention of this module."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    raise TypeError(f"cannot express a {type(value).__name__} as JSON: {value!r}")


def dumps(value: Any) -> str:
    """One compact JSON line with sorted keys."""
    return json.dumps(to_json(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------------------------
# JSON -> values (schema-guided)


def _fits(schema: Schema, node: Any, value: Any, namespace: Optional[str]) -> bool:
    node = schema.deref(node, namespace)
    kind, logical = _kind(node), _logical(node)
    if isinstance(value, bool):
        return kind == "boolean"
    if isinstance(value, int):
        return kind in ("int", "long", "float", "double") or logical == "decimal"
    if isinstance(value, float):
        return kind in ("float", "double") or logical == "decimal"
    if isinstance(value, str):
        if kind == "enum":
            return value in node.get("symbols", [])
        return kind in ("string", "bytes", "fixed") or logical in (
            "timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros",
            "date", "time-millis", "time-micros")
    if isinstance(value, dict):
        return kind in ("record", "error", "map")
    if isinstance(value, list):
        return kind == "array"
    return False


def from_json(schema: Schema, value: Any, node: Any = None, namespace: Optional[str] = None,
              path: str = "$") -> Any:
    """Converts a JSON value to what fastavro's writer accepts for `node` (the root by default)."""
    if node is None:
        node = schema.root
    node = schema.deref(node, namespace)
    namespace = _child_namespace(node, namespace)
    kind, logical = _kind(node), _logical(node)

    if kind == "union":
        if value is None:
            return None
        for branch in node:
            if branch != "null" and _fits(schema, branch, value, namespace):
                return from_json(schema, value, branch, namespace, path)
        raise ValueError(f"{path}: {json.dumps(value)[:80]} matches no branch of {json.dumps(node)[:200]}")
    if value is None:
        return None
    try:
        if logical == "decimal" and kind in ("bytes", "fixed"):
            return decimal.Decimal(str(value))
        if logical in ("timestamp-millis", "timestamp-micros") and isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if logical in ("local-timestamp-millis", "local-timestamp-micros") and isinstance(value, str):
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
        if logical == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if logical in ("time-millis", "time-micros") and isinstance(value, str):
            return dt.time.fromisoformat(value)
        if kind in ("bytes", "fixed"):
            if not isinstance(value, str):
                raise ValueError(f"expected a hex string, got {json.dumps(value)[:80]}")
            return bytes.fromhex(value)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
    if kind in ("record", "error"):
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected an object for record {node.get('name')}")
        out = dict(value)
        for field in node.get("fields", []):
            name = field["name"]
            if name in value:
                out[name] = from_json(schema, value[name], field["type"], namespace, f"{path}.{name}")
        return out
    if kind == "array":
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected an array")
        return [from_json(schema, v, node["items"], namespace, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected an object for a map")
        return {k: from_json(schema, v, node["values"], namespace, f"{path}.{k}") for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------------------------------------
# Deterministic records


def generate(schema: Schema, index: int, node: Any = None, namespace: Optional[str] = None, salt: int = 0) -> Any:
    """A value of `node` (the root by default) that depends only on `index` and its place in the schema."""
    if node is None:
        node = schema.root
    node = schema.deref(node, namespace)
    namespace = _child_namespace(node, namespace)
    kind, logical = _kind(node), _logical(node)
    n = index + salt
    sign = -1 if index % 3 == 1 else 1

    if kind == "union":
        branches = [b for b in node if b != "null"]
        if not branches or ("null" in node and n % 4 == 0):
            return None
        return generate(schema, index, branches[n % len(branches)], namespace, salt)
    if kind == "null":
        return None
    if kind == "boolean":
        return n % 2 == 0
    if kind == "int":
        if logical == "date":
            return dt.date(2024, 1, 1) + dt.timedelta(days=n)
        if logical == "time-millis":
            return (dt.datetime(2000, 1, 1) + dt.timedelta(milliseconds=(n * 3_723_001) % 86_400_000)).time()
        return sign * ((index * 7_919 + salt) % 2**30)
    if kind == "long":
        if logical == "timestamp-millis":
            return EPOCH + dt.timedelta(milliseconds=1_700_000_000_000 + index * 1_001 + salt)
        if logical == "timestamp-micros":
            return EPOCH + dt.timedelta(microseconds=1_700_000_000_000_000 + index * 1_000_001 + salt)
        if logical == "local-timestamp-millis":
            return EPOCH_NAIVE + dt.timedelta(milliseconds=1_700_000_000_000 + index * 1_001 + salt)
        if logical == "local-timestamp-micros":
            return EPOCH_NAIVE + dt.timedelta(microseconds=1_700_000_000_000_000 + index * 1_000_001 + salt)
        if logical == "time-micros":
            return (dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=(n * 3_723_000_001) % 86_400_000_000)).time()
        return sign * (index * 1_000_000_007 + salt)
    if kind == "float":
        return index + 0.25 + salt
    if kind == "double":
        return sign * (index * 1.5 + salt / 8)
    if kind == "string":
        if logical == "uuid":
            return str(uuid.uuid5(uuid.NAMESPACE_OID, f"weft-{index}-{salt}"))
        return f"s{index}-{salt}" + ("-é✓" if index % 5 == 0 else "")
    if kind == "bytes":
        if logical == "decimal":
            return decimal.Decimal(sign * (index * 101 + salt)).scaleb(-int(node.get("scale", 0)))
        return bytes((index + k) % 256 for k in range(n % 5 + 1))
    if kind == "fixed":
        if logical == "decimal":
            return decimal.Decimal(sign * (index * 101 + salt)).scaleb(-int(node.get("scale", 0)))
        return bytes((index * 3 + k + salt) % 256 for k in range(int(node["size"])))
    if kind == "enum":
        symbols: List[str] = node["symbols"]
        return symbols[n % len(symbols)]
    if kind == "array":
        return [generate(schema, index * 4 + k, node["items"], namespace, salt + k) for k in range(n % 3)]
    if kind == "map":
        return {f"k{k}": generate(schema, index, node["values"], namespace, salt + k + 1) for k in range(n % 3)}
    if kind in ("record", "error"):
        return {
            field["name"]: generate(schema, index, field["type"], namespace, salt * 7 + j + 1)
            for j, field in enumerate(node.get("fields", []))
        }
    raise SchemaError(f"cannot generate a value for {json.dumps(node)[:200]}")
