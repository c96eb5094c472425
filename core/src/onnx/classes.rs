//! The class labels of an ONNX classifier, in the order of its probability columns: from the
//! `classlabels_*` attribute of the node that writes them (ZipMap, a classifier operator), or
//! from the constant table an `ArrayFeatureExtractor` looks labels up in (skl2onnx's MLP).

use tract_onnx::pb;

use super::OnnxError;
use super::signature::TensorSpec;

const LABEL_ATTRIBUTES: [&str; 4] = [
    "classlabels_strings",
    "classlabels_int64s",
    "classlabels_ints",
    "classlabels_int64",
];

fn from_attributes(node: &pb::NodeProto) -> Option<Vec<String>> {
    node.attribute
        .iter()
        .filter(|a| LABEL_ATTRIBUTES.contains(&a.name.as_str()))
        .find_map(|a| {
            if !a.strings.is_empty() {
                Some(
                    a.strings
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect(),
                )
            } else if !a.ints.is_empty() {
                Some(a.ints.iter().map(i64::to_string).collect())
            } else {
                None
            }
        })
}

fn from_initializer(tensor: &pb::TensorProto) -> Option<Vec<String>> {
    if !tensor.string_data.is_empty() {
        return Some(
            tensor
                .string_data
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        );
    }
    if !tensor.int64_data.is_empty() {
        return Some(tensor.int64_data.iter().map(i64::to_string).collect());
    }
    if tensor.data_type == pb::tensor_proto::DataType::Int64 as i32 && !tensor.raw_data.is_empty() {
        return Some(
            tensor
                .raw_data
                .chunks_exact(8)
                .map(|b| {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(b);
                    i64::from_le_bytes(bytes).to_string()
                })
                .collect(),
        );
    }
    None
}

/// Class labels of `graph`; `value` is the probability output, whose width numbers the
/// classes `0..k` when the graph names none.
pub(super) fn class_labels(
    graph: &pb::GraphProto,
    value: Option<&TensorSpec>,
) -> Result<Vec<String>, OnnxError> {
    // ZipMap is the last word on the column order; then a classifier operator.
    let by_op = |op: &str| {
        graph
            .node
            .iter()
            .filter(|n| n.op_type == op)
            .find_map(from_attributes)
    };
    let found = by_op("ZipMap")
        .or_else(|| graph.node.iter().find_map(from_attributes))
        .or_else(|| {
            graph
                .node
                .iter()
                .filter(|n| n.op_type == "ArrayFeatureExtractor")
                .filter_map(|n| n.input.first())
                .find_map(|name| graph.initializer.iter().find(|t| &t.name == name))
                .and_then(from_initializer)
        });
    if let Some(classes) = found {
        return Ok(classes);
    }
    match value.and_then(TensorSpec::width) {
        Some(k) if k > 0 => Ok((0..k).map(|i| i.to_string()).collect()),
        _ => Err(OnnxError::Invalid(
            "the classifier names no class labels and its probability output has no fixed width"
                .into(),
        )),
    }
}
