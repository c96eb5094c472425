//! Kiln's profile equals pandas on the same files: counts, describe(), quantile(), nunique(),
//! skew(), kurt(), value counts and corr(). Expected values were computed by pandas
//! (`scripts/fixtures/make_fixtures.py`) and committed.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kiln_core::data::profile::{ColumnProfile, Profile, ProfileOptions, profile_frame};
use kiln_core::data::{LoadOptions, load_table};
use serde_json::Value;

const REL_TOL: f64 = 1e-9;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/profile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "at least four fixture datasets");
    files
}

fn profile_of(csv: &Path) -> Profile {
    let table = load_table(csv, &LoadOptions::default(), |_, _| true).expect("loads");
    profile_frame(&table.frame, &ProfileOptions::default(), &|_, _| true).expect("profiles")
}

fn expected_number(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::String(s) if s == "inf" => Some(f64::INFINITY),
        Value::String(s) if s == "-inf" => Some(f64::NEG_INFINITY),
        other => other.as_f64(),
    }
}

fn close(actual: Option<f64>, expected: Option<f64>) -> bool {
    match (actual, expected) {
        (None, None) => true,
        (Some(a), Some(e)) if a.is_infinite() || e.is_infinite() => a == e,
        (Some(a), Some(e)) => (a - e).abs() <= REL_TOL * e.abs().max(1.0),
        _ => false,
    }
}

fn check_column(file: &str, ours: &ColumnProfile, theirs: &Value, errors: &mut Vec<String>) {
    let mut fail = |what: &str, a: String, e: String| {
        errors.push(format!(
            "{file} column '{}': {what}: kiln {a}, pandas {e}",
            ours.name
        ));
    };
    for (what, value) in [
        ("count", ours.count),
        ("nulls", ours.nulls),
        ("distinct", ours.distinct),
    ] {
        let expected = theirs[what].as_u64().expect("count") as usize;
        if value != expected {
            fail(what, value.to_string(), expected.to_string());
        }
    }
    let stats = [
        ("mean", ours.mean),
        ("std", ours.std),
        ("min", ours.min),
        ("p5", ours.p5),
        ("p25", ours.p25),
        ("median", ours.median),
        ("p75", ours.p75),
        ("p95", ours.p95),
        ("max", ours.max),
        ("skewness", ours.skewness),
        ("kurtosis", ours.kurtosis),
        ("zeros", ours.zeros.map(|z| z as f64)),
        ("infinities", ours.infinities.map(|z| z as f64)),
    ];
    for (what, value) in stats {
        let expected = expected_number(&theirs[what]);
        // An all-missing column is numeric to pandas and has zero zeros; Kiln has no numbers.
        if ours.count == 0 && expected.is_none_or(|v| v == 0.0) {
            continue;
        }
        if !close(value, expected) {
            fail(what, format!("{value:?}"), format!("{expected:?}"));
        }
    }
    if let Some(top) = theirs["top"].as_array() {
        for ours_top in &ours.top {
            let matches = top.iter().any(|pair| {
                let value = pair[0].as_str().unwrap_or_default();
                let count = pair[1].as_u64().unwrap_or_default();
                let same_value = value.eq_ignore_ascii_case(&ours_top.value)
                    || matches!((value.parse::<f64>(), ours_top.value.parse::<f64>()), (Ok(a), Ok(b)) if a == b);
                same_value && count == ours_top.count
            });
            if !matches {
                fail(
                    "top value",
                    format!("{} x{}", ours_top.value, ours_top.count),
                    format!("{top:?}"),
                );
            }
        }
    }
}

fn check_matrix(
    file: &str,
    name: &str,
    ours: &kiln_core::data::profile::CorrelationMatrix,
    theirs: &Value,
    errors: &mut Vec<String>,
) {
    let columns: Vec<String> = theirs["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_owned())
        .collect();
    if ours.columns != columns {
        errors.push(format!(
            "{file} {name}: columns kiln {:?}, pandas {columns:?}",
            ours.columns
        ));
        return;
    }
    for (i, row) in theirs["matrix"]
        .as_array()
        .expect("matrix")
        .iter()
        .enumerate()
    {
        for (j, cell) in row.as_array().expect("row").iter().enumerate() {
            let expected = expected_number(cell);
            if !close(ours.matrix[i][j], expected) {
                errors.push(format!(
                    "{file} {name}[{}][{}]: kiln {:?}, pandas {expected:?}",
                    columns[i], columns[j], ours.matrix[i][j]
                ));
            }
        }
    }
}

#[test]
fn profiles_equal_pandas_on_every_fixture() {
    let mut errors = Vec::new();
    for expected_path in fixtures() {
        let name = expected_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".expected.json", "");
        let csv = expected_path.with_file_name(format!("{name}.csv"));
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        let profile = profile_of(&csv);
        assert_eq!(
            profile.rows as u64,
            expected["rows"].as_u64().unwrap(),
            "{name}: rows"
        );
        assert_eq!(
            profile.columns_count as u64,
            expected["columns_count"].as_u64().unwrap(),
            "{name}: columns"
        );
        if profile.duplicate_rows as u64 != expected["duplicate_rows"].as_u64().unwrap() {
            errors.push(format!(
                "{name}: duplicate rows kiln {}, pandas {}",
                profile.duplicate_rows, expected["duplicate_rows"]
            ));
        }
        for column in &profile.columns {
            check_column(
                &name,
                column,
                &expected["columns"][&column.name],
                &mut errors,
            );
        }
        check_matrix(
            &name,
            "pearson",
            &profile.correlations.pearson,
            &expected["pearson"],
            &mut errors,
        );
        check_matrix(
            &name,
            "spearman",
            &profile.correlations.spearman,
            &expected["spearman"],
            &mut errors,
        );
    }
    assert!(
        errors.is_empty(),
        "{} differences from pandas:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn alerts_name_what_a_data_scientist_should_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/profile");
    let profile = profile_of(&dir.join("mixed.csv"));
    let kinds: Vec<(Option<&str>, &str)> = profile
        .alerts
        .iter()
        .map(|a| (a.column.as_deref(), a.kind.as_str()))
        .collect();
    assert!(kinds.contains(&(None, "duplicates")), "{kinds:?}");
    assert!(kinds.iter().any(|(_, k)| *k == "constant"), "{kinds:?}");
    assert!(kinds.iter().any(|(_, k)| *k == "missing"), "{kinds:?}");
    assert!(kinds.iter().any(|(_, k)| *k == "zeros"), "{kinds:?}");
    assert!(
        kinds.iter().any(|(_, k)| *k == "high_cardinality"),
        "{kinds:?}"
    );
}
