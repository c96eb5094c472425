#!/usr/bin/env python3
"""A deterministic 1M-row CSV for the pipeline benchmark, with the standard library only.

    python3 benches/pipeline/make_data.py PATH [--rows N]

10 columns: 6 numeric (normal, lognormal, integers; 2% empty cells in two of them), 2 categorical
(5 and 50 levels), `target` 0/1 from a logistic function of three of them. The same seed gives the
same bytes; an existing file with the right row count is kept.
"""

from __future__ import annotations

import argparse
import math
import os
import random

SEED = 20_261_203


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if os.path.exists(args.path):
        with open(args.path, "rb") as f:
            if sum(1 for _ in f) == args.rows + 1:
                return
    rng = random.Random(SEED)
    levels5 = ["north", "south", "east", "west", "centre"]
    levels50 = [f"shop_{i:02d}" for i in range(50)]
    os.makedirs(os.path.dirname(os.path.abspath(args.path)), exist_ok=True)
    tmp = args.path + ".tmp"
    with open(tmp, "w", newline="") as out:
        out.write("x1,x2,x3,income,count,age,region,shop,flag,target\n")
        for _ in range(args.rows):
            x1 = rng.gauss(0, 1)
            x2 = rng.gauss(50, 10)
            x3 = rng.gauss(-3, 0.5)
            income = rng.lognormvariate(8, 1.5)
            count = rng.randint(0, 100)
            age = rng.randint(18, 90)
            region = levels5[rng.randrange(5)]
            shop = levels50[min(49, int(rng.expovariate(0.1)))]
            flag = rng.random() < 0.3
            z = 1.5 * x1 - 0.08 * (x2 - 50) + 0.02 * (age - 50)
            target = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
            x2s = "" if rng.random() < 0.02 else f"{x2:.4f}"
            incs = "" if rng.random() < 0.02 else f"{income:.2f}"
            out.write(
                f"{x1:.6f},{x2s},{x3:.6f},{incs},{count},{age},{region},{shop},{str(flag).lower()},{target}\n"
            )
    os.replace(tmp, args.path)


if __name__ == "__main__":
    main()
