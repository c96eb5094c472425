//! A small builder over tract's protobuf types (`tract_onnx::pb`, encoded by prost): nodes
//! with typed attributes, constant tensors, typed inputs and outputs.

use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};

/// The domain of the ONNX-ML operators.
pub const ML: &str = "ai.onnx.ml";
/// Opset of the default domain: within what both tract (9 to 18) and onnxruntime run.
pub const OPSET: i64 = 15;
/// Opset of `ai.onnx.ml`: 3 still has `TreeEnsembleClassifier`/`Regressor` (5 replaced them).
pub const ML_OPSET: i64 = 3;

/// One attribute value.
pub enum Attr {
    /// `INT`.
    Int(i64),
    /// `FLOAT`.
    Float(f32),
    /// `STRING`.
    Str(String),
    /// `INTS`.
    Ints(Vec<i64>),
    /// `FLOATS`.
    Floats(Vec<f32>),
    /// `STRINGS`.
    Strs(Vec<String>),
}

fn attribute(name: &str, value: Attr) -> pb::AttributeProto {
    let mut a = pb::AttributeProto {
        name: name.to_owned(),
        ..Default::default()
    };
    let kind = match value {
        Attr::Int(v) => {
            a.i = v;
            AttributeType::Int
        }
        Attr::Float(v) => {
            a.f = v;
            AttributeType::Float
        }
        Attr::Str(v) => {
            a.s = v.into_bytes();
            AttributeType::String
        }
        Attr::Ints(v) => {
            a.ints = v;
            AttributeType::Ints
        }
        Attr::Floats(v) => {
            a.floats = v;
            AttributeType::Floats
        }
        Attr::Strs(v) => {
            a.strings = v.into_iter().map(String::into_bytes).collect();
            AttributeType::Strings
        }
    };
    a.r#type = kind as i32;
    a
}

/// A tensor type with a symbolic batch dimension `N` first.
fn value_info(name: &str, elem: DataType, tail: &[i64]) -> pb::ValueInfoProto {
    let batch = Dimension {
        value: Some(dimension::Value::DimParam("N".into())),
        ..Default::default()
    };
    let dims = std::iter::once(batch).chain(tail.iter().map(|d| Dimension {
        value: Some(dimension::Value::DimValue(*d)),
        ..Default::default()
    }));
    pb::ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(pb::TensorShapeProto {
                    dim: dims.collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The graph being built.
#[derive(Default)]
pub struct Graph {
    nodes: Vec<pb::NodeProto>,
    initializers: Vec<pb::TensorProto>,
    inputs: Vec<pb::ValueInfoProto>,
    outputs: Vec<pb::ValueInfoProto>,
}

impl Graph {
    /// Adds a node `op` (of `domain`, "" for the default one) reading `inputs`, writing `outputs`.
    pub fn node(
        &mut self,
        op: &str,
        domain: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) {
        self.nodes.push(pb::NodeProto {
            name: format!("{}_{}", op, self.nodes.len()),
            op_type: op.to_owned(),
            domain: domain.to_owned(),
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: outputs.iter().map(|s| (*s).to_owned()).collect(),
            attribute: attrs.into_iter().map(|(n, v)| attribute(n, v)).collect(),
            ..Default::default()
        });
    }

    /// Adds a constant int64 tensor of shape `dims`.
    pub fn int64_constant(&mut self, name: &str, dims: &[i64], values: Vec<i64>) {
        self.initializers.push(pb::TensorProto {
            name: name.to_owned(),
            dims: dims.to_vec(),
            data_type: DataType::Int64 as i32,
            int64_data: values,
            ..Default::default()
        });
    }

    /// Declares a graph input `[N, tail...]`.
    pub fn input(&mut self, name: &str, elem: DataType, tail: &[i64]) {
        self.inputs.push(value_info(name, elem, tail));
    }

    /// Declares a graph output `[N, tail...]`.
    pub fn output(&mut self, name: &str, elem: DataType, tail: &[i64]) {
        self.outputs.push(value_info(name, elem, tail));
    }

    /// The model, with the opsets Kiln's exports use and `metadata` as metadata properties.
    pub fn into_model(self, doc: String, metadata: Vec<(String, String)>) -> pb::ModelProto {
        let opset = |domain: &str, version| pb::OperatorSetIdProto {
            domain: domain.to_owned(),
            version,
        };
        pb::ModelProto {
            ir_version: 8,
            opset_import: vec![opset("", OPSET), opset(ML, ML_OPSET)],
            producer_name: "kiln".into(),
            producer_version: crate::KILN_VERSION.into(),
            doc_string: doc,
            metadata_props: metadata
                .into_iter()
                .map(|(key, value)| pb::StringStringEntryProto { key, value })
                .collect(),
            graph: Some(pb::GraphProto {
                name: "kiln".into(),
                node: self.nodes,
                initializer: self.initializers,
                input: self.inputs,
                output: self.outputs,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}
