//! The retraining policy, the `[retrain]` table of a model's policy:
//!
//! ```toml
//! [retrain]
//! drift_share = 0.5        # retrain when at least this share of the input columns drifts
//! min_accuracy = 0.85      # ... or when live accuracy stays below this
//! accuracy_minutes = 1.0   # ... for this long
//! auto_promote = false     # a retrained version that passes the gates goes to Production
//! ```

use serde::Serialize;

use crate::deploy::simulate::LiveStats;

/// When a deployment retrains, and what happens to the retrained version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrainPolicy {
    /// Retrain when the latest drift window has at least this share of drifted columns.
    pub drift_share: Option<f64>,
    /// Retrain when live accuracy stays below this ...
    pub min_accuracy: Option<f64>,
    /// ... for this many minutes.
    pub accuracy_minutes: f64,
    /// Promote the retrained version to Production when its gates pass (else it waits in
    /// Staging as the candidate).
    pub auto_promote: bool,
}

impl Default for RetrainPolicy {
    fn default() -> Self {
        Self {
            drift_share: None,
            min_accuracy: None,
            accuracy_minutes: 1.0,
            auto_promote: false,
        }
    }
}

/// Why the policy fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Trigger {
    /// The drift window's share of drifted columns reached the policy's.
    Drift {
        /// Share seen.
        share: f64,
        /// The policy's share.
        threshold: f64,
    },
    /// Live accuracy stayed below the policy's for its time.
    Accuracy {
        /// Accuracy over that time.
        accuracy: f64,
        /// The policy's minimum.
        threshold: f64,
        /// Seconds it stayed below.
        seconds: f64,
    },
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Drift { share, threshold } => write!(
                f,
                "drift: {:.0}% of the input columns drifted (policy: at least {:.0}%)",
                100.0 * share,
                100.0 * threshold
            ),
            Self::Accuracy {
                accuracy,
                threshold,
                seconds,
            } => write!(
                f,
                "live accuracy {accuracy:.3} below {threshold} for {seconds:.0} s"
            ),
        }
    }
}

/// A key at fault (else the table) and why.
pub type FieldError = (Option<&'static str>, String);

impl RetrainPolicy {
    /// Parses the `[retrain]` table.
    pub fn parse(table: &toml::Table) -> Result<Self, FieldError> {
        let mut policy = Self::default();
        let number = |key: &'static str, value: &toml::Value| -> Result<f64, FieldError> {
            value
                .as_float()
                .or_else(|| value.as_integer().map(|i| i as f64))
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or((Some(key), format!("{key} is a number of 0 or more")))
        };
        for (key, value) in table {
            match key.as_str() {
                "drift_share" => {
                    let share = number("drift_share", value)?;
                    if share > 1.0 {
                        return Err((Some("drift_share"), "drift_share is a share, 0 to 1".into()));
                    }
                    policy.drift_share = Some(share);
                }
                "min_accuracy" => {
                    let accuracy = number("min_accuracy", value)?;
                    if accuracy > 1.0 {
                        return Err((Some("min_accuracy"), "min_accuracy is 0 to 1".into()));
                    }
                    policy.min_accuracy = Some(accuracy);
                }
                "accuracy_minutes" => policy.accuracy_minutes = number("accuracy_minutes", value)?,
                "auto_promote" => {
                    policy.auto_promote = value
                        .as_bool()
                        .ok_or((Some("auto_promote"), "auto_promote is true or false".into()))?
                }
                other => {
                    return Err((
                        None,
                        format!(
                            "unknown key '{other}' (drift_share, min_accuracy, accuracy_minutes, auto_promote)"
                        ),
                    ));
                }
            }
        }
        Ok(policy)
    }

    /// Whether `live` traffic fires the policy, and why.
    pub fn check(&self, live: &LiveStats) -> Option<Trigger> {
        if let (Some(threshold), Some(last)) = (self.drift_share, live.drift.last())
            && last.share >= threshold
            && threshold > 0.0
        {
            return Some(Trigger::Drift {
                share: last.share,
                threshold,
            });
        }
        let threshold = self.min_accuracy?;
        let span = (self.accuracy_minutes * 60.0).ceil().max(1.0) as usize;
        // The last whole seconds (the current one is still filling up).
        let whole = live.seconds.len().checked_sub(1)?;
        if whole < span {
            return None;
        }
        let recent = &live.seconds[whole - span..whole];
        let below = recent
            .iter()
            .all(|s| s.accuracy.is_some_and(|a| a < threshold));
        if !below {
            return None;
        }
        let accuracies: Vec<f64> = recent.iter().filter_map(|s| s.accuracy).collect();
        Some(Trigger::Accuracy {
            accuracy: accuracies.iter().sum::<f64>() / accuracies.len() as f64,
            threshold,
            seconds: span as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::simulate::{DriftPoint, Percentiles, SecondStats};

    fn policy(text: &str) -> Result<RetrainPolicy, FieldError> {
        RetrainPolicy::parse(&text.parse::<toml::Table>().unwrap())
    }

    fn seconds(accuracies: &[f64]) -> Vec<SecondStats> {
        accuracies
            .iter()
            .enumerate()
            .map(|(t, a)| SecondStats {
                t: t as u32,
                requests: 10,
                errors: 0,
                latency_ms: Percentiles::default(),
                accuracy: Some(*a),
            })
            .collect()
    }

    #[test]
    fn the_table_parses_and_bad_keys_are_named() {
        let p = policy(
            "drift_share = 0.5\nmin_accuracy = 0.8\naccuracy_minutes = 0.05\nauto_promote = true",
        )
        .unwrap();
        assert_eq!(p.drift_share, Some(0.5));
        assert_eq!(p.min_accuracy, Some(0.8));
        assert!(p.auto_promote);
        assert_eq!(
            policy("drift_share = 2").unwrap_err().0,
            Some("drift_share")
        );
        assert_eq!(
            policy("auto_promote = 1").unwrap_err().0,
            Some("auto_promote")
        );
        assert!(
            policy("often = 1")
                .unwrap_err()
                .1
                .contains("unknown key 'often'")
        );
    }

    #[test]
    fn drift_fires_at_the_share_and_accuracy_only_when_low_for_the_whole_span() {
        let p = policy("drift_share = 0.5\nmin_accuracy = 0.8\naccuracy_minutes = 0.05").unwrap();
        let mut live = LiveStats::default();
        assert_eq!(p.check(&live), None);
        live.drift.push(DriftPoint {
            t: 2.0,
            share: 0.5,
            dataset_drift: true,
            columns: vec![],
        });
        assert!(matches!(p.check(&live), Some(Trigger::Drift { .. })));
        live.drift.clear();
        // 0.05 minutes = 3 whole seconds below 0.8 (the last, unfinished second not counted).
        live.seconds = seconds(&[0.9, 0.7, 0.7, 0.9]);
        assert_eq!(p.check(&live), None);
        live.seconds = seconds(&[0.9, 0.7, 0.7, 0.6, 0.95]);
        let fired = p.check(&live).unwrap();
        assert!(
            fired
                .to_string()
                .starts_with("live accuracy 0.667 below 0.8 for 3 s"),
            "{fired}"
        );
    }
}
