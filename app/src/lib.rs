//! Kiln's desktop app and command line, as a library so tests can drive the real UI.
//!
//! `main.rs` only calls [`cli::main`]. The UI lives in [`ui`]; it draws what `kiln-core`
//! computes and never computes statistics or models itself.

pub mod cli;
pub mod samples;
pub mod ui;
