"""The ingest benchmark's measuring part, run by bench/ingest.sh (which starts the broker, the
registry and `weft run ingest`, and exports what this reads from the environment): checks the
answers once, runs the wrk cases and the raw producer in interleaved rounds, optionally profiles,
and prints the `ingest` section of docs/benchmarks.md on stdout."""
import gzip, json, os, resource, statistics, subprocess, sys, time, urllib.request, urllib.error

import procstat
from procstat import NCPU, TICK, machine_busy, proc_cpu, rss_mib

E = os.environ
URL, WORK, TOPIC, BENCH = E["INGEST_URL"], E["WORK"], E["TOPIC"], E["BENCH"]
PID, BROKER, REGISTRY = int(E["INGEST_PID"]), int(E["BROKER_PID"]), int(E["REGISTRY_PID"])
SCHEMA_ID = int(E["SCHEMA_ID"])
ROUNDS, DURATION, WARMUP, DRAIN = int(E["ROUNDS"]), int(E["DURATION"]), int(E["WARMUP"]), int(E["DRAIN"])
THREADS, CONNECTIONS, BATCH_CONNECTIONS = int(E["THREADS"]), int(E["CONNECTIONS"]), int(E["BATCH_CONNECTIONS"])
BATCH, RAW_EVENTS, PARTITIONS = int(E["BATCH"]), int(E["RAW_EVENTS"]), int(E["PARTITIONS"])
EVENTS_PATH = f"/v1/topics/{TOPIC}/events"
TARGET_RPS, TARGET_P99_MS, TARGET_RATIO = 20_000, 20.0, 0.40

def log(*a):
    print("ingest.sh:", *a, file=sys.stderr, flush=True)

def die(msg):
    sys.exit(f"ingest.sh: {msg}")

# --- The events: the 12-field order as JSON. -------------------------------------------------
def event(n):
    return {
        "order_id": f"ord-{n:012d}", "customer_id": f"cus-{n % 10_000:06d}", "sku": "SKU-004217",
        "channel": "web", "quantity": 3, "unit_price_cents": 1299, "sequence": n,
        "status": "PAID", "created_at": "2026-11-22T10:15:30.123Z",
        "ship_to": {"street": "12 Rue des Lilas", "city": "Lyon", "postcode": "69003"},
        "version": 2, "note": "Leave it at the door, please.",
    }

assert len(event(0)) == 12
single_body = json.dumps(event(1), separators=(",", ":"))
batch_body = json.dumps([event(1000 + i) for i in range(BATCH)], separators=(",", ":"))

def post(body):
    req = urllib.request.Request(URL + EVENTS_PATH, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        die(f"POST {EVENTS_PATH} answered {e.code}: {e.read().decode(errors='replace')}")

def bench(*args):
    p = subprocess.run([BENCH, *args], capture_output=True, text=True)
    if p.returncode != 0:
        die(f"weft-bench {' '.join(args)} failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])

def topic_records():
    """The sum of the partitions' end offsets (retention may delete from the start)."""
    return bench("end-offsets", "--topic", TOPIC)["end"]

# --- Check the answers once; the first record is the raw producer's model. -------------------
before = topic_records()
status, model = post(single_body)
if status != 200 or "offset" not in model:
    die(f"a single event was answered {status}: {model}")
status, answer = post(batch_body)
if status != 200 or answer.get("produced") != BATCH:
    die(f"a batch of {BATCH} was answered {status}: {json.dumps(answer)[:500]}")
if topic_records() - before != 1 + BATCH:
    die(f"{1 + BATCH} events answered 200, the topic got {topic_records() - before} records")
log(f"model record: {TOPIC}/{model['partition']}@{model['offset']}")

# --- wrk cases. --------------------------------------------------------------------------------
LUA = r"""
-- Closed loop for ACTIVE seconds (the first argument), then no new requests: the answers to
-- requests in flight still arrive before wrk stops (-d is ACTIVE + DRAIN), so every request
-- sent is answered and counted, and the topic can be checked against the answers exactly.
-- No response() hook: wrk then does not copy each answer into Lua (its status counts suffice,
-- and a partial batch (207) shows as records missing on the topic).
local ffi = require("ffi")
pcall(ffi.cdef, [[
struct weft_bench_ts { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct weft_bench_ts *tp);
]])
local ts = ffi.new("struct weft_bench_ts")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

wrk.method = "POST"
wrk.body = BODY
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end

active_us, deadline, sent, first_us = 0, 0, 0, 0

function init(args) active_us = tonumber(args[1]) * 1000000 end

function delay()
  local t = now_us()
  if deadline == 0 then
    deadline = t + active_us
    first_us = t
  end
  if t >= deadline then return 3600000 end
  sent = sent + 1
  return 0
end

function done(summary, latency, requests)
  local s, f0, f1 = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    local a, b = t:get("first_us"), t:get("deadline")
    if a > 0 and (f0 == 0 or a < f0) then f0 = a end
    if b > f1 then f1 = b end
  end
  local e = summary.errors
  local f = io.open(os.getenv("WRK_JSON"), "w")
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"sent":%d,"window_us":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%f}',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    s, f1 - f0,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
  f:close()
end
"""

def lua(body):
    level = "=" * 3
    while f"]{level}]" in body:
        level += "="
    return LUA.replace("BODY", f"[{level}[{body}]{level}]", 1)

CASES = {
    "a": ("raw rdkafka producer (baseline)", None, None, 1),
    "b": ("single-event requests", single_body, CONNECTIONS, 1),
    "c": (f"{BATCH}-event batches", batch_body, BATCH_CONNECTIONS, BATCH),
}
for key, (_, body, _, _) in CASES.items():
    if body is not None:
        with open(f"{WORK}/{key}.lua", "w") as f:
            f.write(lua(body))

def thread_cpu(pid):
    """CPU seconds per thread name (threads of one name summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        parts = raw.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(parts[11]) + int(parts[12])) / TICK
    return out

QUIET_WAIT, QUIET_CORES = float(E["QUIET_WAIT"]), float(E["QUIET_CORES"])
OURS = (PID, BROKER, REGISTRY)

def free_gb():
    st = os.statvfs(E["KAFKA_DATA"])
    return st.f_bavail * st.f_frsize / 2**30

def wait_disk():
    """Waits (up to 150 s) until the broker's disk has MIN_FREE_GB free; fails otherwise."""
    need, deadline, said = float(E["MIN_FREE_GB"]), time.monotonic() + 150, False
    while free_gb() < need:
        if time.monotonic() > deadline:
            die(f"only {free_gb():.1f} GiB free on the broker's disk ({E['KAFKA_DATA']}), "
                f"{need:g} needed (MIN_FREE_GB): stopping before the broker runs out of space")
        if not said:
            log(f"{free_gb():.1f} GiB free on the broker's disk; waiting for retention")
            said = True
        time.sleep(5)

def wait_quiet():
    """Waits for disk, then (up to QUIET_WAIT s) until other processes use less than QUIET_CORES cores."""
    wait_disk()
    procstat.wait_quiet(OURS, QUIET_WAIT, QUIET_CORES, log)

class Meter:
    """CPU of ingest, the broker, the children and the machine between start() and stop()."""
    def start(self):
        self.records = topic_records()
        self.ing, self.brk = proc_cpu(PID), proc_cpu(BROKER)
        self.threads = thread_cpu(PID)
        self.ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.busy = machine_busy()
        self.t = time.monotonic()

    def stop(self):
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, t = machine_busy(), time.monotonic()
        ing, brk, threads = proc_cpu(PID), proc_cpu(BROKER), thread_cpu(PID)
        secs = t - self.t
        m = dict(
            ingest_cpu_s=ing - self.ing,
            broker_cpu_s=brk - self.brk,
            child_cpu_s=ru.ru_utime + ru.ru_stime - self.ru.ru_utime - self.ru.ru_stime,
            wall_s=secs,
            machine_busy_cores=(busy[0] - self.busy[0]) / max(busy[1] - self.busy[1], 1) * NCPU,
            threads={k: v - self.threads.get(k, 0.0) for k, v in threads.items()},
        )
        m["other_cores"] = max(0.0, m["machine_busy_cores"] - (m["ingest_cpu_s"] + m["broker_cpu_s"]
                                                                + m["child_cpu_s"]) / secs)
        m["records"] = topic_records() - self.records
        return m

def run_wrk(key, seconds, quiet=True):
    _, body, conns, per_request = CASES[key]
    if quiet:
        wait_quiet()
    out = f"{WORK}/{key}.json"
    if os.path.exists(out):
        os.remove(out)
    cmd = ["wrk", f"-t{THREADS}", f"-c{conns}", f"-d{seconds + DRAIN}s", "--timeout", "30s",
           "--latency", "-s", f"{WORK}/{key}.lua", URL + EVENTS_PATH, "--", str(seconds)]
    meter = Meter()
    meter.start()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**E, "WRK_JSON": out})
    m = meter.stop()
    if p.returncode != 0 or not os.path.exists(out):
        die(f"wrk failed on case ({key}):\n{p.stdout}\n{p.stderr}")
    with open(out) as f:
        r = json.load(f)
    errors = {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}
    if errors or "Non-2xx" in p.stdout:
        die(f"case ({key}) had errors {errors}:\n{p.stdout}")
    if r["sent"] != r["requests"]:
        die(f"case ({key}): {r['sent']} requests sent, {r['requests']} answered: raise DRAIN "
            f"({DRAIN} s) so that every answer arrives")
    events = r["requests"] * per_request
    if m["records"] != events:
        die(f"case ({key}): {events:,} events answered 2xx but the topic got {m['records']:,} records")
    secs = r["window_us"] / 1e6
    r.update(m)
    r.update(
        events=events, seconds=secs, rps=r["requests"] / secs, eps=events / secs,
        ingest_cpu_per_m=m["ingest_cpu_s"] * 1e6 / events,
        broker_cpu_per_m=m["broker_cpu_s"] * 1e6 / events,
        ingest_cores=m["ingest_cpu_s"] / secs, broker_cores=m["broker_cpu_s"] / secs,
        load_cores=m["child_cpu_s"] / secs,
    )
    return r

def run_raw(count):
    wait_quiet()
    meter = Meter()
    meter.start()
    r = bench("produce-copies", "--topic", TOPIC, "--like-partition", str(model["partition"]),
              "--like-offset", str(model["offset"]), "--model-file", f"{WORK}/model.json",
              "--expect-schema-id", str(SCHEMA_ID), "--count", str(count))
    m = meter.stop()
    if m["records"] != count or r["events"] != count:
        die(f"case (a): {r['events']:,} of {count:,} acknowledged, the topic got {m['records']:,} records")
    secs = r["seconds"]
    raw = {k: v for k, v in r.items() if k not in ("broker_cpu_s", "seconds")}
    r2 = dict(m)
    r2.update(raw)
    # The whole process (start-up and model read included) is in child_cpu_s; the producer's
    # own figure covers the send window only.
    r2.update(events=count, seconds=secs, eps=count / secs, rps=None,
              producer_cpu_s=r["cpu_s"], producer_cpu_per_m=r["cpu_s_per_million"],
              broker_cpu_per_m=m["broker_cpu_s"] * 1e6 / count,
              ingest_cpu_per_m=None, broker_cores=m["broker_cpu_s"] / m["wall_s"],
              load_cores=r["cpu_s"] / secs, ingest_cores=m["ingest_cpu_s"] / m["wall_s"])
    return r2

def run(key, seconds_or_count):
    return run_raw(seconds_or_count) if key == "a" else run_wrk(key, seconds_or_count)

if WARMUP > 0:
    log(f"warm-up: {WARMUP} s per wrk case, {RAW_EVENTS // 10:,} raw records")
    run("a", RAW_EVENTS // 10)
    run("b", WARMUP)
    run("c", WARMUP)

results = {key: [] for key in CASES}
for rnd in range(1, ROUNDS + 1):
    for key in CASES:
        r = run(key, RAW_EVENTS if key == "a" else DURATION)
        r["round"] = rnd
        results[key].append(r)
        if key == "a":
            log(f"round {rnd} (a): {r['eps']:,.0f} events/s, producer {r['producer_cpu_per_m']:.2f} "
                f"CPU s/1M, broker {r['broker_cores']:.2f} cores, others {r['other_cores']:.2f} cores")
        else:
            log(f"round {rnd} ({key}): {r['rps']:,.0f} req/s, {r['eps']:,.0f} events/s, "
                f"p50 {r['p50_us'] / 1000:.2f} ms, p99 {r['p99_us'] / 1000:.2f} ms, "
                f"ingest {r['ingest_cores']:.2f} cores ({r['ingest_cpu_per_m']:.1f} CPU s/1M), "
                f"broker {r['broker_cores']:.2f}, wrk {r['load_cores']:.2f}, "
                f"others {r['other_cores']:.2f} cores")
rss = rss_mib(PID)
with open(f"{WORK}/runs.jsonl", "w") as f:
    for key, rs in results.items():
        for r in rs:
            f.write(json.dumps({"case": key, **r}) + "\n")

# --- Optional profiles: where ingest's CPU goes, by function (inclusive). ----------------------
PROFILE_PATTERNS = [
    ("HTTP: the event handler (`events::handle`)", "events::handle"),
    ("  the body through `serde_json` (`from_slice`)", ("serde_json::de::from_slice",
                                                        "serde_json::de::from_trait")),
    ("  JSON → Avro values (`Codec::from_json_raw` / `from_json`)", "Codec>::from_json"),
    ("  Avro encoding (`encode_framed`)", "encode_framed"),
    ("  `weft_kafka::Producer::send`", "Producer::send"),
    ("    librdkafka `rd_kafka_producev`", "rd_kafka_producev"),
    ("    `to_owned_headers` (weft headers → librdkafka's)", "to_owned_headers"),
    ("  event id (`Uuid::now_v7`)", "now_v7"),
    ("  record headers (`EventMeta::write_to`)", "EventMeta::write_to"),
    ("  the answer body (`events::answer`, `error::json`)", ("events::answer", "http::error::json")),
    ("  SHA-256 of the body", "digest::Digest>::digest"),
    ("  waiting with a timeout (`tokio::time`)", "tokio::time"),
    ("HTTP: writing answers (`writev`, loopback delivery included)", "writev"),
    ("HTTP: reading requests (`Conn::poll_read_*`)", "Conn<I,B,T>::poll_read"),
    ("librdkafka threads (`rdk:*`)", None),
    ("allocator (mimalloc + libc malloc/free)", "ALLOC"),
]

def profile_summary(data, keep):
    """Inclusive shares of the samples per pattern, from `perf script` of a dwarf profile;
    the stacks are kept (gzip) in `keep` for a closer look."""
    p = subprocess.run(["perf", "script", "-i", data, "--no-inline", "-F", "comm,ip,sym"],
                       capture_output=True, text=True, errors="replace")
    with gzip.open(keep, "wt") as f:
        f.write(p.stdout)
    samples, cur, comm = [], None, None
    for line in p.stdout.splitlines():
        if not line.strip():
            if cur is not None:
                samples.append((comm, cur))
            cur = None
            continue
        if not line.startswith(("\t", " " * 8)):
            comm, cur = line.strip(), []
            continue
        parts = line.strip().split(None, 1)
        if cur is not None and len(parts) == 2:
            cur.append(parts[1])
    if cur is not None:
        samples.append((comm, cur))
    n = max(len(samples), 1)
    alloc = ("mi_", "_mi_", "malloc", "free", "__rust_alloc", "__rust_dealloc")
    rows = []
    for label, pat in PROFILE_PATTERNS:
        if pat is None:
            k = sum(1 for c, _ in samples if c and c.startswith("rdk:"))
        elif pat == "ALLOC":
            k = sum(1 for _, st in samples if st and any(st[0].startswith(a) for a in alloc))
        else:
            pats = (pat,) if isinstance(pat, str) else pat
            k = sum(1 for _, st in samples if any(q in f for f in st for q in pats))
        rows.append((label, 100 * k / n))
    return len(samples), rows

profiles = []
for key in E.get("PROFILE", "").split():
    if key not in ("b", "c"):
        die(f"PROFILE: unknown case {key!r} (b or c)")
    os.makedirs(E["PROFILE_DIR"], exist_ok=True)
    data = f"{WORK}/perf-{key}.data"
    secs = min(DURATION, 10)
    wait_quiet()
    perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "299",
                             "-p", str(PID), "-o", data, "--", "sleep", str(secs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    r = run_wrk(key, secs, quiet=False)
    perf.wait()
    stacks = os.path.join(E["PROFILE_DIR"], f"ingest-stacks-{key}.txt.gz")
    n, rows = profile_summary(data, stacks)
    path = os.path.join(E["PROFILE_DIR"], f"ingest-profile-{key}.txt")
    with open(path, "w") as f:
        f.write(f"# ingest CPU profile, case ({key}) {CASES[key][0]}: {r['rps']:,.0f} req/s, "
                f"{r['eps']:,.0f} events/s, ingest {r['ingest_cores']:.2f} cores; {n} samples "
                "(perf record --call-graph dwarf -F 299); inclusive share of ingest's samples\n")
        for label, pct in rows:
            f.write(f"{pct:6.1f}%  {label}\n")
    os.remove(data)
    profiles.append((key, r, n, rows))
    log(f"profile of case ({key}) written to {path} (stacks: {stacks})")

# --- Report. -----------------------------------------------------------------------------------
med = lambda key, field: statistics.median(r[field] for r in results[key])
base = med("a", "eps")
a0 = results["a"][0]
cpu = "unknown CPU"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]) / 1048576
P = print
P("## Ingest: the event API under load\n")
P("Throughput, latency and CPU of `weft run ingest` (crate `weft-ingest`) answering "
  f"`POST /v1/topics/{{topic}}/events` under wrk on loopback: (b) one event per request, (c) "
  f"{BATCH} events per request, each validated against the topic's schema, Avro-encoded and "
  "produced with `acks=all` before the answer; against (a), the baseline, a raw rdkafka "
  "producer sending the same Avro bytes to the same topic as fast as it can. "
  "*Generated by `bench/ingest.sh`; do not edit inside the markers: rerun it.*\n")
P(f"### Command\n\n```sh\n{E['COMMAND']}\n```\n")
P("### Machine and workload\n")
P(f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; commit {E['FACT_COMMIT']}")
P(f"- CPU: {NCPU} cores ({cpu}); memory: {mem:.1f} GiB; kernel {os.uname().release}; "
  f"{E['FACT_RUSTC']}; {E['FACT_WRK']}")
P(f"- **wrk, ingest, the broker (Kafka {E['KAFKA_VERSION']}, one KRaft node from "
  f"`deploy/local/kafka`) and the raw producer share the same {NCPU} cores**; the registry runs "
  "in its own process (idle: ingest caches the schema)")
P(f"- Event: the 12-field order of `bench/registry.sh` (strings, longs, an enum, a "
  f"timestamp-millis given as RFC 3339 text, a nested record, an optional string) as JSON: "
  f"{len(single_body)} bytes; in Avro {a0['value_bytes']} bytes framed (schema id "
  f"{a0['schema_id']}), no key, {a0['headers']} headers that ingest adds "
  f"({', '.join(f'`{h}`' for h in a0['header_names'])}: {a0['header_bytes']} bytes); a "
  f"{BATCH}-event body is {len(batch_body):,} bytes")
P(f"- Topic: {PARTITIONS} partitions, one replica, 16 MiB segments and 32 MiB retention per "
  "partition (the run writes several GB); every case writes to it. Ingest: "
  "default `[ingest]` settings (no auth, no idempotency key, `max_in_flight` 1024), its "
  "producer with `acks=all`, idempotence and `linger.ms` 1")
P(f"- (a): `weft-bench produce-copies`, a `ThreadedProducer` "
  f"({', '.join(f'`{k}={v}`' for k, v in a0['producer'])}) sending {RAW_EVENTS:,} copies of a "
  "record ingest produced (same key, value bytes and headers) and waiting for every "
  "acknowledgement")
P(f"- (b), (c): wrk, {THREADS} threads × {CONNECTIONS} connections for (b) and "
  f"× {BATCH_CONNECTIONS} for (c) (keep-alive), {DURATION} s of load per case, closed loop; "
  f"{WARMUP} s warm-up per case first")
P(f"- Rounds: {ROUNDS}, each running (a), (b), (c) once, interleaved; figures are medians of "
  "the rounds and ratios compare medians of the same run. Every case checks that the topic "
  "grew by exactly the number of events answered 2xx (end offsets) and that no answer was "
  "non-2xx; the script fails otherwise")
P(f"- Ingest resident memory after the run: {rss:.1f} MiB\n")

P("### Targets\n")
P("| Target | Goal | Measured (median) | Status |")
P("| --- | --- | --- | --- |")
rps, p99 = med("b", "rps"), med("b", "p99_us") / 1000
ok = rps >= TARGET_RPS and p99 < TARGET_P99_MS
P(f"| (b) single-event requests | ≥ {TARGET_RPS:,} req/s at p99 < {TARGET_P99_MS:g} ms | "
  f"{rps:,.0f} req/s, p99 {p99:.2f} ms | {'**met**' if ok else '**not met**'} |")
ratio = med("c", "eps") / base
P(f"| (c) {BATCH}-event batches | ≥ {TARGET_RATIO:.0%} of (a)'s events/s | "
  f"{ratio:.0%} ({med('c', 'eps'):,.0f} vs {base:,.0f} events/s) | "
  f"{'**met**' if ratio >= TARGET_RATIO else '**not met**'} |")
P()
P(f"### Results (median of {ROUNDS} round(s))\n")
P("| Case | requests/s | events/s | p50 ms | p99 ms | p99.9 ms | max ms | ingest CPU s / 1M events | "
  "ingest cores | broker CPU s / 1M events | load generator cores | vs (a) |")
P("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for key, (label, *_rest) in CASES.items():
    eps = med(key, "eps")
    if key == "a":
        P(f"| (a) {label} | — | {eps:,.0f} | — | — | — | — | "
          f"({med('a', 'producer_cpu_per_m'):.2f} in the producer) | — | "
          f"{med('a', 'broker_cpu_per_m'):.2f} | {med('a', 'load_cores'):.2f} | 1.00 |")
    else:
        P(f"| ({key}) {label} | {med(key, 'rps'):,.0f} | {eps:,.0f} | "
          f"{med(key, 'p50_us') / 1000:.2f} | {med(key, 'p99_us') / 1000:.2f} | "
          f"{med(key, 'p999_us') / 1000:.2f} | {max(r['max_us'] for r in results[key]) / 1000:.1f} | "
          f"{med(key, 'ingest_cpu_per_m'):.2f} | {med(key, 'ingest_cores'):.2f} | "
          f"{med(key, 'broker_cpu_per_m'):.2f} | {med(key, 'load_cores'):.2f} | {eps / base:.2f} |")
P("\nLatency is wrk's, per request (a whole batch in (c)), from the request written to the "
  "answer read, which ingest sends after the broker acknowledged every event of it. *CPU s / 1M "
  "events* is user + system CPU of the process (every thread) over the case, per million events "
  "written; for (a) the producer's own process replaces ingest. *cores* are CPU seconds per "
  f"second of the case (out of {NCPU}); the load generator is wrk for (b), (c) and the raw "
  "producer for (a).\n")

# Where ingest's CPU goes, by thread name.
P("### Ingest CPU by thread (median share of the process's CPU)\n")
names = sorted({n for key in ("b", "c") for r in results[key] for n in r["threads"]})
def share(key, name):
    return statistics.median(r["threads"].get(name, 0.0) / max(r["ingest_cpu_s"], 1e-9)
                             for r in results[key])
rows = [(n, share("b", n), share("c", n)) for n in names]
rows = [row for row in rows if max(row[1], row[2]) >= 0.01]
P("| Thread | (b) single | (c) batches |")
P("| --- | ---: | ---: |")
for n, b, c in sorted(rows, key=lambda x: -(x[1] + x[2])):
    P(f"| `{n}` | {b:.0%} | {c:.0%} |")
P()

P("### Each round\n")
P("| Round | Case | requests/s | events/s | p50 ms | p99 ms | max ms | ingest cores | broker cores | "
  "load generator cores | other processes, cores | vs (a) of the round |")
P("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for rnd in range(1, ROUNDS + 1):
    a = next(r for r in results["a"] if r["round"] == rnd)["eps"]
    for key in CASES:
        r = next(r for r in results[key] if r["round"] == rnd)
        lat = ("— | — | —" if key == "a" else
               f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['max_us'] / 1000:.1f}")
        req = "—" if key == "a" else f"{r['rps']:,.0f}"
        P(f"| {rnd} | ({key}) | {req} | {r['eps']:,.0f} | {lat} | {r['ingest_cores']:.2f} | "
          f"{r['broker_cores']:.2f} | {r['load_cores']:.2f} | {r['other_cores']:.2f} | "
          f"{r['eps'] / a:.2f} |")
P()
P("### How it is measured\n")
P("- `bench/ingest.sh` starts the local broker if needed, builds `weft` and `weft-bench` in "
  "release mode, creates the event topic and ingest's idempotency topic, starts "
  "`weft run registry` (its own log topic) and `weft run ingest` on free loopback ports, "
  "registers the schema under `<topic>-value`, posts one event and one batch and checks the "
  "answers, then runs the cases round after round, and at the end stops both processes "
  "(SIGTERM) and deletes the three topics.")
P("- The baseline copies the first event ingest produced (read back from its partition and "
  "offset): the bytes on the wire are the same, framing and schema id included (checked), and "
  "the producer runs with the defaults of Weft's producer. Its rate is from the first send to "
  "the last acknowledgement.")
P("- wrk's Lua script (generated by the script) sends for the case's duration and then stops "
  f"sending but waits up to {DRAIN} s for the answers in flight, so the requests sent, the "
  "answers and the records on the topic can be compared exactly (a partial batch, 207, would "
  "show as missing records); the rate is the requests sent, all answered, over the sending "
  "window (a monotonic clock read through LuaJIT's FFI). Any connect/read/write/timeout error "
  "or status ≥ 400 fails the run.")
P("- wrk is a closed-loop generator: latency under overload is not corrected for coordinated "
  "omission, and throughput is what the connections sustain, not a paced rate.")
P(f"- This machine is shared: before each case the script waits (up to {QUIET_WAIT:g} s) until "
  f"other processes use less than {QUIET_CORES:g} cores; *other processes, cores* in the table "
  "of rounds is what they used during the case (all CPU time of the machine minus ingest's, "
  "the broker's and the load generator's).")
if profiles:
    P()
    P("### Where ingest's CPU goes (profile of this run)\n")
    P("`perf record --call-graph dwarf` on the ingest process during one more run of the case "
      "(`PROFILE` set); the share of ingest's CPU samples spent in each function, callees "
      "included (indented rows are parts of the row above).\n")
    keys = [k for k, *_ in profiles]
    P("| Where | " + " | ".join(f"({k}) {CASES[k][0]}" for k in keys) + " |")
    P("| --- | " + " | ".join("---:" for _ in keys) + " |")
    for i, (label, _) in enumerate(PROFILE_PATTERNS):
        depth = len(label) - len(label.lstrip(" "))
        shown = "&nbsp;" * (2 * depth) + label.strip()
        P(f"| {shown} | " + " | ".join(f"{rows[i][1]:.1f}%" for _, _, _, rows in profiles) + " |")
    P("| samples; ingest cores during the profile | " +
      " | ".join(f"{n:,}; {r['ingest_cores']:.2f}" for _, r, n, _ in profiles) + " |")
notes = E.get("NOTES", "")
if notes and os.path.isfile(notes):
    P()
    P(open(notes).read().strip())
