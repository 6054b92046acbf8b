#!/usr/bin/env bash
# Codec benchmark: decode + encode of a 12-field Avro record, one core, criterion in release.
# Prints a markdown section with ns/record, records/s and the ratios against the copy
# baseline (a) and apache-avro's generic path (b), all measured in this one run, and writes it
# into the `codec` section of docs/benchmarks.md (bench/section.py; OUT=- only prints it).
#
# Usage: bench/codec.sh                 (about a minute and a half, build excluded)
#        CRITERION_ARGS="--measurement-time 2 --warm-up-time 1" bench/codec.sh   (quicker)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

LOG=$(mktemp)
SECTION=$(mktemp)
trap 'rm -f "$LOG" "$SECTION"' EXIT
# shellcheck disable=SC2086
cargo bench -p weft-schema --bench codec -- --noplot ${CRITERION_ARGS:-} 2>&1 | tee "$LOG" >&2
BODY_BYTES=$(sed -n 's/.*the Avro body has \([0-9]*\) bytes.*/\1/p' "$LOG" | head -1)

TARGET=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
DIR="$TARGET/criterion/codec"

python3 - "$DIR" "${BODY_BYTES:-?}" >"$SECTION" <<'EOF'
import json, os, sys

base, body_bytes = sys.argv[1], sys.argv[2]
rows = [
    ("a_copy", "(a) copy the body into a reused Vec (floor)"),
    ("b_apache_avro", "(b) apache-avro generic `from_avro_datum` + `to_avro_datum`"),
    ("b2_apache_avro_prebuilt", "(b2) apache-avro, datum reader/writer built once"),
    ("c_weft", "(c) Weft `Codec` decode + encode"),
    ("c2_weft_reuse", "(c2) Weft `Codec::decode_into` a reused value + encode"),
    ("d_weft_resolving", "(d) Weft `ResolvingCodec` v1 → v2 (+1 defaulted field) + encode"),
    ("e_validate", "(e) Weft `Codec::validate` only"),
]
est = {}
for key, _ in rows:
    path = os.path.join(base, key, "new", "estimates.json")
    try:
        with open(path) as f:
            e = json.load(f)
    except FileNotFoundError:
        continue
    est[key] = (e["mean"]["point_estimate"], e["median"]["point_estimate"],
                e["mean"]["confidence_interval"]["lower_bound"],
                e["mean"]["confidence_interval"]["upper_bound"])

def cost(key, ref):
    """How many times the reference's time this path takes."""
    if key not in est or ref not in est:
        return "–"
    return f"{est[key][0] / est[ref][0]:,.1f}×"

def speedup(key, ref):
    """How many times faster than the reference this path is."""
    if key not in est or ref not in est:
        return "–"
    return f"{est[ref][0] / est[key][0]:,.2f}×"

cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass

print("## Codec: decode + encode of a 12-field record (one core)\n")
print(f"criterion, release build, one record per iteration, on {cpu} ({os.cpu_count()} cores). "
      "Record: 4 strings, 4 longs, an enum, an optional string, a timestamp-millis and a nested "
      f"3-string record (12 top-level fields, {body_bytes}-byte Avro body). "
      "The bench uses mimalloc as its global allocator, as the `weft` binary does. "
      f"Load average when the report was written: {os.getloadavg()[0]:.2f} "
      "(other work on the machine inflates every row alike). "
      "Produced by `bench/codec.sh`; every figure comes from the same run.\n")
print("| path | ns/record (mean) | 95% CI | records/s | time ÷ (a) | speed-up over (b) |")
print("|---|---:|---:|---:|---:|---:|")
for key, label in rows:
    if key not in est:
        continue
    mean, median, lo, hi = est[key]
    print(f"| {label} | {mean:,.1f} | {lo:,.1f}–{hi:,.1f} | {1e9 / mean:,.0f} | "
          f"{cost(key, 'a_copy')} | {speedup(key, 'b_apache_avro')} |")
if "c_weft" in est:
    c = est["c_weft"][0]
    verdict = "meets" if c <= 600 else "misses"
    print(f"\nTarget: decode + encode ≤ 600 ns/record on one core — (c) takes {c:,.0f} ns: it {verdict} it.")
EOF
cat "$SECTION"
OUT=${OUT:-docs/benchmarks.md}
if [[ $OUT != - ]]; then
    python3 bench/section.py codec "$OUT" <"$SECTION"
fi
