//! ONNX in and out. Import: an .onnx file (scikit-learn's through skl2onnx, or any model
//! tract runs) becomes a registered version that predicts through the same path as Kiln's
//! own models. Export: Kiln's own models with their preprocessing become one ONNX graph that
//! takes one `[N, 1]` input per raw column and runs unchanged in onnxruntime.
//!
//! | module | job |
//! |---|---|
//! | `ops` | ONNX-ML operators tract lacks (`Scaler`, `Imputer`, `TreeEnsembleRegressor`, `ZipMap`) |
//! | `signature` | inputs with their columns, outputs, task and classes, as recorded on a version |
//! | `classes` | a classifier's class labels in probability-column order |
//! | `rewrite` | string-labelled classifiers given integer labels plus a lookup, which tract can build |
//! | `runtime` | `OnnxModel`: parse, optimise and run with tract; rows in, `Predictions` out |
//! | `import` | check a file loads and runs, store its bytes, register the version |
//! | `export` | build the `ModelProto` of a native model and its pipeline |

mod classes;
pub mod export;
mod import;
mod ops;
mod rewrite;
mod runtime;
mod signature;

pub use export::export_model;
pub use import::{ImportRequest, check_runs, import_onnx};
pub use ops::onnx_with_ml_ops;
pub use runtime::{OnnxModel, decode};
pub use signature::{
    ElemType, ONNX_KIND, OnnxInput, OnnxSignature, OnnxSource, TensorSpec, read_signature,
};

use crate::features::FeatureError;

/// Why an ONNX model could not be imported, run or exported.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The file is not a model Kiln can use, and why.
    #[error("{0}")]
    Invalid(String),
    /// The columns do not fit the model's inputs.
    #[error("{0}")]
    Columns(String),
    /// tract could not build or run the graph.
    #[error("tract cannot run it: {0}")]
    Runtime(String),
    /// A value of the data could not be fed.
    #[error(transparent)]
    Feature(#[from] FeatureError),
    /// This kind of model has no ONNX export.
    #[error("{0} models cannot be exported to ONNX yet")]
    Unsupported(String),
}
