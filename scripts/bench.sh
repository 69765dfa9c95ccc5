#!/usr/bin/env bash
# The end-to-end benchmark (`make bench`): scripts/bench.sh BIN CACHE_DIR
#
# Generates (once, cached in CACHE_DIR under a name keyed by every generator parameter and
# GEN_VERSION) two corpora of 1 GB of text shaped like real ones (issue 14), prints their measured
# shape (records, keys, bytes, gzip ratio), then for each measures in the same run:
#   - igzip -dc of all its objects (one thread: the decompression limit),
#   - BIN digesting all of it to a .gz file (wall and CPU time, peak RSS from /usr/bin/time -v),
# each REPEAT times (best time kept),
# and prints a markdown table with the goals. A missed goal is reported, not an error.
# The hash check: the sha256 of each decompressed digest must equal the one recorded in
# bench/digest_hashes.txt (computed by main's binary before the speed work of issue 14), and the
# .gz must pass gzip -t; a difference fails the bench (exit 1) after the tables are printed.
# BENCH_RECORD_HASHES=1 writes the file instead (run it with the reference binary as BIN and a
# binary that knows the generator's flags as GEN_BIN). BENCH_TEXT_ONLY=1 stops after this part.
# Then (a) of issue 10: a ~10 M-key corpus with and without --memory-limit 256M, and one large
# object (600 MB of text) read by one worker, under the default limit and under 1G.
# Then scripts/bench_query.sh times queries (filter, group-by, svg) over the "high" corpus's
# digest against igzip of it.
# Then the "mid" corpus's records as Parquet (GZIP, as AWS writes it, and SNAPPY), generated
# once with `generate --format parquet` (the same records), digested the same way, next to the
# decompression alone of the pages the digest reads (build/bin/parquet_pages, one thread).
# Then scripts/bench_nats.sh: the "mid" corpus on NATS with 1, 2, 3 worker processes.
# Then scripts/bench_service.sh: both corpora as a job of vpcflow-digesterd on the embedded
# default, and with the flow logs on a Ceph RGW, against the CLI (BENCH_SERVICE=0 skips it).
# Then scripts/bench_s3.sh reads the "mid" corpus from a Ceph RGW (S3) with several prefetch
# settings and compares it with the local run.
set -euo pipefail

BIN=${1:?usage: scripts/bench.sh BIN CACHE_DIR}
CACHE=${2:?usage: scripts/bench.sh BIN CACHE_DIR}
GEN_BIN=${GEN_BIN:-$BIN}  # the binary that generates the corpora
HASHES=$(cd "$(dirname "$0")/.." && pwd)/bench/digest_hashes.txt
# Bump when the generator's output changes, so cached corpora are rebuilt.
GEN_VERSION=gen2
# shellcheck source=scripts/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"  # REPEAT, min, best_run

# Both corpora: 1000 MB of text over 24 hours, 7 accounts with one region and one flow log each
# (7 streams, one object every 10 minutes: 1008 objects), the default format, 714 interfaces per
# account (~5,000), 5% IPv6 hosts, 0.1% NODATA/SKIPDATA, 5% refused scans from a million
# addresses per account (nearly a key each), client ports 1024-65535, gzip level 6.
START=2026-11-02T00:00:00Z
STOP=2026-11-03T00:00:00Z
SIZE_MB=${BENCH_SIZE_MB:-1000}  # smaller for a quick look (the goals are for 1000)
ACCOUNTS=7
SEED=1
SHAPE=(--regions 1 --flow-logs-per-region 1 --default-format-only --interfaces 714 --ipv6 0.05
  --nodata 0.001 --scans 0.05 --scanners 1000000 --ephemeral-min 1024 --stamp-minutes 10
  --gzip-level 6)
# What sets the keys (measured with gen2): high ~1.9 M keys, mid ~0.49 M (peers per interface;
# a steeper service-port law makes fewer clients' ports fall below the service's). Mid's runs of
# one interface's records (3 events in 4 on the previous event's interface) bring its gzip ratio
# from 4.5 to the issue's 5.5 without changing its keys; high's 4.4 already matches its 4.3.
HIGH=(--hosts 20000 --peers 66 --port-skew 2)
MID=(--hosts 5000 --peers 7 --port-skew 3 --interface-runs 0.75)
# name max-ratio max-rss-mb (the goals of issue 14)
CORPORA=(
  "high 1.6 250"
  "mid 1.2 120"
)
# The spill corpus of issue 10 keeps the earlier shape (gen1's defaults) and window.
SPILL_START=2026-11-02T00:00:00Z
SPILL_STOP=2026-11-02T05:30:00Z
SPILL_ACCOUNTS=4

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

# The generator's arguments of corpus NAME (high or mid).
gen_args() {
  local extra
  if [ "$1" = high ]; then extra=("${HIGH[@]}"); else extra=("${MID[@]}"); fi
  echo --start "$START" --stop "$STOP" --size-mb "$SIZE_MB" --accounts "$ACCOUNTS" --seed "$SEED" \
    "${SHAPE[@]}" "${extra[@]}"
}

# The cache directory of corpus NAME: the name, GEN_VERSION and a digest of its generator
# arguments.
corpus_dir() { echo "$CACHE/$1-$GEN_VERSION-$(gen_args "$1" | sha256sum | cut -c1-12)"; }

ensure_corpus() {
  local dir=$1 name=$2
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir"
  echo "bench: generating $(basename "$dir") (once)" >&2
  # shellcheck disable=SC2046 # gen_args is a list of words without spaces
  "$GEN_BIN" generate --out "$dir" $(gen_args "$name") >&2
  gen_args "$name" > "$dir/.params"
  # Measured once: text bytes and lines of the whole corpus.
  objects "$dir" | xargs -0 cat | igzip -dc | wc -lc | awk '{print $1, $2}' > "$dir/.text"
  touch "$dir/.complete"
}

pass() { awk -v v="$1" -v max="$2" 'BEGIN { print (v <= max) ? "PASS" : "MISS" }'; }

# Generates a corpus into DIR once: `generate --out DIR ARGS...` unless DIR is complete.
generate_once() {
  local dir=$1
  shift
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir"
  echo "bench: generating $(basename "$dir") (once)" >&2
  "$GEN_BIN" generate --out "$dir" "$@" >&2
  touch "$dir/.complete"
}

ensure_parquet_corpus() {
  local dir=$1 name=$2 codec=$3
  # shellcheck disable=SC2046 # gen_args is a list of words without spaces
  generate_once "$dir" $(gen_args "$name") --format parquet --parquet-codec "$codec"
}

# Seconds of the best of REPEAT runs of single-thread igzip over DIR's objects, reading them
# itself. Not `cat | igzip -dc`: a pipe on these virtual machines caps it at 110-160 MB/s of
# gzip, which made the limit look 1.5-2x slower than it is.
igzip_best() {
  local best='' s i
  for ((i = 0; i < REPEAT; i++)); do
    s=$(seconds bash -c "find '$1' -name '*.log.gz' -print0 | sort -z | xargs -0 igzip -dc >/dev/null")
    best=$(min "$best" "$s")
  done
  echo "$best"
}

# "same digest" when the decompressed digests A and B are equal, else "DIGEST DIFFERS".
same_digest() {
  cmp -s <(igzip -dc "$1") <(igzip -dc "$2") && echo "same digest" || echo "DIGEST DIFFERS"
}

# Digests DIR over [START, STOP) into $WORK/NAME-LIMIT.log.gz under --memory-limit LIMIT (none
# or default: the CLI's own), spilling into $WORK; best of the repeats (best_run: BEST_S,
# PEAK_RSS_MB), and LIMIT_KEYS the digest's lines.
digest_under_limit() {
  local name=$1 limit=$2 dir=$3 start=$4 stop=$5 extra=()
  case "$limit" in
    none | default) ;;
    *) extra=(--memory-limit "$limit" --spill-dir "$WORK") ;;
  esac
  local out="$WORK/$name-$limit.log.gz"
  best_run "$WORK" "digest-$name-$limit" "$BIN" --source "$dir" --start "$start" --stop "$stop" \
    --output "$out" "${extra[@]}"
  LIMIT_KEYS=$(igzip -dc "$out" | wc -l)
}

# The recorded sha256 of the decompressed digest of corpus directory DIR ("" when none).
recorded_hash() { awk -v k="$(basename "$1")" '$1 == k { print $2 }' "$HASHES" 2>/dev/null; }

rows=()
shape_rows=()
hash_failures=0
declare -A TEXT_DIGEST_S TEXT_RSS_MB TEXT_RECORDS TEXT_OUT
if [ "${BENCH_RECORD_HASHES:-0}" = 1 ]; then
  echo "# corpus sha256-of-the-decompressed-digest (scripts/bench.sh; BENCH_RECORD_HASHES=1)" > "$HASHES"
fi
for spec in "${CORPORA[@]}"; do
  read -r name max_ratio max_rss <<<"$spec"
  dir=$(corpus_dir "$name")
  ensure_corpus "$dir" "$name"
  read -r lines text_bytes < "$dir/.text"
  count=$(objects "$dir" | tr -cd '\0' | wc -c)
  records=$((lines - count))  # every object has one header line
  gz_bytes=$(objects "$dir" | xargs -0 cat | wc -c)

  # Warm the page cache so both measurements read from memory.
  objects "$dir" | xargs -0 cat > /dev/null
  # igzip decompresses on one thread; best of REPEAT runs (these machines are shared and noisy).
  igzip_s=$(igzip_best "$dir")

  out="$WORK/$name.log.gz"
  best_run "$WORK" "digest-$name" "$BIN" --source "$dir" --start "$START" --stop "$STOP" \
    --output "$out" --summary
  wall=$BEST_S
  cpu=$BEST_CPU_S
  rss_mb=$PEAK_RSS_MB
  keys=$(igzip -dc "$out" | wc -l)
  TEXT_DIGEST_S[$name]=$wall
  TEXT_RSS_MB[$name]=$rss_mb
  TEXT_RECORDS[$name]=$records
  TEXT_OUT[$name]=$out
  mb=$(echo "$text_bytes / 1000000" | bc -l)
  ratio=$(echo "$wall / $igzip_s" | bc -l)
  [ "$name" = mid ] && igzip_mid_s=$igzip_s

  # The hash check: the decompressed digest must not change (the .gz bytes may: its deflate
  # stream is not part of the contract, only that gunzip reads it).
  hash=$(igzip -dc "$out" | sha256sum | cut -d' ' -f1)
  if [ "${BENCH_RECORD_HASHES:-0}" = 1 ]; then
    echo "$(basename "$dir") $hash" >> "$HASHES"
    check="recorded"
  elif ! gzip -t "$out"; then
    check="GZIP UNREADABLE"
    hash_failures=$((hash_failures + 1))
  elif [ -z "$(recorded_hash "$dir")" ]; then
    check="no recorded hash"
  elif [ "$(recorded_hash "$dir")" = "$hash" ]; then
    check="same digest"
  else
    check="DIGEST CHANGED"
    hash_failures=$((hash_failures + 1))
  fi

  shape_rows+=("$(printf '| %s | %d | %d | %.0f | %.1f | %d | %.1f | %.2f |' "$name" "$count" \
    "$records" "$(echo "$text_bytes / $records" | bc -l)" "$(echo "$gz_bytes / 1000000" | bc -l)" \
    "$keys" "$(echo "$records / $keys" | bc -l)" \
    "$(echo "$text_bytes / $gz_bytes" | bc -l)")")
  verdict="ratio $(pass "$ratio" "$max_ratio"), RSS $(pass "$rss_mb" "$max_rss")"
  rows+=("$(printf '| %s | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f M | %.0f | %d | %.2f | <= %s, <= %s MB: %s | %s |' \
    "$name" "$mb" "$igzip_s" "$wall" "$cpu" "$(echo "$mb / $wall" | bc -l)" \
    "$(echo "$records / $wall / 1000000" | bc -l)" "$(echo "$cpu * 1000000000 / $records" | bc -l)" \
    "$rss_mb" "$ratio" "$max_ratio" "$max_rss" "$verdict" "$check")")
done

echo
echo "vpcflow-digest $("$BIN" --version | awk '{print $2}'), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| corpus | objects | records | bytes/record | MB gzip | keys | records/key | gzip ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${shape_rows[@]}"
echo
echo "| corpus | MB text | igzip s | digest s | CPU s | MB/s | records/s | CPU ns/record | peak RSS MB | digest/igzip | goal | hash check |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
printf '%s\n' "${rows[@]}"
if [ "$hash_failures" != 0 ]; then
  echo "bench: the digest changed on $hash_failures corpora (bench/digest_hashes.txt)" >&2
  exit 1
fi
[ "${BENCH_TEXT_ONLY:-0}" = 1 ] && exit 0

# (a) Bounded memory (issue 10): a corpus of about 10 M keys digested without a limit and with
# --memory-limit 256M (which spills), time and peak RSS, and the two digests compared.
# BENCH_SPILL=0 skips it; BENCH_SPILL_SIZE_MB / BENCH_SPILL_HOSTS size its corpus.
if [ "${BENCH_SPILL:-1}" != 0 ]; then
  spill_hosts=${BENCH_SPILL_HOSTS:-60000}
  spill_mb=${BENCH_SPILL_SIZE_MB:-2500}
  sdir="$CACHE/spill-gen1-s${spill_mb}-a${SPILL_ACCOUNTS}-h${spill_hosts}-seed${SEED}-${SPILL_START//:/}-${SPILL_STOP//:/}"
  generate_once "$sdir" --start "$SPILL_START" --stop "$SPILL_STOP" --size-mb "$spill_mb" \
    --accounts "$SPILL_ACCOUNTS" --hosts "$spill_hosts" --seed "$SEED"
  objects "$sdir" | xargs -0 cat > /dev/null
  srows=()
  for limit in none 256M; do
    digest_under_limit spill "$limit" "$sdir" "$SPILL_START" "$SPILL_STOP"
    srows+=("$(printf '| %s | %d | %.2f | %d |' "$limit" "$LIMIT_KEYS" "$BEST_S" "$PEAK_RSS_MB")")
  done
  same=$(same_digest "$WORK/spill-none.log.gz" "$WORK/spill-256M.log.gz")
  echo
  echo "Bounded memory: $(du -sm --apparent-size "$sdir" | cut -f1) MB stored ($same; goal: peak RSS < 320 MB with 256M)"
  echo
  echo "| --memory-limit | keys | digest s | peak RSS MB |"
  echo "| --- | ---: | ---: | ---: |"
  printf '%s\n' "${srows[@]}"
fi

# (a2) One large object (the sixth round of issue 14): a single object of BENCH_BIG_SIZE_MB
# (default 600: 5 M records, 4 M keys) read by one worker, past its share of the memory limit,
# digested under the default limit (its pending runs read back into the table) and under 1G
# (they join the spilled runs), next to igzip of the object; the two digests compared.
# BENCH_BIG=0 skips it.
if [ "${BENCH_BIG:-1}" != 0 ]; then
  big_mb=${BENCH_BIG_SIZE_MB:-600}
  bdir="$CACHE/big-gen1-s${big_mb}-h400000-seed${SEED}"
  generate_once "$bdir" --start "$START" --stop "${START%T*}T00:05:00Z" --size-mb "$big_mb" \
    --accounts 1 --regions 1 --flow-logs-per-region 1 --default-format-only --hosts 400000 \
    --seed "$SEED"
  objects "$bdir" | xargs -0 cat > /dev/null
  big_igzip_s=$(igzip_best "$bdir")
  brows=()
  for limit in default 1G; do
    digest_under_limit big "$limit" "$bdir" "$START" "$STOP"
    brows+=("$(printf '| %s | %d | %.2f | %.2f | %d |' "$limit" "$LIMIT_KEYS" "$BEST_S" \
      "$(echo "$BEST_S / $big_igzip_s" | bc -l)" "$PEAK_RSS_MB")")
  done
  same=$(same_digest "$WORK/big-default.log.gz" "$WORK/big-1G.log.gz")
  echo
  echo "One large object: $(du -sm --apparent-size "$bdir" | cut -f1) MB stored, igzip $(printf '%.2f' "$big_igzip_s") s ($same)"
  echo
  echo "| --memory-limit | keys | digest s | digest/igzip | peak RSS MB |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${brows[@]}"
fi

# Queries (view, filter, group-by, svg) over the largest digest, against igzip of it.
"$(dirname "$0")/bench_query.sh" "$BIN" "$(corpus_dir high)" "$START" "$STOP"

PAGES_BIN=$(dirname "$BIN")/parquet_pages
[ -x "$PAGES_BIN" ] || { echo "bench: $PAGES_BIN is missing (make build)" >&2; exit 1; }
name=mid
records=${TEXT_RECORDS[$name]}
text_rps=$(echo "$records / ${TEXT_DIGEST_S[$name]}" | bc -l)
prows=("$(printf '| %s | text (gzip) | %d | %.0f | %.2f | %.2f M | %d | %.2f (igzip) | |' "$name" \
  "$(objects "$(corpus_dir "$name")" | tr -cd '\0' | wc -c)" \
  "$(du -sm --apparent-size "$(corpus_dir "$name")" | cut -f1)" "${TEXT_DIGEST_S[$name]}" \
  "$(echo "$text_rps / 1000000" | bc -l)" "${TEXT_RSS_MB[$name]}" "$igzip_mid_s")")
for codec in gzip snappy; do
  pdir="${CACHE}/${name}-parquet-${codec}-$(basename "$(corpus_dir "$name")")"
  ensure_parquet_corpus "$pdir" "$name" "$codec"
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
  same=$(same_digest "$out" "${TEXT_OUT[$name]}")
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
  "$(dirname "$0")/bench_nats.sh" "$(dirname "$BIN")" "$(corpus_dir mid)" "$START" "$STOP"
fi

# The digest through the service, local and from a Ceph RGW, against the CLI (issue 14's goals
# <= 1.10 and <= 1.5; BENCH_SERVICE=0 skips it).
if [ "${BENCH_SERVICE:-1}" != 0 ]; then
  "$(dirname "$0")/bench_service.sh" "$(dirname "$BIN")" "$START" "$STOP" \
    "high=$(corpus_dir high)" "mid=$(corpus_dir mid)"
fi

# The same digest read from a real S3 server (Ceph RGW on loopback), next to the local run
# (BENCH_S3=0 skips it).
[ "${BENCH_S3:-1}" = 0 ] && exit 0
"$(dirname "$0")/bench_s3.sh" "$BIN" "$(corpus_dir mid)" "$START" "$STOP"
