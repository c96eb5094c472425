#!/usr/bin/env bash
# Rebuilds app/tests/snapshots/store/, the store the Experiments snapshots are drawn from:
# the demo project (`kiln demo`) and four cross-validated classifiers, their runs moved to a fixed day so that nothing shown depends
# on when the store was made. Only this script needs sqlite3; the tests copy the result.
# After running it, regenerate the snapshots: UPDATE_SNAPSHOTS=force cargo test -p kiln --test snapshots
set -euo pipefail
cd "$(dirname "$0")/../../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kiln-target}"
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
cargo build -p kiln --bin kiln
kiln="$CARGO_TARGET_DIR/debug/kiln"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$kiln" --home "$work" demo
# Four classifiers cross-validated on one split, newest, so the compare view (the newest four
# runs) shows curves, confusion matrices and t-tests.
for model in logistic_regression gaussian_nb decision_tree random_forest; do
    params=()
    if [ "$model" = random_forest ]; then params=(--param n_estimators=20); fi
    "$kiln" --home "$work" train --data "$work/samples/penguins.csv" --target species \
        --model "$model" "${params[@]}" --cv 5 --seed 7 --experiment penguins >/dev/null
done
# The n-th run (0, 1, ...) starts at 2026-01-15 09:00 UTC plus n minutes and keeps its real
# duration; steps move with their run. Machine-specific provenance is cleared.
sqlite3 "$work/kiln.db" >/dev/null <<'SQL'
CREATE TEMP TABLE moved AS
  SELECT id, julianday(start_time) AS old,
         julianday('2026-01-15T09:00:00.000Z') + (ROW_NUMBER() OVER (ORDER BY start_time) - 1) / 1440.0 AS new
  FROM runs;
UPDATE metric_steps SET wall_time = strftime('%Y-%m-%dT%H:%M:%fZ',
  julianday(wall_time) + (SELECT new - old FROM moved WHERE moved.id = metric_steps.run_id));
UPDATE artifacts SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ',
  julianday(created_at) + (SELECT new - old FROM moved WHERE moved.id = artifacts.run_id));
UPDATE runs SET
  end_time = strftime('%Y-%m-%dT%H:%M:%fZ', julianday(end_time) + (SELECT new - old FROM moved WHERE moved.id = runs.id)),
  start_time = strftime('%Y-%m-%dT%H:%M:%fZ', (SELECT new FROM moved WHERE moved.id = runs.id)),
  git_commit = NULL, owner_host = NULL, owner_pid = NULL, owner_started = NULL;
UPDATE experiments SET created_at = '2026-01-15T09:00:00.000Z';
UPDATE datasets SET created_at = '2026-01-15T09:00:00.000Z';
UPDATE dataset_versions SET created_at = '2026-01-15T09:00:00.000Z';
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
SQL
out=app/tests/snapshots/store
rm -rf "$out"
mkdir -p "$out"
cp "$work/kiln.db" "$out/"
cp -r "$work/artifacts" "$out/"
du -sh "$out"
