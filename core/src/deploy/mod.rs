//! Deployment: serving, monitoring and drift.

pub mod drift;
