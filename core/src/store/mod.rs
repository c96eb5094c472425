//! The Kiln store: one folder holding `kiln.db` (SQLite) and `artifacts/` (content-addressed).
//!
//! The GUI, the CLI and a model server may use one store at the same time: the database runs
//! in WAL mode with a busy timeout, every multi-row change is one `IMMEDIATE` transaction, and
//! artifacts are written under a temporary name, fsynced, then renamed into place.

mod actor;
mod artifacts;
pub use actor::Actor;
mod datasets;
pub use artifacts::sha256_hex;
pub use datasets::NewDatasetVersion;
mod error;
mod lifecycle;
pub use lifecycle::{ProcessIdentity, RunResults};
mod audit;
pub mod location;
mod registry;
pub use actor::os_user;
pub use audit::{AuditEntry, AuditEvent, entry_hash};
pub use registry::{ModelVersion, NewModelVersion, Stage, check_alias};
mod external;
mod import_support;
pub use external::{
    ClientMetric, ClientRun, EXTERNAL_OWNER, ExperimentInfo, RunInput, ms_to_rfc3339, rfc3339_to_ms,
};
mod logged_models;
mod pipelines;
pub use logged_models::{LoggedModel, ModelMetric, NewLoggedModel};
pub use pipelines::PipelineRunRecord;
mod registry_meta;
pub use registry_meta::{RegisteredModelInfo, VersionSource};
mod runs;
pub mod schema;
mod types;

pub use error::{StoreError, StoreResult};
pub use types::*;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// File name of the database inside the store folder.
pub const DB_FILE: &str = "kiln.db";
/// Folder name of the artifact store inside the store folder.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle to an open store. Cheap to clone; clones share one connection.
///
/// Threads that write a lot (jobs, servers) may prefer their own handle from
/// [`Store::open`]; SQLite serialises writers across handles and processes.
#[derive(Clone)]
pub struct Store {
    home: PathBuf,
    conn: Arc<Mutex<Connection>>,
    writes: Arc<std::sync::atomic::AtomicU64>,
    /// The last `PRAGMA data_version` read, for when the connection is busy.
    others: Arc<std::sync::atomic::AtomicI64>,
    /// Author and clock of registry changes made through this handle.
    actor: Actor,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("home", &self.home).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in folder `home` and migrates it to the latest schema.
    pub fn open(home: impl AsRef<Path>) -> StoreResult<Self> {
        let home = home.as_ref().to_path_buf();
        let location_error = |source| StoreError::Location {
            path: home.clone(),
            source,
        };
        std::fs::create_dir_all(home.join(ARTIFACTS_DIR)).map_err(location_error)?;
        let db_path = home.join(DB_FILE);
        let mut conn = open_connection(&db_path)?;
        schema::migrate(&mut conn, &db_path)?;
        tracing::debug!(home = %home.display(), "opened store");
        let store = Self {
            home,
            conn: Arc::new(Mutex::new(conn)),
            writes: Arc::default(),
            others: Arc::default(),
            actor: Actor::system(),
        };
        // A run whose process was killed must not look `running` forever.
        store.recover_orphaned_runs()?;
        Ok(store)
    }

    /// Opens the store without applying migrations past `version` (for migration tests).
    #[doc(hidden)]
    pub fn create_at_schema_version(home: impl AsRef<Path>, version: i64) -> StoreResult<()> {
        let db_path = home.as_ref().join(DB_FILE);
        std::fs::create_dir_all(home.as_ref()).map_err(|source| StoreError::Location {
            path: home.as_ref().to_path_buf(),
            source,
        })?;
        let mut conn = open_connection(&db_path)?;
        schema::migrate_to(&mut conn, &db_path, version)
    }

    /// This handle (and its clones) recording registry changes as `actor`: fixtures fix the
    /// user and the clock so that the audit chain's hashes are the same on every run.
    pub fn with_actor(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }

    /// Who records registry changes through this handle, and when.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The store folder.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.home.join(DB_FILE)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> StoreResult<i64> {
        Ok(schema::current_version(&self.lock())?)
    }

    /// Changes whenever this handle (or a clone) commits a write, or another connection or
    /// process commits one; views compare it to know when to reload.
    pub fn change_token(&self) -> (u64, i64) {
        use std::sync::TryLockError;
        use std::sync::atomic::Ordering::Relaxed;
        let local = self.writes.load(Relaxed);
        // Views poll this every frame: never wait behind a job that holds the connection.
        // While it is busy the last value read stands; the job's own commit bumps `writes`.
        let conn = match self.conn.try_lock() {
            Ok(conn) => Some(conn),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(conn) = conn
            && let Ok(version) = conn.query_row("PRAGMA data_version", [], |row| row.get(0))
        {
            self.others.store(version, Relaxed);
        }
        (local, self.others.load(Relaxed))
    }

    fn wrote(&self) {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Opens one connection with Kiln's settings and checks that the file really is a database.
pub(super) fn open_connection(db_path: &Path) -> StoreResult<Connection> {
    let corrupt = |e: rusqlite::Error| classify_open_error(db_path, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(db_path, flags).map_err(corrupt)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(corrupt)?;
    // The first statement that reads the header reveals a non-database file.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(corrupt)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(corrupt)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(corrupt)?;
    // Reading the schema parses the file's header and schema: a damaged or foreign file fails
    // here. (A full `quick_check` would read every page: seconds on a large store.)
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    })
    .map_err(corrupt)?;
    Ok(conn)
}

fn classify_open_error(db_path: &Path, error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: db_path.to_path_buf(),
            reason: error.to_string(),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            StoreError::Location {
                path: db_path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    error.to_string(),
                ),
            }
        }
        _ => StoreError::Sqlite(error),
    }
}

/// The current time as Kiln stores it: RFC 3339, UTC, millisecond precision (sorts as text).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
