//! Runs as users see them: tracked while they happen, filtered with the run filter language,
//! compared side by side, their step series made drawable, exported as CSV.
//!
//! | module | job |
//! |---|---|
//! | `run` | [`track_run`]: a run that ends `finished` with all its results, `failed` or `killed` |
//! | `filter` | the run filter language (MLflow syntax + OR/NOT/parentheses), selection, sorting, grouping |
//! | `compare` | runs side by side, the corrected t-test with its verdict, parallel coordinates, parameter importance |
//! | `series` | step series downsampled for charts |
//! | `export` | runs as CSV; shortest round-trip number formatting |

pub mod compare;
pub mod export;
pub mod filter;
mod run;
pub mod series;

pub use run::track_run;
