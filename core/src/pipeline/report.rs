//! A pipeline run as a report: Markdown for a pull-request comment, JUnit XML for the test
//! view every CI has (each stage and each gate a test case; a failed one a `<failure>`, an
//! up-to-date one `<skipped>`).

use std::fmt::Write;
use std::path::Path;

use super::{PipelineOutcome, StageStatus};

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// `.md`, `.markdown`.
    Markdown,
    /// `.xml` (JUnit).
    Junit,
}

impl ReportFormat {
    /// The format a file name asks for, by its extension; `None` for any other.
    pub fn of_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Some(Self::Markdown),
            "xml" => Some(Self::Junit),
            _ => None,
        }
    }
}

/// Writes the report of `outcome` to `path`, in the format its extension names.
pub fn write_report(outcome: &PipelineOutcome, path: &Path) -> std::io::Result<()> {
    let text = match ReportFormat::of_path(path) {
        Some(ReportFormat::Markdown) => markdown(outcome),
        Some(ReportFormat::Junit) => junit(outcome),
        None => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{}: a report is .md (Markdown) or .xml (JUnit)",
                    path.display()
                ),
            ));
        }
    };
    std::fs::write(path, text)
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The outcome as Markdown.
pub fn markdown(outcome: &PipelineOutcome) -> String {
    let mut out = String::new();
    let verdict = match &outcome.failure {
        None if outcome.up_to_date() => "up to date".to_owned(),
        None => "passed".to_owned(),
        Some(f) => format!("failed at `{}`", f.stage),
    };
    let icon = if outcome.passed() { "✅" } else { "❌" };
    let _ = writeln!(
        out,
        "## {icon} Pipeline `{}`: {verdict}\n",
        outcome.pipeline
    );
    if let Some(f) = &outcome.failure {
        let _ = writeln!(out, "**error:** {}: {}\n", f.stage, cell(&f.message));
    }
    let _ = writeln!(out, "| stage | status | duration | reason |");
    let _ = writeln!(out, "|---|---|---:|---|");
    for s in &outcome.stages {
        let _ = writeln!(
            out,
            "| `{}` | {} | {:.2} s | {} |",
            s.name,
            s.status.as_str(),
            s.duration_s,
            cell(&s.reason)
        );
    }
    if !outcome.gates.is_empty() {
        let _ = writeln!(out, "\n| gate | result | detail |");
        let _ = writeln!(out, "|---|---|---|");
        for g in &outcome.gates {
            let result = if g.passed { "passed" } else { "**failed**" };
            let _ = writeln!(
                out,
                "| {} | {result} | {} |",
                cell(&g.gate),
                cell(&g.detail)
            );
        }
    }
    let _ = writeln!(out);
    match &outcome.model {
        Some(m) => {
            let _ = writeln!(out, "Model: `{}:{}` ({})", m.name, m.version, m.stage);
        }
        None => {
            let _ = writeln!(out, "Model: none registered");
        }
    }
    if let Some(run) = &outcome.run_id {
        let _ = writeln!(out, "Run: `{run}`");
    }
    if let Some(commit) = &outcome.git_commit {
        let _ = writeln!(out, "Commit: `{commit}`");
    }
    out
}

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// The outcome as JUnit XML: one `<testsuite>` of the stages, one of the gates.
pub fn junit(outcome: &PipelineOutcome) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let stage_failures = outcome
        .stages
        .iter()
        .filter(|s| s.status == StageStatus::Failed)
        .count();
    let gate_failures = outcome.gates.iter().filter(|g| !g.passed).count();
    let skipped = outcome
        .stages
        .iter()
        .filter(|s| s.status == StageStatus::Skipped)
        .count();
    let tests = outcome.stages.len() + outcome.gates.len();
    let name = xml(&outcome.pipeline);
    let _ = writeln!(
        out,
        "<testsuites name=\"kiln pipeline {name}\" tests=\"{tests}\" failures=\"{}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
        stage_failures + gate_failures,
        outcome.duration_s
    );
    let time: f64 = outcome.stages.iter().map(|s| s.duration_s).sum();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}.stages\" tests=\"{}\" failures=\"{stage_failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        outcome.stages.len()
    );
    for s in &outcome.stages {
        let _ = write!(
            out,
            "    <testcase classname=\"{name}.stages\" name=\"{}\" time=\"{:.3}\"",
            xml(&s.name),
            s.duration_s
        );
        match s.status {
            StageStatus::Ran => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    xml(&s.reason)
                );
            }
            StageStatus::Skipped => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(&s.reason)
                );
            }
            StageStatus::Failed => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    xml(&s.reason),
                    xml(&s.name),
                    xml(&s.reason)
                );
            }
        }
    }
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}.gates\" tests=\"{}\" failures=\"{gate_failures}\" errors=\"0\" skipped=\"0\" time=\"0\">",
        outcome.gates.len()
    );
    for g in &outcome.gates {
        let _ = write!(
            out,
            "    <testcase classname=\"{name}.gates\" name=\"{}\" time=\"0\"",
            xml(&g.gate)
        );
        if g.passed {
            let _ = writeln!(
                out,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                xml(&g.detail)
            );
        } else {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"gate\">{}</failure>\n    </testcase>",
                xml(&g.detail),
                xml(&g.detail)
            );
        }
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}
