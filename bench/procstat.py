"""CPU and memory of processes and of the machine, from /proc, for the benchmark programs
(bench/ingest_run.py, the Python part of bench/registry.sh)."""
import os
import time

TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def proc_cpu(pid):
    """CPU seconds of process `pid` so far (utime + stime, every thread)."""
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def machine_busy():
    """Busy and total jiffies of the machine so far (all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def rss_mib(pid):
    """The resident set size of process `pid`, in MiB (NaN when unknown)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_quiet(ours, wait_s, max_cores, log):
    """Waits (up to `wait_s` seconds) until processes other than `ours` use less than
    `max_cores` cores over 2 s; says so through `log` once, and when it gives up."""
    deadline, said = time.monotonic() + wait_s, False
    while True:
        (b0, a0), o0 = machine_busy(), sum(proc_cpu(p) for p in ours)
        time.sleep(2)
        (b1, a1), o1 = machine_busy(), sum(proc_cpu(p) for p in ours)
        cores = (b1 - b0) / max(a1 - a0, 1) * NCPU - (o1 - o0) / 2
        if cores < max_cores:
            return
        if time.monotonic() > deadline:
            log(f"the machine is still busy ({cores:.2f} cores used by others); measuring anyway")
            return
        if not said:
            log(f"waiting for the machine to be quiet ({cores:.2f} cores used by others)")
            said = True
