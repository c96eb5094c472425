//! ONNX-ML operators that tract 0.23 does not have and scikit-learn exports (skl2onnx) and
//! Kiln's own exports use: `Scaler`, `Imputer`, `TreeEnsembleRegressor` and `ZipMap`.
//! They are added to tract's public operator register, so a model using them loads like any
//! other ONNX file.

mod columnwise;
mod tree_regressor;
mod zipmap;

use tract_onnx::Onnx;
use tract_onnx::tract_hir::internal::*;

/// The rules every operator here shares: one input, one output, and (with `float_out`) an
/// f32 output.
fn one_in_one_out<'r, 'p: 'r>(
    s: &mut Solver<'r>,
    inputs: &'p [TensorProxy],
    outputs: &'p [TensorProxy],
    float_out: bool,
) -> InferenceResult {
    check_input_arity(inputs, 1)?;
    check_output_arity(outputs, 1)?;
    if float_out {
        s.equals(&outputs[0].datum_type, DatumType::F32)?;
    }
    Ok(())
}

/// tract's ONNX loader with Kiln's ONNX-ML operators registered.
pub fn onnx_with_ml_ops() -> Onnx {
    let mut onnx = tract_onnx::onnx();
    columnwise::register(&mut onnx.op_register);
    tree_regressor::register(&mut onnx.op_register);
    zipmap::register(&mut onnx.op_register);
    onnx
}
