//! The foundations a registry can trust, checked through the binary as a user meets them:
//! runs survive `kill -9`, labels are ordered as scikit-learn orders them, predict refuses bad
//! values, probabilities are written short, ids are not one-hot encoded, and compare gives a
//! verdict in each metric's own direction.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{json, kiln, kiln_bin};

/// A seeded pseudo-random stream, so the data is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `rows` rows of `features` numbers and a label of `classes` integer classes.
fn write_data(dir: &Path, name: &str, rows: usize, features: usize, classes: usize) -> PathBuf {
    let mut rng = Lcg(7);
    let mut text = String::new();
    let header: Vec<String> = (0..features).map(|f| format!("x{f}")).collect();
    writeln!(text, "{},label", header.join(",")).unwrap();
    for _ in 0..rows {
        let xs: Vec<f64> = (0..features).map(|_| rng.next()).collect();
        let label = ((xs[0] * classes as f64) as usize).min(classes - 1);
        let cells: Vec<String> = xs.iter().map(|x| format!("{x:.4}")).collect();
        writeln!(text, "{},{label}", cells.join(",")).unwrap();
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `kiln train --data DATA --target label EXTRA... --json`.
fn train_json(home: &Path, data: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "label",
    ];
    args.extend_from_slice(extra);
    args.push("--json");
    json(&kiln(home, &args))
}

fn runs(home: &Path) -> Vec<serde_json::Value> {
    json(&kiln(home, &["runs", "--json"]))["runs"]
        .as_array()
        .unwrap()
        .clone()
}

/// After a `kill -9`, the next Kiln process finds no run `running`, and every finished run
/// has a model that predicts.
fn assert_consistent_after_kill(home: &Path, data: &Path) {
    for run in runs(home) {
        let status = run["status"].as_str().unwrap();
        assert_ne!(status, "running", "a run was left running: {run}");
        // A sweep's parent run holds the trials, not a model.
        let is_sweep = run["params"].get("sweep").is_some();
        if status == "finished" && !is_sweep {
            let id = run["run_id"].as_str().unwrap();
            let out = kiln(home, &["predict", id, "--data", data.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "finished run {id} does not predict: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn kill_after(home: &Path, args: &[&str], delay: Duration) {
    let mut child = Command::new(kiln_bin())
        .arg("--home")
        .arg(home)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kiln");
    std::thread::sleep(delay);
    // SIGKILL: the process gets no chance to clean up.
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigkilled_training_and_sweeps_leave_no_run_running_and_finished_runs_predict() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = write_data(dir.path(), "data.csv", 3000, 8, 3);
    let data_arg = data.to_str().unwrap();
    let train = [
        "train",
        "--data",
        data_arg,
        "--target",
        "label",
        "--model",
        "random_forest",
        "--param",
        "n_estimators=30",
    ];
    let mut sweep = train.to_vec();
    sweep.extend(["--sweep", "max_depth=2,4,6,8"]);
    for millis in [150, 600, 1500, 3000] {
        kill_after(&home, &train, Duration::from_millis(millis));
        assert_consistent_after_kill(&home, &data);
        kill_after(&home, &sweep, Duration::from_millis(millis));
        assert_consistent_after_kill(&home, &data);
    }
    let all = runs(&home);
    assert!(
        all.iter().any(|r| r["status"] == "killed"),
        "some kill landed mid-run: {all:?}"
    );
}

#[test]
fn integer_classes_are_ordered_numerically_and_probabilities_are_short() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = write_data(dir.path(), "twelve.csv", 1200, 3, 12);
    let data_arg = data.to_str().unwrap();
    let run = train_json(&home, &data, &["--model", "gaussian_nb"]);
    let id = run["run_id"].as_str().unwrap();
    let out = kiln(&home, &["predict", id, "--data", data_arg, "--proba"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    let expected: Vec<String> = std::iter::once("prediction".to_string())
        .chain((0..12).map(|c| format!("proba_{c}")))
        .collect();
    assert_eq!(header, expected.join(","));
    let longest = text
        .lines()
        .skip(1)
        .flat_map(|l| l.split(','))
        .map(str::len)
        .max()
        .unwrap();
    assert!(longest <= 24, "a field of {longest} characters");
}

#[test]
fn predict_refuses_a_value_that_is_not_a_number_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = write_data(dir.path(), "train.csv", 200, 2, 2);
    let run = train_json(&home, &data, &[]);
    let id = run["run_id"].as_str().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x0,x1,extra\n0.5,0.2,z\n0.1,abc,z\n").unwrap();
    let out = kiln(&home, &["predict", id, "--data", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "exit 0 on a bad value");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error:") && stderr.contains("'x1'") && stderr.contains("row 2"),
        "{stderr}"
    );
    assert!(stderr.contains("'abc'"), "{stderr}");
    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, "x0\n0.5\n").unwrap();
    let out = kiln(&home, &["predict", id, "--data", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("column 'x1'"));
    // Extra columns are ignored.
    let extra = dir.path().join("extra.csv");
    std::fs::write(&extra, "x1,extra,x0\n0.2,z,0.5\n").unwrap();
    assert!(
        kiln(&home, &["predict", id, "--data", extra.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn a_customer_id_column_is_left_out_and_the_run_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut rng = Lcg(3);
    let mut text = String::from("customer_id,x,label\n");
    for i in 0..50_000 {
        let x = rng.next();
        writeln!(text, "C{i:07},{x:.4},{}", u8::from(x > 0.5)).unwrap();
    }
    let data = dir.path().join("customers.csv");
    std::fs::write(&data, text).unwrap();
    let out = kiln(
        &home,
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--target",
            "label",
            "--json",
        ],
    );
    let run = json(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("column 'customer_id' left out"), "{stderr}");
    let warnings = run["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("an id"))
    );
    let id = run["run_id"].as_str().unwrap();
    let shown = json(&kiln(&home, &["runs", "show", id, "--json"]));
    assert!(
        shown.to_string().contains("left_out.customer_id"),
        "{shown}"
    );
}

#[test]
fn compare_says_which_run_is_better_in_each_metrics_direction() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = write_data(dir.path(), "data.csv", 600, 4, 2);
    let train = |model: &str| {
        train_json(&home, &data, &["--model", model, "--cv", "5"])["run_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a, b) = (train("logistic_regression"), train("gaussian_nb"));
    let compared = json(&kiln(&home, &["runs", "compare", &a, &b, "--json"]));
    let tests = compared["t_tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    for t in tests {
        let metric = t["metric"].as_str().unwrap();
        let diff = t["mean_diff"].as_f64().unwrap();
        let lower_better = ["log_loss", "rmse", "mae", "mse", "mape"].contains(&metric);
        let expected = if diff == 0.0 {
            serde_json::Value::Null
        } else if (diff > 0.0) != lower_better {
            a.clone().into()
        } else {
            b.clone().into()
        };
        assert_eq!(t["better"], expected, "{metric}");
        assert_eq!(
            t["significant"].as_bool().unwrap(),
            !t["better"].is_null() && t["p_value"].as_f64().unwrap() < 0.05
        );
    }
    let text = kiln(&home, &["runs", "compare", &a, &b]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("verdict:"));
}
