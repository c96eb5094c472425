//! `kiln models import-onnx` and `kiln models export-onnx`: ONNX files in and out of the
//! registry; the work is in `kiln_core::onnx`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use kiln_core::data::{LoadOptions, load_table};
use kiln_core::inference::Model;
use kiln_core::onnx::{ImportRequest, export_model, import_onnx};
use kiln_core::store::Store;
use serde_json::json;

/// The input columns `--columns-from CSV` names, in file order, minus `--drop`.
fn columns_from(csv: &Path, drop: &[String]) -> Result<Vec<String>> {
    let frame = load_table(csv, &LoadOptions::default(), |_, _| true)?.frame;
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    if let Some(missing) = drop.iter().find(|d| !names.contains(d)) {
        bail!(
            "{}: --drop {missing}: no such column (columns: {})",
            csv.display(),
            names.join(", ")
        );
    }
    Ok(names.into_iter().filter(|n| !drop.contains(n)).collect())
}

/// Runs `kiln models import-onnx FILE --name NAME [--columns-from CSV] [--drop COL]...`.
pub fn run_import(
    store: &Store,
    file: PathBuf,
    name: String,
    columns: Option<PathBuf>,
    drop: Vec<String>,
    target: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let columns = match &columns {
        Some(csv) => Some(columns_from(csv, &drop)?),
        None if !drop.is_empty() => bail!("--drop needs --columns-from CSV"),
        None => None,
    };
    let request = ImportRequest {
        file,
        name,
        columns,
        target,
        description: String::new(),
    };
    let version = import_onnx(store, &request)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "name": version.name, "version": version.version })
            )?
        );
    } else {
        println!("imported {} version {}", version.name, version.version);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `kiln models export-onnx MODEL_REF --out FILE`. An imported version is written back
/// as the bytes it was imported with.
pub fn run_export(store: &Store, model_ref: &str, out: &Path) -> Result<ExitCode> {
    let bytes = match kiln_core::registry::load_model(store, model_ref)? {
        Model::Native(artifact) => export_model(&artifact).with_context(|| model_ref.to_owned())?,
        Model::Onnx(onnx) => onnx.bytes.as_ref().clone(),
    };
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}
