//! ONNX through the binary: `kiln models import-onnx` registers a scikit-learn export that
//! then predicts, gates and promotes like a native version; `kiln models export-onnx` writes
//! a Kiln model that imports back and predicts what the native one predicts.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use std::path::{Path, PathBuf};

use common::{error, json, kiln, set_policy};

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

fn fixture(name: &str) -> String {
    repo(&format!("tests/fixtures/onnx/{name}"))
}

/// `kiln predict ... --proba` as rows of cells, header first.
fn predict_csv(home: &Path, model: &str, data: &str) -> Vec<Vec<String>> {
    let out = kiln(home, &["predict", model, "--data", data, "--proba"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn an_skl2onnx_model_imports_with_columns_from_a_csv_predicts_and_is_promoted_through_its_gates() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = fixture("iris_input.csv");
    let model = fixture("logreg_scaler.onnx");
    let args = [
        "models",
        "import-onnx",
        &model,
        "--name",
        "iris",
        "--columns-from",
        &data,
        "--drop",
        "species",
        "--target",
        "species",
        "--json",
    ];
    assert_eq!(
        json(&kiln(home, &args)),
        serde_json::json!({"name": "iris", "version": 1})
    );

    let rows = predict_csv(home, "iris:1", &data);
    assert_eq!(
        rows[0],
        [
            "prediction",
            "proba_setosa",
            "proba_versicolor",
            "proba_virginica"
        ]
    );
    let ort: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("logreg_scaler.ort.json")).unwrap())
            .unwrap();
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], ort["label"][i].as_str().unwrap(), "row {i}");
        for k in 0..3 {
            let got: f64 = row[k + 1].parse().unwrap();
            let want = ort["probabilities"][i][k].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-5,
                "row {i} class {k}: {got} vs {want}"
            );
        }
    }

    // The forest as version 2, gated against version 1 in production on the same rows.
    let forest = fixture("forest_classifier.onnx");
    let args = [
        "models",
        "import-onnx",
        &forest,
        "--name",
        "iris",
        "--columns-from",
        &data,
        "--drop",
        "species",
        "--target",
        "species",
    ];
    assert!(kiln(home, &args).status.success());
    assert!(
        set_policy(home, dir.path(), "iris", &format!("[gates]\nnot_worse_than = {{ stage = \"production\", margin = 1.0, metric = \"accuracy\", data = {data:?} }}\n"))
        .status
        .success()
    );
    let promote = |version: &str| {
        json(&kiln(
            home,
            &[
                "models",
                "promote",
                "iris",
                version,
                "--to",
                "production",
                "--reason",
                "onnx",
                "--json",
            ],
        ))
    };
    assert_eq!(promote("1")["stage"], "production");
    let second = promote("2");
    assert_eq!(second["gates"][0]["passed"], true, "{second}");
    assert_eq!(second["stage"], "production", "{second}");
    let card = kiln(home, &["models", "card", "iris:2"]);
    assert!(String::from_utf8_lossy(&card.stdout).contains("forest_classifier.onnx"));
}

#[test]
fn a_kiln_model_exports_to_onnx_and_imports_back_predicting_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let penguins = repo("assets/penguins.csv");
    let run = json(&kiln(
        home,
        &[
            "train", "--data", &penguins, "--target", "species", "--json",
        ],
    ));
    let run_id = run["run_id"].as_str().unwrap();
    let out: PathBuf = dir.path().join("penguins.onnx");
    let export = kiln(
        home,
        &[
            "models",
            "export-onnx",
            run_id,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let args = [
        "models",
        "import-onnx",
        out.to_str().unwrap(),
        "--name",
        "back",
        "--target",
        "species",
    ];
    assert!(kiln(home, &args).status.success());

    let data = fixture("kiln/penguins_input.csv");
    let native = predict_csv(home, run_id, &data);
    let onnx = predict_csv(home, "back:1", &data);
    assert_eq!(native[0], onnx[0]);
    for (n, o) in native[1..].iter().zip(&onnx[1..]) {
        assert_eq!(n[0], o[0]);
        for (a, b) in n[1..].iter().zip(&o[1..]) {
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}

#[test]
fn onnx_mistakes_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"\xff\xfe not protobuf").unwrap();
    let e = error(&kiln(
        home,
        &[
            "models",
            "import-onnx",
            garbage.to_str().unwrap(),
            "--name",
            "g",
        ],
    ));
    assert!(
        e.starts_with("error: ") && e.contains("garbage.onnx") && e.contains("not an ONNX model"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    let model = fixture("logreg_scaler.onnx");
    let e = error(&kiln(
        home,
        &[
            "models",
            "import-onnx",
            &model,
            "--name",
            "g",
            "--drop",
            "species",
        ],
    ));
    assert!(e.contains("--drop needs --columns-from"), "{e}");
    let data = fixture("iris_input.csv");
    let e = error(&kiln(
        home,
        &[
            "models",
            "import-onnx",
            &model,
            "--name",
            "g",
            "--columns-from",
            &data,
            "--drop",
            "nope",
        ],
    ));
    assert!(e.contains("--drop nope: no such column"), "{e}");

    let penguins = repo("assets/penguins.csv");
    let run = json(&kiln(
        home,
        &[
            "train", "--data", &penguins, "--target", "species", "--model", "svm", "--json",
        ],
    ));
    let out = dir.path().join("svm.onnx");
    let e = error(&kiln(
        home,
        &[
            "models",
            "export-onnx",
            run["run_id"].as_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert!(
        e.contains("svm models cannot be exported to ONNX yet"),
        "{e}"
    );
}
