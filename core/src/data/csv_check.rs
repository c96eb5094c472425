//! A fast, quote-aware pass over delimited text before parsing: it sniffs the delimiter and
//! finds the exact line of the problems a parser would report vaguely or silently accept
//! (ragged rows, unclosed quotes, invalid UTF-8, duplicate or empty header names).

use std::path::Path;

use super::error::{DataError, DataResult};
use super::load::PANDAS_NA_VALUES;

/// Delimiters tried when sniffing, in order of preference on ties.
const CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];
/// Lines looked at when sniffing the delimiter.
const SNIFF_LINES: usize = 50;

/// What the check learnt about a delimited file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvLayout {
    /// The field separator.
    pub separator: u8,
    /// Column names from the header, with empty names replaced.
    pub columns: Vec<String>,
    /// Number of data records (blank lines not counted).
    pub data_rows: usize,
    /// Byte offset where the text starts (after a UTF-8 byte-order mark).
    pub text_start: usize,
    /// Things the user should know that did not stop loading.
    pub warnings: Vec<String>,
    /// Whether any field is quoted; when none is, quote characters are plain text.
    pub has_quoted_fields: bool,
    /// In a file without quoted fields, the non-empty [`PANDAS_NA_VALUES`] that are a whole
    /// field of a data row: the only missing-value markers a parser needs to look for.
    /// `None` when a field is quoted (a quoted field is not looked into).
    pub na_values: Option<Vec<&'static str>>,
}

/// What both the check and a parse need before either reads the text through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// Where the text starts (after a UTF-8 byte-order mark).
    pub text_start: usize,
    /// The separator, guessed from the first lines.
    pub separator: u8,
    /// Whether a `"` occurs anywhere in the text. Without one no field is quoted, so every
    /// line is a record and the check and a parse can run at the same time.
    pub has_quote: bool,
}

/// Sniffs delimited text `bytes` read from `path`: enough to start parsing while
/// [`check_sniffed`] goes on.
pub fn sniff(path: &Path, bytes: &[u8]) -> Sniffed {
    let text_start = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let body = &bytes[text_start..];
    Sniffed {
        text_start,
        separator: sniff_separator(path, body),
        has_quote: memchr::memchr(b'"', body).is_some(),
    }
}

/// Checks delimited text `bytes` read from `path`.
pub fn check_csv(path: &Path, bytes: &[u8]) -> DataResult<CsvLayout> {
    check_sniffed(path, bytes, sniff(path, bytes))
}

/// [`check_csv`] of text already sniffed by [`sniff`].
pub fn check_sniffed(path: &Path, bytes: &[u8], sniffed: Sniffed) -> DataResult<CsvLayout> {
    let Sniffed {
        text_start,
        separator,
        has_quote,
    } = sniffed;
    let body = &bytes[text_start..];
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::malformed(path, "the file is empty"));
    }
    if body.starts_with(&[0xFF, 0xFE]) || body.starts_with(&[0xFE, 0xFF]) {
        return Err(DataError::malformed(
            path,
            "the file is UTF-16 text; Kiln reads UTF-8: re-save it as UTF-8",
        ));
    }
    if let Err(error) = std::str::from_utf8(body) {
        let offset = error.valid_up_to();
        let line = 1 + memchr::memchr_iter(b'\n', &body[..offset]).count();
        return Err(DataError::at_line(
            path,
            line,
            "the text is not valid UTF-8 (perhaps Latin-1 or Windows-1252); re-save the file as UTF-8",
        ));
    }
    let scan = if has_quote {
        scan_records(path, body, separator)?
    } else {
        scan_unquoted(path, body, separator)?
    };
    let mut warnings = Vec::new();
    let columns = header_names(path, &scan.header, &mut warnings)?;
    if scan.data_rows == 0 {
        return Err(DataError::malformed(
            path,
            "the file has a header but no data rows",
        ));
    }
    Ok(CsvLayout {
        separator,
        columns,
        data_rows: scan.data_rows,
        text_start,
        warnings,
        has_quoted_fields: scan.has_quoted_fields,
        na_values: scan.na_seen.map(|seen| {
            PANDAS_NA_VALUES
                .iter()
                .zip(seen)
                .filter(|(value, seen)| *seen && !value.is_empty())
                .map(|(value, _)| *value)
                .collect()
        }),
    })
}

/// Whether a field of the first `lines` lines of unquoted delimited text `body` is one of
/// the non-empty [`PANDAS_NA_VALUES`]: a cheap look at a file's head before parsing it.
pub fn leading_na_values(body: &[u8], separator: u8, lines: usize) -> bool {
    let end = memchr::memchr_iter(b'\n', body)
        .nth(lines)
        .unwrap_or(body.len());
    unquoted_na_values(&body[..end], separator).contains(&true)
}

/// The index in [`PANDAS_NA_VALUES`] of a field that is one of them.
fn na_value(field: &[u8]) -> Option<usize> {
    // Every marker is 2 to 8 bytes long and starts with one of these: most fields are ruled
    // out by two comparisons.
    if !(2..=8).contains(&field.len())
        || !matches!(field[0], b'#' | b'-' | b'1' | b'<' | b'N' | b'n')
    {
        return None;
    }
    PANDAS_NA_VALUES.iter().position(|v| v.as_bytes() == field)
}

fn sniff_separator(path: &Path, body: &[u8]) -> u8 {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "tsv" || ext == "tab" {
        return b'\t';
    }
    let mut best = (b',', 0usize, 0usize); // (separator, consistent lines, count per line)
    for candidate in CANDIDATES {
        let counts = field_counts_of_first_lines(body, candidate);
        let Some(&first) = counts.first() else {
            continue;
        };
        if first < 2 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == first).count();
        if consistent > best.1 || (consistent == best.1 && first > best.2) {
            best = (candidate, consistent, first);
        }
    }
    best.0
}

/// Field counts of the first records, quote-aware.
fn field_counts_of_first_lines(body: &[u8], separator: u8) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut fields = 1;
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut line_has_content = false;
    for (i, &b) in body.iter().enumerate() {
        if in_quotes {
            if b == b'"' {
                if body.get(i + 1) == Some(&b'"') {
                    continue;
                }
                in_quotes = false;
            }
            continue;
        }
        match b {
            b'"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
                line_has_content = true;
            }
            b'\n' => {
                if line_has_content {
                    counts.push(fields);
                    if counts.len() >= SNIFF_LINES {
                        break;
                    }
                }
                fields = 1;
                at_field_start = true;
                line_has_content = false;
            }
            b'\r' => {}
            _ if b == separator => {
                fields += 1;
                at_field_start = true;
                line_has_content = true;
            }
            _ => {
                at_field_start = false;
                line_has_content = true;
            }
        }
    }
    if line_has_content && counts.len() < SNIFF_LINES {
        counts.push(fields);
    }
    counts
}

struct Scan {
    header: Vec<String>,
    data_rows: usize,
    has_quoted_fields: bool,
    /// By index in [`PANDAS_NA_VALUES`]: whether it is a whole data field somewhere, when the
    /// text has no quote character.
    na_seen: Option<[bool; PANDAS_NA_VALUES.len()]>,
}

/// Header fields collected so far, and the records counted after it.
struct Records<'p> {
    path: &'p Path,
    header: Option<Vec<String>>,
    header_fields: Vec<String>,
    current: Vec<u8>,
    expected: usize,
    data_rows: usize,
}

impl Records<'_> {
    fn in_header(&self) -> bool {
        self.header.is_none()
    }

    fn push_header_byte(&mut self, b: u8) {
        if self.in_header() {
            self.current.push(b);
        }
    }

    fn end_header_field(&mut self) {
        if self.in_header() {
            self.header_fields.push(header_field(&self.current));
            self.current.clear();
        }
    }

    fn end_record(&mut self, fields: usize, record_line: usize) -> DataResult<()> {
        if self.in_header() {
            self.end_header_field();
            self.expected = fields;
            self.header = Some(std::mem::take(&mut self.header_fields));
            return Ok(());
        }
        if fields != self.expected {
            return Err(ragged(self.path, record_line, fields, self.expected));
        }
        self.data_rows += 1;
        Ok(())
    }
}

/// A header field's bytes as a column name, without surrounding white space.
fn header_field(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

/// The error of a record with `fields` fields where the header has `expected`.
fn ragged(path: &Path, line: usize, fields: usize, expected: usize) -> DataError {
    let (more_or_fewer, hint) = if fields > expected {
        ("too many", "a separator inside a value that is not quoted?")
    } else {
        ("too few", "a missing value or a line broken in two?")
    };
    DataError::at_line(
        path,
        line,
        format!(
            "{more_or_fewer} fields: expected {expected} (as in the header), found {fields} ({hint})"
        ),
    )
}

/// [`scan_records`] for text without a quote character, where every line is a record and
/// every separator ends a field: counting separators per line vectorises, and only the
/// fields holding an `N`, `n` or `#` (which every missing-value marker has) are compared.
fn scan_unquoted(path: &Path, body: &[u8], separator: u8) -> DataResult<Scan> {
    let mut header: Option<(Vec<String>, usize)> = None;
    let mut data_start = body.len();
    let mut data_rows = 0usize;
    let mut start = 0usize;
    let ends =
        memchr::memchr_iter(b'\n', body).chain((body.last() != Some(&b'\n')).then_some(body.len()));
    for (index, end) in ends.enumerate() {
        let line = &body[start..end];
        start = end + 1;
        if line.iter().all(|&b| b == b'\r') {
            continue;
        }
        let fields = 1 + line.iter().filter(|&&b| b == separator).count();
        match &header {
            None => {
                let names = line
                    .split(|&b| b == separator)
                    .map(|field| {
                        let field: Vec<u8> =
                            field.iter().copied().filter(|&b| b != b'\r').collect();
                        header_field(&field)
                    })
                    .collect();
                header = Some((names, fields));
                data_start = start.min(body.len());
            }
            Some((_, expected)) if fields != *expected => {
                return Err(ragged(path, index + 1, fields, *expected));
            }
            Some(_) => data_rows += 1,
        }
    }
    Ok(Scan {
        header: header.map(|(names, _)| names).unwrap_or_default(),
        data_rows,
        has_quoted_fields: false,
        na_seen: Some(unquoted_na_values(&body[data_start..], separator)),
    })
}

/// Which [`PANDAS_NA_VALUES`] are whole fields of unquoted text `data`, looking only at the
/// fields around an `N`, `n` or `#`, each field once.
fn unquoted_na_values(data: &[u8], separator: u8) -> [bool; PANDAS_NA_VALUES.len()] {
    let mut seen = [false; PANDAS_NA_VALUES.len()];
    let boundary = |b: u8| b == separator || b == b'\n';
    let mut from = 0usize;
    while let Some(offset) = memchr::memchr3(b'N', b'n', b'#', &data[from..]) {
        let hit = from + offset;
        // Markers are at most 8 bytes: look no further either way.
        let field_start = (hit.saturating_sub(8)..hit)
            .rev()
            .find(|&i| boundary(data[i]))
            .map_or(hit.saturating_sub(8), |i| i + 1);
        let starts_here = field_start == 0 || boundary(data[field_start - 1]);
        let field_end = data[hit..]
            .iter()
            .take(9)
            .position(|&b| boundary(b))
            .map(|k| hit + k);
        match field_end {
            Some(end) => {
                if starts_here {
                    let field = &data[field_start..end];
                    if let Some(k) = na_value(field.strip_suffix(b"\r").unwrap_or(field)) {
                        seen[k] = true;
                    }
                }
                from = end + 1;
            }
            None if hit + 9 >= data.len() => {
                if starts_here && let Some(k) = na_value(&data[field_start..]) {
                    seen[k] = true;
                }
                break;
            }
            // A long field: skip to its end.
            None => match memchr::memchr2(separator, b'\n', &data[hit..]) {
                Some(k) => from = hit + k + 1,
                None => break,
            },
        }
        if from >= data.len() {
            break;
        }
    }
    seen
}

/// One pass over all records: header fields, record count, and the first ragged record or
/// unclosed quote, by physical line.
fn scan_records(path: &Path, body: &[u8], separator: u8) -> DataResult<Scan> {
    let mut records = Records {
        path,
        header: None,
        header_fields: Vec::new(),
        current: Vec::new(),
        expected: 0,
        data_rows: 0,
    };
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut fields = 1usize;
    let mut in_quotes = false;
    let mut quote_line = 0usize;
    let mut has_quoted_fields = false;
    let mut at_field_start = true;
    let mut record_has_content = false;
    let mut i = 0usize;
    let n = body.len();
    while i < n {
        // Past the header, jump over ordinary bytes (the common case) with memchr.
        if !records.in_header() {
            if in_quotes {
                match memchr::memchr(b'"', &body[i..]) {
                    Some(offset) => {
                        line += memchr::memchr_iter(b'\n', &body[i..i + offset]).count();
                        i += offset;
                    }
                    None => {
                        i = n;
                        continue;
                    }
                }
            } else {
                let offset = memchr::memchr3(separator, b'"', b'\n', &body[i..]).unwrap_or(n - i);
                if offset > 0 {
                    let skipped = &body[i..i + offset];
                    if skipped.iter().any(|&c| c != b'\r') {
                        at_field_start = false;
                        record_has_content = true;
                    }
                    i += offset;
                    continue;
                }
            }
        }
        let b = body[i];
        if in_quotes {
            match b {
                b'"' if body.get(i + 1) == Some(&b'"') => {
                    records.push_header_byte(b'"');
                    i += 2;
                    continue;
                }
                b'"' => in_quotes = false,
                b'\n' => {
                    line += 1;
                    records.push_header_byte(b);
                }
                _ => records.push_header_byte(b),
            }
            i += 1;
            continue;
        }
        match b {
            b'"' if at_field_start => {
                in_quotes = true;
                has_quoted_fields = true;
                quote_line = line;
                at_field_start = false;
                record_has_content = true;
            }
            b'\n' => {
                if record_has_content {
                    records.end_record(fields, record_line)?;
                }
                line += 1;
                record_line = line;
                fields = 1;
                at_field_start = true;
                record_has_content = false;
            }
            b'\r' => {}
            _ if b == separator => {
                records.end_header_field();
                fields += 1;
                at_field_start = true;
                record_has_content = true;
            }
            _ => {
                records.push_header_byte(b);
                at_field_start = false;
                record_has_content = true;
            }
        }
        i += 1;
    }
    if in_quotes {
        return Err(DataError::at_line(
            path,
            quote_line,
            "a quoted value starts here and its closing quote (\") is missing",
        ));
    }
    if record_has_content {
        records.end_record(fields, record_line)?;
    }
    Ok(Scan {
        header: records.header.unwrap_or_default(),
        data_rows: records.data_rows,
        has_quoted_fields,
        na_seen: None,
    })
}

fn header_names(
    path: &Path,
    raw: &[String],
    warnings: &mut Vec<String>,
) -> DataResult<Vec<String>> {
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    for (index, name) in raw.iter().enumerate() {
        let name = if name.is_empty() {
            let replacement = format!("unnamed_{index}");
            warnings.push(format!(
                "empty column name at position {}: named it '{replacement}'",
                index + 1
            ));
            replacement
        } else {
            name.clone()
        };
        if let Some(first) = names.iter().position(|n| *n == name) {
            return Err(DataError::Malformed {
                path: path.to_path_buf(),
                location: "line 1: ".into(),
                reason: format!(
                    "duplicate column name '{name}' (columns {} and {}); rename one of them",
                    first + 1,
                    index + 1
                ),
            });
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> DataResult<CsvLayout> {
        check_csv(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn a_plain_file_is_understood() {
        let layout = check("a,b,c\n1,2,3\n4,5,6\n").expect("ok");
        assert_eq!(layout.separator, b',');
        assert_eq!(layout.columns, vec!["a", "b", "c"]);
        assert_eq!(layout.data_rows, 2);
    }

    #[test]
    fn missing_value_markers_are_found_only_as_whole_fields() {
        let layout = check("name,x,y\nNA,1,NaN\r\nNAME,null,-1.5\nn/a x,2,#N/A N/A\n").expect("ok");
        let found = Some(vec!["#N/A N/A", "NA", "NaN", "null"]);
        assert_eq!(layout.na_values, found);
        let long = "a,b\nnnnnnnnnnnnnnnnnnnnnnnnnn,x\nabcdefghNA,nan\n1,N\n2,#NA";
        assert_eq!(check(long).expect("ok").na_values, Some(vec!["#NA", "nan"]));
        assert_eq!(check("NA,null\n1,2\n").expect("ok").na_values, Some(vec![]));
        assert_eq!(check("a,b\n\"NA\",1\n").expect("ok").na_values, None);
        assert!(leading_na_values(b"a,b\n1,NA\r\n", b',', 5));
        assert!(!leading_na_values(b"a,b\n1,NAN\n2,x\nnull,3", b',', 2));
    }

    #[test]
    fn semicolons_tabs_and_pipes_are_sniffed() {
        assert_eq!(check("a;b\n1,5;2\n3;4\n").expect("ok").separator, b';');
        assert_eq!(check("a\tb\n1\t2\n").expect("ok").separator, b'\t');
        assert_eq!(check("a|b|c\n1|2|3\n").expect("ok").separator, b'|');
    }

    #[test]
    fn quoted_newlines_and_separators_do_not_count() {
        let layout = check("id,text\n1,\"hello, world\"\n2,\"two\nlines\"\n3,\"say \"\"hi\"\"\"\n")
            .expect("ok");
        assert_eq!(layout.data_rows, 3);
    }

    #[test]
    fn ragged_rows_name_their_line() {
        let err = check("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n").expect_err("ragged");
        assert_eq!(
            err.to_string(),
            "t.csv: line 4: too many fields: expected 3 (as in the header), found 4 (a separator inside a value that is not quoted?)"
        );
        let err = check("a,b,c\n1,2,3\n4,5\n").expect_err("short");
        assert!(err.to_string().contains("line 3: too few fields"), "{err}");
    }

    #[test]
    fn an_unclosed_quote_names_the_line_it_opens_on() {
        let err = check("a,b\n1,2\n3,\"oops\n4,5\n").expect_err("quote");
        assert!(err.to_string().contains("line 3: a quoted value"), "{err}");
    }

    #[test]
    fn empty_and_header_only_files_are_refused() {
        assert!(check("").expect_err("empty").to_string().contains("empty"));
        assert!(
            check(" \n\n")
                .expect_err("blank")
                .to_string()
                .contains("empty")
        );
        assert!(
            check("a,b\n")
                .expect_err("header")
                .to_string()
                .contains("no data rows")
        );
        assert!(
            check_csv(Path::new("t.csv"), &[0xEF, 0xBB, 0xBF])
                .expect_err("bom")
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = check_csv(Path::new("t.csv"), b"a,b\n1,2\ncaf\xe9,3\n").expect_err("latin1");
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[test]
    fn header_names_must_be_unique_and_empty_ones_are_named() {
        let err = check("a,b,a\n1,2,3\n").expect_err("dup");
        assert!(
            err.to_string()
                .contains("duplicate column name 'a' (columns 1 and 3)"),
            "{err}"
        );
        let layout = check(",a,b\n0,1,2\n").expect("ok");
        assert_eq!(layout.columns, vec!["unnamed_0", "a", "b"]);
        assert!(layout.warnings[0].contains("empty column name"));
    }

    #[test]
    fn crlf_and_bom_are_fine() {
        let layout = check_csv(Path::new("t.csv"), b"\xEF\xBB\xBFa,b\r\n1,2\r\n").expect("ok");
        assert_eq!(layout.columns, vec!["a", "b"]);
        assert_eq!(layout.text_start, 3);
    }
}
