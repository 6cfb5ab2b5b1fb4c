#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) and prints libFuzzer's
# final stats line per target. Needs nightly and cargo-fuzz. Leak detection
# is off: the engine's background threads make it run after nearly every
# input and cut engine_ops from ~130 to ~25 execs/s.
set -euo pipefail
secs=${1:-600}
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
for t in sst_open_and_scan block_decode wal_read bloom_probe memtable_ops manifest_edit_decode engine_ops http_request; do
  mkdir -p "corpus/$t"
  echo "== $t (${secs}s)"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 -detect_leaks=0 2>&1 \
    | grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done' || true
done
