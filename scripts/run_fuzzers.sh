#!/usr/bin/env bash
# Runs every libFuzzer target in $1 for $2 seconds each, seeded from fuzz/corpus/<target>/.
# Fails when a fuzzer finds a crash, a leak or undefined behaviour.
set -euo pipefail
bin_dir=$1
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for fuzzer in "$bin_dir"/*_fuzz; do
  name=$(basename "$fuzzer")
  mkdir -p "$work/$name"
  seeds=("$root/fuzz/corpus/$name")
  [[ -d ${seeds[0]} ]] || seeds=()
  # Parquet files need room for a footer and pages; text lines and answers do not.
  max_len=4096
  [[ $name == parquet_fuzz ]] && max_len=16384
  echo "fuzz: $name for ${seconds}s"
  if ! "$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -print_final_stats=0 \
      -artifact_prefix="$work/" "$work/$name" "${seeds[@]}" >"$work/$name.log" 2>&1; then
    tail -n 60 "$work/$name.log"
    echo "fuzz: $name FAILED" >&2
    exit 1
  fi
  grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$work/$name.log" | tail -n 1 || true
done
