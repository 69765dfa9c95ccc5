# vpcflow-digesterd: the two commands are `make run` and `make test`. See README.md.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
BENCH_CACHE ?= $(HOME)/.cache/vpcflow-bench
DATA_DIR ?= var
PORT ?= 8080
# ccache (CMakeLists.txt uses it when installed): paths relative to this checkout, and the
# compiler's working folder left out of the hash, so another clone of the project hits the cache.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= true

.PHONY: all bootstrap configure build test unit-test asan-test fuzz fuzz-test bench load run \
        soak sample-data digest-sample format format-check tidy clean

all: build

bootstrap:
	@scripts/bootstrap.sh

configure: bootstrap
	@[ -f build/build.ninja ] || cmake --preset default >/dev/null

build: configure
	@cmake --build --preset default -j $(JOBS)

# Every test through CTest, then the unit tests again under ASan+UBSan, then each fuzzer briefly.
# The tests labelled "rgw" run against a Ceph RGW (scripts/rgw.sh): bootstrap installs Ceph.
# The tests labelled "npm" run independent Parquet writers: bootstrap runs npm ci for them.
test: export VPCFLOW_WITH_S3 = 1
test: export VPCFLOW_WITH_NPM = 1
test: build
	$(MAKE) --no-print-directory format-check
	ctest --preset default -j $(JOBS)
	$(MAKE) --no-print-directory asan-test
	$(MAKE) --no-print-directory fuzz-test

asan-test: bootstrap
	@[ -f build-asan/build.ninja ] || cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

fuzz: bootstrap
	@[ -f build-fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target line_parser_fuzz object_key_fuzz s3_answer_fuzz \
	  filter_fuzz parquet_fuzz partial_fuzz

fuzz-test: fuzz
	@scripts/run_fuzzers.sh build-fuzz/bin $(FUZZ_SECONDS)

# Load test of the service: 200 connections polling GET of a stored digest for 30 s (wrk).
load: build
	@scripts/load_test.sh build

# The soak test of issue 12 (not part of `make test`): 200 clients for 10 minutes against the
# service on a Ceph RGW, SIGKILL and restart every 2 minutes, the gateway restarted once, then
# every accepted digest checked against the CLI's. SOAK_SECONDS=60 make soak: a short run.
soak: export VPCFLOW_WITH_S3 = 1
soak: build
	@scripts/soak.sh build

bench: build
	@scripts/bench.sh build/bin/vpcflow-digest $(BENCH_CACHE)

sample-data: build
	@if [ -z "$$(ls -A $(DATA_DIR)/flowlogs 2>/dev/null)" ]; then \
	  echo "generating sample flow logs into $(DATA_DIR)/flowlogs"; \
	  build/bin/vpcflow-digest generate --out $(DATA_DIR)/flowlogs \
	    --start 2026-11-01T00:00:00Z --stop 2026-11-01T06:00:00Z --size-mb 20 --seed 1; \
	fi

# Starts vpcflow-digesterd in the foreground on the embedded default (DATA_DIR) with sample data.
run: sample-data
	@echo "vpcflow-digesterd on http://localhost:$(PORT), DATA_DIR=$(DATA_DIR); Ctrl-C stops it."
	@echo "The web view: http://localhost:$(PORT)/ui/?start=2026-11-01T01:00:00Z&stop=2026-11-01T02:00:00Z"
	@echo "In another shell:"
	@echo "  curl -i -X POST 'http://localhost:$(PORT)/?start=2026-11-01T01:00:00Z&stop=2026-11-01T02:00:00Z'"
	@echo "  curl -s 'http://localhost:$(PORT)/?start=2026-11-01T01:00:00Z&stop=2026-11-01T02:00:00Z' | gunzip | head"
	@PORT=$(PORT) DATA_DIR=$(DATA_DIR) exec build/bin/vpcflow-digesterd

# The CLI on the sample data (what `make run` did before the service existed).
digest-sample: sample-data
	build/bin/vpcflow-digest --source $(DATA_DIR)/flowlogs \
	  --start 2026-11-01T01:00:00Z --stop 2026-11-01T02:00:00Z --summary | head -n 20

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

tidy: configure
	@git ls-files 'src/*.cpp' 'apps/*.cpp' | grep -v _test.cpp | xargs clang-tidy -p build --quiet

clean:
	rm -rf build build-asan build-fuzz
