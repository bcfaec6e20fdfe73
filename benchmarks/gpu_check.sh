#!/usr/bin/env sh
# The GPU check (benchmarks/gpu_check.py): one command, ≤ 8 minutes on one GPU, JSON under outputs/bench/.
#   benchmarks/gpu_check.sh [--dry-run] [--out outputs/bench/gpu_check.json]
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python
exec timeout 480 "$PY" benchmarks/gpu_check.py "$@"
