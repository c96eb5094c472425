"""The Python side of the training benchmark (see README.md next to this file).

    python peers.py MODEL TRAIN.csv TEST.csv   -> one JSON line: span_s, fit_predict_s, accuracy

MODEL is one of sklearn_logistic_regression, sklearn_random_forest, lightgbm_random_forest.
Timed (time.perf_counter(), after the imports): read both files, fit (the scaler too, for the
logistic regression), predict the test rows, accuracy. The same span as `kiln train --data
TRAIN.csv --test TEST.csv`, which also registers the dataset, computes every metric, curves and
permutation importance, and stores the run.
"""
import json
import sys
import time

import numpy as np
import pandas as pd

N_TREES, DEPTH = 100, 8

model_name, train_path, test_path = sys.argv[1:4]
if model_name == "sklearn_logistic_regression":
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=100))
elif model_name == "sklearn_random_forest":
    from sklearn.ensemble import RandomForestClassifier

    # scikit-learn's defaults, as Kiln's: max_features="sqrt", bootstrap=True, min_samples_leaf=1.
    model = RandomForestClassifier(n_estimators=N_TREES, max_depth=DEPTH, n_jobs=-1, random_state=0)
elif model_name == "lightgbm_random_forest":
    import lightgbm as lgb

    # The same technique as Kiln's forest: histogram-binned (255 bins) trees, features sampled per
    # split (sqrt(20) of 20 = 0.2), rows sampled per tree (bootstrap keeps 63.2% distinct rows;
    # LightGBM samples without replacement, so 0.632), no leaf-size limit beyond one row.
    model = lgb.LGBMClassifier(
        boosting_type="rf", n_estimators=N_TREES, max_depth=DEPTH, num_leaves=2**DEPTH,
        colsample_bynode=0.2, subsample=0.632, subsample_freq=1, min_child_samples=1,
        max_bin=255, n_jobs=-1, random_state=0, verbose=-1,
    )
else:
    sys.exit(f"unknown model {model_name}")

start = time.perf_counter()
train = pd.read_csv(train_path)
test = pd.read_csv(test_path)
y_train = train.pop("target").to_numpy()
y_test = test.pop("target").to_numpy()
read = time.perf_counter()
model.fit(train.to_numpy(), y_train)
accuracy = float(np.mean(model.predict(test.to_numpy()) == y_test))
end = time.perf_counter()
print(json.dumps({"span_s": end - start, "fit_predict_s": end - read, "accuracy": accuracy}))
