//! `kiln fairness` and `kiln models fairness` through the binary: Fairlearn's numbers in the
//! documented JSON shape, `--pos-label`, and one-line errors naming what is wrong.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{error, json, kiln};
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/fairness")
        .join(name)
        .display()
        .to_string()
}

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture");
    let case: Value = serde_json::from_str(&text).expect("JSON");
    case["expected"].clone()
}

/// Same keys, numbers within 1e-12, null where Fairlearn has NaN.
fn assert_close(path: &str, ours: &Value, theirs: &Value) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut ka: Vec<&String> = a.keys().collect();
            let mut kb: Vec<&String> = b.keys().collect();
            ka.sort();
            kb.sort();
            assert_eq!(ka, kb, "{path}: keys differ");
            for (k, v) in b {
                assert_close(&format!("{path}.{k}"), &a[k], v);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-12, "{path}: Kiln {a}, Fairlearn {b}");
        }
        (Value::Null, Value::Null) => {}
        _ => panic!("{path}: Kiln {ours}, Fairlearn {theirs}"),
    }
}

fn fairness_args<'a>(data: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "fairness", "--data", data, "--truth", "y_true", "--pred", "y_pred",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn json_equals_fairlearn_with_pos_label_and_the_intersection() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = fixture("text_labels.csv");
    let args = fairness_args(
        &data,
        &[
            "--sensitive",
            "region",
            "age",
            "--pos-label",
            "approved",
            "--json",
        ],
    );
    let out = json(&kiln(home.path(), &args));
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        5,
        "by_group and the four disparity metrics: {keys:?}"
    );
    for group in out["by_group"]["region&age"].as_object().unwrap().values() {
        let fields: Vec<&String> = group.as_object().unwrap().keys().collect();
        assert_eq!(fields.len(), 5, "{fields:?}");
        for field in ["count", "accuracy", "selection_rate", "tpr", "fpr"] {
            assert!(group[field].is_number(), "{field} in {group}");
        }
    }
    assert_close("text_labels", &out, &expected("text_labels.json"));

    // Repeating the flag is the same as listing the columns after one flag.
    let repeated = fairness_args(
        &data,
        &[
            "--sensitive",
            "region",
            "--sensitive",
            "age",
            "--pos-label",
            "approved",
            "--json",
        ],
    );
    assert_eq!(json(&kiln(home.path(), &repeated)), out);

    // The other label as positive swaps the roles: selection rates become 1 - rate.
    let denied = fairness_args(
        &data,
        &["--sensitive", "region", "--pos-label", "denied", "--json"],
    );
    let flipped = json(&kiln(home.path(), &denied));
    for (level, group) in out["by_group"]["region"].as_object().unwrap() {
        let a = group["selection_rate"].as_f64().unwrap();
        let b = flipped["by_group"]["region"][level]["selection_rate"]
            .as_f64()
            .unwrap();
        assert!((a + b - 1.0).abs() < 1e-12, "{level}: {a} + {b}");
    }
}

#[test]
fn text_output_is_a_table_per_column() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = fixture("text_labels.csv");
    let args = fairness_args(
        &data,
        &["--sensitive", "region", "age", "--pos-label", "approved"],
    );
    let output = kiln(home.path(), &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("positive label: approved"), "{text}");
    for needle in [
        "region",
        "region&age",
        "east",
        "north&<30",
        "selection_rate",
        "demographic parity",
        "equalized odds",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn bad_requests_give_one_line_errors() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = fixture("text_labels.csv");

    // A missing column is named, with the flag it came from.
    let message = error(&kiln(
        home.path(),
        &fairness_args(&data, &["--sensitive", "gender", "--pos-label", "approved"]),
    ));
    assert!(message.starts_with("error: "), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("'gender'") && message.contains("--sensitive"),
        "{message}"
    );
    let message = error(&kiln(
        home.path(),
        &[
            "fairness",
            "--data",
            &data,
            "--truth",
            "label",
            "--pred",
            "y_pred",
            "--sensitive",
            "region",
        ],
    ));
    assert!(
        message.contains("'label'") && message.contains("--truth"),
        "{message}"
    );

    // Text labels have no default positive: the error lists them and names the flag.
    let message = error(&kiln(
        home.path(),
        &fairness_args(&data, &["--sensitive", "region"]),
    ));
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("'approved'")
            && message.contains("'denied'")
            && message.contains("--pos-label"),
        "{message}"
    );

    // A positive label that is not one of the labels.
    let message = error(&kiln(
        home.path(),
        &fairness_args(&data, &["--sensitive", "region", "--pos-label", "yes"]),
    ));
    assert!(message.contains("'yes'"), "{message}");

    // More than two labels.
    let dir = tempfile::tempdir().expect("tempdir");
    let three = dir.path().join("three.csv");
    std::fs::write(&three, "y_true,y_pred,g\n0,1,a\n1,2,b\n2,0,a\n").unwrap();
    let three = three.display().to_string();
    let message = error(&kiln(
        home.path(),
        &fairness_args(&three, &["--sensitive", "g"]),
    ));
    assert!(message.contains("binary"), "{message}");

    // A missing value names the column and the row.
    let gaps = dir.path().join("gaps.csv");
    std::fs::write(&gaps, "y_true,y_pred,g\n0,1,a\n1,1,\n").unwrap();
    let gaps = gaps.display().to_string();
    let message = error(&kiln(
        home.path(),
        &fairness_args(&gaps, &["--sensitive", "g"]),
    ));
    assert!(
        message.contains("'g'") && message.contains("row 2"),
        "{message}"
    );
}

#[test]
fn default_positive_for_numbers_and_booleans() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let numbers = dir.path().join("numbers.csv");
    std::fs::write(
        &numbers,
        "y_true,y_pred,g\n0,1,a\n1,1,a\n1,0,b\n0,0,b\n1,1,b\n",
    )
    .unwrap();
    let numbers = numbers.display().to_string();
    let out = json(&kiln(
        home.path(),
        &fairness_args(&numbers, &["--sensitive", "g", "--json"]),
    ));
    assert_eq!(out["by_group"]["g"]["a"]["selection_rate"], 1.0);
    assert_eq!(out["by_group"]["g"]["a"]["fpr"], 1.0);
    assert_eq!(out["by_group"]["g"]["b"]["tpr"], 0.5);
    assert_eq!(out["demographic_parity_difference"]["g"], 1.0 - 1.0 / 3.0);

    let booleans = dir.path().join("booleans.csv");
    std::fs::write(
        &booleans,
        "y_true,y_pred,g\ntrue,true,a\nfalse,true,a\ntrue,false,b\n",
    )
    .unwrap();
    let booleans = booleans.display().to_string();
    let out = json(&kiln(
        home.path(),
        &fairness_args(&booleans, &["--sensitive", "g", "--json"]),
    ));
    assert_eq!(out["by_group"]["g"]["a"]["selection_rate"], 1.0);
    assert_eq!(out["by_group"]["g"]["b"]["tpr"], 0.0);
    // Every selection rate of b is 0 and of a is 1: ratio 0; group b has no negatives.
    assert_eq!(out["demographic_parity_ratio"]["g"], 0.0);
    assert_eq!(out["by_group"]["g"]["b"]["fpr"], 0.0);
}

#[test]
fn a_model_is_evaluated_on_its_own_predictions() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("loans.csv");
    let mut csv = String::from("income,group,approved\n");
    for i in 0..120u32 {
        let income = f64::from((i * 37) % 100);
        let group = ["a", "b", "c"][(i % 3) as usize];
        let approved = u32::from(income + f64::from(i % 3) * 10.0 > 55.0);
        csv.push_str(&format!("{income},{group},{approved}\n"));
    }
    std::fs::write(&data, csv).unwrap();
    let data = data.display().to_string();
    let run = json(&kiln(
        home.path(),
        &[
            "train",
            "--data",
            &data,
            "--target",
            "approved",
            "--model",
            "logistic_regression",
            "--json",
        ],
    ));
    let run_id = run["run_id"].as_str().unwrap().to_owned();

    let out = json(&kiln(
        home.path(),
        &[
            "models",
            "fairness",
            &run_id,
            "--data",
            &data,
            "--sensitive",
            "group",
            "--json",
        ],
    ));
    let counts: u64 = out["by_group"]["group"]
        .as_object()
        .unwrap()
        .values()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counts, 120);

    // The same as `kiln fairness` on the model's predictions next to the truth.
    let predicted = kiln(home.path(), &["predict", &run_id, "--data", &data]);
    assert!(predicted.status.success());
    let predictions: Vec<String> = String::from_utf8_lossy(&predicted.stdout)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    let original = std::fs::read_to_string(&data).unwrap();
    let mut joined = String::from("income,group,approved,pred\n");
    for (line, p) in original.lines().skip(1).zip(&predictions) {
        joined.push_str(&format!("{line},{p}\n"));
    }
    let joined_path = dir.path().join("joined.csv");
    std::fs::write(&joined_path, joined).unwrap();
    let joined_path = joined_path.display().to_string();
    let direct = json(&kiln(
        home.path(),
        &[
            "fairness",
            "--data",
            &joined_path,
            "--truth",
            "approved",
            "--pred",
            "pred",
            "--sensitive",
            "group",
            "--json",
        ],
    ));
    assert_eq!(direct, out);

    // A regression model is refused, naming why.
    let diabetes = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/diabetes.csv")
        .display()
        .to_string();
    let regression = json(&kiln(
        home.path(),
        &[
            "train",
            "--data",
            &diabetes,
            "--target",
            "progression",
            "--model",
            "linear_regression",
            "--json",
        ],
    ));
    let message = error(&kiln(
        home.path(),
        &[
            "models",
            "fairness",
            regression["run_id"].as_str().unwrap(),
            "--data",
            &diabetes,
            "--sensitive",
            "sex",
        ],
    ));
    assert!(message.contains("regression"), "{message}");
}
