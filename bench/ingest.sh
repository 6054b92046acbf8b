#!/usr/bin/env bash
# Ingest benchmark: `POST /v1/topics/{topic}/events` of `weft run ingest` under load from wrk on
# loopback, compared with a raw rdkafka producer sending the same Avro bytes to the same topic in
# the same run. Cases: (a) the raw producer (`weft-bench produce-copies`: copies of a record
# ingest produced — same key, value and headers — acks=all, idempotent, as fast as it can, for a
# fixed count), (b) single-event requests, (c) 100-event batches. Rounds are interleaved; the
# report gives medians, the ingest process's CPU per 1M events, and (b), (c) as ratios of (a).
# Fails unless the topic got exactly as many records as events were answered 2xx, and on any
# non-2xx answer. Writes the `ingest` section of docs/benchmarks.md (see bench/section.py).
#
# Usage: bench/ingest.sh                                  (3 rounds: about 4 minutes)
#        ROUNDS=1 DURATION=5 RAW_EVENTS=300000 bench/ingest.sh  (quick check)
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [15] seconds of load per wrk case  WARMUP [3] seconds per case first
#   THREADS [2] wrk threads  CONNECTIONS [64] for (b)  BATCH_CONNECTIONS [16] for (c)
#   BATCH [100] events per request in (c)  RAW_EVENTS [1000000] records sent by (a)
#   PARTITIONS [6] of the event topic  DRAIN [5] seconds wrk waits for the last answers
#   OUT [docs/benchmarks.md]; OUT=- only prints the section
#   NOTES [bench/ingest-observations.md]  hand-written notes appended to the section, if present
#   KEEP_TOPICS [0]  1 keeps the topics afterwards (they are deleted by default)
#   PROFILE [""]  cases ("b", "c" or "b c") to profile after the rounds with `perf record -g`
#                 on the ingest process; the reports (and the stacks, gzip) go to PROFILE_DIR
#                 [.local/bench]
#   MIN_FREE_GB [2.5] free space needed on the broker's disk before each case: the event topic
#                     is only trimmed by retention once a minute, and a full disk stops the
#                     shared broker; the script waits (up to 150 s) for retention, then fails
#   QUIET_WAIT [300] seconds to wait, before each case, for the machine to be quiet (other
#                    processes below QUIET_CORES [0.3] cores over 2 s); the report shows that
#                    load per case either way
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
BATCH_CONNECTIONS=${BATCH_CONNECTIONS:-16}
BATCH=${BATCH:-100}
RAW_EVENTS=${RAW_EVENTS:-1000000}
PARTITIONS=${PARTITIONS:-6}
DRAIN=${DRAIN:-5}
OUT=${OUT:-docs/benchmarks.md}
NOTES=${NOTES:-bench/ingest-observations.md}
KEEP_TOPICS=${KEEP_TOPICS:-0}
PROFILE=${PROFILE:-}
PROFILE_DIR=${PROFILE_DIR:-.local/bench}
MIN_FREE_GB=${MIN_FREE_GB:-2.5}
QUIET_WAIT=${QUIET_WAIT:-300}
QUIET_CORES=${QUIET_CORES:-0.3}

COMMAND="bench/ingest.sh"
for v in ROUNDS DURATION WARMUP THREADS CONNECTIONS BATCH_CONNECTIONS BATCH RAW_EVENTS PARTITIONS PROFILE; do
    if [[ -n $(printenv "$v" || true) ]]; then
        COMMAND="$v=$(printf '%q' "${!v}") $COMMAND"
    fi
done

log() { echo "ingest.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}

for tool in curl jq python3; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
if ! command -v wrk >/dev/null; then
    log "installing wrk (apt-get)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
    fi
fi
if [[ -n $PROFILE ]] && ! command -v perf >/dev/null; then
    die "PROFILE needs perf"
fi

if ! deploy/local/kafka status >/dev/null 2>&1; then
    log "starting the local broker"
    deploy/local/kafka start
fi
KAFKA_STATUS=$(deploy/local/kafka status)
KAFKA_VERSION=$(awk '/^version:/ {print $2}' <<<"$KAFKA_STATUS")
BOOTSTRAP=$(awk '/^bootstrap:/ {print $2}' <<<"$KAFKA_STATUS")
BROKER_PID=$(awk '/^pid:/ {print $2}' <<<"$KAFKA_STATUS")
KAFKA_DATA=$(awk '/^data:/ {print $2}' <<<"$KAFKA_STATUS")

log "building weft and weft-bench (release)"
cargo build --release -p weft-cli -p weft-bench
BIN=$ROOT/target/release/weft
BENCH=$ROOT/target/release/weft-bench
export WEFT_BENCH_BOOTSTRAP=$BOOTSTRAP

WORK=$(mktemp -d)
STAMP="$(date +%s)-$$"
TOPIC="bench-ingest-events-$STAMP"
IDEM_TOPIC="bench-ingest-idem-$STAMP"
SCHEMA_TOPIC="bench-ingest-schemas-$STAMP"
REGISTRY_PORT=$(free_port)
INGEST_PORT=$(free_port)
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT"
INGEST_URL="http://127.0.0.1:$INGEST_PORT"
REGISTRY_PID=
INGEST_PID=
PY_PID=

cleanup() {
    local rc=$?
    stop_process "$PY_PID"
    stop_process "$INGEST_PID"
    stop_process "$REGISTRY_PID"
    if ((rc != 0)); then
        for name in ingest registry; do
            if [[ -s $WORK/$name.log ]]; then
                log "$name log (last lines):"
                tail -n 20 "$WORK/$name.log" >&2 || true
            fi
        done
    fi
    if [[ $KEEP_TOPICS != 1 ]]; then
        "$BENCH" delete-topics "$TOPIC" "$IDEM_TOPIC" "$SCHEMA_TOPIC" >/dev/null 2>&1 ||
            log "could not delete the topics $TOPIC $IDEM_TOPIC $SCHEMA_TOPIC"
    else
        log "kept the topics $TOPIC $IDEM_TOPIC $SCHEMA_TOPIC"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "creating $TOPIC ($PARTITIONS partitions) and $IDEM_TOPIC (compacted)"
# Small segments and retention, deleted a second after they expire: a run writes several GB and
# only the end offsets matter.
"$BENCH" create-topic --topic "$TOPIC" --partitions "$PARTITIONS" --config segment.bytes=16777216 \
    --config retention.bytes=33554432 --config file.delete.delay.ms=1000
"$BENCH" create-topic --topic "$IDEM_TOPIC" --partitions 1 --config cleanup.policy=compact

cat >"$WORK/ingest.toml" <<EOF
[kafka]
bootstrap_servers = "$BOOTSTRAP"
[admin]
enabled = false
[log]
level = "warn"
[schema_registry]
url = "$REGISTRY_URL"
[ingest]
listen = "127.0.0.1:$INGEST_PORT"
[ingest.idempotency]
topic = "$IDEM_TOPIC"
subject = "$IDEM_TOPIC-value"
[ingest.topics."$TOPIC"]
EOF

# The registry runs in its own process so that the ingest process's CPU is ingest's alone.
start_registry "$BIN" "$WORK" "$BOOTSTRAP" "$REGISTRY_PORT" "$SCHEMA_TOPIC"

# The 12-field order of bench/registry.sh, as the value schema of the event topic.
SCHEMA='{"type":"record","name":"Order","namespace":"io.weft.bench","doc":"An order as the shop publishes it.","fields":[
 {"name":"order_id","type":"string"},{"name":"customer_id","type":"string"},{"name":"sku","type":"string"},
 {"name":"channel","type":"string"},{"name":"quantity","type":"long"},{"name":"unit_price_cents","type":"long"},
 {"name":"sequence","type":"long"},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED","CANCELLED"]}},
 {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"ship_to","type":{"type":"record","name":"Address","fields":[
   {"name":"street","type":"string"},{"name":"city","type":"string"},{"name":"postcode","type":"string"}]}},
 {"name":"version","type":"long"},
 {"name":"note","type":["null","string"],"default":null,"doc":"Free text from the customer, if any."}]}'
SCHEMA_ID=$(jq -n --arg s "$SCHEMA" '{schema: $s}' |
    curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data-binary @- \
        "$REGISTRY_URL/subjects/$TOPIC-value/versions" | jq -r .id)
[[ $SCHEMA_ID =~ ^[0-9]+$ ]] || die "registering $TOPIC-value failed"
log "registered $TOPIC-value: schema id $SCHEMA_ID"

log "starting ingest on $INGEST_URL"
"$BIN" -c "$WORK/ingest.toml" run ingest >"$WORK/ingest.log" 2>&1 &
INGEST_PID=$!
wait_http ingest "$INGEST_PID" "$INGEST_URL/openapi.json"

export QUIET_WAIT QUIET_CORES INGEST_URL WORK INGEST_PID BROKER_PID REGISTRY_PID ROUNDS DURATION \
    WARMUP THREADS CONNECTIONS BATCH_CONNECTIONS BATCH RAW_EVENTS PARTITIONS DRAIN COMMAND \
    KAFKA_VERSION TOPIC SCHEMA_ID BENCH PROFILE PROFILE_DIR NOTES KAFKA_DATA MIN_FREE_GB
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi
FACT_COMMIT=$commit
FACT_WRK=$(wrk --version 2>&1 | head -n 1 | awk '{print $1, $2}' || true)
FACT_RUSTC=$(rustc --version)
export FACT_COMMIT FACT_WRK FACT_RUSTC

# Everything below (checks, cases, rounds, report) in one Python program, bench/ingest_run.py.
# In the background, so that a signal reaches the traps at once (cleanup stops it).
python3 bench/ingest_run.py >"$WORK/ingest.md" &
PY_PID=$!
wait "$PY_PID"
PY_PID=

cat "$WORK/ingest.md"
if [[ $OUT != - ]]; then
    python3 bench/section.py ingest "$OUT" <"$WORK/ingest.md"
fi
