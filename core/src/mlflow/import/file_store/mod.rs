//! MLflow's file store, an `mlruns/` folder:
//!
//! ```text
//! mlruns/<exp>/meta.yaml, tags/<key>            an experiment (deleted ones in .trash/<exp>)
//! mlruns/<exp>/<run>/meta.yaml                  run info: status as a number, times in ms
//! mlruns/<exp>/<run>/params/<key>, tags/<key>   one value per file (keys may hold '/')
//! mlruns/<exp>/<run>/metrics/<key>              lines `timestamp value step`
//! mlruns/<exp>/<run>/inputs/<id>/meta.yaml      a dataset input -> <exp>/datasets/<id>/meta.yaml
//! mlruns/<exp>/<run>/outputs/<model>/meta.yaml  a LoggedModel the run produced, with its step
//! mlruns/<exp>/<run>/artifacts/...              the run's files
//! mlruns/<exp>/models/<m-id>/...                a LoggedModel: meta.yaml, params, tags,
//!                                               metrics (`timestamp value step run_id`), artifacts
//! mlruns/models/<name>/meta.yaml, tags, aliases a registered model
//! mlruns/models/<name>/version-<n>/meta.yaml    a version (and its tags/)
//! ```

mod files;

use std::path::{Path, PathBuf};

use files::{
    dir_name, is_run_id, metric_lines, parse_metric_line, parse_model_metric_line, path_of,
    read_meta, read_text, subdirs, subdirs_if_any, value_files,
};

use super::{
    ImportError, MlflowSource, PathOrUrl, RunData, RunHead, SourceExperiment, SourceFile,
    SourceLoggedModel, SourceRegisteredModel, SourceVersion, files_below, local_path,
    logged_model_status, run_status, stage,
};
use crate::store::{ClientMetric, ModelMetric, RunInput};

/// Folders of an experiment that hold no run.
const RESERVED: [&str; 4] = ["tags", "datasets", "traces", "models"];

/// An `mlruns/` folder.
pub struct FileStore {
    root: PathBuf,
}

/// Whether `dir` looks like an `mlruns/` folder: an experiment folder with a `meta.yaml`,
/// or the registry's `models/` or the `.trash/` folder.
pub fn looks_like_file_store(dir: &Path) -> bool {
    if dir.join(".trash").is_dir() || dir.join("models").is_dir() {
        return true;
    }
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().join("meta.yaml").is_file())
    })
}

impl FileStore {
    /// An `mlruns/` folder at `root`.
    pub fn open(root: &Path) -> Result<Self, ImportError> {
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    fn experiment_dir(&self, experiment: &SourceExperiment) -> PathBuf {
        PathBuf::from(&experiment.place)
    }

    fn experiment(&self, dir: &Path, in_trash: bool) -> Result<SourceExperiment, ImportError> {
        let meta_path = dir.join("meta.yaml");
        let meta = read_meta(&meta_path)?;
        let bad = |reason: String| ImportError::file(&meta_path, reason);
        let id = meta
            .text("experiment_id")
            .map(str::to_owned)
            .unwrap_or_else(|| dir_name(dir));
        Ok(SourceExperiment {
            id,
            name: meta.required("name").map_err(bad)?.to_owned(),
            tags: value_files(&dir.join("tags"))?,
            deleted: in_trash || meta.text("lifecycle_stage") == Some("deleted"),
            created_ms: meta.int("creation_time").map_err(bad)?,
            updated_ms: meta.int("last_update_time").map_err(bad)?,
            place: dir.display().to_string(),
        })
    }

    fn run_head(&self, dir: &Path) -> Result<RunHead, ImportError> {
        let meta_path = dir.join("meta.yaml");
        let meta = read_meta(&meta_path)?;
        let bad = |reason: String| ImportError::file(&meta_path, reason);
        let id = meta
            .text("run_id")
            .or_else(|| meta.text("run_uuid"))
            .ok_or_else(|| bad("missing run_id".into()))?
            .to_owned();
        let status_text = meta.required("status").map_err(bad)?;
        let status = run_status(status_text)
            .ok_or_else(|| bad(format!("status '{status_text}' is not one of 1 to 5")))?;
        let parent = dir.join("tags").join("mlflow.parentRunId");
        Ok(RunHead {
            experiment_id: meta.required("experiment_id").map_err(bad)?.to_owned(),
            name: meta
                .text("run_name")
                .or_else(|| meta.text("name"))
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            status,
            start_ms: meta.required_int("start_time").map_err(bad)?,
            end_ms: meta.int("end_time").map_err(bad)?,
            deleted: meta.text("lifecycle_stage") == Some("deleted"),
            parent_id: parent
                .is_file()
                .then(|| read_text(&parent))
                .transpose()?
                .map(|p| p.trim().to_owned()),
            artifact_uri: meta.text("artifact_uri").map(str::to_owned),
            place: PathOrUrl::Path(dir.to_path_buf()),
            id,
        })
    }

    fn input(
        &self,
        experiment_dir: &Path,
        meta_path: &Path,
    ) -> Result<Option<RunInput>, ImportError> {
        let meta = read_meta(meta_path)?;
        if meta.text("source_type") != Some("DATASET") {
            return Ok(None);
        }
        let bad = |reason: String| ImportError::file(meta_path, reason);
        let dataset_id = meta.required("source_id").map_err(bad)?;
        let dataset_path = experiment_dir
            .join("datasets")
            .join(dataset_id)
            .join("meta.yaml");
        let dataset = read_meta(&dataset_path)?;
        let bad = |reason: String| ImportError::file(&dataset_path, reason);
        Ok(Some(RunInput {
            name: dataset.required("name").map_err(bad)?.to_owned(),
            digest: dataset.required("digest").map_err(bad)?.to_owned(),
            source_type: dataset.text("source_type").unwrap_or_default().to_owned(),
            source: dataset.text("source").unwrap_or_default().to_owned(),
            schema: dataset.text("schema").map(str::to_owned),
            profile: dataset.text("profile").map(str::to_owned),
            tags: meta.pairs("tags"),
        }))
    }

    fn logged_model(&self, dir: &Path) -> Result<SourceLoggedModel, ImportError> {
        let meta_path = dir.join("meta.yaml");
        let meta = read_meta(&meta_path)?;
        let bad = |reason: String| ImportError::file(&meta_path, reason);
        let id = meta.required("model_id").map_err(bad)?.to_owned();
        let mut metrics = Vec::new();
        for file in files_below(&dir.join("metrics"))? {
            let path = path_of(&file.at);
            for (line, text) in metric_lines(&path)? {
                let parsed = parse_model_metric_line(&text)
                    .map_err(|r| ImportError::file(&path, format!("line {line}: {r}")))?;
                metrics.push(ModelMetric {
                    key: file.name.clone(),
                    value: parsed.value,
                    timestamp_ms: parsed.timestamp,
                    step: parsed.step,
                    run_id: Some(parsed.run_id),
                    dataset_name: parsed.dataset.as_ref().map(|d| d.0.clone()),
                    dataset_digest: parsed.dataset.map(|d| d.1),
                });
            }
        }
        let local = dir.join("artifacts");
        let files_dir = if local.is_dir() {
            local
        } else {
            meta.text("artifact_location")
                .and_then(local_path)
                .unwrap_or(local)
        };
        Ok(SourceLoggedModel {
            experiment_id: meta.required("experiment_id").map_err(bad)?.to_owned(),
            name: meta.required("name").map_err(bad)?.to_owned(),
            source_run_id: meta.text("source_run_id").map(str::to_owned),
            status: logged_model_status(meta.text("status").unwrap_or_default()),
            model_type: meta.text("model_type").unwrap_or_default().to_owned(),
            created_ms: meta.int("creation_timestamp").map_err(bad)?,
            updated_ms: meta.int("last_updated_timestamp").map_err(bad)?,
            params: value_files(&dir.join("params"))?,
            tags: value_files(&dir.join("tags"))?,
            metrics,
            files: files_below(&files_dir)?,
            place: PathOrUrl::Path(dir.to_path_buf()),
            id,
        })
    }

    fn registered_model(&self, dir: &Path) -> Result<SourceRegisteredModel, ImportError> {
        let meta_path = dir.join("meta.yaml");
        let meta = read_meta(&meta_path)?;
        let bad = |reason: String| ImportError::file(&meta_path, reason);
        let mut aliases = Vec::new();
        for (alias, version) in meta.pairs("aliases") {
            let number = version.parse().map_err(|_| {
                bad(format!(
                    "alias {alias} names version '{version}', not a number"
                ))
            })?;
            aliases.push((alias, number));
        }
        let mut versions = Vec::new();
        for entry in subdirs(dir)? {
            if !dir_name(&entry).starts_with("version-") {
                continue;
            }
            let path = entry.join("meta.yaml");
            let v = read_meta(&path)?;
            let bad = |reason: String| ImportError::file(&path, reason);
            let current = v.text("current_stage").unwrap_or("None");
            if current.eq_ignore_ascii_case("Deleted_Internal") {
                continue;
            }
            versions.push(SourceVersion {
                version: v.required_int("version").map_err(bad)?,
                source: v.text("source").unwrap_or_default().to_owned(),
                run_id: v
                    .text("run_id")
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
                model_id: v
                    .text("model_id")
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned),
                description: v.text("description").unwrap_or_default().to_owned(),
                stage: stage(current),
                tags: value_files(&entry.join("tags"))?,
            });
        }
        Ok(SourceRegisteredModel {
            name: meta.required("name").map_err(bad)?.to_owned(),
            description: meta.text("description").unwrap_or_default().to_owned(),
            tags: value_files(&dir.join("tags"))?,
            aliases,
            versions,
            place: PathOrUrl::Path(dir.to_path_buf()),
        })
    }
}

impl MlflowSource for FileStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn experiments(&self) -> Result<Vec<Result<SourceExperiment, ImportError>>, ImportError> {
        let mut out = Vec::new();
        let trash = self.root.join(".trash");
        let mut dirs: Vec<(PathBuf, bool)> = subdirs(&self.root)?
            .into_iter()
            .map(|d| (d, false))
            .collect();
        if trash.is_dir() {
            dirs.extend(subdirs(&trash)?.into_iter().map(|d| (d, true)));
        }
        for (dir, in_trash) in dirs {
            let name = dir_name(&dir);
            if name.starts_with('.') || name == "models" {
                continue;
            }
            if dir.join("meta.yaml").is_file() {
                out.push(self.experiment(&dir, in_trash));
            } else if name.chars().all(|c| c.is_ascii_digit()) {
                out.push(Err(ImportError::file(
                    dir.join("meta.yaml"),
                    "missing: the experiment folder has no meta.yaml",
                )));
            }
        }
        Ok(out)
    }

    fn runs(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<RunHead, ImportError>>, ImportError> {
        let dir = self.experiment_dir(experiment);
        let mut out = Vec::new();
        for run_dir in subdirs(&dir)? {
            let name = dir_name(&run_dir);
            if RESERVED.contains(&name.as_str()) {
                continue;
            }
            if run_dir.join("meta.yaml").is_file() {
                out.push(self.run_head(&run_dir));
            } else if is_run_id(&name) {
                out.push(Err(ImportError::file(
                    run_dir.join("meta.yaml"),
                    "missing: the run folder has no meta.yaml",
                )));
            }
        }
        Ok(out)
    }

    fn run_data(&self, run: &RunHead) -> Result<RunData, ImportError> {
        let dir = path_of(&run.place);
        let mut data = RunData {
            params: value_files(&dir.join("params"))?,
            tags: value_files(&dir.join("tags"))?,
            ..Default::default()
        };
        for file in files_below(&dir.join("metrics"))? {
            let path = path_of(&file.at);
            for (line, text) in metric_lines(&path)? {
                let (timestamp_ms, value, step) = parse_metric_line(&text)
                    .map_err(|r| ImportError::file(&path, format!("line {line}: {r}")))?;
                data.metrics.push(ClientMetric {
                    key: file.name.clone(),
                    value,
                    timestamp_ms,
                    step,
                });
            }
        }
        let experiment_dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
        for input_dir in subdirs_if_any(&dir.join("inputs"))? {
            if let Some(input) = self.input(&experiment_dir, &input_dir.join("meta.yaml"))? {
                data.inputs.push(input);
            }
        }
        for output_dir in subdirs_if_any(&dir.join("outputs"))? {
            let path = output_dir.join("meta.yaml");
            let meta = read_meta(&path)?;
            if meta.text("destination_type") == Some("MODEL_OUTPUT") {
                let model = meta
                    .required("destination_id")
                    .map_err(|r| ImportError::file(&path, r))?;
                let step = meta.int("step").map_err(|r| ImportError::file(&path, r))?;
                data.outputs.push((model.to_owned(), step.unwrap_or(0)));
            }
        }
        let local = dir.join("artifacts");
        let artifacts = match run.artifact_uri.as_deref() {
            _ if local.is_dir() => local,
            Some(uri) => match local_path(uri) {
                Some(path) => path,
                None => {
                    data.notes.push(format!(
                        "artifacts are at {uri}, not in a local folder; not copied"
                    ));
                    local
                }
            },
            None => local,
        };
        data.artifacts = files_below(&artifacts)?;
        Ok(data)
    }

    fn logged_models(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<SourceLoggedModel, ImportError>>, ImportError> {
        let mut out = Vec::new();
        for dir in subdirs_if_any(&self.experiment_dir(experiment).join("models"))? {
            // A deleted LoggedModel stays on disk marked `deleted`: left out, as MLflow hides it.
            let deleted = read_meta(&dir.join("meta.yaml"))
                .is_ok_and(|m| m.text("lifecycle_stage") == Some("deleted"));
            if !deleted {
                out.push(self.logged_model(&dir));
            }
        }
        Ok(out)
    }

    fn registered_models(
        &self,
    ) -> Result<Vec<Result<SourceRegisteredModel, ImportError>>, ImportError> {
        Ok(subdirs_if_any(&self.root.join("models"))?
            .into_iter()
            .map(|dir| self.registered_model(&dir))
            .collect())
    }

    fn read(&self, file: &SourceFile) -> Result<Vec<u8>, ImportError> {
        let path = path_of(&file.at);
        std::fs::read(&path).map_err(|e| ImportError::file(&path, format!("cannot read: {e}")))
    }
}
