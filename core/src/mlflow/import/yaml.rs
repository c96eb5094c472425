//! The YAML that MLflow's file store writes (`meta.yaml`): PyYAML's block style, one
//! `key: value` per line, nested maps one level deep (`tags:`, `aliases:`), quoted scalars
//! that PyYAML folds over several lines, and `[]`/`{}` for empty collections. That is all
//! MLflow writes, so a reader of exactly that replaces a YAML crate; anything else (anchors,
//! block scalars, flow collections with content) is refused with its line.

use std::collections::BTreeMap;

/// A value of a `meta.yaml` file.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `null`, `~` or nothing.
    Null,
    /// A scalar as text (numbers too: the caller knows which field is a number).
    Text(String),
    /// A nested map, or `{}`.
    Map(BTreeMap<String, Yaml>),
    /// A block sequence of scalars, or `[]`.
    List(Vec<Yaml>),
}

/// A line the reader does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct YamlError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

/// A parsed `meta.yaml`: its top-level keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    fields: BTreeMap<String, Yaml>,
}

impl Meta {
    /// Parses the text of a `meta.yaml`.
    pub fn parse(text: &str) -> Result<Self, YamlError> {
        let lines: Vec<&str> = text.lines().collect();
        let mut fields = BTreeMap::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            if is_blank(line) || line.starts_with("---") {
                i += 1;
                continue;
            }
            if indent(line) > 0 {
                return Err(err(
                    i,
                    "indented line where a top-level `key: value` was expected",
                ));
            }
            let (key, value, next) = entry(&lines, i, 0)?;
            fields.insert(key, value);
            i = next;
        }
        Ok(Self { fields })
    }

    /// The value of a top-level key.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.fields.get(key)
    }

    /// A text value; `None` when the key is absent or null.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.fields.get(key) {
            Some(Yaml::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// A text value that must be there: the error names the key.
    pub fn required(&self, key: &str) -> Result<&str, String> {
        match self.fields.get(key) {
            Some(Yaml::Text(t)) => Ok(t),
            Some(Yaml::Null) | None => Err(format!("missing {key}")),
            Some(_) => Err(format!("{key} is not a single value")),
        }
    }

    /// An integer value (epoch milliseconds, a status code); `Ok(None)` when absent or null.
    pub fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.text(key) {
            None => Ok(None),
            Some(t) => t
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("{key} is '{t}', not a whole number")),
        }
    }

    /// An integer value that must be there.
    pub fn required_int(&self, key: &str) -> Result<i64, String> {
        self.int(key)?.ok_or_else(|| format!("missing {key}"))
    }

    /// A nested map of scalars (`tags:`), empty when absent.
    pub fn pairs(&self, key: &str) -> Vec<(String, String)> {
        match self.fields.get(key) {
            Some(Yaml::Map(map)) => map
                .iter()
                .filter_map(|(k, v)| match v {
                    Yaml::Text(t) => Some((k.clone(), t.clone())),
                    Yaml::Null => Some((k.clone(), String::new())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn err(index: usize, reason: impl Into<String>) -> YamlError {
    YamlError {
        line: index + 1,
        reason: reason.into(),
    }
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// One `key: value` entry at `lines[i]` (indented by `level` spaces), with the lines it
/// spans; returns the key, the value and the index of the next line.
fn entry(lines: &[&str], i: usize, level: usize) -> Result<(String, Yaml, usize), YamlError> {
    let body = &lines[i][level..];
    let (key, rest) = split_key(body).ok_or_else(|| err(i, "expected `key: value`"))?;
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        // A nested block follows, or the value is null.
        return block(lines, i + 1, level).map(|(value, next)| (key, value, next));
    }
    let (value, next) = scalar(lines, i, level, lines[i].len() - rest.len())?;
    Ok((key, value, next))
}

/// Splits `key: rest` (a quoted key may hold `: `).
fn split_key(body: &str) -> Option<(String, &str)> {
    if let Some(quote) = body.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let text = &body[1..];
        let mut key = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == quote {
                if quote == '\'' && chars.peek().is_some_and(|(_, n)| *n == '\'') {
                    key.push('\'');
                    chars.next();
                    continue;
                }
                let after = &text[at + 1..];
                return after.strip_prefix(':').map(|rest| (key, rest));
            }
            if quote == '"' && c == '\\' {
                let (_, escaped) = chars.next()?;
                key.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                continue;
            }
            key.push(c);
        }
        return None;
    }
    let colon = body
        .find(": ")
        .or_else(|| body.strip_suffix(':').map(str::len))?;
    let key = body[..colon].trim_end();
    (!key.is_empty()).then(|| (key.to_owned(), &body[colon + 1..]))
}

/// What follows a `key:` with nothing after it: a nested map, a block sequence, or null.
fn block(lines: &[&str], start: usize, level: usize) -> Result<(Yaml, usize), YamlError> {
    let mut i = start;
    while i < lines.len() && is_blank(lines[i]) {
        i += 1;
    }
    let Some(first) = lines.get(i) else {
        return Ok((Yaml::Null, i));
    };
    let inner = indent(first);
    // PyYAML writes a sequence under a key at the key's own indentation.
    if inner == level && first[level..].starts_with("- ") {
        return sequence(lines, i, level);
    }
    if inner <= level {
        return Ok((Yaml::Null, start));
    }
    if first[inner..].starts_with("- ") {
        return sequence(lines, i, inner);
    }
    let mut map = BTreeMap::new();
    while i < lines.len() {
        if is_blank(lines[i]) {
            i += 1;
            continue;
        }
        let here = indent(lines[i]);
        if here < inner {
            break;
        }
        if here > inner {
            return Err(err(i, "unexpected indentation"));
        }
        let (key, value, next) = entry(lines, i, inner)?;
        map.insert(key, value);
        i = next;
    }
    Ok((Yaml::Map(map), i))
}

fn sequence(lines: &[&str], start: usize, level: usize) -> Result<(Yaml, usize), YamlError> {
    let mut items = Vec::new();
    let mut i = start;
    while i < lines.len() {
        if is_blank(lines[i]) {
            i += 1;
            continue;
        }
        if indent(lines[i]) != level || !lines[i][level..].starts_with("- ") {
            break;
        }
        let (value, next) = scalar(lines, i, level, level + 2)?;
        items.push(value);
        i = next;
    }
    Ok((Yaml::List(items), i))
}

/// A scalar starting at column `at` of `lines[i]`, with the continuation lines PyYAML
/// folds long values onto (indented deeper than `level`).
fn scalar(lines: &[&str], i: usize, level: usize, at: usize) -> Result<(Yaml, usize), YamlError> {
    let first = &lines[i][at..];
    match first.chars().next() {
        Some(q @ ('\'' | '"')) => quoted(lines, i, at, q),
        Some('|' | '>') => Err(err(i, "block scalars (| and >) are not used by MLflow")),
        Some('&' | '*' | '!') => Err(err(i, "anchors, aliases and tags are not used by MLflow")),
        Some('[') if first.trim_end() == "[]" => Ok((Yaml::List(Vec::new()), i + 1)),
        Some('{') if first.trim_end() == "{}" => Ok((Yaml::Map(BTreeMap::new()), i + 1)),
        Some('[' | '{') => Err(err(
            i,
            "flow collections with content are not used by MLflow",
        )),
        _ => {
            let mut parts = vec![strip_comment(first).trim().to_owned()];
            let mut next = i + 1;
            while next < lines.len() && !is_blank(lines[next]) && indent(lines[next]) > level {
                parts.push(lines[next].trim().to_owned());
                next += 1;
            }
            let text = parts.join(" ");
            Ok((plain(&text), next))
        }
    }
}

fn strip_comment(text: &str) -> &str {
    text.find(" #").map_or(text, |at| &text[..at])
}

fn plain(text: &str) -> Yaml {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Yaml::Null,
        other => Yaml::Text(other.to_owned()),
    }
}

/// A quoted scalar from column `at` of `lines[i]`, possibly over several lines: a line break
/// folds to a space, each empty line in between is a newline (YAML's flow folding).
fn quoted(lines: &[&str], i: usize, at: usize, quote: char) -> Result<(Yaml, usize), YamlError> {
    let mut out = String::new();
    let mut index = i;
    let mut text: &str = &lines[i][at + 1..];
    loop {
        let mut chars = text.char_indices().peekable();
        let mut escaped_break = false;
        while let Some((pos, c)) = chars.next() {
            if c == quote {
                if quote == '\'' && chars.peek().is_some_and(|(_, n)| *n == '\'') {
                    out.push('\'');
                    chars.next();
                    continue;
                }
                let after = text[pos + 1..].trim();
                if !after.is_empty() && !after.starts_with('#') {
                    return Err(err(index, "text after the closing quote"));
                }
                return Ok((Yaml::Text(out), index + 1));
            }
            if quote == '"' && c == '\\' {
                match chars.next() {
                    None => escaped_break = true,
                    Some((_, e)) => {
                        push_escape(&mut out, e, &mut chars).map_err(|r| err(index, r))?
                    }
                }
                continue;
            }
            out.push(c);
        }
        // The line ended inside the quotes: fold onto the next non-empty line.
        if !escaped_break {
            let trimmed = out.trim_end_matches([' ', '\t']).len();
            out.truncate(trimmed);
        }
        index += 1;
        let mut empty = 0;
        while index < lines.len() && lines[index].trim().is_empty() {
            empty += 1;
            index += 1;
        }
        if index >= lines.len() {
            return Err(err(i, "the quoted value opened here is never closed"));
        }
        // `\` at the end of a line joins the lines without a space.
        if !escaped_break {
            if empty == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', empty));
            }
        }
        text = lines[index].trim_start();
    }
}

fn push_escape(
    out: &mut String,
    e: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<(), String> {
    let simple = match e {
        '0' => Some('\0'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        't' | '\t' => Some('\t'),
        'n' => Some('\n'),
        'v' => Some('\x0b'),
        'f' => Some('\x0c'),
        'r' => Some('\r'),
        'e' => Some('\x1b'),
        ' ' => Some(' '),
        '"' => Some('"'),
        '/' => Some('/'),
        '\\' => Some('\\'),
        'N' => Some('\u{85}'),
        '_' => Some('\u{a0}'),
        'L' => Some('\u{2028}'),
        'P' => Some('\u{2029}'),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return Ok(());
    }
    let digits = match e {
        'x' => 2,
        'u' => 4,
        'U' => 8,
        other => return Err(format!("unknown escape \\{other}")),
    };
    let hex: String = (0..digits)
        .filter_map(|_| chars.next().map(|(_, c)| c))
        .collect();
    let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\{e}{hex}"))?;
    out.push(char::from_u32(code).ok_or_else(|| format!("bad escape \\{e}{hex}"))?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(text: &str) -> Meta {
        match Meta::parse(text) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_run_meta_yaml_reads_as_its_fields() {
        let m = meta(
            "artifact_uri: file:///tmp/mlruns/1/abc/artifacts\nend_time: null\n\
             entry_point_name: ''\nexperiment_id: '1'\nrun_name: basic\nstart_time: 1796281338005\n\
             status: 3\ntags: []\n",
        );
        assert_eq!(
            m.text("artifact_uri"),
            Some("file:///tmp/mlruns/1/abc/artifacts")
        );
        assert_eq!(m.get("end_time"), Some(&Yaml::Null));
        assert_eq!(m.text("entry_point_name"), Some(""));
        assert_eq!(m.text("experiment_id"), Some("1"));
        assert_eq!(m.int("start_time"), Ok(Some(1796281338005)));
        assert_eq!(m.required_int("status"), Ok(3));
        assert_eq!(m.get("tags"), Some(&Yaml::List(Vec::new())));
    }

    #[test]
    fn a_missing_or_null_field_is_named_in_the_error() {
        let m = meta("run_id: abc\nend_time: null\n");
        assert_eq!(
            m.required_int("start_time"),
            Err("missing start_time".into())
        );
        assert_eq!(m.required("end_time"), Err("missing end_time".into()));
        let m = meta("start_time: soon\n");
        assert_eq!(
            m.required_int("start_time"),
            Err("start_time is 'soon', not a whole number".into())
        );
    }

    #[test]
    fn nested_maps_hold_tags_and_aliases() {
        let m = meta("aliases:\n  champion: '2'\n  'odd: key': x\ndescription: null\ntags: {}\n");
        assert_eq!(
            m.pairs("aliases"),
            [
                ("champion".into(), "2".into()),
                ("odd: key".into(), "x".into())
            ]
        );
        assert_eq!(m.get("description"), Some(&Yaml::Null));
        assert_eq!(m.pairs("tags"), []);
    }

    #[test]
    fn folded_quoted_values_join_with_spaces_and_keep_newlines() {
        // What PyYAML writes for a long JSON schema and for "multi\nline\n\nx".
        let m = meta(
            "schema: '{\"mlflow_colspec\": [{\"type\": \"long\", \"name\": \"x\"}, {\"type\":\n  \"long\"}]}'\n\
             a: 'multi\n\n  line\n\n\n  x'\nb: 'it''s'\n",
        );
        assert_eq!(
            m.text("schema"),
            Some(
                "{\"mlflow_colspec\": [{\"type\": \"long\", \"name\": \"x\"}, {\"type\": \"long\"}]}"
            )
        );
        assert_eq!(m.text("a"), Some("multi\nline\n\nx"));
        assert_eq!(m.text("b"), Some("it's"));
    }

    #[test]
    fn long_plain_values_continue_on_indented_lines() {
        let m = meta("b: xxxx\n  yyyy\nc: it's\n");
        assert_eq!(m.text("b"), Some("xxxx yyyy"));
        assert_eq!(m.text("c"), Some("it's"));
    }

    #[test]
    fn double_quoted_values_decode_escapes() {
        let m = meta("i: \"tab\\there\"\nr: \"\\x01ctl \\u00e9\"\nj: \"joined\\\n  here\"\n");
        assert_eq!(m.text("i"), Some("tab\there"));
        assert_eq!(m.text("r"), Some("\u{1}ctl é"));
        assert_eq!(m.text("j"), Some("joinedhere"));
    }

    #[test]
    fn block_sequences_are_lists() {
        let m = meta("tags:\n- a\n- 'b'\nname: x\n");
        assert_eq!(
            m.get("tags"),
            Some(&Yaml::List(vec![
                Yaml::Text("a".into()),
                Yaml::Text("b".into())
            ]))
        );
        assert_eq!(m.text("name"), Some("x"));
    }

    #[test]
    fn garbage_is_refused_with_its_line() {
        let e = Meta::parse("name: ok\nthis is not yaml\n").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("line 2: expected `key: value`".into())
        );
        let e = Meta::parse("name: 'never closed\nother: 1\n").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("line 1: the quoted value opened here is never closed".into())
        );
        let e = Meta::parse("  name: x\n").err();
        assert_eq!(e.map(|e| e.line), Some(1));
    }
}
