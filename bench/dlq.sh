#!/usr/bin/env bash
# Dead-letter benchmark, in one run on the local broker:
#   (a) raw rdkafka consumer -> producer loop over the input (the pass-through baseline),
#   (b) the weft loop forwarding every record (at-least-once),
#   (c) the same loop when every tenth record fails permanently and is dead-lettered (to a
#       dead-letter topic of 3 partitions, as topics/weft.dlq.toml ships it),
#   (b') and (c') as (b) and (c) over records that carry the headers Weft's ingest writes on
#       every event (id, type, source, schema id, content type, time, traceparent),
#   (d) raw produce of N dead letters (`weft-bench dlq-prepare`: a tuned plain producer),
#   (e) `weft replay` of those N dead letters, uncapped, to a new topic.
# Targets (issue 6): 0.9 x (c) >= 0.80 of (b) records/s, the same for (c') and (b') (the failing
# 10 % costs the healthy 90 % less than 20 %); (e) >= 0.50 of (d) records/s. Rounds are
# interleaved; each target is the median of its per-round ratios. Fails
# unless every record was forwarded or dead-lettered and every dead letter replayed. Writes the
# `dead-letters` section of docs/benchmarks.md (see bench/section.py).
#
# Usage: bench/dlq.sh                                   (3 rounds: a few minutes)
#        ROUNDS=1 RECORDS=200000 REPLAY_RECORDS=50000 OUT=/tmp/dlq.md bench/dlq.sh   (quick)
#
# Environment (defaults in brackets): RECORDS [1000000] input records for (a)-(c), SIZE [512]
#   bytes per value, REPLAY_RECORDS [200000] dead letters for (d)-(e), PARTITIONS [6],
#   ROUNDS [3], CONCURRENCY [16], SETTLE [10] seconds of quiet (after sync) before each measured
#   variant, OUT [docs/benchmarks.md] (OUT=- prints the section).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

RECORDS=${RECORDS:-1000000}
SIZE=${SIZE:-512}
REPLAY_RECORDS=${REPLAY_RECORDS:-200000}
PARTITIONS=${PARTITIONS:-6}
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-16}
OUT=${OUT:-docs/benchmarks.md}

COMMAND="bench/dlq.sh"
for v in RECORDS SIZE REPLAY_RECORDS PARTITIONS ROUNDS CONCURRENCY SETTLE; do
    if [[ -n $(printenv "$v" || true) ]]; then
        COMMAND="$v=$(printf '%q' "${!v}") $COMMAND"
    fi
done

log() { echo "dlq.sh: $*" >&2; }
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
export WEFT_BENCH_BOOTSTRAP=$BOOTSTRAP

log "building weft-bench and weft (release)"
cargo build --release -p weft-bench -p weft-cli
BENCH=$ROOT/target/release/weft-bench
BIN=$ROOT/target/release/weft

WORK=$(mktemp -d)
STAMP="$(date +%s)-$$"
INPUT="weft-bench-dlq-in-$STAMP"
EVENTS="weft-bench-dlq-events-$STAMP"
SCHEMA_TOPIC="weft-bench-dlq-schemas-$STAMP"
AUDIT="weft-bench-dlq-audit-$STAMP"
QUARANTINE="weft-bench-dlq-quarantine-$STAMP"
REGISTRY_PORT=$(free_port)
REGISTRY_PID=
TOPICS=("$INPUT" "$EVENTS" "$SCHEMA_TOPIC" "$AUDIT" "$QUARANTINE")

cleanup() {
    local rc=$?
    stop_process "$REGISTRY_PID"
    "$BENCH" delete-topics "${TOPICS[@]}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The replay writes its audit record through the registry.
start_registry "$BIN" "$WORK" "$BOOTSTRAP" "$REGISTRY_PORT" "$SCHEMA_TOPIC"
cat >"$WORK/weft.toml" <<EOF2
[kafka]
bootstrap_servers = "$BOOTSTRAP"
[admin]
enabled = false
[log]
level = "warn"
[schema_registry]
url = "http://127.0.0.1:$REGISTRY_PORT"
EOF2
"$BENCH" create-topic --topic "$AUDIT" --partitions 1 >/dev/null
"$BENCH" create-topic --topic "$QUARANTINE" --partitions 1 >/dev/null

started=$(date +%s)
log "prepare: $RECORDS records of $SIZE B into $INPUT"
"$BENCH" prepare --topic "$INPUT" --records "$RECORDS" --size "$SIZE" --partitions "$PARTITIONS" \
    >"$WORK/prepare.json"
log "prepare: $RECORDS records of $SIZE B with Weft's ingest headers into $EVENTS"
"$BENCH" prepare --topic "$EVENTS" --records "$RECORDS" --size "$SIZE" --partitions "$PARTITIONS" \
    --weft-headers >"$WORK/prepare-events.json"

: >"$WORK/runs.jsonl"
record() { # round label json-file
    jq -c --argjson round "$1" --arg l "$2" '. + {"round": $round, "label": $l}' "$3" |
        tee -a "$WORK/runs.jsonl" >&2
}
# The weft loop over INPUT forwarding every record, then dead-lettering every tenth.
loop_pair() { # round input label-suffix what
    local round=$1 input=$2 suffix=$3 what=$4 processor label
    for processor in forward fail-tenth; do
        label=healthy$suffix
        [[ $processor == fail-tenth ]] && label=failing$suffix
        settle
        log "round $round: weft loop$what, processor $processor"
        "$BENCH" run --variant loop --concurrency "$CONCURRENCY" --processor "$processor" \
            --input "$input" --records "$RECORDS" --partitions "$PARTITIONS" --delete-output \
            >"$WORK/one.json"
        record "$round" "$label" "$WORK/one.json"
    done
}
for round in $(seq 1 "$ROUNDS"); do
    settle
    log "round $round: raw loop"
    "$BENCH" run --variant raw --input "$INPUT" --records "$RECORDS" --partitions "$PARTITIONS" \
        --delete-output >"$WORK/one.json"
    record "$round" raw "$WORK/one.json"
    loop_pair "$round" "$INPUT" "" ""
    loop_pair "$round" "$EVENTS" _events " over events with ingest headers"

    dlq="weft-bench-dlq-$STAMP-$round"
    dest="weft-bench-dlq-replayed-$STAMP-$round"
    TOPICS+=("$dlq" "$dest")
    settle
    log "round $round: raw produce of $REPLAY_RECORDS dead letters into $dlq"
    "$BENCH" dlq-prepare --topic "$dlq" --origin "$INPUT" --records "$REPLAY_RECORDS" \
        --size "$SIZE" --partitions "$PARTITIONS" >"$WORK/one.json"
    record "$round" produce "$WORK/one.json"
    "$BENCH" create-topic --topic "$dest" --partitions "$PARTITIONS" >/dev/null
    settle
    log "round $round: weft replay of $dlq, uncapped"
    t0=$(date +%s.%N)
    "$BIN" -c "$WORK/weft.toml" replay --topic "$dlq" --to "$dest" --audit-topic "$AUDIT" \
        --quarantine-topic "$QUARANTINE" --operator bench --output json \
        >"$WORK/replay.out" 2>"$WORK/replay.err" || {
        tail -n 5 "$WORK/replay.err" >&2
        die "the replay failed"
    }
    t1=$(date +%s.%N)
    got=$(tail -n 1 "$WORK/replay.out" | jq '.counts.replayed')
    [[ $got == "$REPLAY_RECORDS" ]] || die "the replay re-published $got of $REPLAY_RECORDS records"
    jq -n --argjson n "$REPLAY_RECORDS" --argjson t0 "$t0" --argjson t1 "$t1" \
        --argjson inner "$(tail -n 1 "$WORK/replay.out" | jq '.elapsed_ms')" \
        '{records: $n, seconds: ($t1 - $t0), records_per_s: ($n / ($t1 - $t0)),
          inner_seconds: ($inner / 1000), inner_records_per_s: ($n / ($inner / 1000))}' >"$WORK/one.json"
    record "$round" replay "$WORK/one.json"
    "$BENCH" delete-topics "$dlq" "$dest" >/dev/null
done
elapsed=$(($(date +%s) - started))

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi
python3 bench/dlq_report.py "$WORK/runs.jsonl" --command "$COMMAND" --notes bench/dlq-observations.md \
    --fact "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit" \
    --fact "CPU: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)); memory: $(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo) GiB; kernel $(uname -r)" \
    --fact "Kafka $KAFKA_VERSION, one broker (KRaft, \`deploy/local/kafka\`) on the same machine; $(rustc --version)" \
    --fact "Input: $RECORDS records of $SIZE B in $PARTITIONS partitions; replay: $REPLAY_RECORDS dead letters of $SIZE B values; measured part of the run: $elapsed s" \
    >"$WORK/dlq.md"
python3 bench/section.py dead-letters "$OUT" <"$WORK/dlq.md"
log "wrote the dead-letters section of $OUT"
