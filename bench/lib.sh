# Shell helpers shared by the benchmark scripts (bench/ingest.sh, bench/flows.sh); sourced, not
# run. The sourcing script defines `log` and `die` (they carry its name) before calling these.
# shellcheck shell=bash

# A free TCP port on loopback.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Lets the machine settle before a measured variant: flushes the previous variant's writes
# (sync) and waits SETTLE seconds [10] for the broker's background work. Without it the
# broker spent up to twice the CPU per record on whichever variant came right after a run
# that wrote half a gigabyte (bench/dlq-observations.md).
settle() {
    sync
    sleep "${SETTLE:-10}"
}

# Stops a process this script started: SIGTERM, up to 10 s for it to exit, then SIGKILL.
stop_process() { # pid
    local pid=$1
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || return 0
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# Waits (up to 60 s) until URL answers 2xx; dies if the process exits first or it never does.
wait_http() { # name pid url
    for _ in $(seq 1 600); do
        kill -0 "$2" 2>/dev/null || die "$1 exited during start-up"
        if curl -sf -o /dev/null "$3"; then
            return 0
        fi
        sleep 0.1
    done
    die "$1 did not answer on $3 within 60 s"
}

# Starts `weft run registry` in its own process (so that the measured process's CPU is its own)
# on 127.0.0.1:PORT with its own log topic, logging to WORK/registry.log, and waits until it
# answers. Sets REGISTRY_PID; the caller stops it (stop_process) and deletes the log topic.
start_registry() { # weft-binary work-dir bootstrap port log-topic
    local bin=$1 work=$2 bootstrap=$3 port=$4 topic=$5
    cat >"$work/registry.toml" <<EOF
[kafka]
bootstrap_servers = "$bootstrap"
[admin]
enabled = false
[log]
level = "warn"
[registry]
listen = "127.0.0.1:$port"
topic = "$topic"
EOF
    log "starting the registry on http://127.0.0.1:$port (log topic $topic)"
    "$bin" -c "$work/registry.toml" run registry >"$work/registry.log" 2>&1 &
    REGISTRY_PID=$!
    wait_http registry "$REGISTRY_PID" "http://127.0.0.1:$port/"
}
