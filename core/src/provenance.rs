//! Where a result came from: the Kiln version and the git commit of the working directory.

use std::path::Path;
use std::process::Command;

/// The commit hash of the git repository containing `dir`, when there is one and git is installed.
///
/// Runs record it so that a result can be traced back to the code that produced it; any
/// failure (no git, not a repository, detached weirdness) simply yields `None`.
pub fn git_commit(dir: &Path) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "HEAD"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let hash = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    let is_hash = hash.len() >= 40 && hash.chars().all(|c| c.is_ascii_hexdigit());
    is_hash.then_some(hash)
}

/// The git commit of the current working directory, if any.
pub fn current_git_commit() -> Option<String> {
    std::env::current_dir()
        .ok()
        .and_then(|dir| git_commit(&dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_outside_any_repository_has_no_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(git_commit(dir.path()), None);
    }
}
