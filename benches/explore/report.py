#!/usr/bin/env python3
"""Combine Kiln's timings (from run.sh) with peers.py's JSON: a Markdown table and results.json.

    python3 benches/explore/report.py --kiln-1m RUNS.txt --kiln-100k RUNS.txt --peers PEERS.json
        --arrow-bytes N --csv CSV --slice CSV_100K --out results.json [--kiln-bin PATH]
        [--kiln-version TEXT] [--strict]

RUNS.txt: one line per Kiln run, "<wall seconds> <peak RSS KiB>" (the KiB from /usr/bin/time -f %M).
Prints the table and the derived figures on stdout; with --strict, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import sys

MiB = 1024 * 1024

# (name, numerator, denominator, comparison, bound, description)
TARGETS = [
    ("kiln_1m_over_polars_describe", "kiln_1m_s", "polars_read_describe_s", "<=", 2.0,
     "Kiln full profile {big} / polars bare read+describe {big} (time)"),
    ("ydata_100k_over_kiln_100k", "ydata_minimal_100k_s", "kiln_100k_s", ">=", 50.0,
     "ydata-profiling minimal {small} / Kiln full profile {small} (time)"),
    ("ydata_100k_over_kiln_100k_minimal", "ydata_minimal_100k_s", "kiln_100k_minimal_s", ">=", 50.0,
     "ydata-profiling minimal {small} / Kiln --minimal {small}, the same work (time)"),
    ("kiln_rss_over_arrow", "kiln_1m_peak_rss_mb", "arrow_1m_mb", "<=", 3.0,
     "Kiln peak RSS {big} / Arrow in-memory size of the {big} table"),
]


def read_runs(path: str) -> list[dict]:
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                runs.append({"seconds": float(parts[0]), "peak_rss_mb": int(parts[1]) * 1024 / MiB})
    if not runs:
        raise SystemExit(f"report: no Kiln runs in {path}")
    return runs


def summarize(runs: list[dict]) -> dict:
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }


def file_info(path: str) -> dict:
    h = hashlib.sha256()
    lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            h.update(chunk)
            lines += chunk.count(b"\n")
    return {"path": path, "bytes": os.path.getsize(path), "rows": max(lines - 1, 0), "sha256": h.hexdigest()}


def fmt_s(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_mb(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln-1m", required=True)
    ap.add_argument("--kiln-100k", required=True)
    ap.add_argument("--kiln-100k-minimal", default=None)
    ap.add_argument("--peers", required=True)
    ap.add_argument("--arrow-bytes", type=int, default=None)
    ap.add_argument("--arrow-error", default=None)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--slice", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kiln-bin", default=None)
    ap.add_argument("--kiln-version", default=None)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args(argv)

    with open(args.peers, encoding="utf-8") as f:
        peers = json.load(f)
    k1 = summarize(read_runs(args.kiln_1m))
    k100 = summarize(read_runs(args.kiln_100k))
    k100m = summarize(read_runs(args.kiln_100k_minimal)) if args.kiln_100k_minimal else None
    csv = file_info(args.csv)
    sl = file_info(args.slice)
    rows_label = "1M" if csv["rows"] == 1_000_000 else f"{csv['rows']:,} rows"
    slice_label = "100k" if sl["rows"] == 100_000 else f"{sl['rows']:,} rows"

    figures = {
        "kiln_1m_s": k1["seconds"],
        "kiln_1m_peak_rss_mb": k1["peak_rss_mb"],
        "kiln_100k_s": k100["seconds"],
        "kiln_100k_peak_rss_mb": k100["peak_rss_mb"],
        "kiln_100k_minimal_s": k100m["seconds"] if k100m else None,
        "kiln_100k_minimal_peak_rss_mb": k100m["peak_rss_mb"] if k100m else None,
        "arrow_1m_mb": args.arrow_bytes / MiB if args.arrow_bytes else None,
    }
    for key, value in peers.items():
        if key.endswith("_s") or key.endswith("_peak_rss_mb"):
            figures[key] = value

    rows = [
        # (task, tool, time key, rss key, reference: (time key, rss key) or None)
        (f"full profile, {rows_label} (`kiln profile --json`)", "Kiln", "kiln_1m_s", "kiln_1m_peak_rss_mb", None),
        (f"read_csv + describe(include=\"all\"), {rows_label}", "pandas", "pandas_read_describe_s",
         "pandas_read_describe_peak_rss_mb", ("kiln_1m_s", "kiln_1m_peak_rss_mb")),
        (f"read_csv + describe(include=\"all\") + corr(), {rows_label}", "pandas", "pandas_read_describe_corr_s",
         "pandas_read_describe_corr_peak_rss_mb", ("kiln_1m_s", "kiln_1m_peak_rss_mb")),
        (f"read_csv + describe(), {rows_label}", "polars", "polars_read_describe_s",
         "polars_read_describe_peak_rss_mb", ("kiln_1m_s", "kiln_1m_peak_rss_mb")),
        (f"full profile, {slice_label} (`kiln profile --json`)", "Kiln", "kiln_100k_s", "kiln_100k_peak_rss_mb", None),
        (f"minimal profile, {slice_label} (`kiln profile --json --minimal`)", "Kiln", "kiln_100k_minimal_s",
         "kiln_100k_minimal_peak_rss_mb", ("kiln_100k_s", "kiln_100k_peak_rss_mb")),
        (f"ProfileReport(minimal=True).to_json(), {slice_label}, read excluded", "ydata-profiling",
         "ydata_minimal_100k_s", "ydata_minimal_100k_peak_rss_mb", ("kiln_100k_s", "kiln_100k_peak_rss_mb")),
    ]
    lines = [
        "| task | tool | median wall time (s) | peak memory (MB) | ratio vs Kiln |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    table_rows = []
    for task, tool, tkey, mkey, ref in rows:
        t, m = figures.get(tkey), figures.get(mkey)
        if ref is None:
            cell = "reference"
            tr = mr = None
        else:
            tr, mr = ratio(t, figures.get(ref[0])), ratio(m, figures.get(ref[1]))
            cell = f"time {fmt_ratio(tr)}, memory {fmt_ratio(mr)}"
        lines.append(f"| {task} | {tool} | {fmt_s(t)} | {fmt_mb(m)} | {cell} |")
        table_rows.append({"task": task, "tool": tool, "seconds": t, "peak_rss_mb": m,
                           "time_ratio_vs_kiln": tr, "memory_ratio_vs_kiln": mr})

    derived = {}
    missed = []
    derived_lines = []
    for name, num, den, op, bound, desc in TARGETS:
        desc = desc.format(big=rows_label, small=slice_label)
        value = ratio(figures.get(num), figures.get(den))
        if value is None:
            status = "n/a"
        else:
            ok = value <= bound if op == "<=" else value >= bound
            status = "PASS" if ok else "MISS"
            if not ok:
                missed.append(name)
        derived[name] = {"value": value, "target": f"{op} {bound}", "status": status, "what": desc}
        shown = "n/a" if value is None else f"{value:.2f}"
        derived_lines.append(f"- {desc}: **{shown}** (target {op} {bound:g}): {status}")

    notes = []
    for task, reason in peers.get("errors", {}).items():
        notes.append(f"- {task}: not measured: {reason}")
    if args.arrow_error:
        notes.append(f"- Arrow size: not measured: {args.arrow_error}")
    details = peers.get("details", {})
    proc = ", ".join(
        f"{task} {fmt_s(d.get('process_wall_s'))} s" for task, d in details.items() if d.get("process_wall_s")
    )
    if proc:
        notes.append(f"- Peer process wall time including interpreter start-up and imports (median): {proc}")
    load = peers.get("load_average", {})
    cores = os.cpu_count() or 1
    if load and max(load.get("before", [0])[:1] + load.get("after", [0])[:1]) > 0.5 * cores:
        notes.append(
            f"- The machine was busy (1-minute load average {load['before'][0]} before the peers, "
            f"{load['after'][0]} after, on {cores} cores): figures are noisy, rerun on an idle machine."
        )

    print("## Explore benchmark: data profiling, Kiln vs Python peers\n")
    print(f"Data: `{csv['path']}` ({csv['rows']:,} rows, {csv['bytes'] / 1e6:.0f} MB) and "
          f"`{sl['path']}` ({sl['rows']:,} rows); {args.arrow_bytes / MiB:.0f} MiB as Arrow." if args.arrow_bytes else
          f"Data: `{csv['path']}` ({csv['rows']:,} rows) and `{sl['path']}` ({sl['rows']:,} rows).")
    n = len(k1["runs"])
    print(f"Kiln: median of {n} run{'s' if n != 1 else ''}, whole process (start-up, read, profile, JSON out); "
          "peers: median of as many fresh processes, the operation alone (start-up and imports excluded). "
          "MB = MiB (2^20 bytes) of peak resident set size.\n")
    print("\n".join(lines))
    print("\nDerived figures:\n")
    print("\n".join(derived_lines))
    if notes:
        print("\nNotes:\n")
        print("\n".join(notes))

    results = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": cores,
            "cpu": _cpu_model(),
            "platform": platform.platform(),
            "mem_total_gib": _mem_total_gib(),
        },
        "dataset": {"csv": csv, "slice": sl, "arrow_nbytes": args.arrow_bytes},
        "kiln": {"bin": args.kiln_bin, "version": args.kiln_version, "1m": k1, "100k": k100,
                 "100k_minimal": k100m},
        "figures": figures,
        "table": table_rows,
        "derived": derived,
        "peers": peers,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(f"\nRaw results: {args.out}")
    if args.strict and missed:
        print(f"report: targets missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / MiB, 1)
    except OSError:
        pass
    return None


if __name__ == "__main__":
    sys.exit(main())
