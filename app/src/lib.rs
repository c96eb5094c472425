//! Kiln's desktop app and command line, as a library so tests can drive the real UI.
//!
//! `main.rs` only calls [`cli::main`]. The UI lives in [`ui`]; it draws what `kiln-core`
//! computes and never computes statistics or models itself.

pub mod cli;
pub mod memory;
pub mod samples;
pub mod ui;

// The runs table and the profile allocate and free many small strings per frame over a heap
// that holds tens of thousands of runs; glibc's allocator spent a fifth of a frame in
// malloc_consolidate and unlink_chunk on a store logged through the MLflow API. Declared in
// the library, so the binary, its tests and its benchmarks all measure the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
