#!/usr/bin/env bash
# Explore benchmark: `kiln profile` against pandas, polars and ydata-profiling on the same CSV, in
# the same run, on this machine. See benches/explore/README.md.
#
#   bash benches/explore/run.sh
#
# Settings (environment):
#   KILN_BIN               kiln binary (default /var/tmp/kiln-target/release/kiln; never built here)
#   KILN_BENCH_DIR         data and virtualenvs (default /var/tmp/kiln-bench)
#   KILN_BENCH_ROWS        rows of the big file (default 1000000)
#   KILN_BENCH_SLICE_ROWS  rows of the slice for ydata-profiling and Kiln's small run (default 100000)
#   KILN_BENCH_RUNS        runs per measurement, median reported (default 3)
#   KILN_BENCH_RESULTS     raw results file (default benches/explore/results.json)
#   KILN_BENCH_SKIP_YDATA  set to 1 to leave ydata-profiling out (recorded as null)
#   KILN_BENCH_STRICT      set to 1 to exit 1 when a target is missed
#   PYTHON                 interpreter the virtualenvs are made from (default python3; 3.10 to 3.13)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KILN_BIN="${KILN_BIN:-/var/tmp/kiln-target/release/kiln}"
BENCH_DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench}"
ROWS="${KILN_BENCH_ROWS:-1000000}"
SLICE_ROWS="${KILN_BENCH_SLICE_ROWS:-100000}"
RUNS="${KILN_BENCH_RUNS:-3}"
RESULTS="${KILN_BENCH_RESULTS:-$HERE/results.json}"
PYTHON="${PYTHON:-python3}"

log() { echo "run.sh: $*" >&2; }

# --- Kiln: never built here (the build takes the machine's 2 cores for a long time). ----------
if [[ ! -x "$KILN_BIN" ]]; then
  cat >&2 <<EOF
run.sh: no Kiln binary at $KILN_BIN
Build it first, from the repository root:

    CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln

or point KILN_BIN at a release build of kiln.
EOF
  exit 1
fi

# --- /usr/bin/time (peak RSS of Kiln) -----------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  log "installing the Debian package 'time' for /usr/bin/time"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && SUDO=sudo
  $SUDO apt-get install -y -q time >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q time >/dev/null; }
fi

# --- Python environments (pinned; created once by scripts/bench-venvs, which does nothing when
# they exist with the same requirements). ydata-profiling needs pandas < 3 and numpy < 2.4, so it
# gets a virtualenv of its own.
VENVS="$HERE/../../scripts/bench-venvs"
export KILN_BENCH_DIR="$BENCH_DIR" PYTHON
MAIN_VENV="$BENCH_DIR/venv-main"
YDATA_VENV="$BENCH_DIR/venv-ydata"
if ! "$VENVS" main; then
  log "could not install $HERE/requirements.txt into $MAIN_VENV"
  exit 1
fi
MAIN_PY="$MAIN_VENV/bin/python"
YDATA_ARGS=()
if [[ "${KILN_BENCH_SKIP_YDATA:-0}" == 1 ]]; then
  YDATA_ARGS=(--ydata-skip "skipped (KILN_BENCH_SKIP_YDATA=1)")
elif "$VENVS" ydata; then
  YDATA_ARGS=(--ydata-python "$YDATA_VENV/bin/python")
else
  log "ydata-profiling could not be installed: it is recorded as null"
  YDATA_ARGS=(--ydata-skip "pip install -r requirements-ydata.txt failed (see the log above)")
fi

# --- data ------------------------------------------------------------------------------------
name_for() { # ROWS -> file name
  case "$1" in
    1000000) echo mixed_1m.csv ;;
    100000) echo mixed_100k.csv ;;
    *) echo "mixed_$1.csv" ;;
  esac
}
BIG="$BENCH_DIR/$(name_for "$ROWS")"
SLICE="$BENCH_DIR/$(name_for "$SLICE_ROWS")"
"$MAIN_PY" "$HERE/make_data.py" "$BIG" --rows "$ROWS" --slice-rows "$SLICE_ROWS" --slice-path "$SLICE"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# --- Kiln: one untimed warm-up run that checks the output, then RUNS timed runs -----------------
KILN_VERSION="$("$KILN_BIN" --version 2>/dev/null | head -1 || true)"
time_kiln() { # FILE EXPECTED_ROWS OUT [EXTRA ARGS...]
  local file=$1 rows=$2 out=$3 i start end rss secs check
  shift 3
  if ! "$KILN_BIN" profile "$file" --json "$@" > "$TMP/warmup.json" 2> "$TMP/kiln.err"; then
    log "kiln failed on $file:"
    tail -20 "$TMP/kiln.err" >&2
    exit 1
  fi
  if [[ -s "$TMP/kiln.err" ]]; then
    log "kiln's stderr on $file (first lines):"
    head -5 "$TMP/kiln.err" >&2
  fi
  check=$("$MAIN_PY" - "$TMP/warmup.json" "$rows" <<'PY' || true
import json, sys
try:
    p = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"WARNING: kiln's --json output is not JSON ({type(e).__name__}); is KILN_BIN a real kiln?")
    sys.exit()
if p.get("rows") != int(sys.argv[2]):
    print(f"WARNING: kiln reported rows={p.get('rows')}, expected {sys.argv[2]}")
else:
    print(f"ok: {p['rows']} rows x {p.get('columns_count')} columns, kiln's memory_bytes={p.get('memory_bytes')}")
PY
)
  log "kiln warm-up on $(basename "$file"): $check"
  : > "$out"
  for ((i = 1; i <= RUNS; i++)); do
    start=$(date +%s%N)
    if ! /usr/bin/time -f %M -o "$TMP/rss" "$KILN_BIN" profile "$file" --json "$@" > /dev/null 2> "$TMP/kiln.err"; then
      log "kiln failed on $file (run $i):"
      tail -20 "$TMP/kiln.err" >&2
      exit 1
    fi
    end=$(date +%s%N)
    rss=$(tail -1 "$TMP/rss")
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    echo "$secs $rss" >> "$out"
    log "kiln $(basename "$file") run $i/$RUNS: $secs s, peak RSS $((rss / 1024)) MiB"
  done
}
time_kiln "$BIG" "$ROWS" "$TMP/kiln_1m.txt"
time_kiln "$SLICE" "$SLICE_ROWS" "$TMP/kiln_100k.txt"
# The same work as ydata-profiling's minimal mode: no correlation matrices.
time_kiln "$SLICE" "$SLICE_ROWS" "$TMP/kiln_100k_minimal.txt" --minimal

# --- Arrow in-memory size of the big table (the yardstick for Kiln's peak RSS) ------------------
ARROW_ARGS=()
if ARROW_BYTES=$("$MAIN_PY" -c 'import sys, pyarrow.csv as c; print(c.read_csv(sys.argv[1]).nbytes)' "$BIG" 2> "$TMP/arrow.err"); then
  ARROW_ARGS=(--arrow-bytes "$ARROW_BYTES")
  log "Arrow size of $(basename "$BIG"): $((ARROW_BYTES / 1048576)) MiB"
else
  ARROW_ARGS=(--arrow-error "$(tail -1 "$TMP/arrow.err")")
fi

# --- peers ------------------------------------------------------------------------------------
"$MAIN_PY" "$HERE/peers.py" "$BIG" --slice "$SLICE" --runs "$RUNS" "${YDATA_ARGS[@]}" > "$TMP/peers.json"

# --- table and results.json --------------------------------------------------------------------
STRICT_ARGS=()
[[ "${KILN_BENCH_STRICT:-0}" == 1 ]] && STRICT_ARGS=(--strict)
"$MAIN_PY" "$HERE/report.py" \
  --kiln-1m "$TMP/kiln_1m.txt" --kiln-100k "$TMP/kiln_100k.txt" \
  --kiln-100k-minimal "$TMP/kiln_100k_minimal.txt" --peers "$TMP/peers.json" \
  "${ARROW_ARGS[@]}" --csv "$BIG" --slice "$SLICE" --out "$RESULTS" \
  --kiln-bin "$KILN_BIN" --kiln-version "$KILN_VERSION" "${STRICT_ARGS[@]}"
