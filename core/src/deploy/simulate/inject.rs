//! Drift injected into simulated traffic: what changes (`shift`, `scale`, `mix`, `flip`), in
//! which column, and when (from the start, a step at a moment, or a ramp between two).
//!
//! The text form is what `kiln simulate --drift` takes:
//! `KIND:COLUMN=VALUE[@START[..END]]`, for example `shift:age=10`, `scale:income=1.5@30`,
//! `mix:plan=basic:0.8,pro:0.2@10..40` or `flip:churned=0.3`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::rng::SeededRng;

/// What an injection does to its column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Change {
    /// Adds `by` to a numeric value (at full strength).
    Shift {
        /// Amount added.
        by: f64,
    },
    /// Multiplies a numeric value by `factor` (at full strength).
    Scale {
        /// Factor.
        factor: f64,
    },
    /// Replaces a categorical value with a draw from this mix (at full strength every value
    /// is drawn; halfway, half of them).
    Mix {
        /// Levels and their weights, normalised to sum to one.
        levels: Vec<(String, f64)>,
    },
    /// Replaces this share of the labels with another class (the requests are unchanged;
    /// the joined labels, and so live accuracy, are not).
    Flip {
        /// Share of labels flipped, 0..1.
        share: f64,
    },
}

/// When an injection acts, in seconds since the simulation started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Timing {
    /// At full strength throughout.
    Always,
    /// Off before `at`, full strength from then on.
    Step {
        /// Seconds.
        at: f64,
    },
    /// Off before `from`, growing linearly to full strength at `to`.
    Ramp {
        /// Seconds.
        from: f64,
        /// Seconds.
        to: f64,
    },
}

impl Timing {
    /// Strength at `t` seconds, 0..1.
    pub fn strength(self, t: f64) -> f64 {
        match self {
            Self::Always => 1.0,
            Self::Step { at } => f64::from(u8::from(t >= at)),
            Self::Ramp { from, to } => ((t - from) / (to - from)).clamp(0.0, 1.0),
        }
    }
}

/// One injected drift: a change to a column over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftInjection {
    /// The column changed (for `flip`, the label column).
    pub column: String,
    /// What happens to it.
    pub change: Change,
    /// When.
    pub timing: Timing,
}

/// A `--drift` text that does not parse, with what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "--drift '{spec}': {reason} (expected KIND:COLUMN=VALUE[@START[..END]], KIND one of shift, scale, mix, flip; e.g. shift:age=10@30..60)"
)]
pub struct InjectionError {
    /// The text given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for DriftInjection {
    type Err = InjectionError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| InjectionError {
            spec: spec.to_owned(),
            reason,
        };
        let (body, timing) = match spec.rsplit_once('@') {
            Some((body, when)) => (body, parse_timing(when).map_err(error)?),
            None => (spec, Timing::Always),
        };
        let (kind, rest) = body
            .split_once(':')
            .ok_or_else(|| error("no KIND: before the column".into()))?;
        let (column, value) = rest
            .split_once('=')
            .ok_or_else(|| error("no =VALUE after the column".into()))?;
        let column = column.trim();
        if column.is_empty() {
            return Err(error("the column name is empty".into()));
        }
        let change = match kind.trim() {
            "shift" => Change::Shift {
                by: number(value, "the shift").map_err(error)?,
            },
            "scale" => Change::Scale {
                factor: number(value, "the scale factor").map_err(error)?,
            },
            "mix" => Change::Mix {
                levels: parse_mix(value).map_err(error)?,
            },
            "flip" => {
                let share = number(value, "the flipped share").map_err(error)?;
                if !(0.0..=1.0).contains(&share) {
                    return Err(error(format!(
                        "the flipped share must be between 0 and 1, not {share}"
                    )));
                }
                Change::Flip { share }
            }
            other => return Err(error(format!("unknown kind '{other}'"))),
        };
        Ok(Self {
            column: column.to_owned(),
            change,
            timing,
        })
    }
}

impl fmt::Display for DriftInjection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::Shift { by } => write!(f, "shift:{}={by}", self.column)?,
            Change::Scale { factor } => write!(f, "scale:{}={factor}", self.column)?,
            Change::Mix { levels } => {
                let levels: Vec<String> = levels.iter().map(|(l, w)| format!("{l}:{w}")).collect();
                write!(f, "mix:{}={}", self.column, levels.join(","))?;
            }
            Change::Flip { share } => write!(f, "flip:{}={share}", self.column)?,
        }
        match self.timing {
            Timing::Always => Ok(()),
            Timing::Step { at } => write!(f, "@{at}"),
            Timing::Ramp { from, to } => write!(f, "@{from}..{to}"),
        }
    }
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{what} '{}' is not a number", text.trim()))
}

fn parse_timing(text: &str) -> Result<Timing, String> {
    match text.split_once("..") {
        Some((from, to)) => {
            let (from, to) = (number(from, "the ramp start")?, number(to, "the ramp end")?);
            if !(0.0 <= from && from < to) {
                return Err(format!(
                    "a ramp needs 0 <= START < END seconds, not {from}..{to}"
                ));
            }
            Ok(Timing::Ramp { from, to })
        }
        None => {
            let at = number(text, "the start time")?;
            if at < 0.0 {
                return Err(format!("the start time must be 0 or more, not {at}"));
            }
            Ok(Timing::Step { at })
        }
    }
}

fn parse_mix(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut levels = Vec::new();
    for part in text.split(',') {
        let (level, weight) = part
            .rsplit_once(':')
            .ok_or_else(|| format!("mix level '{part}' needs a weight (LEVEL:WEIGHT)"))?;
        let weight = number(weight, "a mix weight")?;
        if weight < 0.0 {
            return Err(format!("mix weight of '{level}' is negative"));
        }
        levels.push((level.trim().to_owned(), weight));
    }
    let total: f64 = levels.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return Err("the mix weights sum to zero".into());
    }
    for (_, w) in &mut levels {
        *w /= total;
    }
    Ok(levels)
}

impl DriftInjection {
    /// A numeric value after the injection at `t` seconds.
    pub fn apply_number(&self, value: f64, t: f64) -> f64 {
        let s = self.timing.strength(t);
        match &self.change {
            Change::Shift { by } => value + s * by,
            Change::Scale { factor } => value * (1.0 + s * (factor - 1.0)),
            Change::Mix { .. } | Change::Flip { .. } => value,
        }
    }

    /// A categorical value after the injection at `t` seconds; `rng` decides whether this
    /// value is redrawn and which level it becomes.
    pub fn apply_text(&self, value: Option<String>, t: f64, rng: &mut SeededRng) -> Option<String> {
        let Change::Mix { levels } = &self.change else {
            return value;
        };
        if rng.next_f64() >= self.timing.strength(t) {
            return value;
        }
        let mut draw = rng.next_f64();
        for (level, weight) in levels {
            if draw < *weight {
                return Some(level.clone());
            }
            draw -= weight;
        }
        levels.last().map(|(level, _)| level.clone()).or(value)
    }

    /// A label after the injection at `t` seconds: with the flipped share's probability,
    /// another of `classes`.
    pub fn apply_label(
        &self,
        label: String,
        t: f64,
        classes: &[String],
        rng: &mut SeededRng,
    ) -> String {
        let Change::Flip { share } = self.change else {
            return label;
        };
        let others: Vec<&String> = classes.iter().filter(|c| **c != label).collect();
        if others.is_empty() || rng.next_f64() >= share * self.timing.strength(t) {
            return label;
        }
        let pick = ((rng.next_f64() * others.len() as f64) as usize).min(others.len() - 1);
        others[pick].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DriftInjection {
        text.parse().unwrap()
    }

    #[test]
    fn every_kind_parses_with_and_without_timing() {
        assert_eq!(
            parse("shift:age=10"),
            DriftInjection {
                column: "age".into(),
                change: Change::Shift { by: 10.0 },
                timing: Timing::Always
            }
        );
        assert_eq!(
            parse("scale:income=1.5@30").timing,
            Timing::Step { at: 30.0 }
        );
        assert_eq!(
            parse("mix:plan=basic:3,pro:1@10..40"),
            DriftInjection {
                column: "plan".into(),
                change: Change::Mix {
                    levels: vec![("basic".into(), 0.75), ("pro".into(), 0.25)]
                },
                timing: Timing::Ramp {
                    from: 10.0,
                    to: 40.0
                }
            }
        );
        assert_eq!(
            parse("flip:churned=0.3").change,
            Change::Flip { share: 0.3 }
        );
    }

    #[test]
    fn the_text_form_round_trips() {
        for text in [
            "shift:age=10@5..15",
            "scale:x=2@3",
            "flip:y=0.25",
            "mix:c=a:0.5,b:0.5",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let reason = |text: &str| text.parse::<DriftInjection>().unwrap_err().reason;
        assert!(reason("age=10").contains("KIND"));
        assert!(reason("shift:age").contains("=VALUE"));
        assert!(reason("wobble:age=1").contains("unknown kind 'wobble'"));
        assert!(reason("shift:age=ten").contains("'ten' is not a number"));
        assert!(reason("flip:y=2").contains("between 0 and 1"));
        assert!(reason("shift:age=1@9..3").contains("START < END"));
        assert!(reason("mix:c=a").contains("LEVEL:WEIGHT"));
    }

    #[test]
    fn strength_steps_and_ramps_over_time() {
        let ramp = Timing::Ramp {
            from: 10.0,
            to: 20.0,
        };
        assert_eq!(ramp.strength(5.0), 0.0);
        assert_eq!(ramp.strength(15.0), 0.5);
        assert_eq!(ramp.strength(25.0), 1.0);
        assert_eq!(Timing::Step { at: 3.0 }.strength(2.9), 0.0);
        assert_eq!(Timing::Step { at: 3.0 }.strength(3.0), 1.0);
        let shift = parse("shift:x=10@10..20");
        assert_eq!(shift.apply_number(1.0, 15.0), 6.0);
        assert_eq!(parse("scale:x=3").apply_number(2.0, 0.0), 6.0);
    }

    #[test]
    fn a_full_mix_redraws_every_value_and_a_flip_changes_its_share() {
        let mut rng = SeededRng::new(7);
        let mix = parse("mix:c=z:1");
        assert!(
            (0..100)
                .all(|_| mix.apply_text(Some("a".into()), 0.0, &mut rng).as_deref() == Some("z"))
        );
        let flip = parse("flip:y=0.3");
        let classes = ["a".to_owned(), "b".to_owned()];
        let flipped = (0..10_000)
            .filter(|_| flip.apply_label("a".into(), 0.0, &classes, &mut rng) == "b")
            .count();
        assert!((2_700..3_300).contains(&flipped), "{flipped}");
    }
}
