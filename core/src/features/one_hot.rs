//! One-hot encoding as scikit-learn's `OneHotEncoder(handle_unknown="ignore")` does it,
//! with its `min_frequency` and `max_categories` (rare levels grouped into one infrequent
//! output), and the rule that keeps ids and high-cardinality text out of the encoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FeatureError;
use super::columns::column_error;
use crate::data::profile::alerts::{is_high_cardinality, is_unique};

/// scikit-learn's `min_frequency`: a count, or a share of the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinFrequency {
    /// Levels seen fewer times than this are infrequent.
    Count(usize),
    /// Levels seen in a smaller share of the rows than this are infrequent.
    Fraction(f64),
}

impl MinFrequency {
    /// Parses scikit-learn's convention: a whole number is a count, a number in (0, 1) a share.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Ok(count) = t.parse::<usize>() {
            return Ok(Self::Count(count));
        }
        match t.parse::<f64>() {
            Ok(f) if f > 0.0 && f < 1.0 => Ok(Self::Fraction(f)),
            _ => Err(format!(
                "min_frequency '{text}' must be a whole number (a count) or a number between 0 and 1 (a share of rows)"
            )),
        }
    }
}

/// How categorical columns are encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OneHotOptions {
    /// At most this many outputs per column, counting the infrequent one (scikit-learn's
    /// `max_categories`).
    pub max_categories: Option<usize>,
    /// Levels rarer than this are grouped as infrequent (scikit-learn's `min_frequency`).
    pub min_frequency: Option<MinFrequency>,
    /// A column whose default step would be one-hot is left out when it has more distinct
    /// values than this (the profile's `high_cardinality` alert limit), or is unique per row.
    pub cardinality_limit: usize,
}

impl Default for OneHotOptions {
    fn default() -> Self {
        Self {
            max_categories: None,
            min_frequency: None,
            cardinality_limit: crate::data::profile::alerts::AlertThresholds::default()
                .high_cardinality,
        }
    }
}

/// Why a column with the default step is left out of one-hot encoding, if it is.
pub(super) fn cardinality_reason(
    values: &[Option<String>],
    options: &OneHotOptions,
) -> Option<String> {
    let mut distinct: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
    let present = distinct.len();
    distinct.sort_unstable();
    distinct.dedup();
    if is_unique(distinct.len(), present, values.len()) {
        Some(
            "every row holds a different value (an id?), so one-hot encoding it cannot generalise"
                .into(),
        )
    } else if is_high_cardinality(distinct.len(), options.cardinality_limit) {
        Some(format!(
            "{} distinct values, more than the high-cardinality limit of {}; choose the onehot step for it (with max_categories) to encode it anyway",
            distinct.len(),
            options.cardinality_limit
        ))
    } else {
        None
    }
}

/// A fitted encoding of one column.
pub(super) struct FittedOneHot {
    pub fill: String,
    pub categories: Vec<String>,
    pub infrequent: Vec<String>,
}

/// Learns the levels of a column: the most frequent fills gaps (ties to the smallest value, as
/// `SimpleImputer` does); levels are sorted; rare ones grouped per `options`.
pub(super) fn fit(
    name: &str,
    values: &[Option<String>],
    options: &OneHotOptions,
) -> Result<FittedOneHot, FeatureError> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values.iter().flatten() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    let fill = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(v, _)| (*v).to_owned())
        .ok_or_else(|| column_error(name, "every training value is missing"))?;
    // The imputed value counts as seen in the missing rows, as after SimpleImputer.
    let missing = values.iter().filter(|v| v.is_none()).count();
    if let Some(c) = counts.get_mut(fill.as_str()) {
        *c += missing;
    }
    let levels: Vec<(&str, usize)> = counts.into_iter().collect();
    let infrequent_mask = infrequent_levels(&levels, values.len(), options);
    let (mut categories, mut infrequent) = (Vec::new(), Vec::new());
    for ((level, _), rare) in levels.iter().zip(infrequent_mask) {
        if rare {
            infrequent.push((*level).to_owned());
        } else {
            categories.push((*level).to_owned());
        }
    }
    Ok(FittedOneHot {
        fill,
        categories,
        infrequent,
    })
}

/// scikit-learn's `_identify_infrequent`: below `min_frequency` is infrequent; then, when more
/// than `max_categories` outputs would remain, the smallest counts (a stable sort over the
/// sorted levels) join the infrequent group until `max_categories - 1` frequent ones remain.
fn infrequent_levels(levels: &[(&str, usize)], rows: usize, options: &OneHotOptions) -> Vec<bool> {
    let mut mask: Vec<bool> = levels
        .iter()
        .map(|(_, count)| match options.min_frequency {
            Some(MinFrequency::Count(min)) => *count < min,
            Some(MinFrequency::Fraction(share)) => (*count as f64) < share * rows as f64,
            None => false,
        })
        .collect();
    if let Some(max) = options.max_categories {
        let outputs = levels.len() - mask.iter().filter(|m| **m).count() + 1;
        if max < outputs {
            let frequent = max.saturating_sub(1);
            if frequent == 0 {
                mask.iter_mut().for_each(|m| *m = true);
            } else {
                let mut order: Vec<usize> = (0..levels.len()).collect();
                order.sort_by_key(|&i| levels[i].1);
                for &i in &order[..levels.len() - frequent] {
                    mask[i] = true;
                }
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some((*v).to_owned())).collect()
    }

    #[test]
    fn min_frequency_groups_rare_levels_as_scikit_learn_does() {
        // sklearn: OneHotEncoder(min_frequency=2).fit([[a],[a],[b],[b],[c]]) -> infrequent [c]
        let options = OneHotOptions {
            min_frequency: Some(MinFrequency::Count(2)),
            ..OneHotOptions::default()
        };
        let fitted = fit("x", &texts(&["a", "a", "b", "b", "c"]), &options).expect("fit");
        assert_eq!(fitted.categories, vec!["a", "b"]);
        assert_eq!(fitted.infrequent, vec!["c"]);
    }

    #[test]
    fn max_categories_keeps_the_most_frequent_and_counts_the_infrequent_output() {
        // sklearn: OneHotEncoder(max_categories=3) on a*5, b*1, c*3, d*1 keeps a and c;
        // b and d (the smallest counts, stable order) are infrequent.
        let options = OneHotOptions {
            max_categories: Some(3),
            ..OneHotOptions::default()
        };
        let data = texts(&["a", "a", "a", "a", "a", "b", "c", "c", "c", "d"]);
        let fitted = fit("x", &data, &options).expect("fit");
        assert_eq!(fitted.categories, vec!["a", "c"]);
        assert_eq!(fitted.infrequent, vec!["b", "d"]);
    }

    #[test]
    fn ids_and_high_cardinality_text_are_left_out_with_a_reason() {
        let ids: Vec<Option<String>> = (0..100).map(|i| Some(format!("c{i}"))).collect();
        let options = OneHotOptions::default();
        assert!(
            cardinality_reason(&ids, &options)
                .expect("left out")
                .contains("an id")
        );
        let many: Vec<Option<String>> = (0..200).map(|i| Some(format!("v{}", i % 60))).collect();
        assert!(
            cardinality_reason(&many, &options)
                .expect("left out")
                .contains("60 distinct values")
        );
        let few: Vec<Option<String>> = (0..200).map(|i| Some(format!("v{}", i % 5))).collect();
        assert_eq!(cardinality_reason(&few, &options), None);
    }

    #[test]
    fn min_frequency_reads_counts_and_shares() {
        assert_eq!(MinFrequency::parse("5"), Ok(MinFrequency::Count(5)));
        assert_eq!(MinFrequency::parse("0.1"), Ok(MinFrequency::Fraction(0.1)));
        assert!(MinFrequency::parse("1.5").is_err());
    }
}
