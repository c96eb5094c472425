//! The HTTP side of reading a tracking server: requests with the token, MLflow's error
//! answers as messages naming the URL, paging by `next_page_token`, the artifact proxy's
//! listing and download URLs, and the loose JSON types of its answers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::RestSource;
use crate::mlflow::import::{ImportError, PathOrUrl, SourceFile, files_below, local_path};
use crate::mlflow::safe_relative;

/// Characters kept as they are in a path segment of a download URL.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A JSON number or a number as text (int64 fields may come either way).
pub(super) fn int(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// A metric value: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` as proto JSON writes them.
pub(super) fn float(value: &Value) -> Option<f64> {
    value.as_f64().or_else(|| match value.as_str()? {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    })
}

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// `[{"key", "value"}]` as pairs.
pub(super) fn pairs(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|p| Some((text(p, "key")?, text(p, "value").unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

impl RestSource {
    /// A server at `url`; asks it for one experiment to check that it answers as MLflow does.
    pub fn connect(url: &str, token: Option<String>) -> Result<Self, ImportError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let source = Self {
            base: url.trim_end_matches('/').to_owned(),
            agent,
            token,
            runs: Mutex::new(HashMap::new()),
            notes: Mutex::new(Vec::new()),
        };
        let probe = json!({ "max_results": 1, "view_type": "ALL" });
        match source.post("experiments/search", probe) {
            Ok(_) => Ok(source),
            // Nothing listens there: say so as it is, not as a store of the wrong kind.
            Err(e @ ImportError::Http { .. }) if e.to_string().contains(": no answer: ") => Err(e),
            Err(e) => Err(ImportError::NotAStore {
                place: url.to_owned(),
                reason: format!("it does not answer as an MLflow tracking server ({e})"),
            }),
        }
    }

    pub(super) fn api(&self, endpoint: &str) -> String {
        format!("{}/api/2.0/mlflow/{endpoint}", self.base)
    }

    pub(super) fn authorised<B>(
        &self,
        request: ureq::RequestBuilder<B>,
    ) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    fn answer(
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, ImportError> {
        let http = |reason: String| ImportError::Http {
            url: url.to_owned(),
            reason,
        };
        let mut response = result.map_err(|e| http(format!("no answer: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| http(format!("cannot read the answer: {e}")))?;
        if status != 200 {
            let message = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| {
                    let code = text(&v, "error_code").unwrap_or_default();
                    let message = text(&v, "message")?;
                    Some(format!("{code} {message}").trim().to_owned())
                })
                .unwrap_or_else(|| body.chars().take(200).collect());
            return Err(http(format!("HTTP {status}: {message}")));
        }
        if body.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(&body).map_err(|e| http(format!("the answer is not JSON: {e}")))
    }

    pub(super) fn get(
        &self,
        endpoint: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ImportError> {
        let url = self.api(endpoint);
        let mut request = self.authorised(self.agent.get(&url));
        for (key, value) in query {
            request = request.query(*key, value);
        }
        Self::answer(&url, request.call())
    }

    pub(super) fn post(&self, endpoint: &str, body: Value) -> Result<Value, ImportError> {
        let url = self.api(endpoint);
        let request = self
            .authorised(self.agent.post(&url))
            .header("Content-Type", "application/json");
        Self::answer(&url, request.send(body.to_string()))
    }

    /// Every page of a paged answer: `fetch(token)` returns one page.
    pub(super) fn pages(
        &self,
        mut fetch: impl FnMut(Option<&str>) -> Result<Value, ImportError>,
        key: &str,
    ) -> Result<Vec<Value>, ImportError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = fetch(token.as_deref())?;
            out.extend(list(&page, key).iter().cloned());
            match text(&page, "next_page_token").filter(|t| !t.is_empty()) {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => return Ok(out),
            }
        }
    }

    pub(super) fn note(&self, note: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// The files below an artifact URI: through the server's artifact proxy for
    /// `mlflow-artifacts:` URIs, from disk for a local path this machine has.
    pub(super) fn files(&self, uri: &str) -> Result<Vec<SourceFile>, ImportError> {
        if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
            let rest = rest
                .strip_prefix("//")
                .map_or(rest, |r| r.split_once('/').map_or("", |(_, p)| p));
            let root = rest.trim_matches('/').to_owned();
            let mut out = Vec::new();
            let mut folders = vec![String::new()];
            while let Some(folder) = folders.pop() {
                let path = if folder.is_empty() {
                    root.clone()
                } else {
                    format!("{root}/{folder}")
                };
                let url = format!("{}/api/2.0/mlflow-artifacts/artifacts", self.base);
                let request = self.authorised(self.agent.get(&url)).query("path", &path);
                let listing = Self::answer(&url, request.call())?;
                for entry in list(&listing, "files") {
                    let Some(name) = text(entry, "path") else {
                        continue;
                    };
                    // The listing names entries relative to the folder (some servers give the
                    // whole path below the root): keep the last segment.
                    let name = name.rsplit('/').next().unwrap_or_default().to_owned();
                    let rel = if folder.is_empty() {
                        name
                    } else {
                        format!("{folder}/{name}")
                    };
                    if safe_relative(&rel).is_err() || rel.is_empty() {
                        self.note(format!(
                            "{uri}: the server listed '{rel}', not a safe path; skipped"
                        ));
                        continue;
                    }
                    if entry
                        .get("is_dir")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                    {
                        folders.push(rel);
                    } else {
                        out.push(SourceFile {
                            at: PathOrUrl::Url(self.download_url(&root, &rel)),
                            name: rel,
                        });
                    }
                }
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok(out);
        }
        match local_path(uri) {
            Some(path) if path.is_dir() => files_below(&path),
            Some(_) => Ok(Vec::new()),
            None => {
                self.note(format!(
                    "artifacts stored at {} are not served by the tracking server's proxy and were not copied",
                    uri.split('/').take(3).collect::<Vec<_>>().join("/")
                ));
                Ok(Vec::new())
            }
        }
    }

    fn download_url(&self, root: &str, rel: &str) -> String {
        let encoded: Vec<String> = root
            .split('/')
            .chain(rel.split('/'))
            .filter(|s| !s.is_empty())
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}",
            self.base,
            encoded.join("/")
        )
    }
}
