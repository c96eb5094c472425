"""Writes the training benchmark's data: 200,000 rows x 20 features, binary target (seeded)."""
import sys
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification

path = Path(sys.argv[1])
if not path.exists():
    x, y = make_classification(n_samples=200_000, n_features=20, n_informative=10, n_redundant=4,
                               class_sep=0.8, flip_y=0.02, random_state=0)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(20)])
    df["target"] = y
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.6f")
print(path)
