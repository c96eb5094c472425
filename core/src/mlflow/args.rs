//! A request's fields, wherever MLflow puts them: the query string of a GET (repeated keys are
//! lists, numbers are strings) or the JSON body of a POST, PATCH or DELETE. Handlers read both
//! the same way, and a missing or mistyped field is a 400 that names it.

use serde_json::{Map, Value};

use super::error::{MlflowError, MlflowResult};

/// The fields of one request.
#[derive(Debug, Clone, Default)]
pub struct Args(Map<String, Value>);

impl Args {
    /// Fields of a query string; a key given twice becomes a list.
    pub fn from_query(query: &str) -> Self {
        let mut map = Map::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = Value::String(value.into_owned());
            match map.get_mut(key.as_ref()) {
                Some(Value::Array(list)) => list.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
                None => {
                    map.insert(key.into_owned(), value);
                }
            }
        }
        Self(map)
    }

    /// Fields of a JSON body (an empty body has none).
    pub fn from_json(body: &[u8]) -> MlflowResult<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(MlflowError::invalid(
                "the request body must be a JSON object",
            )),
            Err(e) => Err(MlflowError::invalid(format!(
                "the request body is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ))),
        }
    }

    /// Every field.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// These fields with `name` set to `value`.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.0.insert(name.to_owned(), value);
        self
    }

    /// The raw value of a field.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A text field, when present (numbers and booleans are taken as their text).
    pub fn opt_str(&self, name: &str) -> MlflowResult<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(MlflowError::invalid(format!(
                "Invalid value {other} for parameter '{name}' supplied: expected a string"
            ))),
        }
    }

    /// A required, non-empty text field.
    pub fn str(&self, name: &str) -> MlflowResult<String> {
        match self.value(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::String(_)) | None => Err(MlflowError::invalid(format!(
                "Missing value for required parameter '{name}'."
            ))),
            Some(other) => Err(MlflowError::invalid(format!(
                "Invalid value {other} for parameter '{name}' supplied: expected a string"
            ))),
        }
    }

    /// The first of several names that is present (`run_id` or the older `run_uuid`).
    pub fn str_of(&self, names: &[&str]) -> MlflowResult<String> {
        for name in names {
            if let Some(s) = self.opt_str(name)?.filter(|s| !s.is_empty()) {
                return Ok(s);
            }
        }
        Err(MlflowError::invalid(format!(
            "Missing value for required parameter '{}'.",
            names.first().copied().unwrap_or("id")
        )))
    }

    /// An integer field, when present (sent as a number or as text).
    pub fn opt_i64(&self, name: &str) -> MlflowResult<Option<i64>> {
        let bad = |v: &Value| {
            MlflowError::invalid(format!(
                "Invalid value {v} for parameter '{name}' supplied: expected an integer"
            ))
        };
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| bad(&Value::Number(n.clone()))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad(&Value::String(s.clone()))),
            Some(other) => Err(bad(other)),
        }
    }

    /// A number field, when present.
    pub fn opt_f64(&self, name: &str) -> MlflowResult<Option<f64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => number(v).map(Some).ok_or_else(|| {
                MlflowError::invalid(format!(
                    "Invalid value {v} for parameter '{name}' supplied: expected a number"
                ))
            }),
        }
    }

    /// A boolean field, when present (`true`/`false` as JSON or text).
    pub fn opt_bool(&self, name: &str) -> MlflowResult<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(MlflowError::invalid(format!(
                "Invalid value {other} for parameter '{name}' supplied: expected true or false"
            ))),
        }
    }

    /// A list field: a JSON array, or one or more repeated query keys.
    pub fn list(&self, name: &str) -> Vec<Value> {
        match self.value(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(single) => vec![single.clone()],
        }
    }

    /// A list of text values.
    pub fn str_list(&self, name: &str) -> MlflowResult<Vec<String>> {
        self.list(name)
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(MlflowError::invalid(format!(
                    "Invalid value {other} in parameter '{name}': expected strings"
                ))),
            })
            .collect()
    }

    /// `[{"key", "value"}]` pairs of a field (params and tags).
    pub fn pairs(&self, name: &str) -> MlflowResult<Vec<(String, String)>> {
        self.list(name)
            .iter()
            .map(|item| key_value(item, name))
            .collect()
    }
}

/// A JSON number, or text holding one (`"NaN"` and `"Infinity"` too, as Python writes them).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One `{"key", "value"}` object.
pub fn key_value(item: &Value, field: &str) -> MlflowResult<(String, String)> {
    let key = item.get("key").and_then(Value::as_str);
    let value = match item.get("value") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        None | Some(Value::Null) => Some(String::new()),
        _ => None,
    };
    match (key, value) {
        (Some(k), Some(v)) if !k.is_empty() => Ok((k.to_owned(), v)),
        _ => Err(MlflowError::invalid(format!(
            "each entry of '{field}' needs a non-empty 'key' and a string 'value'; got {item}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_query_keys_are_a_list_and_numbers_come_as_text() {
        let args = Args::from_query("order_by=version_number+DESC&order_by=a&max_results=25000");
        assert_eq!(
            args.str_list("order_by").unwrap_or_default(),
            ["version_number DESC", "a"]
        );
        assert_eq!(args.opt_i64("max_results").ok().flatten(), Some(25000));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_with_its_position() {
        let error = Args::from_json(b"[1, 2").err().map(|e| e.message);
        assert!(error.is_some_and(|m| m.contains("line 1")));
        assert!(Args::from_json(b"").is_ok());
    }

    #[test]
    fn the_deprecated_run_uuid_stands_in_for_run_id() {
        let args = Args::from_query("run_uuid=abc");
        assert_eq!(
            args.str_of(&["run_id", "run_uuid"]).ok().as_deref(),
            Some("abc")
        );
    }
}
