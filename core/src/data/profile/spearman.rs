//! Spearman correlation matrices over pairwise-complete rows, equal to pandas'
//! `DataFrame.corr(method="spearman")`.
//!
//! pandas re-ranks each pair over the rows where both columns have a value. Here every column
//! is ranked once, and a pair corrects those ranks: a row's rank among the pair's rows is its
//! rank among the column's rows minus the column's rows that the other column lacks and that
//! sort before it (half of those in its own tie group). Ranks are doubled, so the arithmetic
//! is exact in integers.
//!
//! A column is laid out by how many distinct values it has:
//! - **grouped** (at most [`MAX_GROUPS`]): each row holds its tie group in two bytes. A pair
//!   corrects one rank per group, in a table that stays in cache, so a row costs a 2-byte read
//!   and one lookup. Integer codes, flags, counts and zero-heavy columns are like this.
//! - **spread**: each row holds its tie group's bounds. The rows the other column lacks are
//!   marked by sorted position in a bitset with a running count per 64 positions (a quarter of
//!   a megabyte per million rows, so it stays in cache too), and a correction is one load and
//!   a popcount.

use rayon::prelude::*;

use super::correlation::{finite_bits, group_bounds, group_starts, pairs, symmetric};

/// Columns with at most this many distinct finite values are ranked by tie group.
pub const MAX_GROUPS: usize = 1 << 16;

/// One numeric column ranked once for [`spearman`].
pub struct RankColumn {
    /// Rows with a finite value ([`finite_bits`]).
    finite: Vec<u64>,
    /// How many rows have a finite value.
    count: usize,
    ranks: Ranks,
}

enum Ranks {
    Grouped {
        /// By row, padded to whole 64-row words: its tie group (rows without a finite value
        /// hold 0, read but never counted).
        group: Vec<u16>,
        /// The sorted position where each group starts among the finite values, then `count`.
        starts: Vec<u32>,
    },
    Spread {
        /// By row, padded to whole 64-row words: the first sorted position of its tie group
        /// and one past the last (the row's average rank, 1-based, is their sum plus one,
        /// halved); rows without a finite value hold zeros, read but never counted.
        bounds: Vec<[u32; 2]>,
        /// By row: its own sorted position.
        position: Vec<u32>,
    },
}

impl RankColumn {
    /// Ranks a column from its sort: `order` holds the rows of its non-missing values sorted
    /// by value (ties in any order), of which the positions `finite_positions` hold the finite
    /// ones (infinities sort to the two ends); `group_starts` is [`group_starts`] of `order`;
    /// `finite` is [`finite_bits`] of the column's `rows` values.
    pub fn new(
        rows: usize,
        order: &[u32],
        finite_positions: std::ops::Range<usize>,
        group_starts: &[u64],
        finite: Vec<u64>,
    ) -> Self {
        Self::with_max_groups(
            rows,
            order,
            finite_positions,
            group_starts,
            finite,
            MAX_GROUPS,
        )
    }

    fn with_max_groups(
        rows: usize,
        order: &[u32],
        finite_positions: std::ops::Range<usize>,
        group_starts: &[u64],
        finite: Vec<u64>,
        max_groups: usize,
    ) -> Self {
        let (lo, hi) = (finite_positions.start, finite_positions.end);
        let finite_order = &order[lo..hi];
        let starts: Vec<u32> = group_bounds(group_starts, lo..hi)
            .into_iter()
            .map(|p| p as u32)
            .collect();
        let groups = starts.windows(2).map(|w| (w[0] as usize, w[1] as usize));
        // Per-row arrays are padded to whole 64-row words, so a word's block is read whole.
        let padded = rows.next_multiple_of(64);
        let ranks = if starts.len() - 1 <= max_groups {
            let mut group = vec![0u16; padded];
            for (g, (start, end)) in groups.enumerate() {
                for &row in &finite_order[start..end] {
                    group[row as usize] = g as u16;
                }
            }
            Ranks::Grouped { group, starts }
        } else {
            let mut bounds = vec![[0u32; 2]; padded];
            let mut position = vec![0u32; rows];
            for (start, end) in groups {
                for (p, &row) in finite_order.iter().enumerate().take(end).skip(start) {
                    bounds[row as usize] = [start as u32, end as u32];
                    position[row as usize] = p as u32;
                }
            }
            Ranks::Spread { bounds, position }
        };
        Self {
            finite,
            count: finite_order.len(),
            ranks,
        }
    }

    /// Ranks `values` (`NaN` when missing) by sorting them; for small columns and tests.
    pub fn from_values(values: &[f64]) -> Self {
        Self::from_values_with(values, MAX_GROUPS)
    }

    fn from_values_with(values: &[f64], max_groups: usize) -> Self {
        let mut order: Vec<u32> = (0..values.len() as u32)
            .filter(|&i| !values[i as usize].is_nan())
            .collect();
        order.sort_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
        let lo = order
            .iter()
            .take_while(|&&r| values[r as usize] == f64::NEG_INFINITY)
            .count();
        let hi = order.len()
            - order
                .iter()
                .rev()
                .take_while(|&&r| values[r as usize] == f64::INFINITY)
                .count();
        let sorted: Vec<f64> = order.iter().map(|&r| values[r as usize]).collect();
        let starts = group_starts(&sorted);
        Self::with_max_groups(
            values.len(),
            &order,
            lo..hi.max(lo),
            &starts,
            finite_bits(values),
            max_groups,
        )
    }

    /// This column's ranks among the rows where `other_finite` is also set, using `scratch`.
    fn pair_ranks<'a>(&'a self, other_finite: &[u64], scratch: &'a mut Scratch) -> PairRanks<'a> {
        let lacking = |visit: &mut dyn FnMut(usize)| {
            for (w, (&mine, &theirs)) in self.finite.iter().zip(other_finite).enumerate() {
                let mut bits = mine & !theirs;
                while bits != 0 {
                    visit(w * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                }
            }
        };
        match &self.ranks {
            Ranks::Grouped { group, starts } => {
                let excluded = &mut scratch.per_group;
                excluded.clear();
                excluded.resize(starts.len() - 1, 0);
                lacking(&mut |row| excluded[usize::from(group[row])] += 1);
                // Doubled average rank of each group among the pair's rows: its ranks run from
                // start + 1 to start + size.
                scratch.table.clear();
                let mut removed = 0u64;
                for (w, &lost) in starts.windows(2).zip(excluded.iter()) {
                    let start = u64::from(w[0]) - removed;
                    let size = u64::from(w[1] - w[0]) - lost;
                    scratch.table.push(2 * start + size + 1);
                    removed += lost;
                }
                // A column without finite values has no group, and its rows are never counted;
                // a lookup still needs an entry.
                if scratch.table.is_empty() {
                    scratch.table.push(0);
                }
                PairRanks::Grouped(Grouped {
                    group,
                    table: &scratch.table,
                })
            }
            Ranks::Spread { bounds, position } => {
                let (words, totals) = (&mut scratch.marked, &mut scratch.marked_before);
                words.clear();
                words.resize(self.count / 64 + 1, 0);
                let mut any = false;
                lacking(&mut |row| {
                    let p = position[row] as usize;
                    words[p / 64] |= 1 << (p % 64);
                    any = true;
                });
                let mut total = 0u64;
                totals.clear();
                totals.extend(words.iter().map(|w| {
                    let before = total;
                    total += u64::from(w.count_ones());
                    before
                }));
                PairRanks::Spread(Spread {
                    bounds,
                    marks: any.then_some(Marks {
                        words: &scratch.marked,
                        before: &scratch.marked_before,
                    }),
                })
            }
        }
    }
}

/// Reusable buffers of one side of a pair.
#[derive(Default)]
struct Scratch {
    per_group: Vec<u64>,
    table: Vec<u64>,
    marked: Vec<u64>,
    marked_before: Vec<u64>,
}

/// Twice the average ranks, among a pair's rows, of one side's rows, a 64-row word at a time.
trait DoubledRank {
    /// The doubled ranks of the rows of word `word` (rows `64 word ..`); a row that is not
    /// among the pair's rows gets any value.
    fn block(&self, word: usize, out: &mut [u64; 64]);
}

struct Grouped<'a> {
    group: &'a [u16],
    /// By group (at least one entry).
    table: &'a [u64],
}

impl DoubledRank for Grouped<'_> {
    #[inline(always)]
    fn block(&self, word: usize, out: &mut [u64; 64]) {
        let groups = &self.group[word * 64..][..64];
        // Every group is below the table's length: saying so, as Spread does, spares a
        // bounds check per row.
        let last = self.table.len() - 1;
        let table = &self.table[..=last];
        for (o, &g) in out.iter_mut().zip(groups) {
            *o = table[usize::from(g).min(last)];
        }
    }
}

struct Spread<'a> {
    bounds: &'a [[u32; 2]],
    /// By 64 sorted positions: which the other column lacks, and how many it lacks before
    /// them; `None` when it lacks none.
    marks: Option<Marks<'a>>,
}

/// The sorted positions of one side that the other lacks, by 64 positions, as two arrays
/// (not pairs), so that the lookups vectorise as gathers.
#[derive(Clone, Copy)]
struct Marks<'a> {
    /// Which of the 64 positions are marked.
    words: &'a [u64],
    /// How many positions before them are marked.
    before: &'a [u64],
}

impl Spread<'_> {
    /// Marked positions before position `q` (`q / 64` is at most `last`, the index of the
    /// final entry: saying so spares a bounds check per lookup).
    #[inline(always)]
    fn before(marks: Marks<'_>, last: usize, q: u32) -> u64 {
        let w = (q as usize / 64).min(last);
        marks.before[w] + u64::from((marks.words[w] & ((1u64 << (q % 64)) - 1)).count_ones())
    }
}

impl DoubledRank for Spread<'_> {
    #[inline(always)]
    fn block(&self, word: usize, out: &mut [u64; 64]) {
        let bounds = &self.bounds[word * 64..][..64];
        match self.marks {
            None => {
                for (o, &[gs, ge]) in out.iter_mut().zip(bounds) {
                    *o = u64::from(gs) + u64::from(ge) + 1;
                }
            }
            // A row's own position is never marked (it is among the pair's rows), so the
            // marks before its group's end count the ones in its group too: half of those
            // come off its doubled rank, as all of the ones before its group's start do.
            Some(marks) => {
                let last = marks.words.len() - 1;
                let marks = Marks {
                    words: &marks.words[..=last],
                    before: &marks.before[..=last],
                };
                for (o, &[gs, ge]) in out.iter_mut().zip(bounds) {
                    *o = u64::from(gs) + u64::from(ge) + 1
                        - Self::before(marks, last, gs)
                        - Self::before(marks, last, ge);
                }
            }
        }
    }
}

enum PairRanks<'a> {
    Grouped(Grouped<'a>),
    Spread(Spread<'a>),
}

/// Row count and the sums of squares and products of the doubled ranks over the rows set in
/// both bitsets. A word's 64 rows are ranked whole and the absent ones masked out, with no
/// branch per row, so the loops vectorise; compiled for AVX-512 (gathers and a vector
/// popcount) and AVX2 too, chosen at run time.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512dq+avx512bw+avx512vpopcntdq+avx2+bmi1+bmi2+popcnt+lzcnt",
    "x86_64+avx2+bmi1+bmi2+popcnt+lzcnt",
    "x86_64+popcnt"
))]
fn sums(
    fa: &[u64],
    fb: &[u64],
    a: &impl DoubledRank,
    b: &impl DoubledRank,
    narrow: bool,
) -> (u64, u128, u128, u128) {
    let (mut n, mut sxx, mut syy, mut sxy) = (0u64, 0u128, 0u128, 0u128);
    let (mut xs, mut ys) = ([0u64; 64], [0u64; 64]);
    for (w, (&x, &y)) in fa.iter().zip(fb).enumerate() {
        let both = x & y;
        if both == 0 {
            continue;
        }
        n += u64::from(both.count_ones());
        a.block(w, &mut xs);
        b.block(w, &mut ys);
        if narrow {
            // Doubled ranks below 2^27: 64 squares fit in a u64.
            let (mut wxx, mut wyy, mut wxy) = (0u64, 0u64, 0u64);
            for (k, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
                let keep = 0u64.wrapping_sub((both >> k) & 1);
                let (x, y) = (x & keep, y & keep);
                wxx += x * x;
                wyy += y * y;
                wxy += x * y;
            }
            sxx += u128::from(wxx);
            syy += u128::from(wyy);
            sxy += u128::from(wxy);
        } else {
            for (k, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
                if (both >> k) & 1 == 1 {
                    sxx += u128::from(x) * u128::from(x);
                    syy += u128::from(y) * u128::from(y);
                    sxy += u128::from(x) * u128::from(y);
                }
            }
        }
    }
    (n, sxx, syy, sxy)
}

fn spearman_pair(
    a: &RankColumn,
    b: &RankColumn,
    scratch_a: &mut Scratch,
    scratch_b: &mut Scratch,
) -> Option<f64> {
    // Doubled ranks are at most 2 n + 1: below 2^27, 64 products fit in a u64.
    let narrow = a.count.max(b.count) < (1 << 26);
    let (fa, fb) = (&a.finite[..], &b.finite[..]);
    let (n, sxx, syy, sxy) = match (a.pair_ranks(fb, scratch_a), b.pair_ranks(fa, scratch_b)) {
        (PairRanks::Grouped(x), PairRanks::Grouped(y)) => sums(fa, fb, &x, &y, narrow),
        (PairRanks::Grouped(x), PairRanks::Spread(y)) => sums(fa, fb, &x, &y, narrow),
        (PairRanks::Spread(x), PairRanks::Grouped(y)) => sums(fa, fb, &x, &y, narrow),
        (PairRanks::Spread(x), PairRanks::Spread(y)) => sums(fa, fb, &x, &y, narrow),
    };
    if n < 2 {
        return None;
    }
    // Doubled average ranks of n rows sum to n (n + 1): their mean is n + 1, so the centred
    // sums are exact integers.
    let centre = u128::from(n) * u128::from(n + 1) * u128::from(n + 1);
    let centred = |s: u128| s as i128 - centre as i128;
    let (vx, vy) = (centred(sxx) as f64, centred(syy) as f64);
    if vx <= 0.0 || vy <= 0.0 {
        return None;
    }
    Some(centred(sxy) as f64 / (vx * vy).sqrt())
}

/// Spearman correlations of all pairs, over each pair's rows where both values are finite,
/// ranked among those rows (as pandas' `corr(method="spearman")`).
pub fn spearman(columns: &[RankColumn]) -> Vec<Vec<Option<f64>>> {
    let values = pairs(columns.len())
        .into_par_iter()
        .map_init(
            || (Scratch::default(), Scratch::default()),
            |(scratch_a, scratch_b), (i, j)| {
                let (a, b) = (&columns[i], &columns[j]);
                ((i, j), spearman_pair(a, b, scratch_a, scratch_b))
            },
        )
        .collect();
    symmetric(columns.len(), values)
}

#[cfg(test)]
pub(super) fn rank_with_max_groups(values: &[f64], max_groups: usize) -> RankColumn {
    RankColumn::from_values_with(values, max_groups)
}
