//! Export of Kiln's own models with their preprocessing as one ONNX graph. It takes one input
//! per raw column, named as the column, shape `[N, 1]`: float (NaN = missing) for numeric
//! columns, string ("" = missing) for categorical ones. Numbers go through `Imputer` and
//! `Scaler`; categories through `CategoryMapper` (missing → the training fill, infrequent →
//! their shared column, unseen → -1) and a comparison with the column indices, which is
//! scikit-learn's one-hot with unseen levels as zeros. Classifiers output `label` [N] and
//! `probabilities` [N, classes]; regressors `prediction` [N, 1].

mod graph;
mod heads;

use prost::Message;
use tract_onnx::pb::tensor_proto::DataType;

use super::OnnxError;
use crate::features::FittedColumn;
use crate::inference::ModelArtifact;
use graph::{Attr, Graph, ML};

/// The .onnx bytes of a native model and its pipeline.
pub fn export_model(artifact: &ModelArtifact) -> Result<Vec<u8>, OnnxError> {
    let mut graph = Graph::default();
    let mut features = Vec::new();
    for column in &artifact.pipeline.columns {
        features.push(preprocess(&mut graph, column));
    }
    let width = artifact.pipeline.width() as i64;
    if features.is_empty() {
        return Err(OnnxError::Unsupported(
            "models without input columns".into(),
        ));
    }
    let refs: Vec<&str> = features.iter().map(String::as_str).collect();
    graph.node(
        "Concat",
        "",
        &refs,
        &["features"],
        vec![("axis", Attr::Int(1))],
    );
    heads::model_head(&mut graph, artifact, "features", width)?;
    let metadata = vec![
        ("kiln.target".to_owned(), artifact.target.clone()),
        ("kiln.model".to_owned(), artifact.spec.name().to_string()),
        ("kiln.version".to_owned(), artifact.kiln_version.clone()),
    ];
    let doc = format!(
        "{} predicting '{}', exported by Kiln {} with its preprocessing",
        artifact.spec.name(),
        artifact.target,
        crate::KILN_VERSION
    );
    Ok(graph.into_model(doc, metadata).encode_to_vec())
}

/// Adds the nodes of one raw column and returns the name of its `[N, width]` float tensor.
fn preprocess(graph: &mut Graph, column: &FittedColumn) -> String {
    match column {
        FittedColumn::Numeric {
            name,
            fill,
            mean,
            scale,
        } => {
            graph.input(name, DataType::Float, &[1]);
            let imputed = format!("{name}__imputed");
            let scaled = format!("{name}__scaled");
            graph.node(
                "Imputer",
                ML,
                &[name],
                &[&imputed],
                vec![
                    ("imputed_value_floats", Attr::Floats(vec![*fill as f32])),
                    ("replaced_value_float", Attr::Float(f32::NAN)),
                ],
            );
            graph.node(
                "Scaler",
                ML,
                &[&imputed],
                &[&scaled],
                vec![
                    ("offset", Attr::Floats(vec![*mean as f32])),
                    ("scale", Attr::Floats(vec![(1.0 / scale) as f32])),
                ],
            );
            scaled
        }
        FittedColumn::OneHot {
            name,
            fill,
            categories,
            infrequent,
        } => {
            graph.input(name, DataType::String, &[1]);
            let width = column.width();
            let mut keys: Vec<String> = categories.clone();
            let mut ids: Vec<i64> = (0..categories.len() as i64).collect();
            keys.extend(infrequent.iter().cloned());
            ids.extend(infrequent.iter().map(|_| categories.len() as i64));
            // A missing value ("") is the training fill, as the native pipeline imputes it.
            if !keys.iter().any(String::is_empty)
                && let Some(i) = keys.iter().position(|k| k == fill)
            {
                keys.push(String::new());
                ids.push(ids[i]);
            }
            let index = format!("{name}__index");
            let positions = format!("{name}__positions");
            let hot = format!("{name}__hot");
            let onehot = format!("{name}__onehot");
            graph.node(
                "CategoryMapper",
                ML,
                &[name],
                &[&index],
                vec![
                    ("cats_strings", Attr::Strs(keys)),
                    ("cats_int64s", Attr::Ints(ids)),
                    ("default_int64", Attr::Int(-1)),
                ],
            );
            graph.int64_constant(&positions, &[1, width as i64], (0..width as i64).collect());
            graph.node("Equal", "", &[&index, &positions], &[&hot], vec![]);
            graph.node(
                "Cast",
                "",
                &[&hot],
                &[&onehot],
                vec![("to", Attr::Int(DataType::Float as i64))],
            );
            onehot
        }
    }
}
