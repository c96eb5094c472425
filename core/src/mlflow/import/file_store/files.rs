//! The files of an `mlruns/` folder: `meta.yaml` (errors name the file), one-value files
//! (params, tags), and metric files of `timestamp value step` lines.

use std::path::{Path, PathBuf};

use crate::mlflow::import::yaml::Meta;
use crate::mlflow::import::{ImportError, PathOrUrl, files_below};

/// Reads and parses a `meta.yaml`; errors name the file.
pub(super) fn read_meta(path: &Path) -> Result<Meta, ImportError> {
    let text = read_text(path)?;
    if text.trim().is_empty() {
        return Err(ImportError::file(path, "the file is empty"));
    }
    Meta::parse(&text).map_err(|e| ImportError::file(path, e.to_string()))
}

pub(super) fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes =
        std::fs::read(path).map_err(|e| ImportError::file(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        ImportError::file(
            path,
            format!(
                "not UTF-8 text (byte {} is not)",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// One line of a run's metric file: `timestamp value step` (MLflow 1 wrote `timestamp
/// value`; a metric logged with a dataset adds its name and digest).
pub(super) fn parse_metric_line(line: &str) -> Result<(i64, f64, i64), String> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    if !matches!(parts.len(), 2 | 3 | 5) {
        return Err(format!(
            "expected `timestamp value step`, found {} field(s)",
            parts.len()
        ));
    }
    let timestamp = parts[0]
        .parse::<i64>()
        .map_err(|_| format!("timestamp '{}' is not a whole number", parts[0]))?;
    let value = parse_value(parts[1])?;
    let step = match parts.get(2) {
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| format!("step '{s}' is not a whole number"))?,
        None => 0,
    };
    Ok((timestamp, value, step))
}

/// One line of a LoggedModel's metric file.
#[derive(Debug, PartialEq)]
pub(super) struct ModelMetricLine {
    pub(super) timestamp: i64,
    pub(super) value: f64,
    pub(super) step: i64,
    pub(super) run_id: String,
    /// Dataset name and digest, when the value was computed on one.
    pub(super) dataset: Option<(String, String)>,
}

/// One line of a LoggedModel's metric file: `timestamp value step run_id [dataset digest]`.
pub(super) fn parse_model_metric_line(line: &str) -> Result<ModelMetricLine, String> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    if !matches!(parts.len(), 4 | 6) {
        return Err(format!(
            "expected `timestamp value step run_id`, found {} field(s)",
            parts.len()
        ));
    }
    let (timestamp, value, step) = parse_metric_line(&parts[..3].join(" "))?;
    let dataset = (parts.len() == 6).then(|| (parts[4].to_owned(), parts[5].to_owned()));
    Ok(ModelMetricLine {
        timestamp,
        value,
        step,
        run_id: parts[3].to_owned(),
        dataset,
    })
}

/// Python's float text (`1.0`, `1e-05`, `nan`, `inf`, `-inf`).
pub(super) fn parse_value(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .map_err(|_| format!("value '{text}' is not a number"))
}

/// The lines of a metric file with their 1-based numbers, blank lines left out.
pub(super) fn metric_lines(path: &Path) -> Result<Vec<(usize, String)>, ImportError> {
    Ok(read_text(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect())
}

/// `key -> value` files below `dir` (params, tags), keys `/`-separated.
pub(super) fn value_files(dir: &Path) -> Result<Vec<(String, String)>, ImportError> {
    let mut out = Vec::new();
    for file in files_below(dir)? {
        if let PathOrUrl::Path(path) = &file.at {
            out.push((file.name, read_text(path)?));
        }
    }
    Ok(out)
}

pub(super) fn path_of(place: &PathOrUrl) -> PathBuf {
    match place {
        PathOrUrl::Path(p) => p.clone(),
        PathOrUrl::Url(u) => PathBuf::from(u),
    }
}

pub(super) fn is_run_id(name: &str) -> bool {
    name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit())
}

pub(super) fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sub-folders of `dir`, sorted by name.
pub(super) fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ImportError::file(dir, format!("cannot list the folder: {e}")))?;
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

pub(super) fn subdirs_if_any(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    if dir.is_dir() {
        subdirs(dir)
    } else {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_line_is_timestamp_value_step() {
        assert_eq!(
            parse_metric_line("1796281338016 0.5 1"),
            Ok((1796281338016, 0.5, 1))
        );
        assert_eq!(parse_metric_line("10 1e-05 0"), Ok((10, 1e-05, 0)));
        // MLflow 1 wrote no step; a value logged with a dataset adds name and digest.
        assert_eq!(parse_metric_line("10 2.0"), Ok((10, 2.0, 0)));
        assert_eq!(parse_metric_line("10 2.0 3 train abc"), Ok((10, 2.0, 3)));
    }

    #[test]
    fn python_spellings_of_special_floats_are_read() {
        assert!(parse_metric_line("1 nan 0").is_ok_and(|(_, v, _)| v.is_nan()));
        assert_eq!(parse_metric_line("1 inf 0"), Ok((1, f64::INFINITY, 0)));
        assert_eq!(parse_metric_line("1 -inf 0"), Ok((1, f64::NEG_INFINITY, 0)));
    }

    #[test]
    fn a_bad_metric_line_says_what_is_wrong() {
        assert_eq!(
            parse_metric_line("1796281338016 0.5 1 2"),
            Err("expected `timestamp value step`, found 4 field(s)".into())
        );
        assert_eq!(
            parse_metric_line("17962813380 zero 1"),
            Err("value 'zero' is not a number".into())
        );
        assert_eq!(
            parse_metric_line("soon 0.5 1"),
            Err("timestamp 'soon' is not a whole number".into())
        );
    }

    #[test]
    fn a_logged_models_metric_line_names_its_run() {
        let parsed = parse_model_metric_line("5 1.0 0 d53c1d874b65458d9a6258ae1751d1e2 iris 1a2b");
        assert_eq!(
            parsed,
            Ok(ModelMetricLine {
                timestamp: 5,
                value: 1.0,
                step: 0,
                run_id: "d53c1d874b65458d9a6258ae1751d1e2".into(),
                dataset: Some(("iris".into(), "1a2b".into())),
            })
        );
    }
}
