#!/usr/bin/env bash
# Flows benchmark: Avro orders (the 12-field order of bench/registry.sh, Confluent wire format)
# through the flows of bench/flows/ on the local broker, against the raw rdkafka pass-through
# of the same records in the same run. Writes the `flows` section of docs/benchmarks.md.
#
# Variants, each at-least-once and exactly-once (commit interval 100 ms):
#   codec      decode + encode only (input schema = output schema, one destination)
#   transform  the 12-field transform (rename 3, cast 2, mask 1, add 2), one destination
#   fanout     the transform + 3 routes (one with continue = true) + the default route
# plus (a) the raw rdkafka loop and (b) the weft loop forwarding the bytes unchanged.
#
# Usage: bench/flows.sh                                        (full run)
#        RECORDS=100000 ROUNDS=1 LATENCY_SECONDS=5 bench/flows.sh   (quick check)
# Environment (defaults in brackets): RECORDS [1000000] PARTITIONS [6] ROUNDS [3]
#   CONCURRENCY [16]  LATENCY_SECONDS [20]  RATE [half the fan-out's at-least-once records/s]
#   OUT [docs/benchmarks.md]  NOTES [bench/flows-observations.md]  MIN_FREE_GB [2.5]
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

RECORDS=${RECORDS:-1000000}
PARTITIONS=${PARTITIONS:-6}
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-16}
LATENCY_SECONDS=${LATENCY_SECONDS:-20}
RATE=${RATE:-}
OUT=${OUT:-docs/benchmarks.md}
NOTES=${NOTES:-bench/flows-observations.md}
MIN_FREE_GB=${MIN_FREE_GB:-2.5}

COMMAND="bench/flows.sh"
for v in RECORDS PARTITIONS ROUNDS CONCURRENCY LATENCY_SECONDS RATE; do
    if [[ -n $(printenv "$v" || true) ]]; then
        COMMAND="$v=$(printf '%q' "${!v}") $COMMAND"
    fi
done

log() { echo "flows.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}

for tool in curl jq python3; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

if ! deploy/local/kafka status >/dev/null 2>&1; then
    log "starting the local broker"
    deploy/local/kafka start
fi
KAFKA_STATUS=$(deploy/local/kafka status)
BROKER_PID=$(awk '/^pid:/ {print $2}' <<<"$KAFKA_STATUS")
KAFKA_VERSION=$(awk '/^version:/ {print $2}' <<<"$KAFKA_STATUS")
BOOTSTRAP=$(awk '/^bootstrap:/ {print $2}' <<<"$KAFKA_STATUS")
KAFKA_DATA=$(awk '/^data:/ {print $2}' <<<"$KAFKA_STATUS")
export WEFT_BENCH_BOOTSTRAP=$BOOTSTRAP

# The broker's disk (every run writes the input's size again, and more for the fan-out; the
# output topics are deleted after each run).
disk=$ROOT
[[ -n $KAFKA_DATA && -d $KAFKA_DATA ]] && disk=$KAFKA_DATA
free_gb=$(df -P -k "$disk" | awk 'NR == 2 {printf "%.1f", $4 / 1048576}')
if awk -v f="$free_gb" -v m="$MIN_FREE_GB" 'BEGIN {exit !(f < m)}'; then
    die "only $free_gb GB free on $disk (the broker's disk); the run needs at least $MIN_FREE_GB GB"
fi

log "building weft-bench and weft (release)"
cargo build --release -p weft-bench -p weft-cli
BENCH=$ROOT/target/release/weft-bench
BIN=$ROOT/target/release/weft

WORK=$(mktemp -d)
STAMP="$(date +%s)-$$"
INPUT="weft-bench-flows-in-$STAMP"
SCHEMA_TOPIC="weft-bench-flows-schemas-$STAMP"
REGISTRY_PORT=$(free_port)
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT"
REGISTRY_PID=

cleanup() {
    local rc=$?
    stop_process "$REGISTRY_PID"
    if ((rc != 0)) && [[ -s $WORK/registry.log ]]; then
        log "registry log (last lines):"
        tail -n 20 "$WORK/registry.log" >&2 || true
    fi
    "$BENCH" delete-topics "$INPUT" "$SCHEMA_TOPIC" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The registry in its own process, on its own log topic: the measured process is the flow's.
start_registry "$BIN" "$WORK" "$BOOTSTRAP" "$REGISTRY_PORT" "$SCHEMA_TOPIC"

started=$(date +%s)
log "prepare: $RECORDS orders into $INPUT ($PARTITIONS partitions)"
"$BENCH" flow-prepare --topic "$INPUT" --records "$RECORDS" --partitions "$PARTITIONS" \
    --registry "$REGISTRY_URL" >"$WORK/prepare.json"
cat "$WORK/prepare.json" >&2

: >"$WORK/runs.jsonl"
one() { # round label command...
    local round=$1 label=$2
    shift 2
    log "round $round: $label"
    "$@" >"$WORK/one.json"
    jq -c --argjson round "$round" --arg l "$label" '. + {"round": $round, "label": $l}' \
        "$WORK/one.json" | tee -a "$WORK/runs.jsonl" >&2
}
for round in $(seq 1 "$ROUNDS"); do
    one "$round" raw "$BENCH" run --variant raw --input "$INPUT" --records "$RECORDS" \
        --partitions "$PARTITIONS" --broker-pid "$BROKER_PID" --delete-output
    one "$round" forward "$BENCH" run --variant loop --concurrency "$CONCURRENCY" --input "$INPUT" \
        --records "$RECORDS" --partitions "$PARTITIONS" --broker-pid "$BROKER_PID" --delete-output
    for flow in codec transform fanout; do
        for mode in alo eos; do
            eos=()
            [[ $mode == eos ]] && eos=(--eos)
            one "$round" "$flow-$mode" "$BENCH" flow-run --flow "$flow" --input "$INPUT" \
                --records "$RECORDS" --registry "$REGISTRY_URL" --concurrency "$CONCURRENCY" \
                --partitions "$PARTITIONS" --broker-pid "$BROKER_PID" "${eos[@]}"
        done
    done
done

if [[ -z $RATE ]]; then
    RATE=$(jq -s '[.[] | select(.label == "fanout-alo") | .records_per_s] | sort | .[length / 2 | floor] / 2 | floor' \
        "$WORK/runs.jsonl")
fi
: >"$WORK/latency.jsonl"
for v in "raw" "fanout" "fanout --eos"; do
    log "latency: $v at $RATE orders/s for $LATENCY_SECONDS s"
    # shellcheck disable=SC2086
    "$BENCH" flow-latency --flow $v --registry "$REGISTRY_URL" --rate "$RATE" \
        --seconds "$LATENCY_SECONDS" --concurrency "$CONCURRENCY" --partitions "$PARTITIONS" |
        tee -a "$WORK/latency.jsonl" >&2
done
log "flow-cpu: each flow's processor over orders in memory (no Kafka, one thread)"
"$BENCH" flow-cpu --records "$((RECORDS < 200000 ? RECORDS : 200000))" | tee "$WORK/cpu.jsonl" >&2
elapsed=$(($(date +%s) - started))

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi
python3 bench/flows_report.py "$WORK/prepare.json" "$WORK/runs.jsonl" "$WORK/latency.jsonl" \
    --cpu "$WORK/cpu.jsonl" --command "$COMMAND" --rate "$RATE" --notes "$NOTES" \
    --fact "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit" \
    --fact "CPU: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)); memory: $(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo) GiB; kernel $(uname -r)" \
    --fact "Kafka $KAFKA_VERSION, one broker (KRaft, \`deploy/local/kafka\`) on the same machine; the registry (\`weft run registry\`) in its own process; $(rustc --version)" \
    --fact "Measured part of the run (prepare, runs, latency): $elapsed s" \
    >"$WORK/flows.md"
python3 bench/section.py flows "$OUT" <"$WORK/flows.md"
log "wrote the flows section of $OUT"
