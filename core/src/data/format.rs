//! Which reader a file needs: decided by its extension, checked against its first bytes, so a
//! mislabelled or binary file gets a clear error instead of a confusing parse failure.

use std::path::Path;

use super::error::{DataError, DataResult};

/// The tabular formats Kiln reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Delimited text (comma, tab, semicolon, pipe).
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A JSON array of records.
    Json,
    /// One JSON record per line.
    NdJson,
    /// Arrow IPC file (Feather v2).
    Ipc,
}

impl FileFormat {
    /// Human name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Parquet => "Parquet",
            Self::Json => "JSON",
            Self::NdJson => "NDJSON",
            Self::Ipc => "Arrow IPC",
        }
    }
}

/// File extensions Kiln opens.
pub const SUPPORTED_EXTENSIONS: &[&str] = &[
    "csv", "tsv", "tab", "txt", "dat", "parquet", "pq", "json", "ndjson", "jsonl", "arrow",
    "feather", "ipc",
];

/// What the first bytes say the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Magic {
    Parquet,
    Arrow,
    Compressed(&'static str),
    Binary(&'static str),
    None,
}

fn magic(head: &[u8]) -> Magic {
    let starts = |prefix: &[u8]| head.starts_with(prefix);
    if starts(b"PAR1") {
        Magic::Parquet
    } else if starts(b"ARROW1") || starts(&[0xFF, 0xFF, 0xFF, 0xFF]) {
        Magic::Arrow
    } else if starts(&[0x1F, 0x8B]) {
        Magic::Compressed("gzip")
    } else if starts(b"PK\x03\x04") {
        Magic::Compressed("zip")
    } else if starts(b"BZh") {
        Magic::Compressed("bzip2")
    } else if starts(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        Magic::Compressed("xz")
    } else if starts(&[0x28, 0xB5, 0x2F, 0xFD]) {
        Magic::Compressed("zstd")
    } else if starts(&[0x89, b'P', b'N', b'G']) {
        Magic::Binary("a PNG image")
    } else if starts(b"%PDF") {
        Magic::Binary("a PDF document")
    } else if starts(&[0x7F, b'E', b'L', b'F']) {
        Magic::Binary("a program (ELF)")
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Magic::Binary("an old Office document")
    } else {
        Magic::None
    }
}

/// Whether the first bytes look like text: no NUL bytes and few control characters.
pub fn looks_like_text(head: &[u8]) -> bool {
    // UTF-16 text has NULs but a BOM first.
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    control * 20 <= head.len()
}

fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Decides the reader for `path` from its extension and first bytes (`head`, up to 8 KiB).
pub fn detect_format(path: &Path, head: &[u8]) -> DataResult<FileFormat> {
    let ext = extension_of(path);
    let found = magic(head);
    if let Magic::Compressed(kind) = found {
        return Err(DataError::malformed(
            path,
            format!(
                "the file is {kind}-compressed; decompress it first, then open the extracted file"
            ),
        ));
    }
    let by_extension = match ext.as_str() {
        "parquet" | "pq" => Some(FileFormat::Parquet),
        "arrow" | "feather" | "ipc" => Some(FileFormat::Ipc),
        "json" => Some(FileFormat::Json),
        "ndjson" | "jsonl" => Some(FileFormat::NdJson),
        "csv" | "tsv" | "tab" | "txt" | "dat" | "" => Some(FileFormat::Csv),
        _ => None,
    };
    match (by_extension, found) {
        (Some(FileFormat::Parquet), Magic::Parquet) | (Some(FileFormat::Ipc), Magic::Arrow) => {
            Ok(by_extension.unwrap_or(FileFormat::Csv))
        }
        (Some(FileFormat::Parquet), _) => Err(DataError::malformed(
            path,
            "not a Parquet file: it does not start with the Parquet marker (PAR1); is it another format with a .parquet extension?",
        )),
        (Some(FileFormat::Ipc), _) => Err(DataError::malformed(
            path,
            "not an Arrow IPC/Feather v2 file: it does not start with the Arrow marker (ARROW1)",
        )),
        (Some(kind), Magic::Parquet | Magic::Arrow) => {
            let actual = if found == Magic::Parquet {
                "parquet"
            } else {
                "arrow"
            };
            Err(DataError::malformed(
                path,
                format!(
                    "the extension says {} but the content is a {} file; rename it to .{actual}",
                    kind.name(),
                    if found == Magic::Parquet {
                        "Parquet"
                    } else {
                        "Arrow IPC"
                    },
                ),
            ))
        }
        (_, Magic::Binary(what)) => Err(DataError::malformed(
            path,
            format!("this is {what}, a binary file, not a data table"),
        )),
        (Some(kind), _) => {
            if !looks_like_text(head) {
                return Err(DataError::malformed(
                    path,
                    format!("the file is binary, not {} text", kind.name()),
                ));
            }
            Ok(json_or_ndjson(kind, head))
        }
        (None, _) => {
            let hint = if ext == "xlsx" || ext == "xls" {
                " (Excel workbooks are not read directly: save the sheet as CSV)"
            } else {
                ""
            };
            Err(DataError::malformed(
                path,
                format!(
                    "unsupported file extension '.{ext}'{hint}; Kiln opens {}",
                    SUPPORTED_EXTENSIONS
                        .iter()
                        .map(|e| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

/// A `.json` file holding one record per line is NDJSON.
fn json_or_ndjson(kind: FileFormat, head: &[u8]) -> FileFormat {
    if kind != FileFormat::Json {
        return kind;
    }
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    match (lines.next(), lines.next()) {
        (Some(first), Some(second))
            if first.starts_with('{') && first.ends_with('}') && second.starts_with('{') =>
        {
            FileFormat::NdJson
        }
        _ => FileFormat::Json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_markers_agree() {
        assert_eq!(
            detect_format(Path::new("a.csv"), b"x,y\n1,2\n").ok(),
            Some(FileFormat::Csv)
        );
        assert_eq!(
            detect_format(Path::new("a.parquet"), b"PAR1....").ok(),
            Some(FileFormat::Parquet)
        );
        assert_eq!(
            detect_format(Path::new("a.feather"), b"ARROW1..").ok(),
            Some(FileFormat::Ipc)
        );
        assert_eq!(
            detect_format(Path::new("a.json"), b"[{\"a\":1}]").ok(),
            Some(FileFormat::Json)
        );
        assert_eq!(
            detect_format(Path::new("a.json"), b"{\"a\":1}\n{\"a\":2}\n").ok(),
            Some(FileFormat::NdJson)
        );
    }

    #[test]
    fn mismatches_are_explained() {
        let err = detect_format(Path::new("a.csv"), b"PAR1xxxx").expect_err("parquet in csv");
        assert!(err.to_string().contains("extension"), "{err}");
        let err = detect_format(Path::new("a.csv"), &[0x1F, 0x8B, 8, 0]).expect_err("gzip");
        assert!(err.to_string().contains("compressed"), "{err}");
        let err = detect_format(Path::new("a.xlsx"), b"PK\x03\x04").expect_err("xlsx");
        assert!(err.to_string().contains("compressed"), "{err}");
        let err = detect_format(Path::new("a.csv"), &[0, 1, 2, 3, 200, 201]).expect_err("binary");
        assert!(err.to_string().contains("binary"), "{err}");
    }
}
