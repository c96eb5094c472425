//! Serving, end to end over real sockets: `POST /invocations` in every MLflow input format,
//! every error code a client can cause, the other endpoints, a bounded load, a hot swap under
//! load, and `kiln serve` through the binary.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
mod serve_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kiln_core::deploy::serve::ServeConfig;
use serde_json::{Value, json};
use serve_support::*;

const JSON: &str = "application/json";

/// The labels `kiln predict` gives for the three iris rows.
fn labels_from_predict() -> Vec<Value> {
    let (columns, rows) = iris_rows();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    let mut text = columns.join(",") + "\n";
    for row in &rows {
        let cells: Vec<String> = row.iter().map(f64::to_string).collect();
        text.push_str(&(cells.join(",") + "\n"));
    }
    std::fs::write(&csv, &text).unwrap();
    let home = &models().home;
    let out = common::kiln(
        home,
        &["predict", "iris:1", "--data", csv.to_str().unwrap()],
    );
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| json!(l))
        .collect()
}

#[test]
fn every_input_format_gets_the_predictions_kiln_predict_gives() {
    let server = start_default("iris:1");
    let expected = labels_from_predict();
    assert_eq!(
        expected,
        vec![json!("setosa"), json!("versicolor"), json!("virginica")]
    );
    let (columns, rows) = iris_rows();
    let records: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Object(
                columns
                    .iter()
                    .cloned()
                    .zip(r.iter().map(|v| json!(v)))
                    .collect(),
            )
        })
        .collect();
    let columnar: serde_json::Map<String, Value> = columns
        .iter()
        .enumerate()
        .map(|(c, name)| (name.clone(), rows.iter().map(|r| json!(r[c])).collect()))
        .collect();
    let bodies = [
        ("dataframe_split", iris_split()),
        ("dataframe_records", json!({ "dataframe_records": records })),
        ("instances as records", json!({ "instances": records })),
        ("inputs as columns", json!({ "inputs": columnar })),
        ("instances as rows", json!({ "instances": rows })),
        ("inputs as rows", json!({ "inputs": rows, "params": {} })),
    ];
    for (what, body) in bodies {
        let answer = post_json(&server, &body);
        assert_eq!(answer.status, 200, "{what}: {}", answer.text);
        assert_eq!(answer.json(), json!({ "predictions": expected }), "{what}");
    }
    let mut csv = columns.join(",") + "\n";
    for row in &rows {
        let cells: Vec<String> = row.iter().map(f64::to_string).collect();
        csv.push_str(&(cells.join(",") + "\n"));
    }
    let answer = post(&client(), &server.url(), "text/csv; charset=utf-8", &csv);
    assert_eq!(answer.json(), json!({ "predictions": expected }), "csv");
}

#[test]
fn predict_proba_answers_each_row_with_its_label_and_class_probabilities() {
    let server = start_default("iris:1");
    let mut body = iris_split();
    body["params"] = json!({"predict_proba": true});
    let answer = post_json(&server, &body).json();
    let rows = answer["predictions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, label) in rows.iter().zip(["setosa", "versicolor", "virginica"]) {
        assert_eq!(row["prediction"], json!(label));
        let p: Vec<f64> = ["setosa", "versicolor", "virginica"]
            .iter()
            .map(|c| row[format!("proba_{c}")].as_f64().unwrap())
            .collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{row}");
        let best = row[format!("proba_{label}")].as_f64().unwrap();
        assert!(
            p.iter().all(|v| *v <= best),
            "the label has the highest probability: {row}"
        );
    }
}

#[test]
fn a_regressor_answers_numbers_and_refuses_predict_proba() {
    let server = start_default(&models().diabetes);
    let row = json!({"age": 59, "sex": 2, "bmi": 32.1, "bp": 101.0, "s1": 157, "s2": 93.2,
                     "s3": 38.0, "s4": 4.0, "s5": 4.8598, "s6": 87});
    let answer = post_json(&server, &json!({ "dataframe_records": [row] })).json();
    let value = answer["predictions"][0].as_f64().unwrap();
    assert!(
        (25.0..=346.0).contains(&value),
        "a progression in the data's range: {value}"
    );
    let answer = post_json(
        &server,
        &json!({"inputs": [row], "params": {"predict_proba": true}}),
    );
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error().0, "INVALID_PARAMETER_VALUE");
}

/// A 400 in MLflow's error shape whose message contains every one of `words`.
fn assert_bad_request(answer: &Answer, words: &[&str]) {
    assert_eq!(answer.status, 400, "{}", answer.text);
    let (code, message) = answer.error();
    assert_eq!(code, "BAD_REQUEST");
    for word in words {
        assert!(message.contains(word), "'{word}' in: {message}");
    }
}

#[test]
fn a_missing_column_is_a_400_naming_it() {
    let server = start_default("iris:1");
    let body = json!({"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length"],
                                          "data": [[5.1, 3.5, 1.4]]}});
    assert_bad_request(&post_json(&server, &body), &["'petal_width'"]);
}

#[test]
fn an_extra_column_is_a_400_naming_it() {
    let server = start_default("iris:1");
    let mut body = iris_split();
    body["dataframe_split"]["columns"][3] = json!("species");
    assert_bad_request(&post_json(&server, &body), &["'species'", "not an input"]);
}

#[test]
fn a_mistyped_value_is_a_400_naming_column_row_and_value() {
    let server = start_default("iris:1");
    let body = json!({"dataframe_records": [
        {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
        {"sepal_length": 5.1, "sepal_width": "wide", "petal_length": 1.4, "petal_width": 0.2},
    ]});
    assert_bad_request(
        &post_json(&server, &body),
        &["'sepal_width'", "row 2", "'wide'"],
    );
    let csv = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,abc\n";
    let answer = post(&client(), &server.url(), "text/csv", csv);
    assert_bad_request(&answer, &["'petal_width'", "row 1", "'abc'"]);
}

#[test]
fn malformed_json_is_a_400_and_so_is_a_body_with_no_input_field() {
    let server = start_default("iris:1");
    let answer = post(&client(), &server.url(), JSON, r#"{"inputs": [[1, 2"#);
    assert_bad_request(&answer, &["not valid JSON"]);
    let answer = post(&client(), &server.url(), JSON, r#"{"rows": []}"#);
    assert_bad_request(&answer, &["exactly one of", "dataframe_split"]);
}

#[test]
fn an_unsupported_content_type_is_a_415() {
    let server = start_default("iris:1");
    let answer = post(&client(), &server.url(), "text/plain", "5.1,3.5,1.4,0.2");
    assert_eq!(answer.status, 415);
    assert!(answer.error().1.contains("application/json or text/csv"));
}

#[test]
fn a_body_over_the_limit_is_a_413() {
    let config = ServeConfig {
        body_limit: 1024,
        ..ServeConfig::default()
    };
    let server = start("iris:1", config);
    let rows = vec![vec![5.1, 3.5, 1.4, 0.2]; 200];
    let body = json!({"inputs": rows}).to_string();
    assert!(body.len() > 1024);
    let answer = post(&client(), &server.url(), JSON, &body);
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(answer.error().0, "REQUEST_LIMIT_EXCEEDED");
    assert_eq!(
        post_json(&server, &iris_split()).status,
        200,
        "a small body still passes"
    );
}

#[test]
fn a_request_over_the_time_limit_is_a_504_and_the_server_goes_on() {
    let config = ServeConfig {
        time_limit: Duration::from_millis(1),
        ..ServeConfig::default()
    };
    let server = start("iris:1", config);
    let mut csv = String::from("sepal_length,sepal_width,petal_length,petal_width\n");
    csv.push_str(&"5.1,3.5,1.4,0.2\n".repeat(200_000));
    let answer = post(&client(), &server.url(), "text/csv", &csv);
    assert_eq!(answer.status, 504, "{}", answer.text);
    assert_eq!(answer.error().0, "DEADLINE_EXCEEDED");
    assert_eq!(get(&server, "/ping").status, 200);
}

#[test]
fn with_a_token_every_request_without_it_is_a_401() {
    let config = ServeConfig {
        token: Some("s3cret".into()),
        ..ServeConfig::default()
    };
    let server = start("iris:1", config);
    assert_eq!(get(&server, "/ping").status, 401);
    assert_eq!(post_json(&server, &iris_split()).status, 401);
    let wrong = client()
        .get(format!("{}/ping", server.url()))
        .header("Authorization", "Bearer s3creT")
        .call()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let mut right = client()
        .post(format!("{}/invocations", server.url()))
        .header("Authorization", "Bearer s3cret")
        .header("Content-Type", JSON)
        .send(iris_split().to_string())
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
    assert!(
        right
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("setosa")
    );
}

#[test]
fn ping_health_version_and_metrics_answer() {
    let server = start_default("iris:1");
    assert_eq!(get(&server, "/ping").status, 200);
    assert_eq!(get(&server, "/health").status, 200);
    let version = get(&server, "/version").json();
    assert_eq!(version["kiln_version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        version["model"],
        json!({"name": "iris", "version": 1, "ref": "iris:1", "run_id": models().iris_run,
               "kind": "logistic_regression", "task": "classification"})
    );
    assert_eq!(post_json(&server, &iris_split()).status, 200);
    assert_eq!(post(&client(), &server.url(), JSON, "{").status, 400);
    server
        .metrics()
        .set_drift(&[("petal_width".into(), 0.25)], 0.25);
    let metrics = get(&server, "/metrics");
    assert_eq!(metrics.status, 200);
    for line in [
        "kiln_requests_total{path=\"/invocations\"} 2",
        "kiln_errors_total{code=\"400\"} 1",
        "kiln_predictions_total{class=\"setosa\"} 1",
        "kiln_invocation_duration_seconds_count 2",
        "kiln_drift_score{column=\"petal_width\"} 0.25",
        "kiln_drift_share 0.25",
    ] {
        assert!(
            metrics.text.lines().any(|l| l == line),
            "{line} in:\n{}",
            metrics.text
        );
    }
}

#[test]
fn an_unknown_path_is_a_404_in_mlflows_error_shape() {
    let server = start_default("iris:1");
    let answer = get(&server, "/predict");
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error().0, "ENDPOINT_NOT_FOUND");
}

/// `threads` clients posting the iris rows until `stop`; each returns (status, labels) per
/// request.
fn hammer(
    url: &str,
    threads: usize,
    stop: &Arc<AtomicBool>,
    limit: usize,
) -> Vec<std::thread::JoinHandle<Vec<(u16, String)>>> {
    (0..threads)
        .map(|i| {
            let (url, stop) = (url.to_owned(), stop.clone());
            std::thread::Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || {
                    let agent = client();
                    let body = iris_split().to_string();
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::Relaxed) && seen.len() < limit {
                        let answer = post(&agent, &url, JSON, &body);
                        seen.push((answer.status, answer.text));
                    }
                    seen
                })
                .unwrap()
        })
        .collect()
}

#[test]
fn a_bounded_load_of_4000_requests_over_8_connections_has_no_error() {
    let server = start_default("iris:1");
    let stop = Arc::new(AtomicBool::new(false));
    let answers: Vec<(u16, String)> = hammer(&server.url(), 8, &stop, 500)
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(answers.len(), 4000);
    let expected = json!({"predictions": ["setosa", "versicolor", "virginica"]}).to_string();
    assert!(answers.iter().all(|(s, t)| *s == 200 && *t == expected));
    assert_eq!(server.metrics().errors_total(), 0);
    assert_eq!(server.metrics().requests_total(), 4000);
}

#[test]
fn a_hot_swap_under_load_fails_no_request_and_answers_switch_to_the_new_model() {
    let server = start_default("iris:1");
    let stop = Arc::new(AtomicBool::new(false));
    let clients = hammer(&server.url(), 4, &stop, usize::MAX);
    while server.metrics().requests_total() < 400 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let upper = load(&models().iris_upper);
    server.swap(upper.model, upper.info);
    let swapped_at = server.metrics().requests_total();
    while server.metrics().requests_total() < swapped_at + 400 {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let old = json!({"predictions": ["setosa", "versicolor", "virginica"]}).to_string();
    let new = json!({"predictions": ["SETOSA", "VERSICOLOR", "VIRGINICA"]}).to_string();
    for client in clients {
        let seen = client.join().unwrap();
        assert!(
            seen.iter().all(|(status, _)| *status == 200),
            "a request failed"
        );
        // Each client sees the old model, then the new one, never back again.
        let switch = seen
            .iter()
            .position(|(_, t)| *t == new)
            .expect("the new model answered");
        assert!(seen[..switch].iter().all(|(_, t)| *t == old));
        assert!(seen[switch..].iter().all(|(_, t)| *t == new));
    }
    assert_eq!(
        get(&server, "/version").json()["model"]["ref"],
        json!(models().iris_upper)
    );
    assert_eq!(server.metrics().errors_total(), 0);
}

#[test]
fn kiln_serve_prints_its_url_and_needs_the_token() {
    let home = &models().home;
    let mut child = Command::new(common::kiln_bin())
        .arg("--home")
        .arg(home)
        .args(["serve", "iris@champion", "--port", "0", "--token", "s3cret"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // Each step says what failed: a failure here once showed only "no server".
    let served = (|| -> Result<(u16, String), String> {
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or("no URL in the line")?
            .to_owned();
        let agent = client();
        let no_token = agent
            .get(format!("{url}/ping"))
            .call()
            .map_err(|e| format!("GET /ping: {e}"))?
            .status()
            .as_u16();
        let mut answer = agent
            .post(format!("{url}/invocations"))
            .header("Authorization", "Bearer s3cret")
            .header("Content-Type", JSON)
            .send(iris_split().to_string())
            .map_err(|e| format!("POST /invocations: {e}"))?;
        let body = answer
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok((no_token, body))
    })();
    child.kill().unwrap();
    child.wait().unwrap();
    let (no_token, body) = served.unwrap_or_else(|e| panic!("{e}; the server said: {line}"));
    assert!(line.starts_with("serving iris@champion"), "{line}");
    assert_eq!(no_token, 401);
    assert!(body.contains("virginica"), "{body}");
}

/// Waits until the server's answers to the iris rows are `expected` (a swap is seen within
/// the follower's poll), failing after 10 s.
fn wait_for_answer(agent: &ureq::Agent, url: &str, expected: &str) {
    let body = iris_split().to_string();
    let start = std::time::Instant::now();
    while post(agent, url, JSON, &body).text != expected {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never answered {expected}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_production_endpoint_follows_promotion_and_rollback_under_load_with_no_failed_request() {
    use kiln_core::registry;
    use kiln_core::store::{Stage, Store};
    let store = Store::open(&models().home).unwrap();
    registry::register_run(&store, &models().iris_run, "iris-env", "lower-case species").unwrap();
    registry::register_run(
        &store,
        &models().iris_upper,
        "iris-env",
        "upper-case species",
    )
    .unwrap();
    registry::promote(
        &store,
        "iris-env",
        1,
        Stage::Production,
        "first",
        false,
        true,
    )
    .unwrap();

    let mut server = start_default("iris-env@production");
    assert!(
        server.follow(&store).unwrap(),
        "a stage reference is followed"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let clients = hammer(&server.url(), 4, &stop, usize::MAX);
    let old = json!({"predictions": ["setosa", "versicolor", "virginica"]}).to_string();
    let new = json!({"predictions": ["SETOSA", "VERSICOLOR", "VIRGINICA"]}).to_string();
    let agent = client();
    wait_for_answer(&agent, &server.url(), &old);

    registry::promote(
        &store,
        "iris-env",
        2,
        Stage::Production,
        "upper case",
        false,
        true,
    )
    .unwrap();
    wait_for_answer(&agent, &server.url(), &new);
    assert_eq!(server.info().version, Some(2));

    let back = registry::rollback(&store, "iris-env", Stage::Production, "v2 shouts").unwrap();
    assert_eq!(back.version, 1);
    wait_for_answer(&agent, &server.url(), &old);
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let seen = client.join().unwrap();
        assert!(
            seen.iter().all(|(status, _)| *status == 200),
            "a request failed"
        );
    }
    assert_eq!(server.metrics().errors_total(), 0);

    let log = store.audit_log(Some("iris-env")).unwrap();
    let deploys: Vec<Option<i64>> = log
        .iter()
        .filter(|e| e.action == "deploy")
        .map(|e| e.version)
        .collect();
    assert_eq!(deploys, [Some(2), Some(1)], "each swap is audited");
    let rollback = log
        .iter()
        .rev()
        .find(|e| e.action == "stage" && e.version == Some(1))
        .unwrap();
    assert_eq!(rollback.reason, "rollback: v2 shouts");
    assert_eq!(
        store.model_version("iris-env", 2).unwrap().stage,
        Stage::Archived
    );
    // The lineage names the endpoint that swapped the version in.
    let v1 = store.model_version("iris-env", 1).unwrap();
    let deployment = registry::lineage(&store, &v1).unwrap().deployment.unwrap();
    assert!(deployment.starts_with(&server.url()), "{deployment}");
}

#[test]
fn a_rollback_with_no_earlier_holder_is_refused_and_changes_nothing() {
    use kiln_core::registry;
    use kiln_core::store::{Stage, Store};
    let store = Store::open(&models().home).unwrap();
    registry::register_run(&store, &models().iris_run, "iris-once", "only one").unwrap();
    registry::promote(
        &store,
        "iris-once",
        1,
        Stage::Production,
        "first",
        false,
        true,
    )
    .unwrap();
    let refused = registry::rollback(&store, "iris-once", Stage::Production, "why not")
        .unwrap_err()
        .to_string();
    assert!(refused.contains("nothing to roll back to"), "{refused}");
    let no_reason = registry::rollback(&store, "iris-once", Stage::Production, " ")
        .unwrap_err()
        .to_string();
    assert!(no_reason.contains("needs a reason"), "{no_reason}");
    assert_eq!(
        store.model_version("iris-once", 1).unwrap().stage,
        Stage::Production
    );
}

#[test]
fn a_canary_answers_its_share_and_a_shadow_is_compared_but_never_returned() {
    use kiln_core::deploy::serve::{CandidateMode, set_candidate};
    use kiln_core::registry;
    use kiln_core::store::Store;
    let store = Store::open(&models().home).unwrap();
    registry::register_run(&store, &models().iris_run, "iris-canary", "lower").unwrap();
    registry::register_run(&store, &models().iris_upper, "iris-canary", "upper").unwrap();
    let server = start_default("iris-canary:1");
    let old = json!({"predictions": ["setosa", "versicolor", "virginica"]}).to_string();
    let new = json!({"predictions": ["SETOSA", "VERSICOLOR", "VIRGINICA"]}).to_string();
    let (agent, body) = (client(), iris_split().to_string());

    let canary = CandidateMode::canary(25.0).unwrap();
    set_candidate(
        &store,
        &server,
        Some("iris-canary:2"),
        canary,
        "try v2 on a quarter",
    )
    .unwrap();
    let answers: Vec<String> = (0..40)
        .map(|_| post(&agent, &server.url(), JSON, &body).text)
        .collect();
    assert_eq!(answers.iter().filter(|a| **a == new).count(), 10);
    assert_eq!(answers.iter().filter(|a| **a == old).count(), 30);
    assert_eq!(server.metrics().variant_total("canary"), 10);
    assert_eq!(
        get(&server, "/version").json()["candidate"]["ref"],
        "iris-canary:2"
    );

    set_candidate(
        &store,
        &server,
        Some("iris-canary:2"),
        CandidateMode::Shadow,
        "compare v2",
    )
    .unwrap();
    for _ in 0..20 {
        assert_eq!(
            post(&agent, &server.url(), JSON, &body).text,
            old,
            "a shadow never answers"
        );
    }
    let start = std::time::Instant::now();
    while server.metrics().shadow_stats().compared < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the shadow did not score"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Upper-case labels differ from every primary answer.
    assert_eq!(server.metrics().shadow_stats().disagreed, 20);
    assert!(
        get(&server, "/metrics")
            .text
            .contains("kiln_shadow_disagreed_total 20")
    );

    set_candidate(&store, &server, None, CandidateMode::Shadow, "done").unwrap();
    assert!(server.candidate().is_none());
    let actions: Vec<String> = store
        .audit_log(Some("iris-canary"))
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("candidate"))
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["candidate", "candidate", "candidate_cleared"]);
}
