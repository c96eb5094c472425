//! Loading a data file into a polars `DataFrame`, with a clear error for every bad input.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::csv_check::{Sniffed, check_sniffed, leading_na_values, sniff};
use super::error::{DataError, DataResult};
use super::format::{FileFormat, detect_format};

/// The values pandas reads as missing by default; using the same list keeps Kiln's counts equal
/// to pandas' on the same file.
pub const PANDAS_NA_VALUES: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// Rows used to guess column types; a value further down that does not fit them makes the
/// file be read again with every row inferred (so a short guess costs only that file time).
const INFER_ROWS: usize = 1_000;
/// Memory needed to load a file, as a multiple of its size (file bytes + parsed columns).
const MEMORY_FACTOR: u64 = 3;

/// A loaded table and what was learnt while loading it.
#[derive(Debug, Clone)]
pub struct LoadedTable {
    /// The file it came from.
    pub path: PathBuf,
    /// The reader used.
    pub format: FileFormat,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// The data.
    pub frame: DataFrame,
    /// Things the user should know that did not stop loading.
    pub warnings: Vec<String>,
}

/// Options of [`load_table`].
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read only the first rows (a preview or a sample of a file too big to load).
    pub max_rows: Option<usize>,
    /// Skip the memory check (the caller knows better).
    pub ignore_memory_limit: bool,
    /// Memory the load may use, in bytes (default: what the system has available).
    pub memory_limit: Option<u64>,
}

/// Loads `path` whole. `on_progress(fraction, message)` reports phases; returning `false` cancels.
pub fn load_table(
    path: &Path,
    options: &LoadOptions,
    mut on_progress: impl FnMut(f32, &str) -> bool,
) -> DataResult<LoadedTable> {
    let io_error = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if metadata.is_dir() {
        return Err(DataError::malformed(
            path,
            "this is a folder, not a data file",
        ));
    }
    let file_size = metadata.len();
    if file_size == 0 {
        return Err(DataError::malformed(path, "the file is empty"));
    }
    if !options.ignore_memory_limit && options.max_rows.is_none() {
        check_memory(path, file_size, options.memory_limit)?;
    }
    let mut head = vec![0u8; 8192.min(file_size as usize)];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(io_error)?;
    let format = detect_format(path, &head)?;
    if !on_progress(0.05, "reading") {
        return Err(DataError::Cancelled);
    }
    let mut warnings = Vec::new();
    let frame = match format {
        FileFormat::Csv => read_csv(path, options, &mut warnings, &mut on_progress)?,
        FileFormat::Parquet => read_binary(path, format, options)?,
        FileFormat::Ipc => read_binary(path, format, options)?,
        FileFormat::Json | FileFormat::NdJson => read_json(path, format, options)?,
    };
    if frame.height() == 0 {
        return Err(DataError::malformed(path, "the file has no data rows"));
    }
    for column in frame.columns() {
        if column.null_count() == column.len() {
            warnings.push(format!(
                "column '{}' is all null (every value is missing)",
                column.name()
            ));
        }
    }
    on_progress(1.0, "loaded");
    Ok(LoadedTable {
        path: path.to_path_buf(),
        format,
        file_size,
        frame,
        warnings,
    })
}

fn check_memory(path: &Path, file_size: u64, limit: Option<u64>) -> DataResult<()> {
    let Some(available) = limit.or_else(available_memory) else {
        return Ok(());
    };
    let needed = file_size.saturating_mul(MEMORY_FACTOR);
    if needed > available {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            size_mb: file_size / 1_000_000,
            needed_mb: needed / 1_000_000,
            available_mb: available / 1_000_000,
        });
    }
    Ok(())
}

/// Memory the system can give without swapping (Linux `MemAvailable`), when known.
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn read_csv(
    path: &Path,
    options: &LoadOptions,
    warnings: &mut Vec<String>,
    on_progress: &mut impl FnMut(f32, &str) -> bool,
) -> DataResult<DataFrame> {
    let bytes = match options.max_rows {
        Some(rows) => read_leading_lines(path, rows)?,
        None => std::fs::read(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?,
    };
    if !on_progress(0.2, "checking rows") {
        return Err(DataError::Cancelled);
    }
    // polars tries its date patterns on every text field it infers from; when none of the
    // rows it infers from holds anything shaped like a date or a time, that work (a quarter
    // of a profile's time on a file with text columns) is skipped: the result is the same.
    let dates = may_hold_dates(&bytes, INFER_ROWS);
    let parse = |infer: Option<usize>,
                 separator: u8,
                 text_start: usize,
                 quote: Option<u8>,
                 nulls: &[&str]| {
        // A full-file inference looks at every row, so it looks for dates everywhere.
        let dates = dates || infer.is_none();
        // polars reads an empty field as missing by itself: naming only "" would still
        // compare every field with it.
        let null_values = (nulls != [""])
            .then(|| NullValues::AllColumns(nulls.iter().map(|v| (*v).into()).collect()));
        // The header is checked (and empty names replaced) by check_csv; polars reads data
        // rows only.
        let read = || {
            CsvReadOptions::default()
                .with_has_header(false)
                .with_skip_rows(1)
                .with_n_rows(options.max_rows)
                .with_infer_schema_length(infer)
                .map_parse_options(|p| {
                    p.with_separator(separator)
                        .with_quote_char(quote)
                        .with_null_values(null_values.clone())
                        .with_try_parse_dates(dates)
                })
                .into_reader_with_file_handle(Cursor::new(&bytes[text_start..]))
                .finish()
        };
        // The parse may now run before the check has vetted the bytes: a panic on bad input
        // becomes an error, and the check's error is reported instead.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
            Err(PolarsError::ComputeError(
                "the CSV reader failed on this input".into(),
            ))
        })
    };
    let checking = std::time::Instant::now();
    let sniffed = sniff(path, &bytes);
    let Sniffed {
        text_start,
        separator,
        ..
    } = sniffed;
    let (layout, first_parse) = if !sniffed.has_quote {
        // No quote character anywhere, so no quoted field: the parse needs nothing more from
        // the check, and both run at the same time (the check on a thread of its own). The
        // parse looks only for empty fields as missing; the check finds which of pandas'
        // other markers occur at all, and only when one does is the file parsed again with
        // them (matching 19 markers against every field is a large part of a parse). A file
        // whose first rows hold such markers is parsed with all of them straight away.
        let body = &bytes[text_start..];
        let nulls = if leading_na_values(body, separator, INFER_ROWS) {
            PANDAS_NA_VALUES
        } else {
            &[""]
        };
        std::thread::scope(|scope| {
            let check = std::thread::Builder::new()
                .name("kiln-csv-check".into())
                .spawn_scoped(scope, || check_sniffed(path, &bytes, sniffed));
            let parsed = parse(Some(INFER_ROWS), separator, text_start, None, nulls);
            let layout = match check {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(DataError::malformed(path, "the CSV pre-check failed"))
                }),
                Err(_) => check_sniffed(path, &bytes, sniffed),
            };
            let parsed = match &layout {
                Ok(layout)
                    if nulls.len() == 1
                        && layout.na_values.as_ref().is_some_and(|v| !v.is_empty()) =>
                {
                    None
                }
                _ => Some(parsed),
            };
            (layout, parsed)
        })
    } else {
        (check_sniffed(path, &bytes, sniffed), None)
    };
    let layout = layout?;
    tracing::debug!(
        elapsed_s = checking.elapsed().as_secs_f64(),
        "csv pre-check (and parse, when run alongside)"
    );
    warnings.extend(layout.warnings.iter().cloned());
    if !on_progress(0.35, "parsing") {
        return Err(DataError::Cancelled);
    }
    // Without quoted fields, a `"` is plain text (an inch mark), as pandas reads it, and the
    // check saw every field, so it knows the markers present; a quoted field may hold any.
    let quote = layout.has_quoted_fields.then_some(b'"');
    let nulls: Vec<&str> = match &layout.na_values {
        Some(found) => std::iter::once("").chain(found.iter().copied()).collect(),
        None => PANDAS_NA_VALUES.to_vec(),
    };
    let reparse = |infer| parse(infer, layout.separator, layout.text_start, quote, &nulls);
    let first_parse = first_parse.unwrap_or_else(|| reparse(Some(INFER_ROWS)));
    let mut frame = match first_parse {
        Ok(frame) => frame,
        // A value far down the file did not fit the type guessed from the first rows.
        Err(_) => reparse(None).map_err(|e| polars_error(path, FileFormat::Csv, &e))?,
    };
    frame
        .set_column_names(&layout.columns)
        .map_err(|e| polars_error(path, FileFormat::Csv, &e))?;
    Ok(frame)
}

/// Whether the first `rows` lines after the header hold a field shaped like a date or a time
/// (`2024-01-31`, `31/01/2024`, `2024.01.31`, `12:30`): the only ones polars' date inference
/// can turn into dates. A false alarm costs only time.
fn may_hold_dates(bytes: &[u8], rows: usize) -> bool {
    let end = memchr::memchr_iter(b'\n', bytes)
        .nth(rows + 1)
        .unwrap_or(bytes.len());
    let text = &bytes[..end];
    let digit = |i: usize| text.get(i).is_some_and(u8::is_ascii_digit);
    (1..text.len()).any(|i| {
        let b = text[i];
        if !digit(i - 1) {
            return false;
        }
        match b {
            // d-dd-d, d/dd/d, d.dd.d (one or two digits between two equal separators)
            b'-' | b'/' | b'.' => {
                digit(i + 1)
                    && ((text.get(i + 2) == Some(&b) && digit(i + 3))
                        || (digit(i + 2) && text.get(i + 3) == Some(&b) && digit(i + 4)))
            }
            // h:mm
            b':' => digit(i + 1) && digit(i + 2),
            _ => false,
        }
    })
}

/// The first `rows` lines (plus the header) of a text file, without reading the rest: a
/// preview of a huge file appears at once.
fn read_leading_lines(path: &Path, rows: usize) -> DataResult<Vec<u8>> {
    const CHUNK: usize = 1 << 20;
    let io_error = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    loop {
        let start = bytes.len();
        bytes.resize(start + CHUNK, 0);
        let n = file.read(&mut bytes[start..]).map_err(io_error)?;
        bytes.truncate(start + n);
        let lines = memchr::memchr_iter(b'\n', &bytes).count();
        if n == 0 || lines > rows {
            break;
        }
    }
    if let Some(end) = memchr::memchr_iter(b'\n', &bytes).nth(rows) {
        bytes.truncate(end + 1);
    }
    Ok(bytes)
}

fn read_binary(path: &Path, format: FileFormat, options: &LoadOptions) -> DataResult<DataFrame> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let read = match format {
        FileFormat::Parquet => ParquetReader::new(file)
            .with_slice(options.max_rows.map(|n| (0, n)))
            .finish(),
        _ => IpcReader::new(file).with_n_rows(options.max_rows).finish(),
    };
    read.map_err(|e| polars_error(path, format, &e))
}

fn read_json(path: &Path, format: FileFormat, options: &LoadOptions) -> DataResult<DataFrame> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    validate_json(path, format, &bytes)?;
    let json_format = if format == FileFormat::NdJson {
        JsonFormat::JsonLines
    } else {
        JsonFormat::Json
    };
    let frame = JsonReader::new(Cursor::new(&bytes))
        .with_json_format(json_format)
        .finish()
        .map_err(|e| polars_error(path, format, &e))?;
    Ok(match options.max_rows {
        Some(n) => frame.head(Some(n)),
        None => frame,
    })
}

/// Finds the exact place of a JSON syntax error (polars reports none) and checks the shape.
fn validate_json(path: &Path, format: FileFormat, bytes: &[u8]) -> DataResult<()> {
    let syntax = |line: usize, column: usize, e: &serde_json::Error| DataError::Malformed {
        path: path.to_path_buf(),
        location: format!("line {line}, column {column}: "),
        reason: format!("invalid JSON: {}", strip_position(&e.to_string())),
    };
    if format == FileFormat::NdJson {
        let mut records = 0;
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(_)) => records += 1,
                Ok(_) => {
                    return Err(DataError::at_line(
                        path,
                        index + 1,
                        "expected a JSON object (one record per line)",
                    ));
                }
                Err(e) => return Err(syntax(index + 1, e.column(), &e)),
            }
        }
        if records == 0 {
            return Err(DataError::malformed(path, "the file has no data rows"));
        }
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Err(e) => Err(syntax(e.line(), e.column(), &e)),
        Ok(serde_json::Value::Array(items)) if items.is_empty() => Err(DataError::malformed(
            path,
            "the JSON list is empty: no data rows",
        )),
        Ok(serde_json::Value::Array(items)) => match items.iter().position(|v| !v.is_object()) {
            Some(i) => Err(DataError::malformed(
                path,
                format!(
                    "JSON item {} is not a record (an object with named fields)",
                    i + 1
                ),
            )),
            None => Ok(()),
        },
        Ok(_) => Err(DataError::malformed(
            path,
            "expected JSON records: a list of objects ([{...}, {...}]) or one object per line (.ndjson)",
        )),
    }
}

fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

fn polars_error(path: &Path, format: FileFormat, error: &PolarsError) -> DataError {
    let detail = error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let reason = match format {
        FileFormat::Parquet => {
            format!("not a readable Parquet file (damaged or truncated?): {detail}")
        }
        FileFormat::Ipc => {
            format!("not a readable Arrow IPC file (damaged or truncated?): {detail}")
        }
        FileFormat::Json | FileFormat::NdJson => {
            format!("the JSON could not be read as a table: {detail}")
        }
        FileFormat::Csv => format!("the CSV could not be parsed: {detail}"),
    };
    DataError::malformed(path, reason)
}

#[cfg(test)]
mod tests {
    use super::{LoadOptions, load_table, may_hold_dates};
    use polars::prelude::DataType;

    /// Loads `text` as a CSV file and gives each column's missing count.
    fn null_counts(text: &str) -> Vec<usize> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.csv");
        std::fs::write(&path, text).unwrap();
        let table = load_table(&path, &LoadOptions::default(), |_, _| true).unwrap();
        table
            .frame
            .columns()
            .iter()
            .map(|c| c.null_count())
            .collect()
    }

    #[test]
    fn empty_fields_and_pandas_markers_are_missing_as_pandas_reads_them() {
        // Empty fields only: no marker is looked for, yet empty text and numbers are missing.
        assert_eq!(null_counts("a,b,c\n1,,x\n,y,\n3,z,w\n"), vec![1, 1, 1]);
        // Markers far below the rows the parse starts from are found by the check.
        let mut text = String::from("a,b\n");
        for i in 0..20_000 {
            text.push_str(&format!("{i},t{i}\n"));
        }
        text.push_str("NA,null\nnan,N/A\n5,NAME\n");
        assert_eq!(null_counts(&text), vec![2, 2]);
        // In a quoted file every marker is looked for, quoted or not.
        assert_eq!(
            null_counts("a,b\n\"NA\",x\n2,\"#N/A\"\nNULL,\"y\"\n"),
            vec![2, 1]
        );
    }

    #[test]
    fn a_value_below_the_inferred_rows_that_changes_the_type_is_read_as_it_is() {
        let mut text = String::from("n,t\n");
        for i in 0..(super::INFER_ROWS + 500) {
            text.push_str(&format!("{i},{i}\n"));
        }
        text.push_str("2.5,word\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("late.csv");
        std::fs::write(&path, text).unwrap();
        let table = load_table(&path, &LoadOptions::default(), |_, _| true).unwrap();
        let n = table.frame.column("n").unwrap();
        assert_eq!(n.dtype(), &DataType::Float64);
        assert_eq!(n.f64().unwrap().get(super::INFER_ROWS + 500), Some(2.5));
        assert_eq!(table.frame.column("t").unwrap().dtype(), &DataType::String);
    }

    #[test]
    fn a_date_column_is_read_as_dates_and_text_stays_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "when,what,x\n2024-01-31,a-b,1.5\n2024-02-01,c,2\n").unwrap();
        let table = load_table(&path, &LoadOptions::default(), |_, _| true).unwrap();
        let dtype = |name: &str| table.frame.column(name).unwrap().dtype().clone();
        assert_eq!(dtype("when"), DataType::Date);
        assert_eq!(dtype("what"), DataType::String);
        assert_eq!(dtype("x"), DataType::Float64);
    }

    #[test]
    fn only_date_or_time_shaped_fields_ask_for_date_inference() {
        assert!(may_hold_dates(b"a,b\n1,2024-01-31\n", 10));
        assert!(may_hold_dates(b"a,b\n1,31/1/2024\n", 10));
        assert!(may_hold_dates(b"a,b\n1,2024.01.31\n", 10));
        assert!(may_hold_dates(b"a,b\n1,12:30\n", 10));
        assert!(!may_hold_dates(b"a,b\n1.5,-2.25\nx-y,3.14\n", 10));
        // Beyond the rows inferred from, a date does not count.
        assert!(!may_hold_dates(b"a\n1\n2\n3\n2024-01-31\n", 2));
    }
}
