//! MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`): uploads, listings and
//! downloads of a run's files and of a logged model's files, kept in Kiln's content-addressed
//! store. Paths are `<experiment>/<run>/artifacts/<path>` and
//! `<experiment>/models/<model id>/artifacts/<path>`; a path that leaves its folder (`..`, an
//! absolute path, a back-slash) is refused.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{MlflowError, MlflowResult};
use crate::store::{ArtifactRef, Store, StoreError};

/// Whose files a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A run's files.
    Run(String),
    /// A logged model's files.
    Model(String),
}

/// A parsed artifact path: the owner and the path inside its folder (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Whose files.
    pub owner: Owner,
    /// The path below `artifacts/`, `/`-separated, without leading or trailing `/`.
    pub path: String,
}

/// Checks every segment of a relative path: no `..`, `.`, empty segments or back-slashes.
pub fn safe_relative(path: &str) -> MlflowResult<String> {
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err(MlflowError::invalid(format!(
            "Invalid artifact path '{path}': it must be relative, with '/' between folders"
        )));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed
        .split('/')
        .any(|s| s.is_empty() || s == ".." || s == ".")
    {
        return Err(MlflowError::invalid(format!(
            "Invalid artifact path '{path}': '..', '.' and empty folder names are not allowed"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Parses `<experiment>/<run>/artifacts[/path]` or `<experiment>/models/<id>/artifacts[/path]`.
/// `None`: the path names no run's or model's folder (an experiment's root, say).
pub fn parse_location(path: &str) -> MlflowResult<Option<Location>> {
    let path = safe_relative(path)?;
    let segments: Vec<&str> = path.split('/').collect();
    let (owner, rest) = match segments.as_slice() {
        [_, "models", id, "artifacts", rest @ ..] => (Owner::Model((*id).to_owned()), rest),
        [_, run, "artifacts", rest @ ..] => (Owner::Run((*run).to_owned()), rest),
        _ => return Ok(None),
    };
    Ok(Some(Location {
        owner,
        path: rest.join("/"),
    }))
}

fn files_of(store: &Store, owner: &Owner) -> MlflowResult<Vec<ArtifactRef>> {
    let files = match owner {
        Owner::Run(id) => store.run_detail(id).map(|d| d.artifacts),
        Owner::Model(id) => store.logged_model_files(id),
    };
    match files {
        Ok(files) => Ok(files),
        Err(StoreError::NotFound { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// `PUT`: stores the body as the file at `path`.
pub fn upload(store: &Store, path: &str, body: &[u8]) -> MlflowResult<()> {
    let Some(location) = parse_location(path)? else {
        return Err(MlflowError::invalid(format!(
            "Invalid artifact path '{path}': expected <experiment>/<run id>/artifacts/<file>"
        )));
    };
    if location.path.is_empty() {
        return Err(MlflowError::invalid(format!(
            "Invalid artifact path '{path}': it names a folder, not a file"
        )));
    }
    match &location.owner {
        Owner::Run(id) => {
            store
                .run(id)
                .map_err(|_| MlflowError::not_found(format!("Run with id={id} not found")))?;
            store.log_artifact(id, &location.path, body)?;
        }
        Owner::Model(id) => {
            store.put_logged_model_file(id, &location.path, body)?;
        }
    }
    Ok(())
}

/// `GET ?path=`: the folder's direct entries; `{}` for a file, an empty or a missing folder.
pub fn list(store: &Store, path: &str) -> MlflowResult<Value> {
    let Some(location) = parse_location(path)? else {
        return Ok(json!({}));
    };
    let prefix = if location.path.is_empty() {
        String::new()
    } else {
        format!("{}/", location.path)
    };
    let mut entries: std::collections::BTreeMap<String, Option<u64>> = Default::default();
    for file in files_of(store, &location.owner)? {
        let Some(rest) = file.name.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            Some((dir, _)) => {
                entries.insert(dir.to_owned(), None);
            }
            None if !rest.is_empty() => {
                entries.entry(rest.to_owned()).or_insert(Some(file.size));
            }
            None => {}
        }
    }
    if entries.is_empty() {
        return Ok(json!({}));
    }
    let files: Vec<Value> = entries
        .into_iter()
        .map(|(name, size)| match size {
            None => json!({ "path": name, "is_dir": true }),
            Some(size) => json!({ "path": name, "is_dir": false, "file_size": size }),
        })
        .collect();
    Ok(json!({ "files": files }))
}

/// `GET`: one file's bytes.
pub fn download(store: &Store, path: &str) -> MlflowResult<Response> {
    let missing = || MlflowError::not_found(format!("No such artifact: '{path}'"));
    let location = parse_location(path)?.ok_or_else(missing)?;
    let file = files_of(store, &location.owner)?
        .into_iter()
        .find(|f| f.name == location.path)
        .ok_or_else(missing)?;
    let bytes = store.read_artifact(&file.sha256)?;
    let name = location.path.rsplit('/').next().unwrap_or("artifact");
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename={}",
        name.replace(['"', '\r', '\n'], "_")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The content type a file is sent with, by its extension (as MLflow guesses it).
fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("txt" | "json" | "csv" | "yaml" | "yml" | "md" | "log" | "py") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        None if name == "MLmodel" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "1/run/artifacts/../../x",
            "a\\b",
            "1/r/artifacts/./x",
        ] {
            assert!(parse_location(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn run_and_model_folders_are_told_apart() {
        let run = parse_location("1/abc/artifacts/config/a.json")
            .ok()
            .flatten();
        assert_eq!(
            run,
            Some(Location {
                owner: Owner::Run("abc".into()),
                path: "config/a.json".into()
            })
        );
        let model = parse_location("1/models/m-1/artifacts").ok().flatten();
        assert_eq!(
            model,
            Some(Location {
                owner: Owner::Model("m-1".into()),
                path: String::new()
            })
        );
        assert_eq!(parse_location("1").ok().flatten(), None);
    }
}
