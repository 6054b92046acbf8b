#!/usr/bin/env python3
"""The Markdown of the `dead-letters` section from bench/dlq.sh's runs (JSON lines)."""

import argparse
import json
import statistics

LABELS = [
    ("raw", "(a) raw rdkafka loop, pass-through (baseline of the loop)"),
    ("healthy", "(b) weft loop, every record forwarded, at-least-once"),
    ("failing", "(c) weft loop, every tenth record dead-lettered, at-least-once"),
    ("healthy_events", "(b') as (b), records with Weft's ingest headers"),
    ("failing_events", "(c') as (c), records with Weft's ingest headers"),
    ("produce", "(d) raw produce of the dead letters (baseline of the replay)"),
    ("replay", "(e) `weft replay`, uncapped, exactly once per replay id"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--command", required=True)
    ap.add_argument("--fact", action="append", default=[])
    ap.add_argument("--notes", help="hand-written observations appended to the section, if the file exists")
    a = ap.parse_args()
    runs = [json.loads(l) for l in open(a.runs) if l.strip()]
    by = {}
    for r in runs:
        by.setdefault(r["label"], []).append(r)
    med = {k: statistics.median(x["records_per_s"] for x in v) for k, v in by.items()}
    rounds = max(r["round"] for r in runs)
    out = []
    P = out.append
    P("## Dead letters and replay")
    P("")
    P(f"Command: `{a.command}`")
    P("")
    for f in a.fact:
        P(f"- {f}")
    P("")
    P("### Targets")
    P("")
    P("| Target | Goal | Measured | Status |")
    P("| --- | --- | --- | --- |")
    def per_round(num, den, factor=1.0):
        """Ratios within each round (variants of a round share the machine's state), and their median."""
        rs = []
        for rnd in sorted({r["round"] for r in runs}):
            n = [x["records_per_s"] for x in by.get(num, []) if x["round"] == rnd]
            d = [x["records_per_s"] for x in by.get(den, []) if x["round"] == rnd]
            if n and d:
                rs.append(factor * n[0] / d[0])
        return (statistics.median(rs), rs) if rs else (None, [])

    for h, f, what in [("healthy", "failing", "bare records, no headers: (c) / (b)"),
                       ("healthy_events", "failing_events",
                        "events as Weft's ingest writes them, 7 headers: (c') / (b')")]:
        r, rs = per_round(f, h, 0.9)
        if r is not None:
            each = ", ".join(f"{x:.2f}" for x in rs)
            P(f"| healthy records/s while 10 % are dead-lettered (0.9 × failing) / records/s of a stream with no "
              f"failure; {what} | ≥ 0.80 | {r:.2f} (rounds: {each}) | {'**met**' if r >= 0.8 else '**not met**'} |")
    r, rs = per_round("replay", "produce")
    if r is not None:
        each = ", ".join(f"{x:.2f}" for x in rs)
        P(f"| uncapped replay / raw produce of the same dead letters, records/s | ≥ 0.50 | {r:.2f} (rounds: {each}) | "
          f"{'**met**' if r >= 0.5 else '**not met**'} |")
    P("")
    P("Each target is the median of the ratios measured within a round (the variants of a round run back to back "
      "and share the machine's state); the table below gives medians of each variant's records/s.")
    P("")
    P(f"### Results (median of {rounds} round(s))")
    P("")
    P("| Variant | records/s | vs its baseline |")
    P("| --- | ---: | ---: |")
    for key, name in LABELS:
        if key not in med:
            continue
        base = {"healthy": "raw", "failing": "healthy", "failing_events": "healthy_events",
                "replay": "produce"}.get(key)
        vs = f"{med[key] / med[base]:.2f}" if base in med else ("1.00" if key != "healthy_events" else "–")
        P(f"| {name} | {med[key]:.0f} | {vs} |")
    P("")
    inner = [x["inner_records_per_s"] for x in by.get("replay", []) if "inner_records_per_s" in x]
    if inner and "produce" in med:
        m = statistics.median(inner)
        P(f"Measured inside `weft replay` (from the start of the selection scan to the last commit, without process "
          f"start-up and connection set-up): {m:.0f} records/s = {m / med['produce']:.2f} of (d).")
        P("")
    P("(c) counts every record handled: forwarded or dead-lettered (the dead letter is the original record plus "
      "the `weft.dlq.*` headers, produced by the same loop). (e) is wall-clock time of the `weft replay` command, "
      "start-up, selection scan, transactions and audit records included.")
    P("")
    P("#### Each round")
    P("")
    P("| Round | Variant | records/s |")
    P("| ---: | --- | ---: |")
    for r in sorted(runs, key=lambda r: (r["round"], [k for k, _ in LABELS].index(r["label"]))):
        P(f"| {r['round']} | {dict(LABELS)[r['label']]} | {r['records_per_s']:.0f} |")
    if a.notes:
        try:
            with open(a.notes) as f:
                P("")
                P(f.read().strip())
        except FileNotFoundError:
            pass
    print("\n".join(out))


if __name__ == "__main__":
    main()
