//! What the Registry workspace shows, computed once in the loading job: one display row per
//! version and per audit entry, so drawing only lays out strings.

use kiln_core::store::{AuditEntry, ModelVersion, Stage};

/// Metrics shown first when a version has them, in this order.
const KEY_METRICS: [&str; 7] = [
    "accuracy", "f1_macro", "roc_auc", "r2", "rmse", "mae", "log_loss",
];

/// Most metrics shown in a version's row.
const SHOWN_METRICS: usize = 2;

/// One version as the versions table shows it.
#[derive(Debug, Clone)]
pub struct VersionRow {
    /// 1, 2, ...
    pub version: i64,
    /// Stage.
    pub stage: Stage,
    /// Aliases pointing at it.
    pub aliases: Vec<String>,
    /// Key metrics, `accuracy 0.9767 · f1_macro 0.9700`.
    pub metrics: String,
    /// Every metric of the snapshot, one per line (the hover text).
    pub all_metrics: String,
    /// OS user who registered it.
    pub created_by: String,
    /// When, `2026-12-02 05:01`.
    pub created_at: String,
    /// Source run.
    pub run_id: Option<String>,
}

impl VersionRow {
    /// The row of a version.
    pub fn of(version: &ModelVersion) -> Self {
        let metrics: Vec<(String, f64)> = version
            .metrics
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x)))
                    .collect()
            })
            .unwrap_or_default();
        let mut key: Vec<&(String, f64)> = KEY_METRICS
            .iter()
            .filter_map(|name| metrics.iter().find(|(k, _)| k == name))
            .take(SHOWN_METRICS)
            .collect();
        if key.is_empty() {
            key = metrics.iter().take(SHOWN_METRICS).collect();
        }
        let shown = key
            .iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect::<Vec<_>>()
            .join(" · ");
        let all = metrics
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            version: version.version,
            stage: version.stage,
            aliases: version.aliases.clone(),
            metrics: shown,
            all_metrics: all,
            created_by: version.created_by.clone(),
            created_at: short_time(&version.created_at),
            run_id: version.run_id.clone(),
        }
    }
}

/// One audit entry as the timeline shows it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Position in the log.
    pub seq: i64,
    /// When, `2026-12-02 05:01:33`.
    pub at: String,
    /// OS user.
    pub user: String,
    /// `register`, `stage`, `gates`, ...
    pub action: String,
    /// `penguins:1` (or `penguins` for a model-wide change) in the whole registry's
    /// timeline; `1` (or `model`) in one model's, where the name would only repeat.
    pub target: String,
    /// Why.
    pub reason: String,
    /// Before -> after, in words.
    pub change: String,
}

impl AuditRow {
    /// The row of an audit entry; `with_model` names the model in the target.
    pub fn of(entry: &AuditEntry, with_model: bool) -> Self {
        Self {
            seq: entry.seq,
            at: entry.at.replace('T', " ").chars().take(19).collect(),
            user: entry.user.clone(),
            action: entry.action.clone(),
            target: match (entry.version, with_model) {
                (Some(v), true) => format!("{}:{v}", entry.model),
                (Some(v), false) => v.to_string(),
                (None, true) => entry.model.clone(),
                (None, false) => "model".into(),
            },
            reason: entry.reason.clone(),
            change: change_text(entry),
        }
    }
}

fn short_time(rfc3339: &str) -> String {
    rfc3339.replace('T', " ").chars().take(16).collect()
}

fn text(value: &serde_json::Value, key: &str) -> String {
    match value.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "none".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// Before -> after of an entry, in words.
pub fn change_text(entry: &AuditEntry) -> String {
    let (before, after) = (&entry.before, &entry.after);
    match entry.action.as_str() {
        "stage" => format!("{} -> {}", text(before, "stage"), text(after, "stage")),
        "register" => format!("new version, stage {}", text(after, "stage")),
        "alias" => format!(
            "alias {}: {} -> {}",
            text(after, "alias"),
            text(before, "version"),
            text(after, "version")
        ),
        "gates" => {
            let gates = after
                .get("gates")
                .and_then(serde_json::Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let failed: Vec<String> = gates
                .iter()
                .filter(|g| g.get("passed").and_then(serde_json::Value::as_bool) == Some(false))
                .map(|g| text(g, "gate"))
                .collect();
            let verdict = if gates.is_empty() {
                "no gates".to_owned()
            } else if failed.is_empty() {
                format!("gates passed: {}", gates.len())
            } else {
                format!("gates failed: {}", failed.join(", "))
            };
            format!(
                "{} -> {} ({verdict})",
                text(before, "stage"),
                text(after, "to")
            )
        }
        "override" => {
            let failed = before
                .get("failed_gates")
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(serde_json::Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!("overrode {failed} -> {}", text(after, "to"))
        }
        "approve" => format!("approved for {}", text(after, "to")),
        "policy" => "gate policy replaced".to_owned(),
        _ => {
            let show = |v: &serde_json::Value| {
                if v.is_null() {
                    "—".to_owned()
                } else {
                    v.to_string()
                }
            };
            format!("{} -> {}", show(before), show(after))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, before: serde_json::Value, after: serde_json::Value) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: "2026-12-02T05:01:33.123Z".into(),
            user: "ana".into(),
            model: "penguins".into(),
            version: Some(1),
            action: action.into(),
            reason: "why".into(),
            before,
            after,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn changes_read_as_before_and_after() {
        let stage = entry(
            "stage",
            serde_json::json!({"stage": "none"}),
            serde_json::json!({"stage": "staging"}),
        );
        assert_eq!(change_text(&stage), "none -> staging");
        let alias = entry(
            "alias",
            serde_json::json!({"alias": "champion", "version": null}),
            serde_json::json!({"alias": "champion", "version": 2}),
        );
        assert_eq!(change_text(&alias), "alias champion: none -> 2");
        let gates = entry(
            "gates",
            serde_json::json!({"stage": "none"}),
            serde_json::json!({"to": "staging", "gates": [
                {"gate": "accuracy", "passed": false, "detail": ""},
                {"gate": "description", "passed": true, "detail": ""}
            ]}),
        );
        assert_eq!(
            change_text(&gates),
            "none -> staging (gates failed: accuracy)"
        );
        assert_eq!(AuditRow::of(&stage, true).at, "2026-12-02 05:01:33");
        assert_eq!(AuditRow::of(&stage, true).target, "penguins:1");
        assert_eq!(AuditRow::of(&stage, false).target, "1");
    }
}
