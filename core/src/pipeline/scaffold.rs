//! A new `kiln.toml` from a training request: the Train tab's "Save as pipeline" and the
//! demo project. The text it writes parses back as the same training (tested), so what the
//! user tried by hand is what CI re-runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::train::TrainRequest;
use crate::tune::Space;

/// What a new pipeline registers and how it is gated, beside the training.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScaffoldOptions {
    /// `[pipeline] name`.
    pub name: String,
    /// `[register] model`; no `[register]` table when empty.
    pub register_as: String,
    /// `[register] promote_to` (e.g. `staging`).
    pub promote_to: Option<String>,
    /// `[gates]`, e.g. `("accuracy", ">= 0.9")`.
    pub gates: Vec<(String, String)>,
    /// The sweep's search space by hyper-parameter (empty: a single training).
    pub sweep: BTreeMap<String, Space>,
}

impl ScaffoldOptions {
    /// A pipeline for the data file `data`: named after it, registering its model under the
    /// same name and staging a version that passes; no gates, as no threshold is known yet.
    pub fn for_data(data: &Path, sweep: BTreeMap<String, Space>) -> Self {
        let name = data
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pipeline".into());
        Self {
            register_as: name.clone(),
            name,
            promote_to: Some("staging".into()),
            gates: Vec::new(),
            sweep,
        }
    }
}

/// A path as `kiln.toml` should name it: relative to `dir` when it is inside it.
fn relative_to(path: &Path, dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .strip_prefix(&dir)
        .map(Path::to_path_buf)
        .unwrap_or(absolute)
}

/// A parameter's text as a TOML value: numbers and booleans as such, the rest as strings.
fn value_of(text: &str) -> toml::Value {
    if let Ok(int) = text.parse::<i64>() {
        return toml::Value::Integer(int);
    }
    if let Ok(float) = text.parse::<f64>()
        && float.is_finite()
    {
        return toml::Value::Float(float);
    }
    match text {
        "true" | "True" => toml::Value::Boolean(true),
        "false" | "False" => toml::Value::Boolean(false),
        _ => toml::Value::String(text.to_owned()),
    }
}

/// A search space as `[train.sweep]` reads it: a list of values, or a `"LO:HI[:log]"` range
/// whose bounds keep their decimal point when the range is not of whole numbers.
fn space_value(space: &Space) -> toml::Value {
    let bounds = |lo: f64, hi: f64, integer: bool| {
        if integer {
            format!("{lo}:{hi}")
        } else {
            format!("{lo:?}:{hi:?}")
        }
    };
    match space {
        Space::Values(values) => toml::Value::Array(values.iter().map(|v| value_of(v)).collect()),
        Space::Uniform { lo, hi, integer } => bounds(*lo, *hi, *integer).into(),
        Space::LogUniform { lo, hi, integer } => {
            format!("{}:log", bounds(*lo, *hi, *integer)).into()
        }
    }
}

fn table(entries: impl IntoIterator<Item = (String, toml::Value)>) -> toml::Value {
    toml::Value::Table(entries.into_iter().collect())
}

/// The `kiln.toml` text for `request`, to be written in `dir`.
pub fn scaffold_toml(request: &TrainRequest, options: &ScaffoldOptions, dir: &Path) -> String {
    let path_text = |p: &Path| toml::Value::String(relative_to(p, dir).display().to_string());
    let mut data = BTreeMap::new();
    data.insert(
        "train".to_owned(),
        table([
            ("path".to_owned(), path_text(&request.data)),
            (
                "expect".to_owned(),
                table([(
                    "columns".to_owned(),
                    toml::Value::Array(vec![toml::Value::String(request.target.clone())]),
                )]),
            ),
        ]),
    );
    let mut train: Vec<(String, toml::Value)> = vec![("data".into(), "train".into())];
    if let Some(test) = &request.test {
        data.insert(
            "test".to_owned(),
            table([("path".to_owned(), path_text(test))]),
        );
        train.push(("test".into(), "test".into()));
    } else if let Some(folds) = request.cv {
        train.push(("cv".into(), toml::Value::Integer(folds as i64)));
    } else {
        train.push(("test_size".into(), toml::Value::Float(request.test_size)));
    }
    train.push(("target".into(), request.target.clone().into()));
    train.push(("model".into(), request.model.clone().into()));
    if !request.params.is_empty() {
        let params = request.params.iter().map(|(k, v)| (k.clone(), value_of(v)));
        train.push(("params".into(), table(params)));
    }
    // kiln.toml has no column roles: the columns a role leaves out are dropped by name.
    let mut drop = request.drop.clone();
    for column in request.schema.left_out() {
        if !drop.contains(&column) {
            drop.push(column);
        }
    }
    if !drop.is_empty() {
        let drop = drop.into_iter().map(toml::Value::String);
        train.push(("drop".into(), toml::Value::Array(drop.collect())));
    }
    train.push(("seed".into(), toml::Value::Integer(request.seed as i64)));
    if !request.experiment.is_empty() {
        train.push(("experiment".into(), request.experiment.clone().into()));
    }
    if !options.sweep.is_empty() {
        let spaces = options
            .sweep
            .iter()
            .map(|(k, space)| (k.clone(), space_value(space)));
        train.push(("sweep".into(), table(spaces)));
    }
    let mut root: Vec<(String, toml::Value)> = vec![
        (
            "pipeline".into(),
            table([("name".to_owned(), options.name.clone().into())]),
        ),
        (
            "data".into(),
            toml::Value::Table(data.into_iter().collect()),
        ),
        ("train".into(), table(train)),
    ];
    if !options.gates.is_empty() {
        let gates = options
            .gates
            .iter()
            .map(|(metric, condition)| (metric.clone(), condition.clone().into()));
        root.push(("gates".into(), table(gates)));
    }
    if !options.register_as.is_empty() {
        let mut register = vec![("model".to_owned(), options.register_as.clone().into())];
        if let Some(stage) = &options.promote_to {
            register.push(("promote_to".to_owned(), stage.clone().into()));
        }
        root.push(("register".into(), table(register)));
    }
    let mut body = toml::to_string(&table(root)).unwrap_or_default();
    if options.gates.is_empty() {
        // Without gates every version is staged; say where they go rather than invent one.
        body.push_str(
            "\n# [gates] keeps a model out of the registry's next stage unless it passes, e.g.\n\
             # [gates]\n# accuracy = \">= 0.9\"\n",
        );
    }
    format!(
        "# Written by Kiln from the Train tab's choices. `kiln run` re-runs the stages whose\n\
         # inputs or settings changed; commit kiln.lock beside this file.\n\
         # (Per-column preprocessing and type choices made in the Train tab are not part of\n\
         # kiln.toml: the pipeline uses Kiln's defaults for them.)\n\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::PipelineFile;

    fn request(dir: &Path) -> TrainRequest {
        TrainRequest {
            data: dir.join("data/penguins.csv"),
            test: None,
            test_size: 0.3,
            target: "species".into(),
            drop: vec!["year".into()],
            model: "logistic_regression".into(),
            params: BTreeMap::from([
                ("C".into(), "0.5".into()),
                ("max_iter".into(), "200".into()),
            ]),
            experiment: "penguins".into(),
            seed: 7,
            cv: None,
            steps: Default::default(),
            schema: Default::default(),
        }
    }

    #[test]
    fn a_saved_pipeline_parses_back_as_the_same_training() {
        let dir = Path::new("/projects/penguins");
        let options = ScaffoldOptions {
            name: "penguins".into(),
            register_as: "penguin-clf".into(),
            promote_to: Some("staging".into()),
            gates: vec![("accuracy".into(), ">= 0.9".into())],
            sweep: BTreeMap::new(),
        };
        let text = scaffold_toml(&request(dir), &options, dir);
        let file = PipelineFile::parse(&text, &dir.join("kiln.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.name, "penguins");
        assert_eq!(
            file.data.get("train").map(|d| d.path.clone()),
            Some(PathBuf::from("data/penguins.csv"))
        );
        assert_eq!(file.train.target, "species");
        assert_eq!(file.train.model, "logistic_regression");
        assert_eq!(file.train.test_size, Some(0.3));
        assert_eq!(file.train.seed, 7);
        assert_eq!(file.train.drop, vec!["year".to_owned()]);
        assert_eq!(file.params().get("C").map(String::as_str), Some("0.5"));
        assert_eq!(file.model_name(), "penguin-clf");
        assert!(file.gates.is_some());
    }

    #[test]
    fn a_saved_sweep_keeps_its_value_lists_and_ranges() {
        let dir = Path::new("/projects/penguins");
        let sweep = BTreeMap::from([
            (
                "C".to_owned(),
                Space::LogUniform {
                    lo: 0.01,
                    hi: 100.0,
                    integer: false,
                },
            ),
            (
                "max_iter".to_owned(),
                Space::Uniform {
                    lo: 100.0,
                    hi: 300.0,
                    integer: true,
                },
            ),
            (
                "tol".to_owned(),
                Space::Values(vec!["0.001".into(), "0.0001".into()]),
            ),
            (
                "l1_ratio".to_owned(),
                Space::Uniform {
                    lo: 0.0,
                    hi: 1.0,
                    integer: false,
                },
            ),
        ]);
        let options = ScaffoldOptions {
            name: "penguins".into(),
            sweep: sweep.clone(),
            ..Default::default()
        };
        let text = scaffold_toml(&request(dir), &options, dir);
        let file = PipelineFile::parse(&text, &dir.join("kiln.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let parsed = file.sweep.map(|s| s.spaces);
        assert_eq!(parsed, Some(sweep), "{text}");
    }

    #[test]
    fn columns_explore_left_out_by_role_are_dropped_by_name_once() {
        use crate::data::schema::{ColumnChoice, ColumnRole};
        let dir = Path::new("/projects/penguins");
        let mut request = request(dir);
        for (column, role) in [("year", ColumnRole::Ignore), ("id", ColumnRole::Id)] {
            let choice = ColumnChoice { kind: None, role };
            request.schema.columns.insert(column.into(), choice);
        }
        let options = ScaffoldOptions::for_data(&request.data, BTreeMap::new());
        let text = scaffold_toml(&request, &options, dir);
        let file = PipelineFile::parse(&text, &dir.join("kiln.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.train.drop, vec!["year".to_owned(), "id".to_owned()]);
        assert_eq!(
            (file.name.as_str(), file.model_name()),
            ("penguins", "penguins"),
            "named and registered after the data file"
        );
    }

    #[test]
    fn data_outside_the_project_keeps_its_absolute_path() {
        let text = scaffold_toml(
            &request(Path::new("/elsewhere")),
            &ScaffoldOptions {
                name: "p".into(),
                ..Default::default()
            },
            Path::new("/projects/p"),
        );
        assert!(
            text.contains("path = \"/elsewhere/data/penguins.csv\""),
            "{text}"
        );
        assert!(!text.contains("[register]"), "{text}");
    }
}
