//! Deployment: a registered version behind a real HTTP endpoint ([`serve`]), simulated traffic
//! against it with drift injected on demand ([`simulate`]), and what watches it: data drift
//! against the training reference ([`drift`]). Everything here runs for real on this machine
//! (real sockets, real models); only the traffic is simulated.

pub mod drift;
pub mod retrain;
pub mod serve;
pub mod simulate;
mod training_data;

pub use training_data::{training_data, version_training_data};
