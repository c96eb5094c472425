"""Runs the training benchmark: Kiln and its Python peers on the same split, same run, same machine.

    python bench.py --kiln KILN_BIN --train TRAIN.csv --test TEST.csv [--runs 3] [--out results.json]

Each measurement is a fresh process; the runs of all tools are interleaved (run 1 of every tool,
then run 2, ...) so a slow patch of the machine hits them alike. Reported: the median of the runs.
- Kiln: the whole `kiln train --data TRAIN --test TEST` process, wall time (start-up, read both
  files, sha256, register the dataset, fit the pipeline and model, predict, every metric, curves,
  permutation importance, store the run), and fit + predict alone from its log (fit_predict_s).
- Peers: read both files, fit, predict, accuracy (peers.py), timed inside the process after the
  imports; the whole process's wall time is kept too (process_wall_s).
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))

KILN_MODELS = {
    "logistic_regression": ["--model", "logistic_regression", "--param", "C=1.0"],
    "random_forest": ["--model", "random_forest", "--param", "n_estimators=100", "--param", "max_depth=8"],
}
# A peer whose first run takes longer than this is measured once (noted in results.json).
SINGLE_RUN_ABOVE_S = 60.0
PEERS = {
    "logistic_regression": ["sklearn_logistic_regression"],
    "random_forest": ["sklearn_random_forest", "lightgbm_random_forest"],
}


def timed(cmd, env=None):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return wall, out.decode(), err.decode()


def run_kiln(kiln, model, train, test, home):
    env = dict(os.environ, KILN_LOG="kiln_core=info", NO_COLOR="1")
    cmd = [kiln, "--home", home, "train", "--data", train, "--test", test, "--target", "target",
           *KILN_MODELS[model], "--seed", "0", "--json"]
    wall, out, err = timed(cmd, env)
    doc = json.loads(out)
    fit = re.findall(r"fit_predict_s=([0-9.eE+-]+)", err)
    return {"wall_s": wall, "duration_s": doc.get("duration_s"),
            "fit_predict_s": float(fit[-1]) if fit else None,
            "accuracy": doc["metrics"]["accuracy"]}


def run_peer(peer, train, test):
    wall, out, _ = timed([sys.executable, os.path.join(HERE, "peers.py"), peer, train, test])
    doc = json.loads(out.strip().splitlines()[-1])
    doc["process_wall_s"] = wall
    return doc


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()

    home = tempfile.mkdtemp(prefix="kiln-train-bench-")
    runs = {f"kiln_{m}": [] for m in KILN_MODELS}
    runs.update({p: [] for ps in PEERS.values() for p in ps})
    load_before = os.getloadavg()
    try:
        # One untimed warm-up of each (page cache, lazy imports).
        for m in KILN_MODELS:
            run_kiln(args.kiln, m, args.train, args.test, home)
        for i in range(args.runs):
            for m in KILN_MODELS:
                r = run_kiln(args.kiln, m, args.train, args.test, home)
                runs[f"kiln_{m}"].append(r)
                print(f"bench: run {i + 1} kiln {m}: {r['wall_s']:.3f} s (fit+predict {r['fit_predict_s']})", file=sys.stderr)
                for p in PEERS[m]:
                    if i > 0 and runs[p] and runs[p][0]["span_s"] > SINGLE_RUN_ABOVE_S:
                        continue  # measured once: its first run was too slow to repeat
                    r = run_peer(p, args.train, args.test)
                    runs[p].append(r)
                    print(f"bench: run {i + 1} {p}: {r['span_s']:.3f} s (fit+predict {r['fit_predict_s']:.3f})", file=sys.stderr)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    summary = {}
    for name, rs in runs.items():
        keys = ["wall_s", "fit_predict_s", "accuracy"] if name.startswith("kiln_") else \
            ["span_s", "fit_predict_s", "process_wall_s", "accuracy"]
        summary[name] = {k: median(rs, k) for k in keys}
    ratios = {}
    for m, peers in PEERS.items():
        k = summary[f"kiln_{m}"]["wall_s"]
        for p in peers:
            ratios[f"kiln_{m}_whole_command / {p}_span"] = k / summary[p]["span_s"]
    kiln_version = subprocess.run([args.kiln, "--version"], capture_output=True, text=True).stdout.strip()
    versions = {n: metadata.version(n) for n in ("scikit-learn", "lightgbm", "pandas", "numpy")}
    results = {
        "what": "benches/train: 150,000 train / 50,000 test rows x 20 features, binary; same split files for all",
        "runs": args.runs, "median_of_runs": summary, "ratios": ratios, "all_runs": runs,
        "versions": dict(versions, kiln=kiln_version, python=platform.python_version()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")

    print("| model | Kiln whole command | Kiln fit + predict | peer | peer read + fit + predict | peer fit + predict | accuracy Kiln / peer |")
    print("|---|---|---|---|---|---|---|")
    for m, peers in PEERS.items():
        k = summary[f"kiln_{m}"]
        for p in peers:
            s = summary[p]
            print(f"| {m} | {k['wall_s']:.2f} s | {k['fit_predict_s'] or float('nan'):.2f} s | {p} | "
                  f"{s['span_s']:.2f} s | {s['fit_predict_s']:.2f} s | {k['accuracy']:.4f} / {s['accuracy']:.4f} |")
    if max(load_before[0], os.getloadavg()[0]) > (os.cpu_count() or 2) / 2:
        print(f"\nNote: load average {load_before[0]:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: the machine was busy.")
    print(f"\nraw results: {args.out}")


if __name__ == "__main__":
    main()
