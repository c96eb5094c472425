//! Tabular data: detecting formats, loading, fingerprints, profiles.

pub mod csv_check;
pub mod error;
pub(crate) mod expr;
pub mod filter;
pub mod fingerprint;
pub mod format;
pub mod load;
pub mod open;
pub mod profile;
pub mod schema;
pub mod views;

pub use error::{DataError, DataResult};
pub use format::FileFormat;
pub use load::{LoadOptions, LoadedTable, load_table};
pub use open::{
    OpenedTable, open_and_profile, open_table, profile_options, profile_table, register_dataset,
    register_dataset_with, with_overrides,
};
