#!/usr/bin/env python3
"""Checks `kiln profile --json` on a benchmark file against pandas (the same rules as
core/tests/profile_vs_pandas.rs, on the big generated data instead of the small fixtures).

    kiln profile mixed_100k.csv --json > kiln.json
    python check_vs_pandas.py mixed_100k.csv kiln.json      # exit 1 on any difference

Compared, to 1e-9 relative: rows, duplicate rows, missing cells, per numeric column count, nulls,
distinct, mean, std, min, quantiles, max, skew, kurt, zeros; Pearson and Spearman matrices
(pairwise-complete, pandas' `corr()`; Spearman on 1M rows takes pandas about a minute).
"""
import json
import math
import sys

import numpy as np
import pandas as pd

REL = 1e-9
csv, kiln_json = sys.argv[1], sys.argv[2]
k = json.load(open(kiln_json))
df = pd.read_csv(csv)
errors = []


def close(a, e):
    if a is None or e is None or (isinstance(e, float) and math.isnan(e)):
        return (a is None) == (e is None or (isinstance(e, float) and math.isnan(e)))
    return abs(a - e) <= REL * max(abs(e), 1.0)


def check(what, a, e):
    if not close(a, e):
        errors.append(f"{what}: kiln {a}, pandas {e}")


check("rows", k["rows"], len(df))
check("duplicate_rows", k["duplicate_rows"], int(df.duplicated().sum()))
check("missing_cells", k["missing_cells"], int(df.isna().sum().sum()))
check("rows_with_missing", k["rows_with_missing"], int(df.isna().any(axis=1).sum()))
num = df.select_dtypes("number")
for c in k["columns"]:
    if c["kind"] != "numeric":
        continue
    s = num[c["name"]]
    q = s.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).tolist()
    expected = {"count": int(s.count()), "nulls": int(s.isna().sum()), "distinct": int(s.nunique()),
                "mean": s.mean(), "std": s.std(), "min": s.min(), "p5": q[0], "p25": q[1],
                "median": q[2], "p75": q[3], "p95": q[4], "max": s.max(), "skewness": s.skew(),
                "kurtosis": s.kurt(), "zeros": int((s == 0).sum())}
    for key, e in expected.items():
        check(f"{c['name']}.{key}", c[key], float(e))
for method in ("pearson", "spearman"):
    m = k["correlations"][method]
    theirs = num[m["columns"]].replace([np.inf, -np.inf], np.nan).corr(method=method)
    for i, a in enumerate(m["columns"]):
        for j, b in enumerate(m["columns"]):
            check(f"{method}[{a}][{b}]", m["matrix"][i][j], float(theirs.iloc[i, j]))
if errors:
    print(f"{len(errors)} differences from pandas:\n" + "\n".join(errors[:50]))
    sys.exit(1)
print(f"ok: {csv}: kiln's profile equals pandas (rel. tolerance {REL})")
