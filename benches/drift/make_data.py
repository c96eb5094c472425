"""Two 1M-row files for the drift benchmark: a reference and a current with shifted columns.

    python benches/drift/make_data.py OUT_DIR [ROWS]
"""

import pathlib
import sys

import numpy as np
import pandas as pd


def frame(rng, n, shifted):
    s = 1.0 if shifted else 0.0
    return pd.DataFrame(
        {
            "x1": rng.normal(0.3 * s, 1.0, n).round(4),
            "x2": rng.normal(0.0, 1.0 + 0.5 * s, n).round(4),
            "x3": rng.lognormal(0.0, 0.8, n).round(4),
            "x4": rng.normal(0.0, 1.0, n).round(4),
            "count": rng.integers(0, 100, n),
            "level": rng.integers(0, 5, n),
            "colour": rng.choice(["red", "green", "blue", "grey"], n, p=[0.4, 0.3, 0.2, 0.1] if not shifted else [0.3, 0.3, 0.2, 0.2]),
            "flag": rng.choice(["yes", "no"], n),
        }
    )


def main():
    out = pathlib.Path(sys.argv[1])
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    frame(rng, rows, False).to_csv(out / "reference.csv", index=False)
    frame(rng, rows, True).to_csv(out / "current.csv", index=False)


if __name__ == "__main__":
    main()
