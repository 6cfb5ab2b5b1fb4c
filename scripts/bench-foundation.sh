#!/usr/bin/env bash
# Runs the foundation criterion benches and prints one line per bench:
# name, median time, and throughput where the bench declares one.
# Usage: scripts/bench-foundation.sh [extra criterion args]
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--warm-up-time 2 --measurement-time 5 "$@")
cargo bench -p strata-benches --bench memtable -- "${args[@]}" 2>&1 | tee /tmp/strata-bench-memtable.txt
cargo bench -p strata-benches --bench sstable -- "${args[@]}" 2>&1 | tee /tmp/strata-bench-sstable.txt
echo
echo "== summary"
grep -hE '^[a-z_/0-9]+ +time:|^ +time:|thrpt:|^[a-z_]+/[a-z_0-9]+$' /tmp/strata-bench-memtable.txt /tmp/strata-bench-sstable.txt
