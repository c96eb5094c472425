//! Where a registered version comes from and where it goes: dataset version, run, model
//! version, deployment. The deployment is the endpoint that last swapped the version in (its
//! `deploy` audit entry); without one the link says so, rather than being left out.

use serde::Serialize;

use crate::store::{ModelVersion, Stage, Store, StoreError, StoreResult};

/// The data a version was trained on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetNode {
    /// Registered dataset name and version (`None` when the run read a file that was never
    /// registered as a dataset: then only the fingerprint is known).
    pub name: Option<(String, i64)>,
    /// sha256 of the training data's bytes.
    pub fingerprint: String,
    /// Rows, when registered.
    pub rows: Option<i64>,
}

/// The run a version was registered from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunNode {
    /// Run id.
    pub id: String,
    /// Run name.
    pub name: String,
    /// Experiment.
    pub experiment: String,
    /// `finished`, ...
    pub status: String,
}

/// A version's lineage, left to right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lineage {
    /// The training data, if recorded.
    pub dataset: Option<DatasetNode>,
    /// The source run (absent for an imported model, or a run since removed).
    pub run: Option<RunNode>,
    /// Model name.
    pub model: String,
    /// Version.
    pub version: i64,
    /// Its stage.
    pub stage: Stage,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// The endpoint that last swapped it in, from the audit trail (`None` when none did).
    pub deployment: Option<String>,
    /// The pipeline run (`kiln run`) that registered it, when a pipeline did.
    pub pipeline: Option<PipelineNode>,
}

/// The pipeline run that registered a version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineNode {
    /// Id of the pipeline run in the store.
    pub id: i64,
    /// `[pipeline] name`.
    pub pipeline: String,
    /// The `kiln.toml` that ran.
    pub project: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// The git commit of the project, if any.
    pub git_commit: Option<String>,
}

/// The lineage of `version`, read from the store.
pub fn lineage(store: &Store, version: &ModelVersion) -> StoreResult<Lineage> {
    let registered = match version.dataset_version_id {
        Some(id) => match store.dataset_version(id) {
            Ok(d) => Some(d),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let dataset = match (&registered, &version.dataset_fingerprint) {
        (Some(d), _) => Some(DatasetNode {
            name: Some((d.dataset.clone(), d.version)),
            fingerprint: d.fingerprint.clone(),
            rows: Some(d.rows),
        }),
        (None, Some(fingerprint)) => Some(DatasetNode {
            name: None,
            fingerprint: fingerprint.clone(),
            rows: None,
        }),
        (None, None) => None,
    };
    let run = match &version.run_id {
        Some(id) => match store.run(id) {
            Ok(run) => Some(RunNode {
                id: run.id,
                name: run.name,
                experiment: run.experiment,
                status: run.status.to_string(),
            }),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    Ok(Lineage {
        dataset,
        run,
        model: version.name.clone(),
        version: version.version,
        stage: version.stage,
        aliases: version.aliases.clone(),
        deployment: last_deployment(store, version)?,
        pipeline: store
            .pipeline_run_of_version(&version.name, version.version)?
            .map(|p| PipelineNode {
                id: p.id,
                pipeline: p.pipeline,
                project: p.project,
                started_at: p.started_at,
                git_commit: p.git_commit,
            }),
    })
}

/// The endpoint that last swapped this version in (a server following a stage or alias
/// writes a `deploy` entry each time), as `URL (since TIME)`.
fn last_deployment(store: &Store, version: &ModelVersion) -> StoreResult<Option<String>> {
    Ok(store
        .audit_log(Some(&version.name))?
        .iter()
        .rev()
        .find(|e| e.action == "deploy" && e.version == Some(version.version))
        .and_then(|e| {
            let endpoint = e.after["endpoint"].as_str()?;
            Some(format!(
                "{endpoint} (since {})",
                e.at.get(..19).unwrap_or(&e.at)
            ))
        }))
}
