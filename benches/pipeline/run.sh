#!/usr/bin/env bash
# Pipeline benchmark: `kiln run` when everything is up to date, on a project whose input is a
# 1M-row CSV (the issue's target: under 200 ms). The first run trains and stages a version; the
# timed runs must find every stage up to date without reading the CSV (size+mtime hash cache).
#
#   bash benches/pipeline/run.sh
#
# Settings (environment):
#   KILN_BIN         kiln binary (default /var/tmp/kiln-target-release/release/kiln; never built here)
#   KILN_BENCH_DIR   where the project goes (default /var/tmp/kiln-bench/pipeline)
#   KILN_BENCH_ROWS  rows of the input (default 1000000)
#   KILN_BENCH_RUNS  timed runs (default 20)
#   KILN_BENCH_PEER  0 to leave out the peer (default 1)
#   KILN_BENCH_VENVS where the peer's virtualenv goes (default /var/tmp/kiln-bench)
# The peer is DVC (`dvc repro` on the same CSV, in the same run, when its two stages are up to
# date), from a virtualenv outside the clone that `scripts/bench-venvs dvc` makes.
# Uses hyperfine when installed (apt-get install hyperfine), else a loop with the median.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KILN_BIN="${KILN_BIN:-/var/tmp/kiln-target-release/release/kiln}"
DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench/pipeline}"
ROWS="${KILN_BENCH_ROWS:-1000000}"
RUNS="${KILN_BENCH_RUNS:-20}"
PEER="${KILN_BENCH_PEER:-1}"
ROOT="$(cd "$HERE/../.." && pwd)"

if [[ ! -x "$KILN_BIN" ]]; then
  echo "run.sh: no Kiln binary at $KILN_BIN (set KILN_BIN, or build: cargo build --release -p kiln)" >&2
  exit 1
fi
mkdir -p "$DIR/project/data"
python3 "$HERE/make_data.py" "$DIR/project/data/train.csv" --rows "$ROWS"
cat > "$DIR/project/kiln.toml" <<'TOML'
[pipeline]
name = "bench"

[data.train]
path = "data/train.csv"
[data.train.expect]
columns = ["x1", "x2", "age", "region", "target"]
rows = { min = 1000 }
max_missing = { x2 = 0.05 }
range = { age = [18, 90] }
types = { region = "categorical" }

[train]
data = "train"
test_size = 0.25
target = "target"
model = "gaussian_nb"

[gates]
accuracy = ">= 0.6"

[register]
model = "bench-clf"
promote_to = "staging"
TOML
HOME_DIR="$DIR/store"
cd "$DIR/project"
# The CSV must be older than the hash cache's 1 s racy window before its hash is cached.
sleep 1.1
echo "first run (validates, trains, registers, stages):"
start=$(date +%s.%N)
"$KILN_BIN" --home "$HOME_DIR" run
end=$(date +%s.%N)
echo "  first run: $(echo "$end - $start" | bc) s"
# One more run to settle the cache; it must already be up to date.
"$KILN_BIN" --home "$HOME_DIR" run --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
bad = [s["name"] for s in doc["stages"] if s["status"] != "skipped"]
sys.exit(f"not up to date: {bad}" if bad else 0)'

echo "up-to-date runs on $(wc -c < data/train.csv) bytes / $ROWS rows:"
timed() { # NAME COMMAND...: hyperfine, else a loop with the median
  local name=$1
  shift
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$DIR/hyperfine-$name.json" "$*"
  else
    local times=()
    for _ in $(seq "$RUNS"); do
      start=$(date +%s.%N)
      "$@" > /dev/null
      end=$(date +%s.%N)
      times+=("$(echo "($end - $start) * 1000" | bc)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "  median %.1f ms, min %.1f ms, max %.1f ms over %d runs\n", a[int((NR+1)/2)], a[1], a[NR], NR}'
  fi
}
timed kiln "$KILN_BIN" --home "$HOME_DIR" run --json

[[ "$PEER" == 1 ]] || exit 0
# DVC on the same file: a validate stage and a train stage depending on it, as Kiln's are.
export KILN_BENCH_DIR="${KILN_BENCH_VENVS:-/var/tmp/kiln-bench}"
"$ROOT/scripts/bench-venvs" dvc || { echo "run.sh: could not make the DVC virtualenv" >&2; exit 1; }
DVC="$KILN_BENCH_DIR/venv-dvc/bin/dvc"
PEER_DIR="$DIR/dvc-project"
rm -rf "$PEER_DIR"
mkdir -p "$PEER_DIR/data"
cp "$DIR/project/data/train.csv" "$PEER_DIR/data/train.csv"
cd "$PEER_DIR"
git init -q . && "$DVC" init -q
cat > stages.py <<'PY'
import sys
if sys.argv[1] == "validate":
    with open("data/train.csv") as f, open("validated.txt", "w") as out:
        out.write(f.readline())
else:
    with open("validated.txt") as f, open("model.txt", "w") as out:
        out.write(f.read())
PY
cat > dvc.yaml <<'YAML'
stages:
  validate:
    cmd: python3 stages.py validate
    deps: [data/train.csv, stages.py]
    outs: [validated.txt]
  train:
    cmd: python3 stages.py train
    deps: [validated.txt, stages.py, data/train.csv]
    outs: [model.txt]
YAML
export DVC_NO_ANALYTICS=1
echo "dvc $("$DVC" --version): first repro (hashes the CSV, runs both stages):"
start=$(date +%s.%N)
"$DVC" repro -q
end=$(date +%s.%N)
echo "  first repro: $(echo "$end - $start" | bc) s"
"$DVC" repro | grep -q "up to date" || { echo "run.sh: dvc repro is not up to date" >&2; exit 1; }
echo "up-to-date dvc repro on the same file:"
timed dvc "$DVC" repro
