//! The target encoded for the task: class indices in scikit-learn's `LabelEncoder` order, or numbers.

use polars::prelude::*;

use super::failed;
use crate::features::{numeric_column, text_column};
use crate::jobs::JobError;

/// The target of the training and test rows, encoded for the task.
pub(super) enum Labels {
    Classes { train: Vec<usize>, test: Vec<usize> },
    Values { train: Vec<f64>, test: Vec<f64> },
}

/// Orders class labels as `LabelEncoder` (`np.unique`) does: numbers numerically (`2` before
/// `10`), booleans `false` before `true`, text by code point.
pub(super) fn sort_like_label_encoder(frame: &DataFrame, target: &str, classes: &mut [String]) {
    let numeric = frame
        .column(target)
        .is_ok_and(|c| c.dtype().is_primitive_numeric());
    if numeric {
        classes.sort_by(|a, b| {
            let (x, y) = (a.parse::<f64>(), b.parse::<f64>());
            match (x, y) {
                (Ok(x), Ok(y)) => x.total_cmp(&y),
                _ => a.cmp(b),
            }
        });
    }
}

/// The target as class indices (labels sorted, as scikit-learn's `LabelEncoder` does).
/// A training target needs two classes at least; a test target may hold one.
pub(super) fn encode_classes(
    frame: &DataFrame,
    target: &str,
    min_classes: usize,
) -> Result<(Vec<usize>, Vec<String>), JobError> {
    let labels = text_column(frame, target).map_err(JobError::failed)?;
    if let Some(row) = labels.iter().position(Option::is_none) {
        return Err(failed(format!(
            "target column '{target}' is missing a value in row {}",
            row + 1
        )));
    }
    // Distinct labels first (a few), then sort those: not a copy and sort of every row.
    let distinct: std::collections::HashSet<&str> =
        labels.iter().flatten().map(String::as_str).collect();
    let mut classes: Vec<String> = distinct.into_iter().map(str::to_owned).collect();
    classes.sort();
    sort_like_label_encoder(frame, target, &mut classes);
    if classes.len() < min_classes {
        return Err(failed(format!(
            "target column '{target}' is constant ({}): there is nothing to learn",
            classes.first().cloned().unwrap_or_default()
        )));
    }
    let index: std::collections::HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let y = labels
        .iter()
        .flatten()
        .map(|l| index.get(l.as_str()).copied().unwrap_or(0))
        .collect();
    Ok((y, classes))
}

pub(super) fn numeric_target(frame: &DataFrame, target: &str) -> Result<Vec<f64>, JobError> {
    let column = frame
        .column(target)
        .map_err(|_| failed(format!("no target column '{target}'")))?;
    if !column.dtype().is_primitive_numeric() {
        return Err(failed(format!(
            "target column '{target}' holds {} values; regression needs numbers (use a classifier for labels)",
            column.dtype()
        )));
    }
    let values = numeric_column(frame, target).map_err(JobError::failed)?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.filter(|x| x.is_finite()).ok_or_else(|| {
                failed(format!(
                    "target column '{target}' has no usable value in row {}",
                    i + 1
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_classes_are_ordered_numerically_as_label_encoder_orders_them() {
        let frame = df!("y" => (0..12i64).rev().collect::<Vec<_>>()).expect("frame");
        let (y, classes) = encode_classes(&frame, "y", 2).expect("classes");
        let expected: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(classes, expected);
        assert_eq!(y[0], 11, "row 0 holds 11, the last class");
        let text = df!("y" => ["b", "a", "10", "2"]).expect("frame");
        assert_eq!(
            encode_classes(&text, "y", 2).expect("classes").1,
            vec!["10", "2", "a", "b"],
            "text labels sort as strings, as np.unique does for str"
        );
    }
}
