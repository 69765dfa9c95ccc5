#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, only those missing. Idempotent and quiet
# when everything is present. Package list: ../shared/docs/DEPENDENCIES.md.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libisal-dev libdeflate-dev zlib1g-dev libsnappy-dev libzstd-dev
  libcurl4-openssl-dev libssl-dev libpugixml-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format clang-tidy
  isal curl wrk python3 time bc
  python3-yaml  # the OpenAPI lint's YAML parser (tests/openapi/openapi_lint.py)
  linux-perf  # profiling the digest (DESIGN.md, "Performance": perf stat, perf record)
  graphviz  # `dot` renders the svg of a query (src/query/graph_writer.hpp)
  libnats-dev nats-server  # the NATS JetStream queue (src/nats) and the tests' server (scripts/nats.sh)
)
# The real S3 server of the tests (scripts/rgw.sh, a Ceph RGW); `make test` sets this.
if [[ "${VPCFLOW_WITH_S3:-0}" == 1 ]]; then
  PACKAGES+=(ceph-mon ceph-osd radosgw ceph-common awscli iproute2)
fi

# Node builds the web view (web/, bundled by esbuild into the binary) on every build: the
# machine's node and npm, or Debian's when there are none.
if ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi
# npm packages of the tests (tests/parquet: independent Parquet writers) and the browser test of
# the web view (Debian's chromium, driven by puppeteer-core); `make test` sets this.
if [[ "${VPCFLOW_WITH_NPM:-0}" == 1 ]]; then
  PACKAGES+=(chromium)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when the installed tree is missing or older than the lock file (offline once done).
npm_ci() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/$1"
  if [[ ! -f "$dir/node_modules/.package-lock.json" ||
        "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    echo "bootstrap: npm ci in $1" >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  fi
}
# puppeteer-core never downloads a browser (only `puppeteer` does); the test uses Debian's.
npm_ci web
if [[ "${VPCFLOW_WITH_NPM:-0}" == 1 ]]; then
  npm_ci tests/parquet
fi
