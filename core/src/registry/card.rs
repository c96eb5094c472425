//! Model cards, filled from what the store knows about a version, in the sections of
//! Mitchell et al., "Model Cards for Model Reporting" (2019): model details, intended use,
//! factors, metrics, evaluation data, training data, quantitative analyses, ethical
//! considerations, caveats and recommendations. Written as Markdown or HTML.

use serde::Serialize;

use super::{RegistryResult, load_version_model};
use crate::inference::Model;
use crate::store::{ModelVersion, Store};

/// One section: a title and its paragraphs or `key: value` lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Lines of text.
    pub lines: Vec<String>,
}

/// A model card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCard {
    /// `NAME version N`.
    pub title: String,
    /// The sections, in Mitchell et al.'s order.
    pub sections: Vec<Section>,
}

fn section(title: &str, lines: Vec<String>) -> Section {
    Section {
        title: title.to_owned(),
        lines,
    }
}

fn or_unstated(lines: Vec<String>, what: &str) -> Vec<String> {
    if lines.is_empty() {
        vec![format!("Not recorded yet: {what}.")]
    } else {
        lines
    }
}

/// The card of a version, from the store: the version, its run, its model and its data.
pub fn model_card(store: &Store, version: &ModelVersion) -> RegistryResult<ModelCard> {
    let model = load_version_model(store, version)?;
    let run = match &version.run_id {
        Some(id) => Some(store.run_detail(id)?),
        None => None,
    };
    let dataset = match version.dataset_version_id {
        Some(id) => Some(store.dataset_version(id)?),
        None => None,
    };
    let mut details = vec![
        format!("Model: {} ({:?})", model.kind_name(), model.task()),
        format!(
            "Version: {} of {}, stage {}",
            version.version, version.name, version.stage
        ),
        format!(
            "Created by {} at {}",
            version.created_by, version.created_at
        ),
    ];
    match &model {
        Model::Native(native) => {
            details.push(format!("Trained by Kiln {}", native.kiln_version));
            let params: Vec<String> = native
                .spec
                .params()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            details.push(format!("Hyper-parameters: {}", params.join(", ")));
        }
        Model::Onnx(onnx) => {
            if let Some(source) = &onnx.signature.source {
                details.push(format!(
                    "Imported from ONNX file {} (sha256 {})",
                    source.file, source.sha256
                ));
            }
        }
    }
    if !version.aliases.is_empty() {
        details.push(format!("Aliases: {}", version.aliases.join(", ")));
    }
    if let Some(run) = &run {
        details.push(format!("Source run: {} ({})", run.run.id, run.run.name));
        if let Some(commit) = &run.run.git_commit {
            details.push(format!("Code: git commit {commit}"));
        }
    }
    let inputs: Vec<String> = model
        .inputs()
        .iter()
        .map(|(name, dtype)| format!("{name} ({dtype})"))
        .collect();
    let factors = vec![
        format!("Inputs: {}", inputs.join(", ")),
        format!("Predicts: {}", model.target().unwrap_or("(not named)")),
    ];
    let metrics: Vec<String> = version
        .metrics
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.ends_with("_std"))
                .map(|(k, v)| format!("{k}: {v}"))
                .collect()
        })
        .unwrap_or_default();
    let mut evaluation = Vec::new();
    let mut training = Vec::new();
    if let Some(run) = &run {
        match (run.params.get("cv"), run.params.get("test_size")) {
            (Some(k), _) => evaluation.push(format!(
                "Stratified {k}-fold cross-validation on the training data (means over folds)"
            )),
            (None, Some(share)) => evaluation.push(format!(
                "A held-out {share} of the rows, split with seed {}",
                run.run.seed.unwrap_or_default()
            )),
            (None, None) => evaluation.push("A separate test file given at training".into()),
        }
    }
    if let Some(d) = &dataset {
        training.push(format!(
            "Dataset {} version {}: {} rows, file {}",
            d.dataset, d.version, d.rows, d.path
        ));
        training.push(format!("sha256 {}", d.fingerprint));
        if let Some(columns) = d.schema.get("columns").and_then(|c| c.as_array()) {
            training.push(format!("{} columns", columns.len()));
        }
    }
    let mut caveats: Vec<String> = run
        .as_ref()
        .map(|r| {
            r.tags
                .iter()
                .filter(|(k, _)| {
                    k.starts_with("warning.")
                        || k.starts_with("left_out.")
                        || k.starts_with("absent.")
                })
                .map(|(k, v)| format!("{k}: {v}"))
                .collect()
        })
        .unwrap_or_default();
    let left_out = match &model {
        Model::Native(native) => native.pipeline.left_out.clone(),
        Model::Onnx(_) => Vec::new(),
    };
    for left in &left_out {
        let line = format!("left_out.{}: {}", left.column, left.reason);
        if !caveats.contains(&line) {
            caveats.push(line);
        }
    }
    let intended = if version.description.trim().is_empty() {
        Vec::new()
    } else {
        vec![version.description.clone()]
    };
    Ok(ModelCard {
        title: format!("{} version {}", version.name, version.version),
        sections: vec![
            section("Model details", details),
            section(
                "Intended use",
                or_unstated(
                    intended,
                    "describe the intended use in the version's description",
                ),
            ),
            section("Factors", factors),
            section("Metrics", or_unstated(metrics, "metrics")),
            section(
                "Evaluation data",
                or_unstated(evaluation, "how the model was evaluated"),
            ),
            section("Training data", or_unstated(training, "the training data")),
            section(
                "Quantitative analyses",
                vec![
                    "Fairness by group: run `kiln models fairness REF --data FILE --sensitive COL`."
                        .into(),
                ],
            ),
            section(
                "Ethical considerations",
                vec!["Not recorded yet: who could be harmed by errors, and how.".into()],
            ),
            section(
                "Caveats and recommendations",
                or_unstated(caveats, "caveats (none were found by Kiln)"),
            ),
        ],
    })
}

impl ModelCard {
    /// The card as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# Model card: {}\n", self.title);
        for s in &self.sections {
            out.push_str(&format!("\n## {}\n\n", s.title));
            for line in &s.lines {
                out.push_str(&format!("- {line}\n"));
            }
        }
        out
    }

    /// The card as a standalone HTML page.
    pub fn to_html(&self) -> String {
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut out = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Model card: {0}</title></head>\n<body>\n<h1>Model card: {0}</h1>\n",
            esc(&self.title)
        );
        for s in &self.sections {
            out.push_str(&format!("<h2>{}</h2>\n<ul>\n", esc(&s.title)));
            for line in &s.lines {
                out.push_str(&format!("<li>{}</li>\n", esc(line)));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}
