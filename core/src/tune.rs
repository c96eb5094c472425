//! Search spaces of sweeps: lists of values (grid search) and ranges (random search).

use std::collections::BTreeMap;

use crate::rng::SeededRng;

/// The values one hyper-parameter may take.
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    /// These values.
    Values(Vec<String>),
    /// Uniformly between `lo` and `hi` (whole numbers when both bounds are whole).
    Uniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
        /// Draw whole numbers.
        integer: bool,
    },
    /// Log-uniformly between `lo` and `hi` (both positive), e.g. for `C` or `alpha`.
    LogUniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
        /// Draw whole numbers.
        integer: bool,
    },
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Values(values) => f.write_str(&values.join(",")),
            Self::Uniform { lo, hi, .. } => write!(f, "{lo}:{hi}"),
            Self::LogUniform { lo, hi, .. } => write!(f, "{lo}:{hi}:log"),
        }
    }
}

/// Parses one sweep axis, `NAME=V1,V2,...`, `NAME=LO:HI` or `NAME=LO:HI:log`.
///
/// The error does not repeat `spec`: callers prefix it the way their user typed it.
pub fn parse_axis(spec: &str) -> Result<(String, Space), String> {
    let (name, values) = spec.split_once('=').ok_or_else(|| {
        "expected NAME=V1,V2,... or NAME=LO:HI[:log], e.g. max_depth=3,5,8".to_owned()
    })?;
    Ok((name.trim().to_owned(), parse_space(values)?))
}

/// Parses `V1,V2,...`, `LO:HI` or `LO:HI:log`.
pub fn parse_space(text: &str) -> Result<Space, String> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    match parts.as_slice() {
        [lo, hi] | [lo, hi, "log"] => {
            let parse = |v: &str| {
                v.parse::<f64>()
                    .map_err(|_| format!("'{v}' in range '{text}' is not a number"))
            };
            let (lo_v, hi_v) = (parse(lo)?, parse(hi)?);
            if lo_v >= hi_v || lo_v.is_nan() || hi_v.is_nan() {
                return Err(format!(
                    "range '{text}': the lower bound must be below the upper one"
                ));
            }
            let integer = !lo.contains('.')
                && !hi.contains('.')
                && lo_v.fract() == 0.0
                && hi_v.fract() == 0.0;
            if parts.len() == 3 {
                if lo_v <= 0.0 {
                    return Err(format!("range '{text}': a log range needs positive bounds"));
                }
                Ok(Space::LogUniform {
                    lo: lo_v,
                    hi: hi_v,
                    integer,
                })
            } else {
                Ok(Space::Uniform {
                    lo: lo_v,
                    hi: hi_v,
                    integer,
                })
            }
        }
        [_] => {
            let values: Vec<String> = text
                .split(',')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                return Err("no values".into());
            }
            Ok(Space::Values(values))
        }
        _ => Err(format!(
            "'{text}': expected V1,V2,... or LO:HI or LO:HI:log"
        )),
    }
}

fn draw(space: &Space, rng: &mut SeededRng) -> String {
    let unit = rng.next_f64();
    let number = |v: f64, integer: bool| {
        if integer {
            format!("{}", v.round() as i64)
        } else {
            format!("{v}")
        }
    };
    match space {
        Space::Values(values) => values[rng.below(values.len())].clone(),
        Space::Uniform { lo, hi, integer } => number(lo + unit * (hi - lo), *integer),
        Space::LogUniform { lo, hi, integer } => {
            number((lo.ln() + unit * (hi.ln() - lo.ln())).exp(), *integer)
        }
    }
}

/// The trials of a sweep: every combination (grid) when all spaces are lists and `trials` is
/// not given; otherwise `trials` random draws (16 when not given), reproducible with `seed`.
pub fn trials(
    spaces: &BTreeMap<String, Space>,
    trials: Option<usize>,
    seed: u64,
) -> Vec<BTreeMap<String, String>> {
    let all_lists = spaces.values().all(|s| matches!(s, Space::Values(_)));
    if all_lists && trials.is_none() {
        let mut combos = vec![BTreeMap::new()];
        for (name, space) in spaces {
            let Space::Values(values) = space else {
                continue;
            };
            combos = combos
                .into_iter()
                .flat_map(|combo| {
                    values.iter().map(move |v| {
                        let mut c = combo.clone();
                        c.insert(name.clone(), v.clone());
                        c
                    })
                })
                .collect();
        }
        return combos;
    }
    let mut rng = SeededRng::new(seed ^ 0x5EED_5EED);
    (0..trials.unwrap_or(16).max(1))
        .map(|_| {
            spaces
                .iter()
                .map(|(name, space)| (name.clone(), draw(space, &mut rng)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_names_its_parameter_and_needs_an_equals_sign() {
        let (name, space) = parse_axis(" max_depth =3,5").expect("axis");
        assert_eq!(name, "max_depth");
        assert_eq!(space.to_string(), "3,5");
        assert!(parse_axis("max_depth").is_err_and(|e| e.contains("NAME=")));
    }

    #[test]
    fn lists_make_a_grid_and_ranges_make_random_draws() {
        let mut spaces = BTreeMap::new();
        spaces.insert("max_depth".to_string(), parse_space("3,5").expect("list"));
        spaces.insert(
            "n_estimators".to_string(),
            parse_space("10,50,100").expect("list"),
        );
        assert_eq!(trials(&spaces, None, 1).len(), 6);
        spaces.insert("C".to_string(), parse_space("0.01:100:log").expect("range"));
        let drawn = trials(&spaces, Some(8), 1);
        assert_eq!(drawn.len(), 8);
        assert_eq!(drawn, trials(&spaces, Some(8), 1), "reproducible");
        for t in &drawn {
            let c: f64 = t["C"].parse().expect("number");
            assert!((0.01..=100.0).contains(&c));
        }
    }

    #[test]
    fn integer_ranges_draw_whole_numbers() {
        let mut spaces = BTreeMap::new();
        spaces.insert("max_depth".to_string(), parse_space("2:12").expect("range"));
        for t in trials(&spaces, Some(20), 3) {
            let d: i64 = t["max_depth"].parse().expect("whole");
            assert!((2..=12).contains(&d));
        }
    }

    #[test]
    fn bad_ranges_are_explained() {
        assert!(
            parse_space("5:1")
                .expect_err("order")
                .contains("lower bound")
        );
        assert!(
            parse_space("0:1:log")
                .expect_err("log")
                .contains("positive")
        );
    }
}

/// Where one trial of a sweep is.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialState {
    /// Waiting for a core.
    Queued,
    /// Being trained.
    Running,
    /// Done, with its value of the sweep's metric.
    Finished(Option<f64>),
    /// Stopped by an error.
    Failed(String),
    /// Stopped by the user.
    Cancelled,
}

/// One trial: its parameters and state.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialStatus {
    /// The swept parameters of this trial.
    pub params: BTreeMap<String, String>,
    /// Where it is.
    pub state: TrialState,
}

/// Live per-trial progress of a sweep, shared between the sweep job and whoever draws it.
#[derive(Debug, Clone, Default)]
pub struct TrialBoard(std::sync::Arc<std::sync::Mutex<Vec<TrialStatus>>>);

impl PartialEq for TrialBoard {
    /// The same board (shared by a sweep and its view), not equal contents.
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl TrialBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TrialStatus>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists the trials, all queued.
    pub fn start(&self, trials: &[BTreeMap<String, String>]) {
        *self.lock() = trials
            .iter()
            .map(|params| TrialStatus {
                params: params.clone(),
                state: TrialState::Queued,
            })
            .collect();
    }

    /// Updates trial `index`.
    pub fn set(&self, index: usize, state: TrialState) {
        if let Some(trial) = self.lock().get_mut(index) {
            trial.state = state;
        }
    }

    /// The trials as they are now.
    pub fn snapshot(&self) -> Vec<TrialStatus> {
        self.lock().clone()
    }
}
