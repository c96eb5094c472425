//! Train/test splits and cross-validation folds: stratified, seeded, reproducible.

use polars::prelude::*;

use crate::jobs::JobError;
use crate::rng::SeededRng;

/// Splits rows into train and test, stratified by class for classification.
pub fn split_rows(
    n: usize,
    test_size: f64,
    classes: Option<&[usize]>,
    seed: u64,
) -> (Vec<u32>, Vec<u32>) {
    let mut rng = SeededRng::new(seed);
    let groups: Vec<Vec<u32>> = match classes {
        Some(y) => {
            let k = y.iter().max().map_or(0, |m| m + 1);
            let mut groups = vec![Vec::new(); k];
            for (i, &c) in y.iter().enumerate() {
                groups[c].push(i as u32);
            }
            groups
        }
        None => vec![(0..n as u32).collect()],
    };
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut group in groups {
        rng.shuffle(&mut group);
        let n_test = ((group.len() as f64) * test_size).round() as usize;
        let n_test = n_test.min(group.len().saturating_sub(1));
        test.extend_from_slice(&group[..n_test]);
        train.extend_from_slice(&group[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

pub(super) fn take(frame: &DataFrame, rows: &[u32]) -> Result<DataFrame, JobError> {
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&r| r as IdxSize).collect());
    frame.take(&idx).map_err(JobError::failed)
}

/// The fold of every row: stratified (each class dealt round-robin after a seeded shuffle).
pub fn fold_assignment(n: usize, k: usize, classes: Option<&[usize]>, seed: u64) -> Vec<usize> {
    let mut rng = SeededRng::new(seed);
    let groups: Vec<Vec<usize>> = match classes {
        Some(y) => {
            let mut groups = vec![Vec::new(); y.iter().max().map_or(0, |m| m + 1)];
            for (i, &c) in y.iter().enumerate() {
                groups[c].push(i);
            }
            groups
        }
        None => vec![(0..n).collect()],
    };
    let mut fold = vec![0; n];
    let mut next = 0;
    for mut group in groups {
        rng.shuffle(&mut group);
        for row in group {
            fold[row] = next % k;
            next += 1;
        }
    }
    fold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_stratified_and_reproducible() {
        let y: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
        let (train, test) = split_rows(100, 0.2, Some(&y), 7);
        assert_eq!(test.len(), 20);
        assert_eq!(train.len(), 80);
        assert_eq!(test.iter().filter(|&&r| y[r as usize] == 1).count(), 5);
        assert_eq!(split_rows(100, 0.2, Some(&y), 7), (train, test));
        assert_ne!(
            split_rows(100, 0.2, Some(&y), 8).1,
            split_rows(100, 0.2, Some(&y), 7).1
        );
    }
}
