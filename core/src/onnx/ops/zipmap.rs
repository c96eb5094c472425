//! `ZipMap` turns a probability matrix into one map (class → probability) per row. tract has
//! no sequence or map values, and Kiln wants the matrix anyway (its columns are the classes
//! in `classlabels_*` order, which the import reads from the node), so here `ZipMap` passes
//! the matrix through unchanged.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

pub(super) fn register(reg: &mut OnnxOpRegister) {
    reg.insert("ZipMap", zipmap);
}

fn zipmap(
    _ctx: &ParsingContext,
    _node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(ZipMapAsMatrix), vec![]))
}

/// `ZipMap` as the identity on its float matrix.
#[derive(Debug, Clone, PartialEq)]
struct ZipMapAsMatrix;

impl Expansion for ZipMapAsMatrix {
    fn name(&self) -> StaticName {
        "ZipMap".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        super::one_in_one_out(s, inputs, outputs, false)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        _prefix: &str,
        _model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        Ok(inputs.iter().copied().collect())
    }
}
