//! A numeric column's non-missing values in ascending order, with the row of each: the
//! statistics read the values, the rank correlations the rows.

use polars::prelude::PlHashMap;

/// Columns with at most this many distinct values are ordered by counting, not sorting.
const COUNTING_LIMIT: usize = 4096;

/// The rows of the non-`NaN` values of `values`, ordered by value under `f64::total_cmp`
/// (equal values by row), and those values in that order.
pub fn sort_rows(values: &[f64]) -> (Vec<u32>, Vec<f64>) {
    by_counting(values).unwrap_or_else(|| by_sorting(values))
}

/// Sorts (value, row) pairs packed in one integer: no indirection while sorting.
fn by_sorting(values: &[f64]) -> (Vec<u32>, Vec<f64>) {
    let mut keyed: Vec<u128> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .map(|(row, &v)| (u128::from(sort_key(v)) << 32) | row as u128)
        .collect();
    keyed.sort_unstable();
    let order = keyed.iter().map(|&k| k as u32).collect();
    let sorted = keyed
        .iter()
        .map(|&k| from_sort_key((k >> 32) as u64))
        .collect();
    (order, sorted)
}

/// A counting sort for columns of few distinct values (codes, counts, flags, zero-heavy
/// columns): one hash lookup per row instead of a comparison sort. `None` as soon as the
/// column shows more than [`COUNTING_LIMIT`] distinct values.
fn by_counting(values: &[f64]) -> Option<(Vec<u32>, Vec<f64>)> {
    let mut ids: PlHashMap<u64, u16> = PlHashMap::default();
    let mut distinct: Vec<u64> = Vec::new();
    let mut row_ids = vec![u16::MAX; values.len()];
    for (id, &v) in row_ids.iter_mut().zip(values) {
        if v.is_nan() {
            continue;
        }
        let key = sort_key(v);
        *id = match ids.get(&key) {
            Some(&known) => known,
            None if distinct.len() < COUNTING_LIMIT => {
                let new = distinct.len() as u16;
                ids.insert(key, new);
                distinct.push(key);
                new
            }
            None => return None,
        };
    }
    // Bucket of each id, in value order, and where each bucket starts.
    let mut by_value: Vec<u16> = (0..distinct.len() as u16).collect();
    by_value.sort_unstable_by_key(|&id| distinct[usize::from(id)]);
    let mut counts = vec![0u32; distinct.len()];
    for &id in row_ids.iter().filter(|&&id| id != u16::MAX) {
        counts[usize::from(id)] += 1;
    }
    let mut next = vec![0u32; distinct.len()];
    let mut total = 0u32;
    for &id in &by_value {
        next[usize::from(id)] = total;
        total += counts[usize::from(id)];
    }
    let mut order = vec![0u32; total as usize];
    for (row, &id) in row_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| **id != u16::MAX)
    {
        let slot = &mut next[usize::from(id)];
        order[*slot as usize] = row as u32;
        *slot += 1;
    }
    let mut sorted = Vec::with_capacity(order.len());
    for &id in &by_value {
        let value = from_sort_key(distinct[usize::from(id)]);
        sorted.extend(std::iter::repeat_n(value, counts[usize::from(id)] as usize));
    }
    Some((order, sorted))
}

/// An integer that sorts as `v` does under `f64::total_cmp`.
fn sort_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The value of a [`sort_key`].
fn from_sort_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_and_sorting_give_the_same_order() {
        let values = [
            3.0,
            f64::NAN,
            -0.0,
            0.0,
            1.5,
            3.0,
            f64::NEG_INFINITY,
            0.0,
            f64::INFINITY,
            -2.0,
            1.5,
        ];
        let counted = by_counting(&values).expect("few distinct values");
        assert_eq!(counted, by_sorting(&values));
        assert_eq!(counted.0, vec![6, 9, 2, 3, 7, 4, 10, 0, 5, 8]);
    }

    #[test]
    fn many_distinct_values_are_sorted() {
        let values: Vec<f64> = (0..10_000).rev().map(|i| f64::from(i) / 3.0).collect();
        assert!(by_counting(&values).is_none());
        let (order, sorted) = sort_rows(&values);
        assert_eq!(order[0], 9_999);
        assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    }
}
