#!/usr/bin/env bash
# Pass-through benchmark: (a) raw rdkafka loop, (b) the weft-kafka loop, (c) its exactly-once mode,
# against the local broker. Writes the `pipeline` section of docs/benchmarks.md (between its
# markers, see bench/section.py) from the figures of this one run; the rest of the file is kept.
#
# Usage: bench/run.sh            (full run: about 3.5 minutes on a 2-core machine, build excluded)
#        RECORDS=100000 ROUNDS=1 LATENCY_SECONDS=5 bench/run.sh      (quick check)
#
# Environment (defaults in brackets):
#   RECORDS [1000000]  SIZE [512]  PARTITIONS [6]  ROUNDS [3]
#   RATE [20000] records/s and LATENCY_SECONDS [20] for the latency runs
#   CONCURRENCIES ["16 64"]  concurrency settings of (b); (c) runs at the first one
#   PIPE [1]           also run (b) with weft_pipe::PipeProcessor (0 to skip)
#   OUT [docs/benchmarks.md]  the file whose `pipeline` section is replaced
#   NOTES [bench/observations.md]  hand-written observations appended to the report, if present
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

RECORDS=${RECORDS:-1000000}
SIZE=${SIZE:-512}
PARTITIONS=${PARTITIONS:-6}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-20000}
LATENCY_SECONDS=${LATENCY_SECONDS:-20}
CONCURRENCIES=${CONCURRENCIES:-16 64}
PIPE=${PIPE:-1}
OUT=${OUT:-docs/benchmarks.md}
NOTES=${NOTES:-bench/observations.md}

# The command as typed, with the overrides that were set, for the report.
COMMAND="bench/run.sh"
for v in RECORDS SIZE PARTITIONS ROUNDS RATE LATENCY_SECONDS CONCURRENCIES PIPE; do
    if [[ -n ${!v+x} && -n $(printenv "$v" || true) ]]; then
        COMMAND="$v=$(printf '%q' "${!v}") $COMMAND"
    fi
done

log() { echo "run.sh: $*" >&2; }

if ! deploy/local/kafka status >/dev/null 2>&1; then
    log "starting the local broker"
    deploy/local/kafka start
fi
KAFKA_STATUS=$(deploy/local/kafka status)
BROKER_PID=$(awk '/^pid:/ {print $2}' <<<"$KAFKA_STATUS")
KAFKA_VERSION=$(awk '/^version:/ {print $2}' <<<"$KAFKA_STATUS")

log "building weft-bench (release)"
cargo build --release -p weft-bench
BIN=$ROOT/target/release/weft-bench

WORK=$(mktemp -d)
INPUT="weft-bench-in-$(date +%s)-$$"
cleanup() {
    "$BIN" delete-topics "$INPUT" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

started=$(date +%s)
log "prepare: $RECORDS records of $SIZE B into $INPUT ($PARTITIONS partitions)"
"$BIN" prepare --records "$RECORDS" --size "$SIZE" --partitions "$PARTITIONS" --topic "$INPUT" \
    >"$WORK/prepare.jsonl"

# One throughput run in its own process; its JSON line gets the round number.
run_one() {
    local round=$1
    shift
    log "round $round: run $*"
    "$BIN" run --input "$INPUT" --records "$RECORDS" --partitions "$PARTITIONS" \
        --broker-pid "$BROKER_PID" --delete-output "$@" >"$WORK/one.json"
    jq -c --argjson round "$round" '. + {round: $round}' "$WORK/one.json" | tee -a "$WORK/runs.jsonl" >&2
}

read -r -a concs <<<"$CONCURRENCIES"
for round in $(seq 1 "$ROUNDS"); do
    run_one "$round" --variant raw
    run_one "$round" --variant loop --concurrency "${concs[0]}"
    run_one "$round" --variant txn --concurrency "${concs[0]}"
    for c in "${concs[@]:1}"; do
        run_one "$round" --variant loop --concurrency "$c"
    done
    if [[ $PIPE == 1 ]]; then
        run_one "$round" --variant loop --concurrency "${concs[0]}" --processor pipe
    fi
done

: >"$WORK/latency.jsonl"
for v in raw loop txn; do
    log "latency: $v at $RATE records/s for $LATENCY_SECONDS s"
    "$BIN" latency --variant "$v" --concurrency "${concs[0]}" --rate "$RATE" \
        --seconds "$LATENCY_SECONDS" --size "$SIZE" --partitions "$PARTITIONS" \
        | tee -a "$WORK/latency.jsonl" >&2
done
elapsed=$(($(date +%s) - started))

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi
notes=()
if [[ -n $NOTES && -f $NOTES ]]; then
    notes=(--notes "$NOTES")
fi
"$BIN" report \
    --prepare "$WORK/prepare.jsonl" --runs "$WORK/runs.jsonl" --latency "$WORK/latency.jsonl" \
    --command "$COMMAND" \
    --fact "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit" \
    --fact "CPU: $(nproc) cores ($cpu_model); memory: $mem_gib GiB; kernel $(uname -r)" \
    --fact "Kafka $KAFKA_VERSION, one broker (KRaft, \`deploy/local/kafka\`) on the same machine; $(rustc --version)" \
    --fact "Measured part of the run (prepare, runs, latency): $elapsed s" \
    --out "$WORK/pipeline.md" "${notes[@]}"
python3 bench/section.py pipeline "$OUT" <"$WORK/pipeline.md"
