//! Data validation: an input's profile (and, for drift, the data itself) against its
//! `[data.NAME.expect]` table. Each failure names the column and the rule.

use polars::prelude::DataFrame;
use serde::Serialize;

use super::config::Expect;
use crate::data::profile::{ColumnProfile, Profile};
use crate::deploy::drift::{DriftOptions, drift_report};

/// One broken expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The column at fault (`None` for rules on the whole table: `rows`, `drift`).
    pub column: Option<String>,
    /// The rule: `columns`, `rows`, `max_missing`, `range`, `types` or `drift`.
    pub rule: &'static str,
    /// What was found.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column '{column}': {}: {}", self.rule, self.detail),
            None => write!(f, "{}: {}", self.rule, self.detail),
        }
    }
}

fn column<'a>(profile: &'a Profile, name: &str) -> Option<&'a ColumnProfile> {
    profile.columns.iter().find(|c| c.name == name)
}

fn violation(column: Option<&str>, rule: &'static str, detail: String) -> Violation {
    Violation {
        column: column.map(str::to_owned),
        rule,
        detail,
    }
}

/// Checks `expect` on a table's `profile`; `drift` is the data and its reference when the
/// expectations compare with one. Every broken rule is reported, in the table's order.
pub fn check(
    expect: &Expect,
    profile: &Profile,
    drift: Option<(&DataFrame, &DataFrame)>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let missing = |name: &str, rule: &'static str| {
        violation(
            Some(name),
            rule,
            "the column is missing from the data".to_owned(),
        )
    };
    for name in &expect.columns {
        if column(profile, name).is_none() {
            out.push(violation(
                Some(name),
                "columns",
                "required column is missing".into(),
            ));
        }
    }
    if let Some(rows) = expect.rows {
        let n = profile.rows as u64;
        if let Some(min) = rows.min
            && n < min
        {
            out.push(violation(
                None,
                "rows",
                format!("{n} rows, fewer than the minimum {min}"),
            ));
        }
        if let Some(max) = rows.max
            && n > max
        {
            out.push(violation(
                None,
                "rows",
                format!("{n} rows, more than the maximum {max}"),
            ));
        }
    }
    for (name, limit) in &expect.max_missing {
        let Some(c) = column(profile, name) else {
            out.push(missing(name, "max_missing"));
            continue;
        };
        let total = c.count + c.nulls;
        let share = if total == 0 {
            0.0
        } else {
            c.nulls as f64 / total as f64
        };
        if share > *limit {
            out.push(violation(
                Some(name),
                "max_missing",
                format!(
                    "{} of {total} values missing ({:.1}%), more than the allowed {:.1}%",
                    c.nulls,
                    share * 100.0,
                    limit * 100.0
                ),
            ));
        }
    }
    for (name, [lo, hi]) in &expect.range {
        let Some(c) = column(profile, name) else {
            out.push(missing(name, "range"));
            continue;
        };
        match (c.min, c.max) {
            (Some(min), Some(max)) => {
                if min < *lo || max > *hi {
                    out.push(violation(
                        Some(name),
                        "range",
                        format!("values from {min} to {max}, outside [{lo}, {hi}]"),
                    ));
                }
            }
            _ if c.count == 0 => {}
            _ => out.push(violation(
                Some(name),
                "range",
                format!("the column is {} ({}), not numeric", c.dtype, kind_name(c)),
            )),
        }
    }
    for (name, kind) in &expect.types {
        let Some(c) = column(profile, name) else {
            out.push(missing(name, "types"));
            continue;
        };
        if c.kind != *kind {
            out.push(violation(
                Some(name),
                "types",
                format!(
                    "expected {}, found {} ({})",
                    serde_name(kind),
                    kind_name(c),
                    c.dtype
                ),
            ));
        }
    }
    if let (Some(rule), Some((current, reference))) = (&expect.drift, drift) {
        let options = DriftOptions {
            exclude: rule.exclude.clone(),
            drift_share: rule.max_share,
        };
        match drift_report(reference, current, &options) {
            Err(e) => out.push(violation(None, "drift", e.to_string())),
            Ok(report) if report.dataset_drift => {
                let drifted: Vec<&str> = report
                    .columns
                    .iter()
                    .filter(|c| c.drifted)
                    .map(|c| c.column.as_str())
                    .collect();
                out.push(violation(
                    None,
                    "drift",
                    format!(
                        "{} of {} columns drifted (share {:.2}, max_share {}): {}",
                        report.drifted,
                        report.columns.len(),
                        report.share,
                        rule.max_share,
                        drifted.join(", ")
                    ),
                ));
            }
            Ok(_) => {}
        }
    }
    out
}

fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn kind_name(c: &ColumnProfile) -> String {
    serde_name(&c.kind)
}
