# The front door. `make` builds, `make test` runs every test (release, then the
# fast label under ASan+UBSan), `make bench` runs the benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := build

JOBS ?= $(shell nproc)

.PHONY: deps build debug asan clang run test test-release test-asan format-check bench tidy clean

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

# The main job: sweep every shipped scenario (scenarios/*.json, the
# demonstrations in scenarios/demo/ and the planted-bug checks in
# scenarios/planted/) over its default seed range and print the summary.
# Results, JUnit XML and failure artifacts go to build/run/.
RUN_DIR := build/run
run: build
	@mkdir -p $(RUN_DIR)
	./build/crdtsim sweep scenarios/*.json scenarios/demo/*.json scenarios/planted/*.json \
	  --jobs $(JOBS) --out $(RUN_DIR)/results.jsonl --junit $(RUN_DIR)/junit.xml \
	  --failures $(RUN_DIR)/failures --artifacts-max 3 --determinism-every 50 $(RUN_ARGS)

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
	./build/bench/crdtsim_sweep_bench --benchmark_counters_tabular=true $(BENCH_ARGS)

tidy: build
	@git ls-files '*.cc' | xargs -r clang-tidy -p build --quiet

clean:
	rm -rf build build-debug build-asan build-clang
