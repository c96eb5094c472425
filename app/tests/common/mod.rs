//! Helpers shared by the binary's end-to-end tests.

/// The `kiln` binary cargo built for these tests (always current).
pub fn kiln_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kiln")
}
