//! Helpers shared by the binary's end-to-end tests. Each test crate uses some of them.
#![allow(dead_code, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

/// The `kiln` binary cargo built for these tests (always current).
pub fn kiln_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kiln")
}

/// Runs `kiln --home HOME ARGS...` as a script would (no `KILN_HOME` from the environment).
pub fn kiln(home: &Path, args: &[&str]) -> Output {
    Command::new(kiln_bin())
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("KILN_HOME")
        .output()
        .expect("run kiln")
}

/// The one JSON document a successful `--json` command printed.
pub fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document")
}

/// The error line of a failed command.
pub fn error(output: &Output) -> String {
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

/// Sets `model`'s gate policy to `toml` through `kiln models policy` (the file is written in
/// `dir`), with a reason as the command requires.
pub fn set_policy(home: &Path, dir: &Path, model: &str, toml: &str) -> Output {
    let file = dir.join(format!("{model}-policy.toml"));
    std::fs::write(&file, toml).expect("write the policy file");
    let file = file.to_str().expect("a UTF-8 temp path");
    kiln(
        home,
        &[
            "models",
            "policy",
            model,
            file,
            "--reason",
            "gates for the test",
        ],
    )
}

/// The text field `key` of each object in the JSON array `array` (actions of a history, kinds
/// of alerts, methods of drift columns).
pub fn texts(array: &serde_json::Value, key: &str) -> Vec<String> {
    array
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| item[key].as_str().expect("a text field").to_owned())
        .collect()
}
