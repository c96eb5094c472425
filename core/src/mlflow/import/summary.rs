//! What an import did: per kind, how many items were new and how many were there already,
//! and every problem (naming its file) and note.

use serde::Serialize;

use super::ImportError;

/// New versus already-there counts of one kind of item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Copied by this import.
    pub new: u64,
    /// In the Kiln store already (from an earlier import), left as they are.
    pub existing: u64,
}

impl Counts {
    /// `3 new, 2 already there`.
    pub fn words(&self) -> String {
        format!("{} new, {} already there", self.new, self.existing)
    }
}

/// One item that could not be imported; the import went on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What it was: `run 0a1b…`, `registered model clf`, `experiment 3`.
    pub item: String,
    /// Why, naming the file or URL when the source is at fault.
    pub message: String,
}

impl Problem {
    /// A problem with `item`; errors that name no file are prefixed with the item.
    pub fn new(item: impl Into<String>, error: &ImportError) -> Self {
        let item = item.into();
        let message = match error {
            ImportError::File { .. } | ImportError::Http { .. } => error.to_string(),
            other => format!("{item}: {other}"),
        };
        Self { item, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// What was imported from (path or URL).
    pub source: String,
    /// Experiments (matched by name).
    pub experiments: Counts,
    /// Runs (matched by id).
    pub runs: Counts,
    /// Runs that were in the store but still `running` there, written again (an import that
    /// stopped part-way, or a run that was still going in MLflow).
    pub runs_completed: u64,
    /// Metric values (every step of every history).
    pub metric_points: Counts,
    /// Run artifact files.
    pub artifacts: Counts,
    /// MLflow 3 LoggedModels.
    pub logged_models: Counts,
    /// Registered models (matched by name).
    pub registered_models: Counts,
    /// Model versions (matched by the MLflow version number each recorded).
    pub versions: Counts,
    /// Stages set on imported versions.
    pub stages_set: u64,
    /// Aliases set.
    pub aliases_set: u64,
    /// Items left out, each with its reason.
    pub problems: Vec<Problem>,
    /// Things imported only in part, or changed on the way, and why.
    pub notes: Vec<String>,
}

impl ImportSummary {
    /// The summary as lines for a terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("imported from {}", self.source),
            format!("  experiments        {}", self.experiments.words()),
            format!("  runs               {}", self.runs.words()),
            format!("  metric points      {}", self.metric_points.words()),
            format!("  artifacts          {}", self.artifacts.words()),
            format!("  logged models      {}", self.logged_models.words()),
            format!("  registered models  {}", self.registered_models.words()),
            format!("  model versions     {}", self.versions.words()),
        ];
        if self.runs_completed > 0 {
            out.push(format!(
                "  {} run(s) that were still running in Kiln were written again",
                self.runs_completed
            ));
        }
        if self.stages_set + self.aliases_set > 0 {
            out.push(format!(
                "  {} stage(s) and {} alias(es) set",
                self.stages_set, self.aliases_set
            ));
        }
        for note in &self.notes {
            out.push(format!("note: {note}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_with_a_file_reads_as_the_file_error() {
        let e = ImportError::file("mlruns/1/abc/meta.yaml", "missing start_time");
        let p = Problem::new("run abc", &e);
        assert_eq!(p.to_string(), "mlruns/1/abc/meta.yaml: missing start_time");
        let e = ImportError::Cancelled;
        assert!(
            Problem::new("run abc", &e)
                .to_string()
                .starts_with("run abc: ")
        );
    }

    #[test]
    fn the_summary_says_new_and_already_there_for_every_kind() {
        let summary = ImportSummary {
            source: "mlruns".into(),
            runs: Counts {
                new: 3,
                existing: 2,
            },
            ..Default::default()
        };
        let lines = summary.lines();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("runs") && l.ends_with("3 new, 2 already there"))
        );
        assert_eq!(lines.len(), 8);
    }
}
