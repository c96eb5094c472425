//! Where the store lives: `--home DIR`, else `KILN_HOME`, else the platform data directory.

use std::path::PathBuf;

/// Environment variable that chooses the store folder when `--home` is not given.
pub const HOME_ENV: &str = "KILN_HOME";

/// Resolves the store folder in Kiln's documented order of precedence.
///
/// `explicit` is the `--home` flag; `env_value` is the value of [`HOME_ENV`] (passed in so
/// that callers and tests decide where it comes from). Returns `None` only when neither is set
/// and the platform has no data directory (no home directory at all).
pub fn resolve_home(explicit: Option<PathBuf>, env_value: Option<String>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir);
    }
    if let Some(dir) = env_value.filter(|v| !v.trim().is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "kiln", "kiln").map(|dirs| dirs.data_dir().to_path_buf())
}

/// [`resolve_home`] reading `KILN_HOME` from the process environment.
pub fn resolve_home_from_env(explicit: Option<PathBuf>) -> Option<PathBuf> {
    resolve_home(explicit, std::env::var(HOME_ENV).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_environment() {
        let home = resolve_home(Some("/a".into()), Some("/b".into()));
        assert_eq!(home, Some(PathBuf::from("/a")));
    }

    #[test]
    fn the_environment_wins_over_the_platform_default() {
        assert_eq!(
            resolve_home(None, Some("/b".into())),
            Some(PathBuf::from("/b"))
        );
    }

    #[test]
    fn an_empty_environment_value_falls_back_to_the_platform_default() {
        let home = resolve_home(None, Some("  ".into()));
        assert_ne!(home, Some(PathBuf::from("  ")));
    }
}
