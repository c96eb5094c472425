//! A drift report's alerts, in the profile's alert shape: one per drifted column and one for
//! the dataset. `kiln drift`, `kiln simulate` and the Deploy workspace show the same ones.

use super::DriftReport;
use crate::data::profile::Alert;

/// Alerts of `report`: `column_drift` per drifted column, then `dataset_drift`.
pub fn drift_alerts(report: &DriftReport) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = report
        .columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| Alert {
            column: Some(c.column.clone()),
            kind: "column_drift".into(),
            detail: format!(
                "{} score {:.4} against threshold {}",
                c.method.name(),
                c.score,
                c.threshold
            ),
        })
        .collect();
    if report.dataset_drift {
        alerts.push(Alert {
            column: None,
            kind: "dataset_drift".into(),
            detail: format!(
                "{} of {} columns drifted ({:.0}%, threshold {:.0}%)",
                report.drifted,
                report.columns.len(),
                100.0 * report.share,
                100.0 * report.drift_share
            ),
        });
    }
    alerts
}
