//! A running tracking server (`mlflow server`, or `kiln server`), read over its REST API as
//! `shared/mlflow-wire/SPEC.md` records it: `experiments/search`, `runs/search` (paged),
//! `metrics/get-history` per metric, the artifact proxy's listing and download
//! (`mlflow-artifacts:/` URIs), `logged-models/search`, `registered-models/search` and
//! `model-versions/search`. Artifacts under a local `file:` URI are read from disk when this
//! machine can see them.

mod http;

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use http::{float, int, list, pairs, text};

use super::{
    ImportError, MlflowSource, PathOrUrl, RunData, RunHead, SourceExperiment, SourceFile,
    SourceLoggedModel, SourceRegisteredModel, SourceVersion, logged_model_status, run_status,
    stage,
};
use crate::store::{ClientMetric, ModelMetric, RunInput};

/// A tracking server.
pub struct RestSource {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
    /// Runs as `runs/search` returned them, by id: their params, tags and inputs.
    runs: Mutex<HashMap<String, Value>>,
    notes: Mutex<Vec<String>>,
}

impl RestSource {
    fn history(&self, run_id: &str, key: &str) -> Result<Vec<ClientMetric>, ImportError> {
        let points = self.pages(
            |token| {
                let mut query = vec![
                    ("run_id", run_id.to_owned()),
                    ("metric_key", key.to_owned()),
                    ("max_results", "25000".to_owned()),
                ];
                if let Some(t) = token {
                    query.push(("page_token", t.to_owned()));
                }
                self.get("metrics/get-history", &query)
            },
            "metrics",
        )?;
        Ok(points
            .iter()
            .filter_map(|m| {
                Some(ClientMetric {
                    key: key.to_owned(),
                    value: float(m.get("value")?)?,
                    timestamp_ms: m.get("timestamp").and_then(int).unwrap_or(0),
                    step: m.get("step").and_then(int).unwrap_or(0),
                })
            })
            .collect())
    }

    fn versions(&self, name: &str) -> Result<Vec<SourceVersion>, ImportError> {
        let filter = format!("name='{}'", name.replace('\'', "\\'"));
        let found = self.pages(
            |token| {
                let mut query = vec![
                    ("filter", filter.clone()),
                    ("max_results", "10000".to_owned()),
                ];
                if let Some(t) = token {
                    query.push(("page_token", t.to_owned()));
                }
                self.get("model-versions/search", &query)
            },
            "model_versions",
        )?;
        let mut out = Vec::new();
        for v in found
            .iter()
            .filter(|v| text(v, "name").as_deref() == Some(name))
        {
            let Some(version) = v.get("version").and_then(int) else {
                continue;
            };
            let source = text(v, "source").unwrap_or_default();
            let model_id = text(v, "model_id").filter(|m| !m.is_empty()).or_else(|| {
                source
                    .strip_prefix("models:/")
                    .filter(|m| m.starts_with("m-"))
                    .map(|m| m.trim_end_matches('/').to_owned())
            });
            out.push(SourceVersion {
                version,
                run_id: text(v, "run_id").filter(|r| !r.is_empty()),
                model_id,
                description: text(v, "description").unwrap_or_default(),
                stage: stage(&text(v, "current_stage").unwrap_or_default()),
                tags: pairs(v.get("tags")),
                source,
            });
        }
        Ok(out)
    }
}

fn run_input(item: &Value) -> Option<RunInput> {
    let dataset = item.get("dataset")?;
    Some(RunInput {
        name: text(dataset, "name")?,
        digest: text(dataset, "digest").unwrap_or_default(),
        source_type: text(dataset, "source_type").unwrap_or_default(),
        source: text(dataset, "source").unwrap_or_default(),
        schema: text(dataset, "schema"),
        profile: text(dataset, "profile"),
        tags: pairs(item.get("tags")),
    })
}

impl MlflowSource for RestSource {
    fn describe(&self) -> String {
        self.base.clone()
    }

    fn experiments(&self) -> Result<Vec<Result<SourceExperiment, ImportError>>, ImportError> {
        let found = self.pages(
            |token| {
                let mut body = json!({ "max_results": 1000, "view_type": "ALL" });
                if let Some(t) = token {
                    body["page_token"] = json!(t);
                }
                self.post("experiments/search", body)
            },
            "experiments",
        )?;
        Ok(found
            .iter()
            .map(|e| {
                let id = text(e, "experiment_id")
                    .or_else(|| e.get("experiment_id").and_then(int).map(|i| i.to_string()));
                match (id, text(e, "name")) {
                    (Some(id), Some(name)) => Ok(SourceExperiment {
                        place: self.api(&format!("experiments/get?experiment_id={id}")),
                        id,
                        name,
                        tags: pairs(e.get("tags")),
                        deleted: text(e, "lifecycle_stage").as_deref() == Some("deleted"),
                        created_ms: e.get("creation_time").and_then(int),
                        updated_ms: e.get("last_update_time").and_then(int),
                    }),
                    _ => Err(ImportError::Http {
                        url: self.api("experiments/search"),
                        reason: format!("an experiment without id or name: {e}"),
                    }),
                }
            })
            .collect())
    }

    fn runs(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<RunHead, ImportError>>, ImportError> {
        let found = self.pages(
            |token| {
                let mut body = json!({
                    "experiment_ids": [experiment.id],
                    "run_view_type": "ALL",
                    "max_results": 1000,
                });
                if let Some(t) = token {
                    body["page_token"] = json!(t);
                }
                self.post("runs/search", body)
            },
            "runs",
        )?;
        let mut out = Vec::new();
        let mut cache = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        for run in found {
            let info = run.get("info").cloned().unwrap_or_default();
            let Some(id) = text(&info, "run_id").or_else(|| text(&info, "run_uuid")) else {
                out.push(Err(ImportError::Http {
                    url: self.api("runs/search"),
                    reason: "a run without run_id".into(),
                }));
                continue;
            };
            let url = self.api(&format!("runs/get?run_id={id}"));
            let status_text = text(&info, "status").unwrap_or_default();
            let head = match (
                run_status(&status_text),
                info.get("start_time").and_then(int),
            ) {
                (None, _) => Err(ImportError::Http {
                    url,
                    reason: format!("status '{status_text}' is not an MLflow run status"),
                }),
                (_, None) => Err(ImportError::Http {
                    url,
                    reason: "missing start_time".into(),
                }),
                (Some(status), Some(start_ms)) => {
                    let tags = pairs(run.get("data").and_then(|d| d.get("tags")));
                    Ok(RunHead {
                        experiment_id: experiment.id.clone(),
                        name: text(&info, "run_name").filter(|n| !n.is_empty()),
                        status,
                        start_ms,
                        end_ms: info.get("end_time").and_then(int),
                        deleted: text(&info, "lifecycle_stage").as_deref() == Some("deleted"),
                        parent_id: tags
                            .iter()
                            .find(|(k, _)| k == "mlflow.parentRunId")
                            .map(|(_, v)| v.clone()),
                        artifact_uri: text(&info, "artifact_uri"),
                        place: PathOrUrl::Url(url),
                        id: id.clone(),
                    })
                }
            };
            cache.insert(id, run);
            out.push(head);
        }
        Ok(out)
    }

    fn run_data(&self, run: &RunHead) -> Result<RunData, ImportError> {
        let cached = self
            .runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&run.id)
            .cloned();
        let full = match cached {
            Some(full) => full,
            None => self
                .get("runs/get", &[("run_id", run.id.clone())])?
                .get("run")
                .cloned()
                .unwrap_or_default(),
        };
        let data = full.get("data").cloned().unwrap_or_default();
        let mut out = RunData {
            params: pairs(data.get("params")),
            tags: pairs(data.get("tags")),
            ..Default::default()
        };
        let mut keys: Vec<String> = list(&data, "metrics")
            .iter()
            .filter_map(|m| text(m, "key"))
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            out.metrics.extend(self.history(&run.id, &key)?);
        }
        if let Some(inputs) = full.get("inputs") {
            out.inputs = list(inputs, "dataset_inputs")
                .iter()
                .filter_map(run_input)
                .collect();
        }
        if let Some(outputs) = full.get("outputs") {
            out.outputs = list(outputs, "model_outputs")
                .iter()
                .filter_map(|o| {
                    Some((
                        text(o, "model_id")?,
                        o.get("step").and_then(int).unwrap_or(0),
                    ))
                })
                .collect();
        }
        if let Some(uri) = &run.artifact_uri {
            out.artifacts = self.files(uri)?;
        }
        Ok(out)
    }

    fn logged_models(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<SourceLoggedModel, ImportError>>, ImportError> {
        let found = self.pages(
            |token| {
                let mut body = json!({ "experiment_ids": [experiment.id], "max_results": 100 });
                if let Some(t) = token {
                    body["page_token"] = json!(t);
                }
                self.post("logged-models/search", body)
            },
            "models",
        );
        let found = match found {
            Ok(found) => found,
            // A server older than MLflow 3 has no LoggedModels.
            Err(ImportError::Http { reason, .. }) if reason.contains("HTTP 404") => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for model in found {
            let info = model.get("info").cloned().unwrap_or_default();
            let data = model.get("data").cloned().unwrap_or_default();
            let Some(id) = text(&info, "model_id") else {
                continue;
            };
            let files = match text(&info, "artifact_uri") {
                Some(uri) => self.files(&uri),
                None => Ok(Vec::new()),
            };
            let metrics = list(&data, "metrics")
                .iter()
                .filter_map(|m| {
                    Some(ModelMetric {
                        key: text(m, "key")?,
                        value: float(m.get("value")?)?,
                        timestamp_ms: m.get("timestamp").and_then(int).unwrap_or(0),
                        step: m.get("step").and_then(int).unwrap_or(0),
                        run_id: text(m, "run_id"),
                        dataset_name: text(m, "dataset_name"),
                        dataset_digest: text(m, "dataset_digest"),
                    })
                })
                .collect();
            out.push(files.map(|files| SourceLoggedModel {
                experiment_id: experiment.id.clone(),
                name: text(&info, "name").unwrap_or_else(|| "model".into()),
                source_run_id: text(&info, "source_run_id").filter(|r| !r.is_empty()),
                status: logged_model_status(&text(&info, "status").unwrap_or_default()),
                model_type: text(&info, "model_type").unwrap_or_default(),
                created_ms: info.get("creation_timestamp_ms").and_then(int),
                updated_ms: info.get("last_updated_timestamp_ms").and_then(int),
                params: pairs(data.get("params")),
                tags: pairs(info.get("tags")),
                metrics,
                files,
                place: PathOrUrl::Url(self.api(&format!("logged-models/{id}"))),
                id,
            }));
        }
        Ok(out)
    }

    fn registered_models(
        &self,
    ) -> Result<Vec<Result<SourceRegisteredModel, ImportError>>, ImportError> {
        let found = self.pages(
            |token| {
                let mut query = vec![("max_results", "1000".to_owned())];
                if let Some(t) = token {
                    query.push(("page_token", t.to_owned()));
                }
                self.get("registered-models/search", &query)
            },
            "registered_models",
        )?;
        let mut out = Vec::new();
        for model in found {
            let Some(name) = text(&model, "name") else {
                continue;
            };
            let tags = pairs(model.get("tags"));
            if tags
                .iter()
                .any(|(k, v)| k == "mlflow.prompt.is_prompt" && v == "true")
            {
                self.note(format!(
                    "{name} is an MLflow prompt, not a model; not imported"
                ));
                continue;
            }
            let aliases = list(&model, "aliases")
                .iter()
                .filter_map(|a| Some((text(a, "alias")?, a.get("version").and_then(int)?)))
                .collect();
            out.push(self.versions(&name).map(|versions| SourceRegisteredModel {
                description: text(&model, "description").unwrap_or_default(),
                tags,
                aliases,
                versions,
                place: PathOrUrl::Url(self.api(&format!("registered-models/get?name={name}"))),
                name,
            }));
        }
        Ok(out)
    }

    fn read(&self, file: &SourceFile) -> Result<Vec<u8>, ImportError> {
        match &file.at {
            PathOrUrl::Path(path) => std::fs::read(path)
                .map_err(|e| ImportError::file(path, format!("cannot read: {e}"))),
            PathOrUrl::Url(url) => {
                let http = |reason: String| ImportError::Http {
                    url: url.clone(),
                    reason,
                };
                let mut response = self
                    .authorised(self.agent.get(url))
                    .call()
                    .map_err(|e| http(format!("no answer: {e}")))?;
                let status = response.status().as_u16();
                if status != 200 {
                    return Err(http(format!("HTTP {status}")));
                }
                response
                    .body_mut()
                    .with_config()
                    .limit(u64::MAX)
                    .read_to_vec()
                    .map_err(|e| http(format!("cannot read the file: {e}")))
            }
        }
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
