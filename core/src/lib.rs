//! `kiln-core`: the engine behind Kiln's GUI and CLI.
//!
//! Everything that computes, stores or runs in the background lives here; the `kiln`
//! app only draws what this crate returns. This crate never depends on a GUI toolkit.

pub mod data;
pub mod demo;
pub mod deploy;
pub mod eval;
pub mod features;
pub mod inference;
pub mod jobs;
pub mod mlflow;
pub mod models;
pub mod onnx;
pub mod pipeline;
pub mod provenance;
pub mod registry;
pub mod rng;
pub mod store;
pub mod tracking;
pub mod train;
pub mod tune;

/// The DataFrame library Kiln is built on, re-exported so the app uses the same version.
pub use polars;

/// Kiln's version, recorded on every run so results can be traced to the code that made them.
pub const KILN_VERSION: &str = env!("CARGO_PKG_VERSION");
