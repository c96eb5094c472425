"""The serving benchmark's data and peer model.

Writes scikit-learn's breast-cancer data (569 rows, 30 numeric features, target 0/1) as a CSV
with underscored column names, one row of it as the `dataframe_split` body both servers get, and
the same model Kiln trains by default (median imputer, standard scaler, logistic regression with
C=1.0) fitted by scikit-learn and saved as an MLflow model directory.

    python make_data.py OUT_DIR
"""

import json
import sys
from pathlib import Path

import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.to_csv(out / "breast_cancer.csv", index=False)
    features = frame.drop(columns="target")
    row = features.iloc[[0]]
    body = {"dataframe_split": {"columns": list(row.columns), "data": row.values.tolist()}}
    (out / "row.json").write_text(json.dumps(body))
    model = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)
    )
    model.fit(features, frame["target"])
    model_dir = out / "mlflow-model"
    if not model_dir.exists():
        # MLflow 3.17 saves with skops, which refuses numpy's dtype unless it is trusted.
        mlflow.sklearn.save_model(
            model,
            model_dir,
            signature=infer_signature(features, model.predict(features)),
            skops_trusted_types=["numpy.dtype"],
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
