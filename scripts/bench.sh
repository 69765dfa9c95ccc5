#!/usr/bin/env bash
# The end-to-end benchmark (`make bench`): scripts/bench.sh BIN CACHE_DIR
#
# Generates (once, cached in CACHE_DIR under a name made of the generator parameters and
# GEN_VERSION) two corpora of 1 GB of text, then for each measures in the same run:
#   - igzip -dc of all its objects (one thread: the decompression limit),
#   - BIN digesting all of it to a .gz file (wall time and peak RSS from /usr/bin/time -v),
# each REPEAT times (best time kept),
# and prints a markdown table with the targets. A missed target is reported, not an error.
# Then (a) of issue 10: a ~10 M-key corpus with and without --memory-limit 256M.
# Then scripts/bench_query.sh times queries (filter, group-by, svg) over the "high" corpus's
# digest against igzip of it.
# Then the "mid" corpus's records as Parquet (GZIP, as AWS writes it, and SNAPPY), generated
# once with `generate --format parquet` (the same records), digested the same way, next to the
# decompression alone of the pages the digest reads (build/bin/parquet_pages, one thread).
# Then scripts/bench_nats.sh: the "mid" corpus on NATS with 1, 2, 3 worker processes.
# Then scripts/bench_s3.sh reads the "mid" corpus from a Ceph RGW (S3) with several prefetch
# settings and compares it with the local run.
set -euo pipefail

BIN=${1:?usage: scripts/bench.sh BIN CACHE_DIR}
CACHE=${2:?usage: scripts/bench.sh BIN CACHE_DIR}
# Bump when the generator's output changes, so cached corpora are rebuilt.
GEN_VERSION=gen1
# shellcheck source=scripts/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"  # REPEAT, min, best_run

# Both corpora: 1000 MB of text over 4 accounts, 5:30 of file stamps (990 objects, 15 flow logs).
START=2026-11-02T00:00:00Z
STOP=2026-11-02T05:30:00Z
SIZE_MB=${BENCH_SIZE_MB:-1000}  # smaller for a quick look (the targets are for 1000)
ACCOUNTS=4
SEED=1
# name hosts max-ratio max-rss-mb. Measured with gen1: 1000 hosts give 1.55 M keys, 280 give
# 0.52 M (keys grow about as hosts^0.6 here).
CORPORA=(
  "high 1000 3.0 400"
  "mid 280 2.0 200"
)

for tool in igzip /usr/bin/time bc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (run make build)" >&2; exit 1; }
mkdir -p "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpcflow-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Seconds (with fractions) that a command takes.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# All objects of a corpus, NUL-separated, in a stable order.
objects() { find "$1" -name '*.log.gz' -print0 | sort -z; }

corpus_dir() {
  local name=$1 hosts=$2
  echo "$CACHE/$name-$GEN_VERSION-s${SIZE_MB}-a${ACCOUNTS}-h${hosts}-seed${SEED}-${START//:/}-${STOP//:/}"
}

ensure_corpus() {
  local dir=$1 hosts=$2
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir"
  echo "bench: generating $(basename "$dir") (once)" >&2
  "$BIN" generate --out "$dir" --start "$START" --stop "$STOP" --size-mb "$SIZE_MB" \
    --accounts "$ACCOUNTS" --hosts "$hosts" --seed "$SEED" >&2
  # Measured once: text bytes and lines of the whole corpus.
  objects "$dir" | xargs -0 cat | igzip -dc | wc -lc | awk '{print $1, $2}' > "$dir/.text"
  touch "$dir/.complete"
}

pass() { awk -v v="$1" -v max="$2" 'BEGIN { print (v <= max) ? "PASS" : "MISS" }'; }

ensure_parquet_corpus() {
  local dir=$1 hosts=$2 codec=$3
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir"
  echo "bench: generating $(basename "$dir") (once)" >&2
  "$BIN" generate --out "$dir" --start "$START" --stop "$STOP" --size-mb "$SIZE_MB" \
    --accounts "$ACCOUNTS" --hosts "$hosts" --seed "$SEED" --format parquet \
    --parquet-codec "$codec" >&2
  touch "$dir/.complete"
}

rows=()
declare -A TEXT_DIGEST_S TEXT_RSS_MB TEXT_RECORDS TEXT_OUT
for spec in "${CORPORA[@]}"; do
  read -r name hosts max_ratio max_rss <<<"$spec"
  dir=$(corpus_dir "$name" "$hosts")
  ensure_corpus "$dir" "$hosts"
  read -r lines text_bytes < "$dir/.text"
  count=$(objects "$dir" | tr -cd '\0' | wc -c)

  # Warm the page cache so both measurements read from memory.
  objects "$dir" | xargs -0 cat > /dev/null
  # igzip decompresses on one thread; best of REPEAT runs (these machines are shared and noisy).
  igzip_s=
  for ((i = 0; i < REPEAT; i++)); do
    s=$(seconds bash -c "find '$dir' -name '*.log.gz' -print0 | xargs -0 cat | igzip -dc >/dev/null")
    igzip_s=$(min "$igzip_s" "$s")
  done

  out="$WORK/$name.log.gz"
  best_run "$WORK" "digest-$name" "$BIN" --source "$dir" --start "$START" --stop "$STOP" \
    --output "$out" --summary
  wall=$BEST_S
  rss_mb=$PEAK_RSS_MB
  keys=$(igzip -dc "$out" | wc -l)
  TEXT_DIGEST_S[$name]=$wall
  TEXT_RSS_MB[$name]=$rss_mb
  TEXT_RECORDS[$name]=$((lines - count))  # every object has one header line
  TEXT_OUT[$name]=$out
  mb=$(echo "$text_bytes / 1000000" | bc -l)
  ratio=$(echo "$wall / $igzip_s" | bc -l)
  [ "$name" = mid ] && igzip_mid_s=$igzip_s
  verdict="ratio $(pass "$ratio" "$max_ratio"), RSS $(pass "$rss_mb" "$max_rss")"
  rows+=("$(printf '| %s | %d | %.0f | %d | %.2f | %.2f | %.0f | %.2f M | %d | %.2f | <= %s, <= %s MB: %s |' \
    "$name" "$count" "$mb" "$keys" "$igzip_s" "$wall" "$(echo "$mb / $wall" | bc -l)" \
    "$(echo "$lines / $wall / 1000000" | bc -l)" "$rss_mb" "$ratio" "$max_ratio" "$max_rss" \
    "$verdict")")
done

echo
echo "vpcflow-digest $("$BIN" --version | awk '{print $2}'), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| corpus | objects | MB text | keys | igzip s | digest s | MB/s | lines/s | peak RSS MB | digest/igzip | target |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"

# (a) Bounded memory (issue 10): a corpus of about 10 M keys digested without a limit and with
# --memory-limit 256M (which spills), time and peak RSS, and the two digests compared.
# BENCH_SPILL=0 skips it; BENCH_SPILL_SIZE_MB / BENCH_SPILL_HOSTS size its corpus.
if [ "${BENCH_SPILL:-1}" != 0 ]; then
  spill_hosts=${BENCH_SPILL_HOSTS:-60000}
  spill_mb=${BENCH_SPILL_SIZE_MB:-2500}
  sdir="$CACHE/spill-$GEN_VERSION-s${spill_mb}-a${ACCOUNTS}-h${spill_hosts}-seed${SEED}-${START//:/}-${STOP//:/}"
  if [ ! -f "$sdir/.complete" ]; then
    rm -rf "$sdir"
    echo "bench: generating $(basename "$sdir") (once)" >&2
    "$BIN" generate --out "$sdir" --start "$START" --stop "$STOP" --size-mb "$spill_mb" \
      --accounts "$ACCOUNTS" --hosts "$spill_hosts" --seed "$SEED" >&2
    touch "$sdir/.complete"
  fi
  objects "$sdir" | xargs -0 cat > /dev/null
  srows=()
  for limit in none 256M; do
    extra=()
    [ "$limit" != none ] && extra=(--memory-limit "$limit" --spill-dir "$WORK")
    out="$WORK/spill-$limit.log.gz"
    best_run "$WORK" "digest-spill-$limit" "$BIN" --source "$sdir" --start "$START" \
      --stop "$STOP" --output "$out" "${extra[@]}"
    srows+=("$(printf '| %s | %d | %.2f | %d |' "$limit" "$(igzip -dc "$out" | wc -l)" "$BEST_S" \
      "$PEAK_RSS_MB")")
  done
  same=$(cmp -s <(igzip -dc "$WORK/spill-none.log.gz") <(igzip -dc "$WORK/spill-256M.log.gz") &&
    echo "same digest" ||
    echo "DIGEST DIFFERS")
  echo
  echo "Bounded memory: $(du -sm --apparent-size "$sdir" | cut -f1) MB stored ($same; goal: peak RSS < 320 MB with 256M)"
  echo
  echo "| --memory-limit | keys | digest s | peak RSS MB |"
  echo "| --- | ---: | ---: | ---: |"
  printf '%s\n' "${srows[@]}"
fi

# Queries (view, filter, group-by, svg) over the largest digest, against igzip of it.
"$(dirname "$0")/bench_query.sh" "$BIN" "$(corpus_dir high 1000)" "$START" "$STOP"

PAGES_BIN=$(dirname "$BIN")/parquet_pages
[ -x "$PAGES_BIN" ] || { echo "bench: $PAGES_BIN is missing (make build)" >&2; exit 1; }
name=mid
hosts=280
records=${TEXT_RECORDS[$name]}
text_rps=$(echo "$records / ${TEXT_DIGEST_S[$name]}" | bc -l)
prows=("$(printf '| %s | text (gzip) | %d | %.0f | %.2f | %.2f M | %d | %.2f (igzip) | |' "$name" \
  "$(objects "$(corpus_dir "$name" "$hosts")" | tr -cd '\0' | wc -c)" \
  "$(du -sm --apparent-size "$(corpus_dir "$name" "$hosts")" | cut -f1)" "${TEXT_DIGEST_S[$name]}" \
  "$(echo "$text_rps / 1000000" | bc -l)" "${TEXT_RSS_MB[$name]}" "$igzip_mid_s")")
for codec in gzip snappy; do
  pdir="${CACHE}/${name}-parquet-${codec}-$(basename "$(corpus_dir "$name" "$hosts")")"
  ensure_parquet_corpus "$pdir" "$hosts" "$codec"
  pcount=$(find "$pdir" -name '*.parquet' | wc -l)
  find "$pdir" -name '*.parquet' -print0 | xargs -0 cat > /dev/null
  pages_s=
  for ((i = 0; i < REPEAT; i++)); do
    read -r s _ _ < <("$PAGES_BIN" "$pdir")
    pages_s=$(min "$pages_s" "$s")
  done
  out="$WORK/$name-parquet-$codec.log.gz"
  best_run "$WORK" "digest-$name-parquet-$codec" "$BIN" --source "$pdir" --start "$START" \
    --stop "$STOP" --output "$out" --summary
  same=$(cmp -s <(igzip -dc "$out") <(igzip -dc "${TEXT_OUT[$name]}") && echo "same digest" ||
    echo "DIGEST DIFFERS")
  rps=$(echo "$records / $BEST_S" | bc -l)
  verdict="records/s $(awk -v a="$rps" -v b="$text_rps" 'BEGIN { print (a >= b) ? "PASS" : "MISS" }'), RSS $(pass "$PEAK_RSS_MB" "${TEXT_RSS_MB[$name]}"), $same"
  prows+=("$(printf '| %s | Parquet %s | %d | %.0f | %.2f | %.2f M | %d | %.2f | %s |' "$name" \
    "${codec^^}" "$pcount" "$(du -sm --apparent-size "$pdir" | cut -f1)" "$BEST_S" \
    "$(echo "$rps / 1000000" | bc -l)" "$PEAK_RSS_MB" "$pages_s" "$verdict")")
done
echo
echo "The mid corpus's $records records as Parquet (goal: at least the text's records/s, at no more peak RSS)"
echo
echo "| corpus | format | objects | MB stored | digest s | records/s | peak RSS MB | decompress s (1 thread) | target |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${prows[@]}"

# Issue 10 (b): the "mid" corpus's digest on NATS with 1, 2 and 3 worker processes against the
# CLI (BENCH_NATS=0 skips it).
if [ "${BENCH_NATS:-1}" != 0 ]; then
  "$(dirname "$0")/bench_nats.sh" "$(dirname "$BIN")" "$(corpus_dir mid 280)" "$START" "$STOP"
fi

# The same digest read from a real S3 server (Ceph RGW on loopback), next to the local run
# (BENCH_S3=0 skips it).
[ "${BENCH_S3:-1}" = 0 ] && exit 0
"$(dirname "$0")/bench_s3.sh" "$BIN" "$(corpus_dir mid 280)" "$START" "$STOP"
