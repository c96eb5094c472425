//! Opening a file the way the Explore workspace and `kiln profile` both do: fingerprint and load
//! (at the same time), profile — one code path with one progress scale, so the CLI and the GUI agree.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::error::{DataError, DataResult};
use super::fingerprint::{FileFingerprint, FingerprintError, fingerprint_file};
use super::load::{LoadOptions, LoadedTable, load_table};
use super::profile::{Profile, ProfileOptions, profile_frame};
use super::schema::SchemaOverrides;
use crate::store::{DatasetVersion, NewDatasetVersion, Store, StoreResult};

/// Share of the progress bar spent on loading (the rest is the profile).
const LOAD_END: f32 = 0.55;

/// A file that was opened: its identity, its data and (once computed) its profile.
#[derive(Debug, Clone)]
pub struct OpenedTable {
    /// sha256 and size of the file.
    pub fingerprint: FileFingerprint,
    /// The loaded data.
    pub table: LoadedTable,
}

/// Fingerprints and loads `path`; progress goes from 0 to [`LOAD_END`].
///
/// The sha256 is computed on a thread of its own while the file is parsed: both read the same
/// bytes (from the page cache the second time), and hashing is faster than parsing, so the
/// fingerprint costs no wall time.
pub fn open_table(
    path: &Path,
    options: &LoadOptions,
    on_progress: &(dyn Fn(f32, &str) -> bool + Sync),
) -> DataResult<OpenedTable> {
    let stop = AtomicBool::new(false);
    let loaded = AtomicBool::new(false);
    let hash = || {
        fingerprint_file(path, |_, _| {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            // Once loading is done, its caller waits on the hash: let it see progress and
            // cancel.
            !loaded.load(Ordering::Relaxed) || on_progress(LOAD_END, "fingerprinting")
        })
        .map_err(|e| match e {
            FingerprintError::Cancelled => DataError::Cancelled,
            FingerprintError::Read { path, source } => DataError::Io { path, source },
        })
    };
    let (table, fingerprint) = std::thread::scope(|scope| {
        let hashing = std::thread::Builder::new()
            .name("kiln-fingerprint".into())
            .spawn_scoped(scope, hash);
        let table = load_table(path, options, |fraction, message| {
            let go = on_progress(fraction * LOAD_END, message);
            if !go {
                stop.store(true, Ordering::Relaxed);
            }
            go
        });
        loaded.store(true, Ordering::Relaxed);
        if table.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let fingerprint = match hashing {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(DataError::malformed(
                    path,
                    "computing the file's sha256 failed",
                ))
            }),
            // No thread to be had: hash here, after loading.
            Err(_) => hash(),
        };
        (table, fingerprint)
    });
    // A load error explains more than the hash's (which was stopped by it).
    let table = table?;
    Ok(OpenedTable {
        fingerprint: fingerprint?,
        table,
    })
}

/// Opens `path` and profiles it; the profile carries the file's fingerprint.
pub fn open_and_profile(
    path: &Path,
    load: &LoadOptions,
    profile: &ProfileOptions,
    on_progress: &(dyn Fn(f32, &str) -> bool + Sync),
) -> DataResult<(OpenedTable, Profile)> {
    let started = std::time::Instant::now();
    let opened = open_table(path, load, on_progress)?;
    let loaded = started.elapsed();
    let profile = profile_table(&opened, profile, on_progress)?;
    tracing::info!(
        file = %path.display(),
        load_s = loaded.as_secs_f64(),
        profile_s = (started.elapsed() - loaded).as_secs_f64(),
        "opened and profiled"
    );
    Ok((opened, profile))
}

/// Profiles an opened table; progress goes from [`LOAD_END`] to 1.
pub fn profile_table(
    opened: &OpenedTable,
    options: &ProfileOptions,
    on_progress: &(dyn Fn(f32, &str) -> bool + Sync),
) -> DataResult<Profile> {
    let scaled =
        |fraction: f32, message: &str| on_progress(LOAD_END + fraction * (1.0 - LOAD_END), message);
    let mut profile = profile_frame(&opened.table.frame, options, &scaled)?;
    profile.fingerprint = opened.fingerprint.sha256.clone();
    Ok(profile)
}

/// Column names, types and the user's choices of a table, as stored with dataset versions.
pub fn schema_json(table: &LoadedTable, overrides: &SchemaOverrides) -> serde_json::Value {
    let columns: Vec<serde_json::Value> = table
        .frame
        .columns()
        .iter()
        .map(|c| {
            let choice = overrides.columns.get(c.name().as_str()).copied().unwrap_or_default();
            json!({ "name": c.name().as_str(), "dtype": c.dtype().to_string(), "role": choice.role, "kind": choice.kind })
        })
        .collect();
    json!({ "format": table.format, "columns": columns })
}

/// Registers an opened file as a version of dataset `name` (same bytes, same version).
pub fn register_dataset(
    store: &Store,
    name: &str,
    opened: &OpenedTable,
) -> StoreResult<DatasetVersion> {
    register_dataset_with(store, name, opened, &SchemaOverrides::default())
}

/// [`register_dataset`] recording the user's type and role choices with the schema.
pub fn register_dataset_with(
    store: &Store,
    name: &str,
    opened: &OpenedTable,
    overrides: &SchemaOverrides,
) -> StoreResult<DatasetVersion> {
    let path = opened.table.path.display().to_string();
    store.register_dataset_version(&NewDatasetVersion {
        name,
        path: &path,
        fingerprint: &opened.fingerprint.sha256,
        schema: &schema_json(&opened.table, overrides),
        rows: opened.table.frame.height() as i64,
    })
}

/// Applies type choices to an opened table (numbers parsed from text, values turned to text).
pub fn with_overrides(
    opened: &OpenedTable,
    overrides: &SchemaOverrides,
) -> DataResult<OpenedTable> {
    let frame = overrides
        .apply(&opened.table.frame)
        .map_err(|e| DataError::malformed(&opened.table.path, e.to_string()))?;
    let mut out = opened.clone();
    out.table.frame = frame;
    Ok(out)
}

/// Profile options that honour the user's kind choices.
pub fn profile_options(overrides: &SchemaOverrides) -> ProfileOptions {
    ProfileOptions {
        kinds: overrides
            .columns
            .iter()
            .filter_map(|(name, c)| c.kind.map(|k| (name.clone(), k)))
            .collect(),
        ..ProfileOptions::default()
    }
}
