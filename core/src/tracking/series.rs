//! Step series made drawable: a chart of 100 runs × 100,000 steps must stay smooth, so each
//! series is reduced to at most a few thousand points that keep its shape (the minimum and
//! maximum of every bucket, in step order).

/// Reduces `points` (sorted by x) to at most `max_points`, keeping each bucket's extremes.
pub fn downsample(points: &[[f64; 2]], max_points: usize) -> Vec<[f64; 2]> {
    if points.len() <= max_points || max_points < 4 {
        return points.to_vec();
    }
    let buckets = max_points / 2;
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(buckets * 2);
    for chunk in points.chunks(size) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p[1] < chunk[lo][1] {
                lo = i;
            }
            if p[1] > chunk[hi][1] {
                hi = i;
            }
        }
        let (first, second) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(chunk[first]);
        if second != first {
            out.push(chunk[second]);
        }
    }
    out
}

/// Exponential moving average with weight `smoothing` in `0..1` (0: none), as TensorBoard and
/// W&B smooth training curves, debiased at the start.
pub fn smooth(points: &[[f64; 2]], smoothing: f64) -> Vec<[f64; 2]> {
    if smoothing <= 0.0 {
        return points.to_vec();
    }
    let mut last = 0.0;
    let mut weight = 0.0;
    points
        .iter()
        .map(|p| {
            last = last * smoothing + (1.0 - smoothing) * p[1];
            weight = weight * smoothing + (1.0 - smoothing);
            [p[0], last / weight]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_extremes_and_bounds_the_size() {
        let points: Vec<[f64; 2]> = (0..100_000)
            .map(|i| [i as f64, ((i % 1000) as f64).sin()])
            .collect();
        let reduced = downsample(&points, 2000);
        assert!(reduced.len() <= 2000);
        let max = points.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert!(reduced.iter().any(|p| p[1] == max));
        assert!(
            reduced.windows(2).all(|w| w[0][0] <= w[1][0]),
            "still in step order"
        );
    }

    #[test]
    fn smoothing_follows_a_constant_exactly() {
        let points: Vec<[f64; 2]> = (0..10).map(|i| [i as f64, 3.0]).collect();
        assert!(
            smooth(&points, 0.9)
                .iter()
                .all(|p| (p[1] - 3.0).abs() < 1e-12)
        );
    }
}

/// Mean and standard deviation across series at each x present in any of them (the band W&B
/// draws for grouped runs): `(x, mean, std)` sorted by x; std is 0 where one series has the x.
pub fn mean_band(series: &[Vec<[f64; 2]>]) -> Vec<[f64; 3]> {
    let mut by_x: std::collections::BTreeMap<u64, (f64, Vec<f64>)> =
        std::collections::BTreeMap::new();
    for points in series {
        for p in points {
            // Order floats by their bits (x values here are steps or seconds, never negative).
            by_x.entry(p[0].max(0.0).to_bits())
                .or_insert_with(|| (p[0], Vec::new()))
                .1
                .push(p[1]);
        }
    }
    by_x.into_values()
        .map(|(x, ys)| {
            let (mean, std) = crate::eval::mean_std(&ys, 1);
            [x, mean, std]
        })
        .collect()
}

#[cfg(test)]
mod band_tests {
    use super::*;

    #[test]
    fn the_band_is_the_mean_and_spread_at_each_step() {
        let band = mean_band(&[
            vec![[0.0, 1.0], [1.0, 2.0]],
            vec![[0.0, 3.0], [1.0, 2.0], [2.0, 5.0]],
        ]);
        assert_eq!(band[0], [0.0, 2.0, 2f64.sqrt()]);
        assert_eq!(band[1], [1.0, 2.0, 0.0]);
        assert_eq!(band[2], [2.0, 5.0, 0.0]);
    }
}

/// Points of a series against wall time: seconds since its first point.
pub fn wall_time_points(points: &[crate::store::MetricPoint]) -> Vec<[f64; 2]> {
    let seconds: Vec<Option<f64>> = points
        .iter()
        .map(|p| {
            chrono::DateTime::parse_from_rfc3339(&p.wall_time)
                .ok()
                .map(|t| t.timestamp_millis() as f64 / 1000.0)
        })
        .collect();
    let start = seconds
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    points
        .iter()
        .zip(seconds)
        .filter_map(|(p, s)| s.map(|s| [s - start, p.value]))
        .collect()
}
