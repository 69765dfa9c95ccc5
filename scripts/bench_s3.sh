#!/usr/bin/env bash
# The S3 part of `make bench`: scripts/bench_s3.sh BIN CORPUS_DIR START STOP
#
# Starts a Ceph RGW of its own (scripts/rgw.sh, stopped on exit), uploads CORPUS_DIR (a tree of
# `vpcflow-digest generate`) into a bucket with Debian's awscli, then measures in the same run:
#   - BIN digesting the corpus from the local directory (the reference),
#   - BIN digesting it from s3://bucket with several prefetch settings,
# each REPEAT times (best time kept; peak RSS the largest), checks that every S3 digest is
# byte-identical to the local one, and prints a markdown table. Needs the Ceph packages
# (VPCFLOW_WITH_S3=1 scripts/bootstrap.sh); without them it says so and exits 0.
set -euo pipefail

BIN=${1:?usage: scripts/bench_s3.sh BIN CORPUS_DIR START STOP}
CORPUS=${2:?usage}
START=${3:?usage}
STOP=${4:?usage}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$HERE/bench_lib.sh"  # REPEAT, min, best_run
AWS=/usr/bin/aws  # Debian's awscli; `aws` on PATH may be another install
# bytes concurrency: none (every object streamed on demand), the default, and a wider one.
SETTINGS=(
  "0 0"
  "150000000 2"
  "300000000 8"
)

for tool in radosgw ceph-mon ceph-osd "$AWS" /usr/bin/time bc; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-s3: $tool is missing; skipped (VPCFLOW_WITH_S3=1 scripts/bootstrap.sh)" >&2
    exit 0
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpcflow-bench-s3.XXXXXX")
cleanup() {
  "$HERE/rgw.sh" stop "$WORK/rgw" >/dev/null 2>&1 || true
  rm -rf "$WORK" "$WORK/rgw.logs"
}
trap cleanup EXIT

"$HERE/rgw.sh" start "$WORK/rgw" >"$WORK/rgw.out" 2>&1 || {
  cat "$WORK/rgw.out" >&2
  exit 1
}
set -a
# shellcheck disable=SC1091
. "$WORK/rgw/env"
set +a
export AWS_ACCESS_KEY_ID=$VPCFLOW_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$VPCFLOW_RGW_SECRET_KEY
export AWS_REGION=$VPCFLOW_RGW_REGION AWS_DEFAULT_REGION=$VPCFLOW_RGW_REGION
export AWS_ENDPOINT_URL=$VPCFLOW_RGW_ENDPOINT
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3
BUCKET=bench-flowlogs

gz_bytes=$(find "$CORPUS" -name '*.log.gz' -printf '%s\n' | awk '{s += $1} END {print s}')
echo "bench-s3: uploading $(basename "$CORPUS") ($((gz_bytes / 1000000)) MB gzip) to RGW" >&2
t0=$(date +%s.%N)
"$AWS" --endpoint-url "$AWS_ENDPOINT_URL" s3api create-bucket --bucket "$BUCKET" >/dev/null
"$AWS" --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --recursive --quiet --exclude '.*' \
  "$CORPUS/" "s3://$BUCKET/"
upload_s=$(echo "$(date +%s.%N) - $t0" | bc -l)

read -r _ text_bytes <"$CORPUS/.text"
mb=$(echo "$text_bytes / 1000000" | bc -l)

# run NAME SOURCE [options...]: BIN digesting SOURCE (best_run); the digest is left in
# $WORK/NAME.log.gz.
run() {
  local name=$1 source=$2
  shift 2
  best_run "$WORK" "$name" "$BIN" --source "$source" --start "$START" --stop "$STOP" \
    --output "$WORK/$name.log.gz" "$@"
}

rows=()
run local "$CORPUS"
local_s=$BEST_S
rows+=("$(printf '| local dir | - | - | %.2f | %.0f | %d | 1.00 | reference |' \
  "$local_s" "$(echo "$mb / $local_s" | bc -l)" "$PEAK_RSS_MB")")
for spec in "${SETTINGS[@]}"; do
  read -r bytes concurrency <<<"$spec"
  name="s3-$bytes-$concurrency"
  run "$name" "s3://$BUCKET" --prefetch-bytes "$bytes" --prefetch-concurrency "$concurrency"
  if cmp -s <(igzip -dc "$WORK/local.log.gz") <(igzip -dc "$WORK/$name.log.gz"); then
    same="identical"
  else
    same="DIFFERS"
  fi
  rows+=("$(printf '| s3://%s (RGW) | %d MB | %d | %.2f | %.0f | %d | %.2f | %s |' \
    "$BUCKET" "$((bytes / 1000000))" "$concurrency" "$BEST_S" "$(echo "$mb / $BEST_S" | bc -l)" \
    "$PEAK_RSS_MB" "$(echo "$BEST_S / $local_s" | bc -l)" "$same")")
done

echo
echo "S3 source: $(basename "$CORPUS"), $(printf '%.0f' "$mb") MB text, $((gz_bytes / 1000000)) MB gzip;" \
  "Ceph RGW on 127.0.0.1 (memstore), upload $(printf '%.1f' "$upload_s") s"
echo
echo "| source | prefetch bytes | concurrent | digest s | MB/s text | peak RSS MB | s / local s | digest vs local |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"
