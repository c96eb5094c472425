//! Tabular data: loading, fingerprints, schema, profiles.

pub mod fingerprint;
