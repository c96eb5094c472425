"""Writes the training benchmark's data (seeded): 200,000 rows x 20 features, binary target, and
the one stratified 75/25 split both sides use, as two files.

    python make_data.py DIR   -> prints the paths of the full, train and test files, one a line

Files are only written when missing.
"""
import sys
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

out = Path(sys.argv[1])
full = out / "classification_200k.csv"
train = out / "classification_200k_train.csv"
test = out / "classification_200k_test.csv"
out.mkdir(parents=True, exist_ok=True)
if not full.exists():
    x, y = make_classification(n_samples=200_000, n_features=20, n_informative=10, n_redundant=4,
                               class_sep=0.8, flip_y=0.02, random_state=0)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(20)])
    df["target"] = y
    df.to_csv(full, index=False, float_format="%.6f")
if not (train.exists() and test.exists()):
    df = pd.read_csv(full)
    tr, te = train_test_split(df, test_size=0.25, stratify=df["target"], random_state=0)
    tr.to_csv(train, index=False, float_format="%.6f")
    te.to_csv(test, index=False, float_format="%.6f")
print(full)
print(train)
print(test)
