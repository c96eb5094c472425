//! Tabular data: detecting formats, loading, fingerprints, profiles.

pub mod csv_check;
pub mod error;
pub mod fingerprint;
pub mod format;
pub mod load;
pub mod profile;

pub use error::{DataError, DataResult};
pub use format::FileFormat;
pub use load::{LoadOptions, LoadedTable, load_table};
