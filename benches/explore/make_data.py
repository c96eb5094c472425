#!/usr/bin/env python3
"""Deterministic mixed-type CSV for the explore (data profiling) benchmark.

    python3 benches/explore/make_data.py [PATH] [--rows N] [--slice-rows M] [--slice-path P] [--force]

Writes PATH (default /var/tmp/kiln-bench/mixed_1m.csv) with N rows (default 1,000,000) and 24
columns, plus the first M rows (default 100,000) as P (default: mixed_100k.csv next to PATH):

- 20 numeric columns, each with exactly 2% empty cells (nulls) at random positions:
  normal floats, lognormal floats, uniform integers and zero-heavy columns (70-90% zeros);
- 3 string columns (no nulls) of cardinality 5, 50 and 1,000 (skewed, Zipf-like and uniform);
- `target`: 0/1, a logistic function of a few numeric columns (so correlations are non-trivial).

The same seed, NumPy and Polars versions (benches/explore/requirements.txt) give a byte-identical
file. A file that already exists with the right header and row count is kept, not rewritten.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import polars as pl

SEED = 20_240_601
NULL_FRACTION = 0.02
DEFAULT_PATH = "/var/tmp/kiln-bench/mixed_1m.csv"


def numeric_columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """20 numeric columns before nulls are punched in (floats rounded to keep the file realistic)."""
    cols: dict[str, np.ndarray] = {}
    # 6 normal floats: different centres and scales, one of them far from zero.
    for i, (mu, sigma) in enumerate([(0, 1), (50, 10), (-3, 0.5), (1000, 250), (0, 1e-3), (1e6, 1e4)], 1):
        cols[f"normal_{i}"] = np.round(rng.normal(mu, sigma, n), 6 if sigma < 1 else 4)
    # 4 lognormal floats (heavy right tails: incomes, prices, durations, sizes).
    for i, (mu, sigma) in enumerate([(0, 1), (3, 0.5), (8, 1.5), (-1, 2)], 1):
        cols[f"lognormal_{i}"] = np.round(rng.lognormal(mu, sigma, n), 4)
    # 5 uniform integers: small and large ranges, one negative.
    for i, (lo, hi) in enumerate([(0, 10), (1, 100), (18, 90), (-500, 500), (0, 1_000_000)], 1):
        cols[f"int_{i}"] = rng.integers(lo, hi + 1, n, dtype=np.int64)
    # 5 zero-heavy columns: counts and amounts that are mostly 0.
    zero_share = [0.7, 0.8, 0.9, 0.75, 0.85]
    for i, share in enumerate(zero_share, 1):
        nonzero = rng.random(n) >= share
        if i % 2:  # integer counts
            values = rng.poisson(3.0, n).astype(np.int64) + 1
            cols[f"zeros_{i}"] = np.where(nonzero, values, 0).astype(np.int64)
        else:  # float amounts
            values = np.round(rng.exponential(120.0, n), 2)
            cols[f"zeros_{i}"] = np.where(nonzero, values, 0.0)
    assert len(cols) == 20, len(cols)
    return cols


def string_columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """3 string columns of cardinality 5, 50 and 1,000."""
    c5 = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    p5 = np.array([0.4, 0.25, 0.2, 0.1, 0.05])
    c50 = np.array([f"city_{i:02d}" for i in range(50)])
    w50 = 1.0 / np.arange(1, 51) ** 1.1  # Zipf-like
    c1000 = np.array([f"sku_{i:04d}" for i in range(1000)])
    cat5 = c5[rng.choice(5, n, p=p5)]
    cat50 = c50[rng.choice(50, n, p=w50 / w50.sum())]
    cat1000 = c1000[rng.integers(0, 1000, n)]
    # Every category appears at least once, so the cardinalities are exact even on small files.
    if n >= 1000:
        cat5[:5] = c5
        cat50[:50] = c50
        cat1000[:1000] = c1000
    return {"cat_5": cat5, "cat_50": cat50, "cat_1000": cat1000}


def build(n: int, seed: int = SEED) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    num = numeric_columns(rng, n)
    strings = string_columns(rng, n)

    # target depends on a few columns (before nulls), so corr() and any target analysis have signal.
    def z(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.float64)
        return (a - a.mean()) / (a.std() or 1.0)

    logit = 0.9 * z(num["normal_1"]) - 0.6 * z(np.log(num["lognormal_2"])) + 0.4 * z(num["int_2"]) - 0.8
    logit += np.where(strings["cat_5"] == "alpha", 0.5, 0.0)
    target = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)

    k = int(round(n * NULL_FRACTION))
    series: list[pl.Series] = []
    for name, values in num.items():
        null_idx = rng.permutation(n)[:k]
        s = pl.Series(name, values)
        if k:
            s = s.scatter(null_idx, None)
        series.append(s)
    series += [pl.Series(name, values) for name, values in strings.items()]
    series.append(pl.Series("target", target))
    df = pl.DataFrame(series)
    assert df.width == 24, df.width
    return df


def count_rows(path: str) -> int:
    """Data rows in a CSV without quoted newlines (lines after the header)."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def header_of(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def is_current(path: str, rows: int, header: str) -> bool:
    return os.path.isfile(path) and header_of(path) == header and count_rows(path) == rows


def expected_header() -> str:
    return ",".join(build(1).columns)


def write(df: pl.DataFrame, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    df.write_csv(tmp, null_value="")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=DEFAULT_PATH)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in PATH (default 1,000,000)")
    ap.add_argument("--slice-rows", type=int, default=100_000, help="rows in the slice (default 100,000)")
    ap.add_argument("--slice-path", default=None, help="default: mixed_100k.csv next to PATH")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--force", action="store_true", help="rewrite even if the files look current")
    args = ap.parse_args(argv)

    path = args.path
    slice_path = args.slice_path or os.path.join(os.path.dirname(os.path.abspath(path)), "mixed_100k.csv")
    slice_rows = min(args.slice_rows, args.rows)
    header = expected_header()

    big_ok = not args.force and is_current(path, args.rows, header)
    slice_ok = not args.force and is_current(slice_path, slice_rows, header)
    if big_ok and slice_ok:
        print(f"make_data: up to date: {path} ({args.rows} rows), {slice_path} ({slice_rows} rows)", file=sys.stderr)
        return 0

    t0 = time.perf_counter()
    df = build(args.rows, args.seed)
    t1 = time.perf_counter()
    if not big_ok:
        write(df, path)
    if not slice_ok:
        write(df.head(slice_rows), slice_path)
    t2 = time.perf_counter()
    size_mb = os.path.getsize(path) / 1e6
    print(
        f"make_data: {path}: {args.rows} rows x {df.width} columns, {size_mb:.1f} MB; "
        f"{slice_path}: {slice_rows} rows (generate {t1 - t0:.1f} s, write {t2 - t1:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
