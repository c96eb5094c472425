#!/usr/bin/env python3
"""Time the Python peers of `kiln profile` on the same CSV, each run in a fresh process.

    python3 benches/explore/peers.py CSV [--slice CSV_100K] [--runs 3]
                                         [--ydata-python PYTHON | --ydata-skip REASON]

Prints one JSON object on stdout (progress goes to stderr):

    {"pandas_read_describe_s": ..., "pandas_read_describe_corr_s": ...,
     "polars_read_describe_s": ..., "ydata_minimal_100k_s": ...,
     "<task>_peak_rss_mb": ..., "versions": {...}, "details": {...}, "errors": {...}}

Tasks (CSV is the 1M-row file, CSV_100K its first 100k rows, default mixed_100k.csv next to CSV):

- pandas_read_describe:       pd.read_csv(CSV); df.describe(include="all")
- pandas_read_describe_corr:  the same, then df.corr(numeric_only=True)
- polars_read_describe:       pl.read_csv(CSV).describe()
- ydata_minimal_100k:         ProfileReport(pd.read_csv(CSV_100K), minimal=True).to_json(),
                              the read not timed. ydata-profiling needs pandas < 3 and numpy < 2.4,
                              so it lives in its own virtualenv (--ydata-python).

Time: the median over --runs fresh processes of the timed operation alone (time.perf_counter()
inside the worker, after the imports): interpreter start-up and imports are left out, which
favours the peers. The whole process's wall time is kept in details.
Peak memory: the child's peak resident set size from os.wait4() (ru_maxrss: the kernel's high-water
mark, the figure `/usr/bin/time -f %M` prints for Kiln), in MiB; psutil polling every 10 ms is kept
as a cross-check in details. A step that fails (ydata-profiling not installed, a crash, a timeout)
is recorded as null with the reason in "errors"; the other steps still run.

Only the standard library is imported at the top, so the same file serves as the worker in any
virtualenv (`peers.py --worker TASK CSV`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1024 * 1024
# ydata-profiling on 100k rows can take minutes: measure it once when the first run is this slow.
YDATA_SINGLE_RUN_ABOVE_S = 60.0


# --------------------------------------------------------------------------------------------
# Workers: run in a fresh interpreter, print one JSON line on stdout.
# --------------------------------------------------------------------------------------------

def _versions(*names: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def worker(task: str, path: str) -> dict:
    t_start = time.perf_counter()
    if task in ("pandas_read_describe", "pandas_read_describe_corr"):
        import pandas as pd

        t_import = time.perf_counter()
        df = pd.read_csv(path)
        desc = df.describe(include="all")
        shape = list(df.shape)
        if task == "pandas_read_describe_corr":
            corr = df.corr(numeric_only=True)
            shape.append(int(corr.shape[0]))
        t_end = time.perf_counter()
        assert desc.shape[1] == df.shape[1]
        versions = _versions("pandas", "numpy", "pyarrow")
    elif task == "polars_read_describe":
        import polars as pl

        t_import = time.perf_counter()
        df = pl.read_csv(path)
        desc = df.describe()
        t_end = time.perf_counter()
        shape = list(df.shape)
        assert desc.width == df.width + 1
        versions = _versions("polars", "polars-runtime-32")
    elif task == "ydata_minimal_100k":
        import warnings

        warnings.filterwarnings("ignore")  # the import prints a deprecation notice (renamed package)
        import pandas as pd
        from ydata_profiling import ProfileReport

        t_import = time.perf_counter()
        df = pd.read_csv(path)
        shape = list(df.shape)
        t_import_read = time.perf_counter()
        report = ProfileReport(df, minimal=True, progress_bar=False)
        out = report.to_json()
        t_end = time.perf_counter()
        assert len(out) > 1000
        versions = _versions("ydata-profiling", "pandas", "numpy", "scipy", "numba")
        return {
            "seconds": t_end - t_import_read,
            "import_s": t_import - t_start,
            "read_s": t_import_read - t_import,
            "shape": shape,
            "json_chars": len(out),
            "versions": versions,
            "python": platform.python_version(),
        }
    else:
        raise SystemExit(f"unknown task {task!r}")
    return {
        "seconds": t_end - t_import,
        "import_s": t_import - t_start,
        "shape": shape,
        "versions": versions,
        "python": platform.python_version(),
    }


# --------------------------------------------------------------------------------------------
# Parent: fresh process per run, wall time and peak RSS per child.
# --------------------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"peers: {msg}", file=sys.stderr, flush=True)


class Failed(Exception):
    pass


def _poll_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Peak RSS of pid (and its children) by psutil polling every 10 ms; a cross-check only."""
    try:
        import psutil
    except ImportError:
        return
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            rss = proc.memory_info().rss
            for child in proc.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            return
        peak[0] = max(peak[0], rss)
        stop.wait(0.010)


def run_once(python: str, task: str, path: str, timeout: float) -> dict:
    """One fresh worker process: its JSON, wall time and peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [python, os.path.abspath(__file__), "--worker", task, path],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"},
        )
        stop = threading.Event()
        peak = [0]
        poller = threading.Thread(target=_poll_rss, args=(proc.pid, stop, peak), daemon=True)
        poller.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
            stop.set()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        poller.join(1)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        if wall >= timeout:
            raise Failed(f"timed out after {timeout:.0f} s")
        tail = " | ".join(line.strip() for line in stderr.strip().splitlines()[-4:])
        raise Failed(f"exit code {proc.returncode}: {tail or '(no stderr)'}")
    try:
        result = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise Failed(f"no JSON from worker ({e}); stdout: {stdout[-300:]!r}") from e
    result["process_wall_s"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss * 1024 / MiB  # ru_maxrss is in KiB on Linux
    result["polled_peak_rss_mb"] = peak[0] / MiB if peak[0] else None
    return result


def measure(python: str, task: str, path: str, runs: int, timeout: float, single_run_above: float | None) -> dict:
    results = []
    for i in range(runs):
        r = run_once(python, task, path, timeout)
        results.append(r)
        log(f"{task} run {i + 1}/{runs}: {r['seconds']:.3f} s (process {r['process_wall_s']:.2f} s), "
            f"peak RSS {r['peak_rss_mb']:.0f} MiB")
        if single_run_above is not None and i == 0 and r["seconds"] > single_run_above:
            log(f"{task}: first run took more than {single_run_above:.0f} s, measuring it once")
            break
    med = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
    return {
        "seconds": med("seconds"),
        "peak_rss_mb": med("peak_rss_mb"),
        "process_wall_s": med("process_wall_s"),
        "import_s": med("import_s"),
        "runs": [
            {k: r.get(k) for k in ("seconds", "process_wall_s", "import_s", "read_s", "peak_rss_mb", "polled_peak_rss_mb")}
            for r in results
        ],
        "shape": results[0].get("shape"),
        "versions": results[0].get("versions", {}),
        "python": results[0].get("python"),
    }


def warm_page_cache(path: str) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time the Python peers of `kiln profile`.")
    ap.add_argument("csv", help="the 1M-row CSV")
    ap.add_argument("--slice", help="the 100k-row CSV for ydata-profiling (default: mixed_100k.csv next to CSV)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--python", default=sys.executable, help="interpreter with pandas and polars (default: this one)")
    ap.add_argument("--ydata-python", default=None, help="interpreter with ydata-profiling (default: --python)")
    ap.add_argument("--ydata-skip", metavar="REASON", default=None, help="record ydata as null with this reason")
    ap.add_argument("--timeout", type=float, default=900.0, help="per-run timeout, seconds (ydata: 2x)")
    ap.add_argument("--only", nargs="*", default=None, help="run only these tasks")
    ap.add_argument("--worker", nargs=2, metavar=("TASK", "CSV"), help=argparse.SUPPRESS)
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--worker"]:
        print(json.dumps(worker(argv[1], argv[2])), flush=True)
        return 0
    args = ap.parse_args(argv)

    csv = os.path.abspath(args.csv)
    slice_path = os.path.abspath(args.slice or os.path.join(os.path.dirname(csv), "mixed_100k.csv"))
    ydata_python = args.ydata_python or args.python

    tasks = [
        ("pandas_read_describe", args.python, csv, None),
        ("pandas_read_describe_corr", args.python, csv, None),
        ("polars_read_describe", args.python, csv, None),
        ("ydata_minimal_100k", ydata_python, slice_path, YDATA_SINGLE_RUN_ABOVE_S),
    ]
    out: dict = {}
    details: dict = {}
    errors: dict = {}
    versions: dict = {"python": platform.python_version()}
    load_before = os.getloadavg()
    for path in {csv, slice_path}:
        if os.path.isfile(path):
            warm_page_cache(path)

    for task, python, path, single in tasks:
        out[f"{task}_s"] = None
        out[f"{task}_peak_rss_mb"] = None
        if args.only is not None and task not in args.only:
            errors[task] = "not selected (--only)"
            continue
        if task.startswith("ydata") and args.ydata_skip:
            errors[task] = args.ydata_skip
            log(f"{task}: skipped: {args.ydata_skip}")
            continue
        if not os.path.isfile(path):
            errors[task] = f"missing input {path}"
            log(f"{task}: {errors[task]}")
            continue
        timeout = args.timeout * (2 if task.startswith("ydata") else 1)
        try:
            m = measure(python, task, path, args.runs, timeout, single)
        except Failed as e:
            errors[task] = str(e)
            log(f"{task}: FAILED: {e}")
            continue
        except OSError as e:  # e.g. the interpreter does not exist
            errors[task] = f"{type(e).__name__}: {e}"
            log(f"{task}: FAILED: {errors[task]}")
            continue
        out[f"{task}_s"] = round(m["seconds"], 4)
        out[f"{task}_peak_rss_mb"] = round(m["peak_rss_mb"], 1)
        details[task] = m
        prefix = "ydata_env_" if task.startswith("ydata") else ""
        for name, version in m["versions"].items():
            key = name if name in ("ydata-profiling",) else prefix + name
            versions[key.replace("-", "_")] = version
        if task.startswith("ydata"):
            versions["ydata_env_python"] = m.get("python")

    try:
        versions.update({k.replace("-", "_"): v for k, v in _versions("psutil").items()})
    except Exception:  # noqa: BLE001
        pass
    out["versions"] = versions
    out["details"] = details
    out["errors"] = errors
    out["inputs"] = {"csv": csv, "slice": slice_path, "runs": args.runs}
    out["load_average"] = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
