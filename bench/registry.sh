#!/usr/bin/env bash
# Schema registry benchmark: look-up throughput and latency of `weft run registry` over loopback
# HTTP, driven by wrk. Cases: (a) `GET /` (the cheapest route: the HTTP stack's ceiling, the
# baseline), (b) `GET /schemas/ids/{id}`, (c) `POST /subjects/{s}` (look-up of an existing
# 12-field schema), (d) `GET /subjects/{s}/versions/latest`. Rounds are interleaved; the report
# gives medians and each case as a ratio of (a) measured in the same run. Writes the `registry`
# section of docs/benchmarks.md (see bench/section.py) and prints it.
#
# Usage: bench/registry.sh                      (3 rounds × 4 cases × 15 s: about 4 minutes)
#        ROUNDS=1 DURATION=5 bench/registry.sh  (quick check)
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [15] seconds per case  THREADS [2]  CONNECTIONS [32]  WARMUP [3] seconds
#   SCHEMAS [50] other schemas registered besides the benchmarked one
#   OUT [docs/benchmarks.md]; OUT=- only prints the section
#   KEEP_TOPIC [0]  1 keeps the registry's log topic afterwards (it is deleted by default)
#   QUIET_WAIT [300] seconds to wait, before each case, for the machine to be quiet (other
#                    processes below QUIET_CORES [0.3] cores over 2 s); the report shows that
#                    load per case either way
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=${WARMUP:-3}
SCHEMAS=${SCHEMAS:-50}
OUT=${OUT:-docs/benchmarks.md}
KEEP_TOPIC=${KEEP_TOPIC:-0}
QUIET_WAIT=${QUIET_WAIT:-300}
QUIET_CORES=${QUIET_CORES:-0.3}

COMMAND="bench/registry.sh"
for v in ROUNDS DURATION THREADS CONNECTIONS WARMUP SCHEMAS; do
    if [[ -n $(printenv "$v" || true) ]]; then
        COMMAND="$v=$(printf '%q' "${!v}") $COMMAND"
    fi
done

log() { echo "registry.sh: $*" >&2; }
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

if ! deploy/local/kafka status >/dev/null 2>&1; then
    log "starting the local broker"
    deploy/local/kafka start
fi
KAFKA_VERSION=$(deploy/local/kafka status | awk '/^version:/ {print $2}')
BOOTSTRAP=$(deploy/local/kafka status | awk '/^bootstrap:/ {print $2}')

log "building weft (release)"
cargo build --release -p weft-cli
BIN=$ROOT/target/release/weft

WORK=$(mktemp -d)
TOPIC="bench-schemas-$(date +%s)-$$"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
REGISTRY_PID=

cleanup() {
    local rc=$?
    if [[ -n $REGISTRY_PID ]] && kill -0 "$REGISTRY_PID" 2>/dev/null; then
        kill -TERM "$REGISTRY_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$REGISTRY_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$REGISTRY_PID" 2>/dev/null || true
    fi
    if ((rc != 0)) && [[ -f $WORK/registry.log ]]; then
        log "registry log (last lines):"
        tail -n 20 "$WORK/registry.log" >&2 || true
    fi
    if [[ $KEEP_TOPIC != 1 ]]; then
        deploy/local/kafka tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
            --delete --topic "$TOPIC" >/dev/null 2>&1 || log "could not delete topic $TOPIC"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/weft.toml" <<EOF
[kafka]
bootstrap_servers = "$BOOTSTRAP"
[admin]
enabled = false
[log]
level = "warn"
[registry]
listen = "127.0.0.1:$PORT"
topic = "$TOPIC"
EOF

log "starting the registry on $BASE (log topic $TOPIC)"
"$BIN" -c "$WORK/weft.toml" run registry >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
ready=0
for _ in $(seq 1 600); do
    kill -0 "$REGISTRY_PID" 2>/dev/null || die "the registry exited during start-up"
    if curl -sf -o /dev/null "$BASE/"; then
        ready=1
        break
    fi
    sleep 0.1
done
((ready == 1)) || die "the registry did not answer on $BASE within 60 s"

# Everything below (registration, checks, wrk rounds, report) in one Python program.
export QUIET_WAIT QUIET_CORES BASE WORK REGISTRY_PID ROUNDS DURATION THREADS CONNECTIONS WARMUP SCHEMAS COMMAND KAFKA_VERSION
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi
FACT_COMMIT=$commit
FACT_WRK=$(wrk --version 2>&1 | head -n 1 | awk '{print $1, $2}' || true)
FACT_RUSTC=$(rustc --version)
export FACT_COMMIT FACT_WRK FACT_RUSTC

python3 - >"$WORK/registry.md" <<'PY'
import json, os, random, resource, statistics, subprocess, sys, time, urllib.request, urllib.error

sys.path.insert(0, "bench")
import procstat
from procstat import NCPU, machine_busy, proc_cpu, rss_mib

E = os.environ
BASE, WORK = E["BASE"], E["WORK"]
PID = int(E["REGISTRY_PID"])
ROUNDS, DURATION = int(E["ROUNDS"]), int(E["DURATION"])
THREADS, CONNECTIONS = int(E["THREADS"]), int(E["CONNECTIONS"])
WARMUP, SCHEMAS = int(E["WARMUP"]), int(E["SCHEMAS"])
CT = "application/vnd.schemaregistry.v1+json"
TARGET_RPS, TARGET_P99_MS = 20_000, 5.0

def log(*a):
    print("registry.sh:", *a, file=sys.stderr, flush=True)

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Content-Type": CT, "Accept": CT})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.exit(f"registry.sh: {method} {path} answered {e.code}: {e.read().decode(errors='replace')}")

# --- The benchmarked schema: a 12-field order record. -------------------------------------
def order(extra=True):
    fields = [
        {"name": "order_id", "type": "string"},
        {"name": "customer_id", "type": "string"},
        {"name": "sku", "type": "string"},
        {"name": "channel", "type": "string"},
        {"name": "quantity", "type": "long"},
        {"name": "unit_price_cents", "type": "long"},
        {"name": "sequence", "type": "long"},
        {"name": "status", "type": {"type": "enum", "name": "Status",
                                    "symbols": ["NEW", "PAID", "SHIPPED", "CANCELLED"]}},
        {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ship_to", "type": {"type": "record", "name": "Address", "fields": [
            {"name": "street", "type": "string"},
            {"name": "city", "type": "string"},
            {"name": "postcode", "type": "string"}]}},
        {"name": "version", "type": "long"},
    ]
    if extra:
        fields.append({"name": "note", "type": ["null", "string"], "default": None,
                       "doc": "Free text from the customer, if any."})
    return {"type": "record", "name": "Order", "namespace": "io.weft.bench",
            "doc": "An order as the shop publishes it.", "fields": fields}

SUBJECT = "bench.orders-value"
v1 = order(extra=False)           # 11 fields: version 1
v2 = order(extra=True)            # 12 fields: version 2 (adds an optional field: BACKWARD-compatible)
assert len(v2["fields"]) == 12
call("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(v1)})
main = call("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(v2)})
MAIN_ID = main["id"]
# The same schema under a second subject (TopicRecordName strategy): one id, two subjects.
call("POST", "/subjects/bench.orders-io.weft.bench.Order/versions", {"schema": json.dumps(v2)})

# --- Other schemas, so that the maps are not trivially small. ------------------------------
rng = random.Random(42)
prims = ["string", "long", "int", "double", "boolean", "bytes"]
for n in range(SCHEMAS):
    fields = []
    for k in range(rng.randint(4, 20)):
        kind = rng.random()
        name = f"f{k}"
        if kind < 0.6:
            fields.append({"name": name, "type": rng.choice(prims)})
        elif kind < 0.75:
            fields.append({"name": name, "type": ["null", rng.choice(prims)], "default": None})
        elif kind < 0.85:
            fields.append({"name": name, "type": {"type": "array", "items": "string"}})
        elif kind < 0.92:
            fields.append({"name": name, "type": {"type": "map", "values": "long"}})
        else:
            fields.append({"name": name, "type": {"type": "enum", "name": f"E{n}_{k}",
                                                  "symbols": ["A", "B", "C"]}})
    schema = {"type": "record", "name": f"Entity{n}", "namespace": f"io.weft.bench.gen{n % 7}",
              "fields": fields}
    call("POST", f"/subjects/bench.entity{n}-value/versions", {"schema": json.dumps(schema)})
subjects = call("GET", "/subjects")
log(f"registered {SCHEMAS + 2} schemas in {len(subjects)} subjects; benchmarked schema id {MAIN_ID}")

# --- Check the answers once before loading them. --------------------------------------------
lookup_body = json.dumps({"schema": json.dumps(v2)})
got = call("POST", f"/subjects/{SUBJECT}", json.loads(lookup_body))
assert got["id"] == MAIN_ID and got["version"] == 2 and got["subject"] == SUBJECT, got
got = call("GET", f"/schemas/ids/{MAIN_ID}")
assert json.loads(got["schema"])["name"] == "Order", got
got = call("GET", f"/subjects/{SUBJECT}/versions/latest")
assert got["id"] == MAIN_ID and got["version"] == 2, got

# --- wrk cases. -----------------------------------------------------------------------------
def lua(method=None, body=None):
    """A wrk script: optional POST body; done() writes the figures as JSON."""
    s = ""
    if method:
        level = "=" * 3
        while f"]{level}]" in body:
            level += "="
        s += (f'wrk.method = "{method}"\n'
              f"wrk.body = [{level}[{body}]{level}]\n"
              f'wrk.headers["Content-Type"] = "{CT}"\n')
    s += """
done = function(summary, latency, requests)
  local e = summary.errors
  local f = io.open(os.getenv("WRK_JSON"), "w")
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%f}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
  f:close()
end
"""
    return s

CASES = [
    ("a", "`GET /` (baseline: the cheapest route)", "/", None),
    ("b", f"`GET /schemas/ids/{{id}}`", f"/schemas/ids/{MAIN_ID}", None),
    ("c", "`POST /subjects/{s}` (look-up of the 12-field schema)", f"/subjects/{SUBJECT}", lookup_body),
    ("d", "`GET /subjects/{s}/versions/latest`", f"/subjects/{SUBJECT}/versions/latest", None),
]
for key, _, _, body in CASES:
    with open(f"{WORK}/{key}.lua", "w") as f:
        f.write(lua("POST", body) if body else lua())

QUIET_WAIT, QUIET_CORES = float(E["QUIET_WAIT"]), float(E["QUIET_CORES"])

def wait_quiet():
    """Waits (up to QUIET_WAIT s) until other processes use less than QUIET_CORES cores."""
    procstat.wait_quiet((PID,), QUIET_WAIT, QUIET_CORES, log)

def run(key, path, seconds):
    wait_quiet()
    out = f"{WORK}/{key}.json"
    if os.path.exists(out):
        os.remove(out)
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
           "-s", f"{WORK}/{key}.lua", BASE + path]
    reg0, (busy0, all0) = proc_cpu(PID), machine_busy()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True, env={**E, "WRK_JSON": out})
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    reg1, (busy1, all1) = proc_cpu(PID), machine_busy()
    if p.returncode != 0 or not os.path.exists(out):
        sys.exit(f"registry.sh: wrk failed on case ({key}):\n{p.stdout}\n{p.stderr}")
    with open(out) as f:
        r = json.load(f)
    errors = {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}
    if errors or "Non-2xx" in p.stdout:
        sys.exit(f"registry.sh: case ({key}) had errors {errors}:\n{p.stdout}")
    secs = r["duration_us"] / 1e6
    r.update(
        rps=r["requests"] / secs,
        registry_cpu_us=(reg1 - reg0) * 1e6 / max(r["requests"], 1),
        registry_cores=(reg1 - reg0) / secs,
        wrk_cores=(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / secs,
        machine_busy=(busy1 - busy0) / max(all1 - all0, 1),
    )
    r["other_cores"] = max(0.0, r["machine_busy"] * NCPU - r["registry_cores"] - r["wrk_cores"])
    return r

if WARMUP > 0:
    log(f"warm-up: {WARMUP} s per case")
    for key, _, path, _ in CASES:
        run(key, path, WARMUP)

results = {key: [] for key, *_ in CASES}
for rnd in range(1, ROUNDS + 1):
    for key, _, path, _ in CASES:
        r = run(key, path, DURATION)
        r["round"] = rnd
        results[key].append(r)
        log(f"round {rnd} ({key}): {r['rps']:,.0f} req/s, p50 {r['p50_us'] / 1000:.2f} ms, "
            f"p99 {r['p99_us'] / 1000:.2f} ms, max {r['max_us'] / 1000:.1f} ms, "
            f"registry {r['registry_cores']:.2f} cores, wrk {r['wrk_cores']:.2f} cores, "
            f"others {r['other_cores']:.2f} cores")
rss = rss_mib(PID)
with open(f"{WORK}/runs.jsonl", "w") as f:
    for key, rs in results.items():
        for r in rs:
            f.write(json.dumps({"case": key, **r}) + "\n")

# --- Report. ---------------------------------------------------------------------------------
med = lambda key, field: statistics.median(r[field] for r in results[key])
base_rps = med("a", "rps")
cpu = "unknown CPU"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]) / 1048576
P = print
P("## Schema registry: look-ups over loopback HTTP\n")
P("Throughput and latency of `weft run registry` (crate `weft-registry`) answering look-ups, driven "
  "by wrk over loopback: (a) `GET /`, the cheapest route, as the baseline (the ceiling of the HTTP "
  "stack and of wrk on this machine), (b) `GET /schemas/ids/{id}`, (c) `POST /subjects/{s}` "
  "(look-up of an existing schema, as a serializer does before its first record), "
  "(d) `GET /subjects/{s}/versions/latest`. "
  "*Generated by `bench/registry.sh`; do not edit inside the markers: rerun it.*\n")
P(f"### Command\n\n```sh\n{E['COMMAND']}\n```\n")
P("### Machine and workload\n")
P(f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; commit {E['FACT_COMMIT']}")
P(f"- CPU: {os.cpu_count()} cores ({cpu}); memory: {mem:.1f} GiB; kernel {os.uname().release}; "
  f"{E['FACT_RUSTC']}; {E['FACT_WRK']}")
P(f"- **wrk and the registry share the same {os.cpu_count()} cores** (and Kafka {E['KAFKA_VERSION']}, "
  "idle during the look-ups, runs there too): the load generator takes a large part of the CPU, so "
  "these figures are a floor for what the registry does on its own cores")
P(f"- Load: wrk, {THREADS} threads × {CONNECTIONS} connections (keep-alive), {DURATION} s per case, "
  f"closed loop (each connection sends its next request when the answer arrives); {WARMUP} s "
  "warm-up per case first")
P(f"- State: {SCHEMAS + 2} schemas in {len(subjects)} subjects (the 12-field `io.weft.bench.Order` "
  f"as version 2 of `{SUBJECT}` after an 11-field version 1, and under a second subject; "
  f"{SCHEMAS} generated records of 4–20 fields); (b)–(d) ask for the 12-field schema (id {MAIN_ID}, "
  f"{len(json.dumps(v2))} bytes of schema text; the look-up body is {len(lookup_body)} bytes)")
P(f"- Rounds: {ROUNDS}, each running every case once, interleaved; figures are medians of the "
  "rounds and ratios compare medians of the same run. No errors and no non-2xx answers "
  "(the script fails otherwise)")
P(f"- Registry resident memory after the run: {rss:.1f} MiB\n")

P("### Target\n")
P("| Target | Goal | Measured (median) | Status |")
P("| --- | --- | --- | --- |")
for key, label in (("b", "(b) `GET /schemas/ids/{id}`"), ("c", "(c) `POST /subjects/{s}` look-up")):
    rps, p99 = med(key, "rps"), med(key, "p99_us") / 1000
    ok = rps >= TARGET_RPS and p99 < TARGET_P99_MS
    P(f"| {label} | ≥ {TARGET_RPS:,} req/s at p99 < {TARGET_P99_MS:g} ms | "
      f"{rps:,.0f} req/s, p99 {p99:.2f} ms | {'**met**' if ok else '**not met**'} |")
P()
P(f"### Results (median of {ROUNDS} round(s))\n")
P("| Case | requests/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | registry CPU µs/request | "
  "registry cores | wrk cores | vs (a) |")
P("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for key, label, _, _ in CASES:
    rps = med(key, "rps")
    P(f"| ({key}) {label} | {rps:,.0f} | {med(key, 'p50_us') / 1000:.2f} | "
      f"{med(key, 'p90_us') / 1000:.2f} | {med(key, 'p99_us') / 1000:.2f} | "
      f"{med(key, 'p999_us') / 1000:.2f} | {max(r['max_us'] for r in results[key]) / 1000:.1f} | "
      f"{med(key, 'registry_cpu_us'):.1f} | {med(key, 'registry_cores'):.2f} | "
      f"{med(key, 'wrk_cores'):.2f} | {rps / base_rps:.2f} |")
P("\nLatency is wrk's, per request, from the request written to the answer read (µs resolution); "
  "max is the highest of the rounds. *registry cores* and *wrk cores* are CPU seconds per second "
  "of the run (out of " f"{os.cpu_count()}).\n")
P("### Each round\n")
P("| Round | Case | requests/s | p50 ms | p99 ms | max ms | registry cores | wrk cores | "
  "other processes, cores | vs (a) of the round |")
P("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for rnd in range(1, ROUNDS + 1):
    a = next(r for r in results["a"] if r["round"] == rnd)["rps"]
    for key, *_ in CASES:
        r = next(r for r in results[key] if r["round"] == rnd)
        P(f"| {rnd} | ({key}) | {r['rps']:,.0f} | {r['p50_us'] / 1000:.2f} | "
          f"{r['p99_us'] / 1000:.2f} | {r['max_us'] / 1000:.1f} | {r['registry_cores']:.2f} | "
          f"{r['wrk_cores']:.2f} | {r['other_cores']:.2f} | {r['rps'] / a:.2f} |")
P()
P("### How it is measured\n")
P("- `bench/registry.sh` starts the local broker if needed, builds `weft` in release mode, starts "
  "`weft -c <file> run registry` on a free loopback port with a new log topic, registers the "
  "schemas through the REST API, checks once that (b)–(d) answer the expected id and version, "
  "then runs `wrk --latency` for each case, round after round, and stops the registry "
  "(SIGTERM) and deletes its topic at the end.")
print("- The POST case sends Confluent's content type `application/vnd.schemaregistry.v1+json` "
      "and the body `{\"schema\": \"<the schema as a JSON string>\"}`, as Confluent's serializers do. "
      "A wrk Lua `done()` hook writes the counts and percentiles; any connect/read/write/timeout "
      "error or a status ≥ 400 fails the run.")
P("- wrk is a closed-loop generator: latency under overload is not corrected for coordinated "
  "omission, and throughput is what " f"{CONNECTIONS} connections sustain, not a paced rate.")
P("- **The cores are oversubscribed by design**: wrk's threads, the registry's tokio workers and "
  "Kafka's threads all want the same cores, so a request waits now and then for a time slice; "
  "that, not the handlers, is where the p99.9 and max figures come from (they are as high for the "
  "baseline (a)).")
P(f"- This machine is shared: before each case the script waits (up to {QUIET_WAIT:g} s) until "
  f"other processes use less than {QUIET_CORES:g} cores, and *other processes, cores* in the "
  "table of rounds is what they used during the case (all CPU time of the machine minus the "
  "registry's and wrk's). Rounds where it is high are slower; the medians damp them.")
PY

cat "$WORK/registry.md"
if [[ $OUT != - ]]; then
    python3 bench/section.py registry "$OUT" <"$WORK/registry.md"
fi
