//! tract 0.23 cannot build a classifier whose labels are strings (`classlabels_strings`: its
//! label lookup needs a numeric zero). Before parsing, such a node is given integer labels
//! `0..k` and its label output goes through a `CategoryMapper` back to the strings, which
//! computes the same labels. The stored bytes are never changed: onnxruntime reads the
//! original.

use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;

/// Classifier operators and the name of their integer-label attribute.
const CLASSIFIERS: [(&str, &str); 3] = [
    ("LinearClassifier", "classlabels_ints"),
    ("TreeEnsembleClassifier", "classlabels_int64s"),
    ("SVMClassifier", "classlabels_ints"),
];

fn ints(name: &str, values: Vec<i64>) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values,
        ..Default::default()
    }
}

/// Rewrites string-labelled classifiers of `proto` as described above.
pub(super) fn integer_labels(proto: &mut pb::ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    let mut added = Vec::new();
    for node in &mut graph.node {
        let Some((_, int_attr)) = CLASSIFIERS.iter().find(|(op, _)| *op == node.op_type) else {
            continue;
        };
        let Some(at) = node
            .attribute
            .iter()
            .position(|a| a.name == "classlabels_strings")
        else {
            continue;
        };
        let labels = node.attribute.remove(at).strings;
        let ids: Vec<i64> = (0..labels.len() as i64).collect();
        node.attribute.push(ints(int_attr, ids.clone()));
        let Some(label_output) = node.output.first_mut() else {
            continue;
        };
        let original = std::mem::replace(label_output, format!("{label_output}__index"));
        added.push(pb::NodeProto {
            name: format!("{original}__labels"),
            op_type: "CategoryMapper".into(),
            domain: "ai.onnx.ml".into(),
            input: vec![label_output.clone()],
            output: vec![original],
            attribute: vec![
                ints("cats_int64s", ids),
                pb::AttributeProto {
                    name: "cats_strings".into(),
                    r#type: AttributeType::Strings as i32,
                    strings: labels,
                    ..Default::default()
                },
                pb::AttributeProto {
                    name: "default_string".into(),
                    r#type: AttributeType::String as i32,
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
    }
    graph.node.extend(added);
}
