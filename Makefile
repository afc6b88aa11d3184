# The front door. `make` builds, `make test` runs every test (release, then the
# fast label under ASan+UBSan), `make bench` runs the benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := build

JOBS ?= $(shell nproc)

.PHONY: deps build debug asan clang test test-release test-asan format-check bench tidy clean

deps:
	@bash tools/install-deps.sh

build: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

debug: deps
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)

asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)

clang: deps
	cmake --preset clang-release
	cmake --build --preset clang-release -j $(JOBS)

test: format-check test-release test-asan

test-release: build
	ctest --preset release

test-asan: asan
	ctest --preset asan

format-check: deps
	@files=$$(git ls-files '*.h' '*.cc'); \
	if [[ -n "$$files" ]]; then clang-format --dry-run --Werror $$files; fi

bench: build
	./build/bench/crdtsim_bench --benchmark_counters_tabular=true $(BENCH_ARGS)

tidy: build
	@git ls-files '*.cc' | xargs -r clang-tidy -p build --quiet

clean:
	rm -rf build build-debug build-asan build-clang
