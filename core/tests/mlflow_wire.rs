//! Kiln's tracking server answers the recorded traffic of the real MLflow 3.17.2 client as the
//! real server did: every request of `tests/fixtures/mlflow-wire/exchanges.jsonl` (made from
//! `shared/mlflow-wire/raw.jsonl` by `scripts/fixtures/trim_mlflow_wire.py`) is replayed in
//! order against `kiln server` on a fresh store, with the recorded ids replaced by the ones
//! Kiln handed out, and each answer must have the recorded status and every field of the
//! recorded JSON, with the same JSON type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use kiln_core::mlflow::{TrackingConfig, serve_tracking};
use kiln_core::store::Store;
use serde_json::Value;

/// Where Kiln answers differently on purpose, by sequence number, and why.
const DELIBERATE: &[(u64, &str)] = &[
    // Kiln's registry keeps a tamper-evident audit trail that names models and versions.
    (217, "renaming a registered model is refused (400)"),
    (218, "so the renamed model is not there (404)"),
    (219, "deleting a model version is refused (400)"),
    (220, "the model was not renamed (404)"),
    (221, "deleting a registered model is refused (400)"),
    // A wrong method is a JSON ENDPOINT_NOT_FOUND, which the client reads the same way.
    (
        228,
        "POST runs/get: 404 ENDPOINT_NOT_FOUND instead of Flask's 405 page",
    ),
];

/// Fields the real server sends that Kiln leaves out, and why.
const NOT_SENT: &[&str] = &[
    // New in MLflow 3.x error bodies; the client reads only error_code and message.
    "sqlstate",
    "error_class",
    // Workspaces are not enabled on either server.
    "workspace",
];

fn exchanges() -> Vec<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mlflow-wire/exchanges.jsonl");
    std::fs::read_to_string(&path)
        .expect("the recorded exchanges are committed")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field of `recorded` is in `ours` with the same type (lists: their first elements).
fn same_shape(recorded: &Value, ours: &Value, at: &str, problems: &mut Vec<String>) {
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (key, value) in r {
                if NOT_SENT.contains(&key.as_str()) {
                    continue;
                }
                match o.get(key) {
                    None => problems.push(format!("{at}.{key} is missing")),
                    Some(mine) => same_shape(value, mine, &format!("{at}.{key}"), problems),
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if let (Some(first), Some(mine)) = (r.first(), o.first()) {
                same_shape(first, mine, &format!("{at}[0]"), problems);
            } else if !r.is_empty() {
                problems.push(format!("{at} is empty, the real server listed {}", r.len()));
            }
        }
        (r, o) if kind(r) != kind(o) => problems.push(format!(
            "{at} is a {}, the real server sent a {}",
            kind(o),
            kind(r)
        )),
        _ => {}
    }
}

/// The ids Kiln handed out where the recording has others. Experiment ids are small numbers
/// ("1" could be a version or a parameter value too), so they are kept apart and replaced only
/// where an experiment id stands; run ids, model ids and generated run names are long and
/// replaced wherever they occur.
#[derive(Default)]
struct Ids {
    experiments: BTreeMap<String, String>,
    others: BTreeMap<String, String>,
}

impl Ids {
    /// Learns from a recorded answer and Kiln's answer to the same request.
    fn learn(&mut self, recorded: &Value, ours: &Value) {
        match (recorded, ours) {
            (Value::Object(r), Value::Object(o)) => {
                for (key, value) in r {
                    let Some(mine) = o.get(key) else { continue };
                    let map = match key.as_str() {
                        "experiment_id" => Some(&mut self.experiments),
                        "run_id" | "run_uuid" | "model_id" | "run_name" => Some(&mut self.others),
                        _ => None,
                    };
                    match (value, mine, map) {
                        (Value::String(a), Value::String(b), Some(map))
                            if a != b && !a.is_empty() =>
                        {
                            map.entry(a.clone()).or_insert_with(|| b.clone());
                        }
                        _ => self.learn(value, mine),
                    }
                }
            }
            (Value::Array(r), Value::Array(o)) => {
                for (a, b) in r.iter().zip(o) {
                    self.learn(a, b);
                }
            }
            _ => {}
        }
    }

    fn replace_long(&self, text: &str) -> String {
        let mut keys: Vec<&String> = self.others.keys().collect();
        // Longer ids first, so one that contains another is replaced whole.
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let mut out = text.to_owned();
        for key in keys {
            out = out.replace(key.as_str(), &self.others[key]);
        }
        out
    }

    fn experiment(&self, id: &str) -> String {
        self.experiments
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// A request path: `mlflow-artifacts/artifacts/{experiment}/...`.
    fn path(&self, path: &str) -> String {
        let path = self.replace_long(path);
        let prefix = "/mlflow-artifacts/artifacts/";
        match path.split_once(prefix) {
            Some((head, rest)) => {
                let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
                let sep = if rest.contains('/') { "/" } else { "" };
                format!("{head}{prefix}{}{sep}{tail}", self.experiment(first))
            }
            None => path,
        }
    }

    /// A query string: `experiment_id={id}` and artifact listings' `path={id}%2F...`.
    fn query(&self, query: &str) -> String {
        let query = self.replace_long(query);
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("experiment_id", id)) => format!("experiment_id={}", self.experiment(id)),
                Some(("path", value)) => {
                    let (first, tail) = value.split_once("%2F").unwrap_or((value, ""));
                    let sep = if value.contains("%2F") { "%2F" } else { "" };
                    format!("path={}{sep}{tail}", self.experiment(first))
                }
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A request body: JSON with `experiment_id` and `experiment_ids` fields.
    fn body(&self, body: &str) -> String {
        let body = self.replace_long(body);
        let Ok(mut json) = serde_json::from_str::<Value>(&body) else {
            return body;
        };
        if let Some(map) = json.as_object_mut() {
            if let Some(Value::String(id)) = map.get_mut("experiment_id") {
                *id = self.experiment(id);
            }
            if let Some(Value::Array(list)) = map.get_mut("experiment_ids") {
                for item in list {
                    if let Value::String(id) = item {
                        *id = self.experiment(id);
                    }
                }
            }
        }
        json.to_string()
    }
}

#[test]
fn the_recorded_client_traffic_gets_the_recorded_answers() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let server = serve_tracking(
        store,
        &TrackingConfig {
            port: 0,
            ..TrackingConfig::default()
        },
    )
    .unwrap();
    let base = server.url();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut ids = Ids::default();
    let mut problems = Vec::new();
    let mut replayed = 0;
    for exchange in exchanges() {
        let Some(seq) = exchange["seq"].as_u64() else {
            continue;
        };
        let method = exchange["method"].as_str().unwrap();
        let path = ids.path(exchange["path"].as_str().unwrap());
        let query = ids.query(exchange["query"].as_str().unwrap());
        let body = ids.body(exchange["req_body"].as_str().unwrap());
        let url = if query.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{query}")
        };
        let content_type = exchange["content_type"].as_str().unwrap_or("");
        let content_type = if content_type.is_empty() {
            "application/json"
        } else {
            content_type
        };
        let sent = match method {
            "GET" => agent.get(&url).call(),
            "POST" => agent
                .post(&url)
                .header("Content-Type", content_type)
                .send(&body),
            "PUT" => agent
                .put(&url)
                .header("Content-Type", content_type)
                .send(&body),
            "PATCH" => agent
                .patch(&url)
                .header("Content-Type", content_type)
                .send(&body),
            "DELETE" => agent
                .delete(&url)
                .header("Content-Type", content_type)
                .force_send_body()
                .send(&body),
            other => panic!("unexpected method {other}"),
        };
        let mut response = sent.unwrap_or_else(|e| panic!("#{seq} {method} {path}: {e}"));
        replayed += 1;
        let status = u64::from(response.status().as_u16());
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if let Some((_, why)) = DELIBERATE.iter().find(|(s, _)| *s == seq) {
            assert!(
                status < 500,
                "#{seq} {method} {path} ({why}) answered {status}: {text}"
            );
            continue;
        }
        let expected = exchange["status"].as_u64().unwrap();
        if status != expected {
            problems.push(format!(
                "#{seq} {method} {path}: status {status}, recorded {expected}: {text}"
            ));
            continue;
        }
        let recorded = &exchange["resp_json"];
        if recorded.is_object() {
            match serde_json::from_str::<Value>(&text) {
                Ok(ours) => {
                    ids.learn(recorded, &ours);
                    let mut found = Vec::new();
                    same_shape(recorded, &ours, "", &mut found);
                    problems.extend(
                        found
                            .into_iter()
                            .map(|p| format!("#{seq} {method} {path}: {p}")),
                    );
                }
                Err(_) => problems.push(format!("#{seq} {method} {path}: not JSON: {text}")),
            }
        }
    }
    assert!(replayed > 200, "replayed only {replayed} exchanges");
    assert!(
        problems.is_empty(),
        "{} of {replayed} answers differ from the real server's:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
