//! Shared helpers of Kiln's multi-process tests.

/// How many params and how many metrics `kiln-store-writer` writes with each run.
pub const WRITER_FIELDS_PER_RUN: usize = 25;
