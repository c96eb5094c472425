//! Running an ONNX model with tract: the graph is parsed with Kiln's ONNX-ML operators,
//! its inputs are given a symbolic batch size, and rows of a table are fed as the signature
//! says (numbers as float with NaN for missing, text with "" for missing).

use std::sync::Arc;

use polars::prelude::DataFrame;
use prost::Message;
use tract_onnx::pb;
use tract_onnx::prelude::*;

use super::OnnxError;
use super::ops::onnx_with_ml_ops;
use super::signature::{ElemType, OnnxSignature};
use crate::features::{strict_numeric_column, text_column};
use crate::inference::Predictions;
use crate::models::Task;
use crate::tracking::export::format_float;

/// A loaded ONNX model, ready to predict.
#[derive(Clone)]
pub struct OnnxModel {
    /// What it reads and writes.
    pub signature: OnnxSignature,
    /// The .onnx bytes (for export and for the store).
    pub bytes: Arc<Vec<u8>>,
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Decodes the protobuf of an .onnx file.
pub fn decode(bytes: &[u8]) -> Result<pb::ModelProto, OnnxError> {
    pb::ModelProto::decode(bytes)
        .map_err(|e| OnnxError::Invalid(format!("not an ONNX model (protobuf: {e})")))
}

fn datum_type(elem: ElemType, name: &str) -> Result<DatumType, OnnxError> {
    Ok(match elem {
        ElemType::Float => f32::datum_type(),
        ElemType::Double => f64::datum_type(),
        ElemType::Int64 => i64::datum_type(),
        ElemType::Int32 => i32::datum_type(),
        ElemType::String => String::datum_type(),
        ElemType::Bool | ElemType::Other => {
            return Err(OnnxError::Invalid(format!(
                "input '{name}' has a type Kiln cannot fill from a table (float, double, int or string)"
            )));
        }
    })
}

impl OnnxModel {
    /// Parses and optimises `bytes` for `signature`; a graph tract cannot run is an error
    /// naming the reason.
    pub fn load(bytes: Vec<u8>, signature: OnnxSignature) -> Result<Self, OnnxError> {
        let mut proto = decode(&bytes)?;
        super::rewrite::integer_labels(&mut proto);
        let runtime = |e: TractError| OnnxError::Runtime(format!("{e:#}"));
        let mut model = onnx_with_ml_ops()
            .model_for_proto_model(&proto)
            .map_err(runtime)?;
        let batch = model.sym("N");
        for (i, input) in signature.inputs.iter().enumerate() {
            let dt = datum_type(input.tensor.elem_type, &input.tensor.name)?;
            let shape: TVec<TDim> = match input.tensor.shape.len() {
                1 => tvec![batch.to_dim()],
                _ => tvec![batch.to_dim(), (input.columns.len() as i64).to_dim()],
            };
            model
                .set_input_fact(i, TypedFact::dt_shape(dt, shape).into())
                .map_err(runtime)?;
        }
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(runtime)?;
        Ok(Self {
            signature,
            bytes: Arc::new(bytes),
            plan,
        })
    }

    /// Runs the model on already built input tensors; outputs in graph order.
    pub fn run(&self, inputs: TVec<TValue>) -> Result<TVec<TValue>, OnnxError> {
        self.plan
            .run(inputs)
            .map_err(|e| OnnxError::Runtime(format!("{e:#}")))
    }

    /// The input tensors for the rows of `frame`, as the signature maps columns.
    pub fn input_tensors(&self, frame: &DataFrame) -> Result<TVec<TValue>, OnnxError> {
        let rows = frame.height();
        let mut tensors = tvec![];
        for input in &self.signature.inputs {
            let width = input.columns.len();
            let shape: Vec<usize> = match input.tensor.shape.len() {
                1 => vec![rows],
                _ => vec![rows, width],
            };
            let tensor = if input.tensor.elem_type == ElemType::String {
                let mut values = vec![String::new(); rows * width];
                for (c, column) in input.columns.iter().enumerate() {
                    for (r, v) in text_column(frame, column)?.into_iter().enumerate() {
                        values[r * width + c] = v.unwrap_or_default();
                    }
                }
                tensor1(&values)
            } else {
                let mut values = vec![f64::NAN; rows * width];
                for (c, column) in input.columns.iter().enumerate() {
                    for (r, v) in strict_numeric_column(frame, column)?
                        .into_iter()
                        .enumerate()
                    {
                        values[r * width + c] = v.unwrap_or(f64::NAN);
                    }
                }
                let dt = datum_type(input.tensor.elem_type, &input.tensor.name)?;
                tensor1(&values)
                    .cast_to_dt(dt)
                    .map_err(|e| OnnxError::Runtime(format!("{e:#}")))?
                    .into_owned()
            };
            let tensor = tensor
                .into_shape(&shape)
                .map_err(|e| OnnxError::Runtime(format!("{e:#}")))?;
            tensors.push(tensor.into_tvalue());
        }
        Ok(tensors)
    }

    /// Predictions for the rows of `frame`, read from the outputs the signature names.
    pub fn predict(&self, frame: &DataFrame) -> Result<Predictions, OnnxError> {
        let outputs = self.run(self.input_tensors(frame)?)?;
        let output = |name: &Option<String>| -> Option<&TValue> {
            let name = name.as_ref()?;
            let i = self
                .signature
                .outputs
                .iter()
                .position(|o| &o.name == name)?;
            outputs.get(i)
        };
        let rows = frame.height();
        let read_err = |e: TractError| OnnxError::Runtime(format!("reading outputs: {e:#}"));
        let values = match output(&self.signature.value_output) {
            Some(v) => {
                let v = v.cast_to::<f64>().map_err(read_err)?;
                let v = v.to_plain_array_view::<f64>().map_err(read_err)?;
                v.iter().copied().collect::<Vec<f64>>()
            }
            None => Vec::new(),
        };
        match self.signature.task {
            Task::Regression => {
                if values.len() != rows {
                    return Err(OnnxError::Runtime(format!(
                        "the model wrote {} values for {rows} rows",
                        values.len()
                    )));
                }
                Ok(Predictions {
                    labels: values.iter().map(|v| format_float(*v)).collect(),
                    proba: None,
                })
            }
            Task::Classification => {
                let labels = output(&self.signature.label_output)
                    .ok_or_else(|| OnnxError::Runtime("the model wrote no labels".into()))?;
                let labels = labels.cast_to::<String>().map_err(read_err)?;
                let labels: Vec<String> = labels
                    .to_plain_array_view::<String>()
                    .map_err(read_err)?
                    .iter()
                    .cloned()
                    .collect();
                let k = self.signature.classes.len();
                let proba = (k > 0 && values.len() == rows * k)
                    .then(|| values.chunks(k).map(<[f64]>::to_vec).collect());
                Ok(Predictions { labels, proba })
            }
        }
    }
}
