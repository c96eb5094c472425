"""scikit-learn side of the training benchmark (see README.md next to this file).

Usage: python peers.py DATA.csv  -> prints one JSON object with fit+predict times and accuracy.
The split, models and settings match what run.sh asks Kiln for.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

df = pd.read_csv(sys.argv[1])
y = df.pop("target").to_numpy()
x_train, x_test, y_train, y_test = train_test_split(df.to_numpy(), y, test_size=0.25, stratify=y, random_state=0)
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

out = {}
for name, model in [
    ("logistic_regression", LogisticRegression(C=1.0, max_iter=100)),
    ("random_forest", RandomForestClassifier(n_estimators=100, max_depth=8, n_jobs=-1, random_state=0)),
]:
    start = time.perf_counter()
    model.fit(x_train, y_train)
    accuracy = float((model.predict(x_test) == y_test).mean())
    out[name] = {"fit_predict_s": time.perf_counter() - start, "accuracy": accuracy}
import sklearn
out["sklearn"] = sklearn.__version__
print(json.dumps(out))
