//! ONNX-ML operators that tract 0.23 does not have and scikit-learn exports (skl2onnx) and
//! Kiln's own exports use: `Scaler`, `Imputer`, `TreeEnsembleRegressor` and `ZipMap`.
//! They are added to tract's public operator register, so a model using them loads like any
//! other ONNX file.

mod columnwise;
mod tree_regressor;
mod zipmap;

use tract_onnx::Onnx;

/// tract's ONNX loader with Kiln's ONNX-ML operators registered.
pub fn onnx_with_ml_ops() -> Onnx {
    let mut onnx = tract_onnx::onnx();
    columnwise::register(&mut onnx.op_register);
    tree_regressor::register(&mut onnx.op_register);
    zipmap::register(&mut onnx.op_register);
    onnx
}
