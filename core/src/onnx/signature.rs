//! What an ONNX model reads and writes, as recorded on a registered version: each input
//! tensor with the data columns it is filled from, the outputs, the task and the classes.

use serde::{Deserialize, Serialize};
use tract_onnx::pb;

use super::OnnxError;
use crate::models::Task;

/// Element type of a tensor, as Kiln fills or reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElemType {
    /// 32-bit float (missing numbers as NaN).
    Float,
    /// 64-bit float.
    Double,
    /// 64-bit integer.
    Int64,
    /// 32-bit integer.
    Int32,
    /// Text (missing as "").
    String,
    /// Boolean.
    Bool,
    /// Not a tensor (a sequence of maps, as `ZipMap` writes) or a type Kiln does not feed.
    Other,
}

impl ElemType {
    fn from_onnx(code: i32) -> Self {
        use pb::tensor_proto::DataType as D;
        match D::try_from(code) {
            Ok(D::Float) => Self::Float,
            Ok(D::Double) => Self::Double,
            Ok(D::Int64) => Self::Int64,
            Ok(D::Int32) => Self::Int32,
            Ok(D::String) => Self::String,
            Ok(D::Bool) => Self::Bool,
            _ => Self::Other,
        }
    }
}

/// One input or output tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Name in the graph.
    pub name: String,
    /// Element type.
    pub elem_type: ElemType,
    /// Dimensions; `None` for a symbolic one (the batch).
    pub shape: Vec<Option<i64>>,
}

impl TensorSpec {
    fn of(info: &pb::ValueInfoProto) -> Self {
        let tensor = info.r#type.as_ref().and_then(|t| match &t.value {
            Some(pb::type_proto::Value::TensorType(tensor)) => Some(tensor),
            _ => None,
        });
        let shape = tensor
            .and_then(|t| t.shape.as_ref())
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| match d.value {
                        Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) => Some(v),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: info.name.clone(),
            elem_type: tensor.map_or(ElemType::Other, |t| ElemType::from_onnx(t.elem_type)),
            shape,
        }
    }

    /// Columns of one row: the last dimension (1 for a vector).
    pub fn width(&self) -> Option<i64> {
        match self.shape.len() {
            0 | 1 => Some(1),
            _ => self.shape.last().copied().flatten(),
        }
    }
}

/// An input tensor and the data columns that fill it, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxInput {
    /// The tensor.
    pub tensor: TensorSpec,
    /// Data columns, one per tensor column.
    pub columns: Vec<String>,
}

/// Where an imported file came from (it has no run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxSource {
    /// The file's name as given.
    pub file: String,
    /// sha256 of its bytes.
    pub sha256: String,
}

/// Everything Kiln needs to feed an ONNX model rows and read its predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxSignature {
    /// Always `"onnx"`: what tells an imported version from a native one.
    pub kind: String,
    /// Classification (a label output) or regression.
    pub task: Task,
    /// The column the model predicts, when known (gates and fairness compare with it).
    pub target: Option<String>,
    /// Class labels in the order of the probability columns.
    pub classes: Vec<String>,
    /// Input tensors with their columns.
    pub inputs: Vec<OnnxInput>,
    /// Output tensors.
    pub outputs: Vec<TensorSpec>,
    /// The output holding labels (classifiers).
    pub label_output: Option<String>,
    /// The output holding probabilities (classifiers) or predicted values (regressors).
    pub value_output: Option<String>,
    /// The imported file.
    pub source: Option<OnnxSource>,
}

/// The value that marks a signature as ONNX.
pub const ONNX_KIND: &str = "onnx";

/// Reads the signature of `proto`. `columns` (from `--columns-from`, minus `--drop`) fill the
/// one input tensor in order; without it each input is the data column of its name.
pub fn read_signature(
    proto: &pb::ModelProto,
    columns: Option<&[String]>,
    target: Option<&str>,
) -> Result<OnnxSignature, OnnxError> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| OnnxError::Invalid("the file holds no graph".into()))?;
    let initialized: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let tensors: Vec<TensorSpec> = graph
        .input
        .iter()
        .filter(|i| !initialized.contains(&i.name.as_str()))
        .map(TensorSpec::of)
        .collect();
    let inputs = map_columns(tensors, columns)?;
    let outputs: Vec<TensorSpec> = graph.output.iter().map(TensorSpec::of).collect();
    let label = outputs.iter().find(|o| {
        matches!(
            o.elem_type,
            ElemType::String | ElemType::Int64 | ElemType::Int32
        )
    });
    let value = outputs.iter().find(|o| {
        Some(&o.name) != label.map(|l| &l.name)
            && matches!(
                o.elem_type,
                ElemType::Float | ElemType::Double | ElemType::Other
            )
    });
    let (task, classes) = match label {
        Some(_) => (
            Task::Classification,
            super::classes::class_labels(graph, value)?,
        ),
        None if value.is_some() => (Task::Regression, Vec::new()),
        None => {
            return Err(OnnxError::Invalid(
                "no output holds labels or numbers, so Kiln cannot read its predictions".into(),
            ));
        }
    };
    Ok(OnnxSignature {
        kind: ONNX_KIND.into(),
        task,
        target: target.map(str::to_owned),
        classes,
        inputs,
        label_output: label.map(|l| l.name.clone()),
        value_output: value.map(|v| v.name.clone()),
        outputs,
        source: None,
    })
}

fn map_columns(
    tensors: Vec<TensorSpec>,
    columns: Option<&[String]>,
) -> Result<Vec<OnnxInput>, OnnxError> {
    if let Some(columns) = columns {
        let [tensor] = <[TensorSpec; 1]>::try_from(tensors).map_err(|t| {
            OnnxError::Columns(format!(
                "--columns-from maps columns onto one input tensor, but the model has {} inputs ({})",
                t.len(),
                t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        if columns.is_empty() {
            return Err(OnnxError::Columns(
                "no columns are left after --drop".into(),
            ));
        }
        if let Some(width) = tensor.width()
            && width != columns.len() as i64
        {
            return Err(OnnxError::Columns(format!(
                "input '{}' takes {width} columns, but {} are left after --drop: {}",
                tensor.name,
                columns.len(),
                columns.join(", ")
            )));
        }
        return Ok(vec![OnnxInput {
            tensor,
            columns: columns.to_vec(),
        }]);
    }
    tensors
        .into_iter()
        .map(|tensor| match tensor.width() {
            Some(1) => Ok(OnnxInput { columns: vec![tensor.name.clone()], tensor }),
            width => Err(OnnxError::Columns(format!(
                "input '{}' is one tensor of {} columns: name them with --columns-from CSV (and --drop COL for columns that are not inputs)",
                tensor.name,
                width.map_or("several".to_string(), |w| w.to_string())
            ))),
        })
        .collect()
}
