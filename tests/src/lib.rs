//! Shared helpers of Kiln's end-to-end tests.

use std::path::PathBuf;

/// How many params and how many metrics `kiln-store-writer` writes with each run.
pub const WRITER_FIELDS_PER_RUN: usize = 25;

/// The built `kiln` binary: `KILN_BIN` if set, else next to this test executable's folder.
///
/// `cargo test --workspace` builds it, because the `kiln` package has integration tests.
pub fn kiln_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("KILN_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/debug/deps/<test> -> target/debug/kiln
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    profile_dir.join(format!("kiln{}", std::env::consts::EXE_SUFFIX))
}
