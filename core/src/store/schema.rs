//! The database schema and its forward migrations.
//!
//! The schema version lives in SQLite's `user_version`. Each migration runs in its own
//! transaction together with the version bump, so a crash mid-migration leaves the previous
//! version intact. Migrations are append-only: never edit one that has shipped.

use rusqlite::{Connection, TransactionBehavior};

use super::error::{StoreError, StoreResult};
use std::path::Path;

/// Every migration in order; migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the tracking core.
    r#"
    CREATE TABLE experiments (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE datasets (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE dataset_versions (
        id           INTEGER PRIMARY KEY,
        dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        version      INTEGER NOT NULL,
        path         TEXT NOT NULL,
        fingerprint  TEXT NOT NULL,
        schema_json  TEXT NOT NULL,
        rows         INTEGER NOT NULL,
        created_at   TEXT NOT NULL,
        UNIQUE (dataset_id, version),
        UNIQUE (dataset_id, fingerprint)
    );
    CREATE TABLE runs (
        id                   TEXT PRIMARY KEY,
        experiment_id        INTEGER NOT NULL REFERENCES experiments(id),
        name                 TEXT NOT NULL,
        status               TEXT NOT NULL CHECK (status IN ('running','finished','failed','killed')),
        start_time           TEXT NOT NULL,
        end_time             TEXT,
        seed                 INTEGER,
        dataset_fingerprint  TEXT,
        kiln_version         TEXT NOT NULL,
        git_commit           TEXT,
        error                TEXT
    );
    CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
    CREATE TABLE params (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE metrics (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key     TEXT NOT NULL,
        value   REAL NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE metric_steps (
        run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key        TEXT NOT NULL,
        step       INTEGER NOT NULL,
        value      REAL NOT NULL,
        wall_time  TEXT NOT NULL,
        PRIMARY KEY (run_id, key, step)
    );
    CREATE TABLE tags (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE artifacts (
        run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (run_id, name)
    );
    "#,
    // 2: lineage from run to dataset version, parent runs (sweeps), notes and soft deletion,
    // which the Experiments workspace needs without rewriting the runs table.
    r#"
    ALTER TABLE runs ADD COLUMN dataset_version_id INTEGER REFERENCES dataset_versions(id);
    ALTER TABLE runs ADD COLUMN parent_run_id TEXT REFERENCES runs(id);
    ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN deleted_at TEXT;
    CREATE INDEX runs_by_parent ON runs(parent_run_id);
    "#,
    // 3: which process owns a running run (host, pid, and the process's start time so a
    // reused pid is not mistaken for the owner), so a run whose process died can be marked
    // `killed` by the next Kiln process that opens the store.
    r#"
    ALTER TABLE runs ADD COLUMN owner_host TEXT;
    ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
    ALTER TABLE runs ADD COLUMN owner_started TEXT;
    CREATE INDEX runs_by_status ON runs(status);
    "#,
    // 4: the model registry: models, versions with lineage and stage, aliases, per-model gate
    // policy, and the append-only audit log (each entry hashes its content and the previous
    // entry's hash).
    r#"
    CREATE TABLE registered_models (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        policy_toml TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL
    );
    CREATE TABLE model_versions (
        model_id            INTEGER NOT NULL REFERENCES registered_models(id),
        version             INTEGER NOT NULL,
        stage               TEXT NOT NULL CHECK (stage IN ('none','staging','production','archived')),
        run_id              TEXT REFERENCES runs(id),
        dataset_version_id  INTEGER REFERENCES dataset_versions(id),
        dataset_fingerprint TEXT,
        artifact_sha256     TEXT NOT NULL,
        signature_json      TEXT NOT NULL,
        metrics_json        TEXT NOT NULL,
        description         TEXT NOT NULL DEFAULT '',
        created_at          TEXT NOT NULL,
        created_by          TEXT NOT NULL,
        PRIMARY KEY (model_id, version)
    );
    CREATE TABLE model_aliases (
        model_id  INTEGER NOT NULL REFERENCES registered_models(id),
        alias     TEXT NOT NULL,
        version   INTEGER NOT NULL,
        PRIMARY KEY (model_id, alias)
    );
    CREATE TABLE audit_log (
        seq         INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        user        TEXT NOT NULL,
        model       TEXT NOT NULL,
        version     INTEGER,
        action      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        before_json TEXT NOT NULL,
        after_json  TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 5: what MLflow clients log beyond Kiln's own runs: experiment tags and deletion, runs
    // owned by an outside client (timestamps as the client sent them), dataset inputs, run
    // outputs, MLflow 3's LoggedModels with their files and metrics, and registry tags, a
    // version's source and the LoggedModel it was made from.
    r#"
    ALTER TABLE experiments ADD COLUMN deleted_at TEXT;
    ALTER TABLE experiments ADD COLUMN updated_at TEXT;
    CREATE TABLE experiment_tags (
        experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key)
    );
    CREATE TABLE run_inputs (
        run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        digest       TEXT NOT NULL,
        source_type  TEXT NOT NULL,
        source       TEXT NOT NULL,
        schema_json  TEXT,
        profile_json TEXT,
        tags_json    TEXT NOT NULL,
        PRIMARY KEY (run_id, name, digest)
    );
    CREATE TABLE run_outputs (
        run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model_id  TEXT NOT NULL,
        step      INTEGER NOT NULL,
        PRIMARY KEY (run_id, model_id)
    );
    CREATE TABLE logged_models (
        id              TEXT PRIMARY KEY,
        experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
        name            TEXT NOT NULL,
        source_run_id   TEXT,
        status          TEXT NOT NULL,
        model_type      TEXT NOT NULL DEFAULT '',
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        params_json     TEXT NOT NULL,
        tags_json       TEXT NOT NULL,
        deleted_at      TEXT
    );
    CREATE INDEX logged_models_by_run ON logged_models(source_run_id);
    CREATE TABLE logged_model_files (
        model_id    TEXT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        path        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (model_id, path)
    );
    CREATE TABLE logged_model_metrics (
        model_id        TEXT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        key             TEXT NOT NULL,
        value           REAL NOT NULL,
        timestamp_ms    INTEGER NOT NULL,
        step            INTEGER NOT NULL,
        run_id          TEXT,
        dataset_name    TEXT,
        dataset_digest  TEXT
    );
    CREATE TABLE registered_model_tags (
        model_id  INTEGER NOT NULL REFERENCES registered_models(id),
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    );
    CREATE TABLE model_version_tags (
        model_id  INTEGER NOT NULL REFERENCES registered_models(id),
        version   INTEGER NOT NULL,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (model_id, version, key)
    );
    ALTER TABLE model_versions ADD COLUMN source TEXT;
    ALTER TABLE model_versions ADD COLUMN logged_model_id TEXT;
    ALTER TABLE model_versions ADD COLUMN updated_at TEXT;
    "#,
    // 6: pipeline runs (`kiln run`): which stages ran and why, the training run, the version
    // it registered and the data fingerprints, so a version's lineage reaches the pipeline
    // run and the commit that made it.
    r#"
    CREATE TABLE pipeline_runs (
        id             INTEGER PRIMARY KEY,
        pipeline       TEXT NOT NULL,
        project        TEXT NOT NULL,
        started_at     TEXT NOT NULL,
        finished_at    TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('passed','failed','cancelled')),
        error          TEXT,
        run_id         TEXT,
        model          TEXT,
        model_version  INTEGER,
        git_commit     TEXT,
        stages_json    TEXT NOT NULL,
        inputs_json    TEXT NOT NULL,
        gates_json     TEXT NOT NULL
    );
    CREATE INDEX pipeline_runs_by_project ON pipeline_runs(project, id);
    CREATE INDEX pipeline_runs_by_version ON pipeline_runs(model, model_version);
    "#,
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Reads the schema version stored in the database.
pub fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the database up to [`latest_version`], one transaction per migration.
pub fn migrate(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    migrate_to(conn, path, latest_version())
}

/// Applies migrations up to `target` (tests use this to build old stores).
pub fn migrate_to(conn: &mut Connection, path: &Path, target: i64) -> StoreResult<()> {
    let found = current_version(conn)?;
    if found > latest_version() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: latest_version(),
        });
    }
    for version in found..target.min(latest_version()) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the write lock.
        if current_version(&tx)? > version {
            continue;
        }
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        tracing::info!(from = version, to = version + 1, "migrated store schema");
    }
    Ok(())
}
