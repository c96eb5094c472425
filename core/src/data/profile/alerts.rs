//! Data-quality alerts with ydata-profiling's kinds; thresholds are configurable.

use serde::{Deserialize, Serialize};

use super::{ColumnKind, ColumnProfile, CorrelationMatrix};

/// Thresholds of the alerts (defaults as in Kiln's documentation and ydata-profiling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertThresholds {
    /// Categorical columns with more distinct values than this are high-cardinality.
    pub high_cardinality: usize,
    /// |correlation| above this between two columns.
    pub high_correlation: f64,
    /// Imbalance (1 - normalised entropy) above this.
    pub imbalance: f64,
    /// |skewness| above this.
    pub skewness: f64,
    /// Fraction of missing values above this.
    pub missing: f64,
    /// Fraction of zeros above this.
    pub zeros: f64,
    /// Fraction of infinite values above this.
    pub infinite: f64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            high_cardinality: 50,
            high_correlation: 0.9,
            imbalance: 0.5,
            skewness: 20.0,
            missing: 0.01,
            zeros: 0.01,
            infinite: 0.01,
        }
    }
}

impl AlertThresholds {
    /// Sets one threshold from `NAME=VALUE` (names as the fields: `missing=0.05`,
    /// `high_cardinality=100`, `skewness=10`, ...).
    pub fn set(&mut self, text: &str) -> Result<(), String> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("'{text}': expected NAME=VALUE, e.g. missing=0.05"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': '{}' is not a number", value.trim()))?;
        if !(value >= 0.0 && value.is_finite()) {
            return Err(format!("'{text}': a threshold must be zero or more"));
        }
        match name.trim() {
            "high_cardinality" => self.high_cardinality = value as usize,
            "high_correlation" => self.high_correlation = value,
            "imbalance" => self.imbalance = value,
            "skewness" | "skewed" => self.skewness = value,
            "missing" => self.missing = value,
            "zeros" => self.zeros = value,
            "infinite" => self.infinite = value,
            other => {
                return Err(format!(
                    "unknown threshold '{other}' (high_cardinality, high_correlation, imbalance, skewness, missing, zeros, infinite)"
                ));
            }
        }
        Ok(())
    }
}

/// One finding about the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The column concerned, or `None` for the whole dataset.
    pub column: Option<String>,
    /// `constant`, `unique`, `high_cardinality`, `high_correlation`, `imbalance`, `skewed`,
    /// `missing`, `zeros`, `infinite`, `duplicates` or `empty`.
    pub kind: String,
    /// What was found, with the numbers.
    pub detail: String,
}

fn alert(column: &str, kind: &str, detail: String) -> Alert {
    Alert {
        column: Some(column.to_owned()),
        kind: kind.to_owned(),
        detail,
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// The `unique` alert's rule: every row holds a value and no two are equal (an id?).
/// Training applies the same rule to keep such columns out of one-hot encoding.
pub fn is_unique(distinct: usize, non_missing: usize, rows: usize) -> bool {
    distinct == non_missing && non_missing == rows && rows > 1
}

/// The `high_cardinality` alert's rule for a categorical or text column. Training applies
/// the same rule (with the same default limit) before one-hot encoding.
pub fn is_high_cardinality(distinct: usize, limit: usize) -> bool {
    distinct > limit
}

/// Alerts of one column.
/// `class_counts` are the counts of every distinct value of a nominal column (empty otherwise).
pub fn column_alerts(
    c: &ColumnProfile,
    class_counts: &[u64],
    rows: usize,
    t: &AlertThresholds,
) -> Vec<Alert> {
    let mut out = Vec::new();
    let name = c.name.as_str();
    if c.count == 0 {
        out.push(alert(name, "empty", "every value is missing".into()));
        return out;
    }
    let total = rows.max(1) as f64;
    if c.distinct == 1 {
        out.push(alert(
            name,
            "constant",
            format!("one distinct value in {} rows", c.count),
        ));
    } else if is_unique(c.distinct, c.count, rows) {
        out.push(alert(
            name,
            "unique",
            "every value is different (an id?)".into(),
        ));
    }
    let nominal = matches!(
        c.kind,
        ColumnKind::Categorical | ColumnKind::Text | ColumnKind::Boolean
    );
    if matches!(c.kind, ColumnKind::Categorical | ColumnKind::Text)
        && is_high_cardinality(c.distinct, t.high_cardinality)
    {
        out.push(alert(
            name,
            "high_cardinality",
            format!("{} distinct values", c.distinct),
        ));
    }
    if nominal && c.distinct > 1 && c.distinct <= t.high_cardinality {
        let imbalance = imbalance(class_counts, c.count);
        if imbalance > t.imbalance {
            out.push(alert(
                name,
                "imbalance",
                format!("imbalance {imbalance:.2} (1 - normalised entropy)"),
            ));
        }
    }
    if let Some(skew) = c.skewness.filter(|s| s.abs() > t.skewness) {
        out.push(alert(name, "skewed", format!("skewness {skew:.1}")));
    }
    // Share-of-rows alerts: "N what (P%)" when the share passes its threshold.
    let shares = [
        ("missing", Some(c.nulls as u64), t.missing, "missing"),
        ("zeros", c.zeros, t.zeros, "zeros"),
        ("infinite", c.infinities, t.infinite, "infinite values"),
    ];
    for (kind, count, limit, what) in shares {
        let Some(count) = count else { continue };
        let fraction = count as f64 / total;
        if fraction > limit {
            out.push(alert(
                name,
                kind,
                format!("{count} {what} ({})", percent(fraction)),
            ));
        }
    }
    out
}

/// 1 - entropy / log(classes) of the class counts (0 = balanced, 1 = one class only).
pub fn imbalance(counts: &[u64], total: usize) -> f64 {
    let classes = counts.len();
    if classes <= 1 || total == 0 {
        return 0.0;
    }
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.ln()
        })
        .sum();
    1.0 - entropy / (classes as f64).ln()
}

/// Pairs of columns whose |Pearson| or |Spearman| correlation exceeds the threshold.
pub fn correlation_alerts(matrices: &[&CorrelationMatrix], t: &AlertThresholds) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for m in matrices {
        for (i, row) in m.matrix.iter().enumerate() {
            for (j, value) in row.iter().enumerate().skip(i + 1) {
                if let Some(v) = value.filter(|v| v.abs() > t.high_correlation)
                    && seen.insert((i, j))
                {
                    out.push(alert(
                        &m.columns[i],
                        "high_correlation",
                        format!("correlated with '{}' ({v:.3})", m.columns[j]),
                    ));
                }
            }
        }
    }
    out
}

/// The dataset-level alert about duplicate rows.
pub fn duplicate_alert(duplicates: usize, rows: usize) -> Option<Alert> {
    (duplicates > 0).then(|| Alert {
        column: None,
        kind: "duplicates".into(),
        detail: format!(
            "{duplicates} duplicate rows ({})",
            percent(duplicates as f64 / rows.max(1) as f64)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_set_by_name() {
        let mut t = AlertThresholds::default();
        t.set("missing=0.05").expect("set");
        t.set("high_cardinality=100").expect("set");
        assert_eq!((t.missing, t.high_cardinality), (0.05, 100));
        assert!(
            t.set("colour=1")
                .expect_err("unknown")
                .contains("unknown threshold")
        );
        assert!(t.set("missing=-1").is_err());
    }

    #[test]
    fn imbalance_is_zero_when_balanced_and_high_when_dominated() {
        assert!(imbalance(&[50, 50], 100).abs() < 1e-12);
        assert!(imbalance(&[99, 1], 100) > 0.9);
    }
}
