//! Runs as CSV, the same from `kiln runs --csv` and the Experiments workspace's export.

use std::collections::BTreeSet;

use crate::store::RunDetail;

/// Runs as CSV: fixed columns, then `params.<name>` and `metrics.<name>` (sorted).
pub fn runs_csv(details: &[&RunDetail]) -> String {
    let params: BTreeSet<&String> = details.iter().flat_map(|d| d.params.keys()).collect();
    let metrics: BTreeSet<&String> = details.iter().flat_map(|d| d.metrics.keys()).collect();
    let mut header: Vec<String> = [
        "run_id",
        "experiment",
        "status",
        "model",
        "start_time",
        "duration_s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(params.iter().map(|p| format!("params.{p}")));
    header.extend(metrics.iter().map(|m| format!("metrics.{m}")));
    let mut out = csv_line(&header);
    for d in details {
        let mut row = vec![
            d.run.id.clone(),
            d.run.experiment.clone(),
            d.run.status.to_string(),
            d.params.get("model").cloned().unwrap_or_default(),
            d.run.start_time.clone(),
            d.run.duration_s().map(format_float).unwrap_or_default(),
        ];
        row.extend(
            params
                .iter()
                .map(|p| d.params.get(*p).cloned().unwrap_or_default()),
        );
        row.extend(metrics.iter().map(|m| {
            d.metrics
                .get(*m)
                .map(|v| format_float(*v))
                .unwrap_or_default()
        }));
        out.push_str(&csv_line(&row));
    }
    out
}

/// A number in the shortest form that reads back as the same `f64` (as Python's `repr` and
/// JSON writers do): `0.1`, `1e-300`, not three hundred digits. Whole numbers keep a `.0`.
pub fn format_float(value: f64) -> String {
    format!("{value:?}")
}

/// One CSV line, quoting fields that need it (RFC 4180).
pub fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_in_shortest_round_trip_form() {
        for v in [0.1, 1e-300, 1.0, 2.5e-7, 123456.789, 1e21, -0.0] {
            let text = format_float(v);
            assert!(text.len() < 25, "{text}");
            assert_eq!(text.parse::<f64>(), Ok(v));
        }
        assert_eq!(format_float(1e-300), "1e-300");
        assert_eq!(format_float(0.25), "0.25");
    }

    #[test]
    fn csv_fields_with_commas_and_quotes_are_quoted() {
        let line = csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]);
        assert_eq!(line, "a,\"b,c\",\"say \"\"hi\"\"\"\n");
    }
}
