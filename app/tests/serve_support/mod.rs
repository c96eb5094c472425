//! What the serving tests share: models trained once per test binary into a store under
//! cargo's test temp folder, a server started through core's API on a free loopback port,
//! and a small HTTP client.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kiln_core::deploy::serve::{ServeConfig, ServedModel, ServerHandle, serve};
use kiln_core::store::Store;
use serde_json::Value;

use crate::common::{json, kiln};

/// The trained models the tests serve.
pub struct Models {
    /// The store holding them.
    pub home: PathBuf,
    /// Iris species by logistic regression, registered as `iris:1` with alias `champion`.
    pub iris: String,
    /// The run that trained `iris:1`.
    pub iris_run: String,
    /// The same model trained on upper-cased species (`SETOSA`, ...): same inputs, answers
    /// that tell the two apart.
    pub iris_upper: String,
    /// Diabetes progression by linear regression (a run id).
    pub diabetes: String,
}

pub fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

fn train(home: &Path, data: &str, target: &str, model: &str) -> String {
    let run = json(&kiln(
        home,
        &[
            "train", "--data", data, "--target", target, "--model", model, "--json",
        ],
    ));
    run["run_id"].as_str().unwrap().to_owned()
}

/// Trains the models once for the whole test binary.
pub fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-store");
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let iris_csv = repo("assets/iris.csv");
        let iris = train(&home, &iris_csv, "species", "logistic_regression");
        let registered = kiln(&home, &["models", "register", &iris, "--name", "iris"]);
        assert!(registered.status.success());
        let alias = [
            "models",
            "alias",
            "iris",
            "1",
            "champion",
            "--reason",
            "serve tests",
        ];
        let aliased = kiln(&home, &alias);
        assert!(
            aliased.status.success(),
            "{}",
            String::from_utf8_lossy(&aliased.stderr)
        );
        let upper = home.join("iris_upper.csv");
        let text = std::fs::read_to_string(&iris_csv).unwrap();
        let mut lines = text.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for line in lines {
            let (features, species) = line.rsplit_once(',').unwrap();
            out.push_str(&format!("{features},{}\n", species.to_uppercase()));
        }
        std::fs::write(&upper, out).unwrap();
        let iris_upper = train(
            &home,
            upper.to_str().unwrap(),
            "species",
            "logistic_regression",
        );
        let diabetes = train(
            &home,
            &repo("assets/diabetes.csv"),
            "progression",
            "linear_regression",
        );
        Models {
            home,
            iris: "iris:1".into(),
            iris_run: iris,
            iris_upper,
            diabetes,
        }
    })
}

/// The model a reference names, loaded as the server loads it.
pub fn load(model_ref: &str) -> ServedModel {
    let store = Store::open(&models().home).unwrap();
    ServedModel::load(&store, model_ref).unwrap()
}

/// Serves `model_ref` on a free loopback port with `config`'s limits.
pub fn start(model_ref: &str, config: ServeConfig) -> ServerHandle {
    serve(load(model_ref), config).unwrap()
}

/// Serves `model_ref` with the default limits.
pub fn start_default(model_ref: &str) -> ServerHandle {
    start(model_ref, ServeConfig::default())
}

/// A client that reads 4xx and 5xx answers instead of failing on them.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// An answer: status and body (parsed when it is JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// MLflow's error document's `error_code` and `message`.
    pub fn error(&self) -> (String, String) {
        let v = self.json();
        (
            v["error_code"].as_str().unwrap_or_default().to_owned(),
            v["message"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

/// `POST base/invocations` with a content type and a body.
pub fn post(agent: &ureq::Agent, base: &str, content_type: &str, body: &str) -> Answer {
    let mut response = agent
        .post(format!("{base}/invocations"))
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        text: response.body_mut().read_to_string().unwrap(),
    }
}

/// `POST /invocations` with a JSON body.
pub fn post_json(server: &ServerHandle, body: &Value) -> Answer {
    post(
        &client(),
        &server.url(),
        "application/json",
        &body.to_string(),
    )
}

/// `GET url/path`.
pub fn get(server: &ServerHandle, path: &str) -> Answer {
    let mut response = client()
        .get(format!("{}{path}", server.url()))
        .call()
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        text: response.body_mut().read_to_string().unwrap(),
    }
}

/// Three iris rows, one per species (rows 1, 51 and 101), without the species: the input
/// column names and the values.
pub fn iris_rows() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(repo("assets/iris.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .take(4)
        .map(str::to_owned)
        .collect();
    let data = lines
        .step_by(50)
        .map(|l| l.split(',').take(4).map(|v| v.parse().unwrap()).collect())
        .collect();
    (header, data)
}

/// [`iris_rows`] as a `dataframe_split` body.
pub fn iris_split() -> Value {
    let (columns, data) = iris_rows();
    serde_json::json!({"dataframe_split": {"columns": columns, "data": data}})
}
