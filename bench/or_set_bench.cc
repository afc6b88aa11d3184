// OR-Set benchmarks: core::ORSet side by side with BaselineORSet (std::map of
// element -> std::set of dots, std::map/std::set causal context), for
// N = 10, 1,000 and 100,000 elements.
//
// Names are "or_set/<operation>/<implementation>/<N>". Every benchmark reports
// `per_op` (time per single operation). The "bytes" benchmarks report heap
// bytes and allocations per element of a set built by N adds, and encoded
// bytes per element. Elements are 12-character names in a scrambled order,
// so operations land all over the set.
//
// This file also holds the binary's one replacement of the global operator
// new/delete behind heap_counter.h.

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "bench/baseline_or_set.h"
#include "bench/heap_counter.h"
#include "core/codec/bytes.h"
#include "core/crdt/or_set.h"

namespace {

// The benchmark binary is the one place with mutable global state: the heap
// counters must see every allocation of the process.
std::atomic<std::size_t> heap_bytes_in_use{0};
std::atomic<std::size_t> heap_allocation_count{0};

void* counted_allocate(std::size_t size) {
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) {
    throw std::bad_alloc();
  }
  heap_bytes_in_use.fetch_add(malloc_usable_size(memory), std::memory_order_relaxed);
  heap_allocation_count.fetch_add(1, std::memory_order_relaxed);
  return memory;
}

void counted_free(void* memory) {
  if (memory == nullptr) {
    return;
  }
  heap_bytes_in_use.fetch_sub(malloc_usable_size(memory), std::memory_order_relaxed);
  std::free(memory);
}

}  // namespace

std::size_t bench_heap_bytes_in_use() {
  return heap_bytes_in_use.load(std::memory_order_relaxed);
}
std::size_t bench_heap_allocation_count() {
  return heap_allocation_count.load(std::memory_order_relaxed);
}

void* operator new(std::size_t size) {
  return counted_allocate(size);
}
void* operator new[](std::size_t size) {
  return counted_allocate(size);
}
void operator delete(void* memory) noexcept {
  counted_free(memory);
}
void operator delete[](void* memory) noexcept {
  counted_free(memory);
}
void operator delete(void* memory, std::size_t /*size*/) noexcept {
  counted_free(memory);
}
void operator delete[](void* memory, std::size_t /*size*/) noexcept {
  counted_free(memory);
}

namespace {

using crdtsim::bench::BaselineORSet;
using crdtsim::core::ORSet;
using crdtsim::core::ReplicaId;

constexpr ReplicaId kReplica = 1;
constexpr ReplicaId kOtherReplica = 2;
constexpr std::int64_t kSizes[] = {10, 1'000, 100'000};

// A 12-character name; consecutive ids map to scattered names (multiplication
// by an odd constant is a bijection on 32 bits).
std::string element_name(std::uint64_t id) {
  const auto scrambled = static_cast<std::uint32_t>(id * 2654435761u);
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "key:%08x", static_cast<unsigned>(scrambled));
  return buffer;
}

std::vector<std::string> element_names(std::uint64_t first_id, std::uint64_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (std::uint64_t id = first_id; id < first_id + count; ++id) {
    names.push_back(element_name(id));
  }
  return names;
}

template <class Set>
Set build_set(const std::vector<std::string>& names, ReplicaId replica) {
  Set set;
  for (const std::string& name : names) {
    set.add(replica, name);
  }
  return set;
}

std::uint64_t size_of(const benchmark::State& state) {
  return static_cast<std::uint64_t>(state.range(0));
}

void report_per_op(benchmark::State& state, std::uint64_t ops_per_iteration) {
  const auto ops = static_cast<double>(state.iterations()) * static_cast<double>(ops_per_iteration);
  state.counters["per_op"] =
      benchmark::Counter(ops, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Operations timed per iteration for add and remove: few enough that the set
// stays within 10% of N (at N = 10, within 40%).
std::uint64_t mutation_batch(std::uint64_t n) {
  return std::clamp<std::uint64_t>(n / 10, 4, 256);
}

// Adds fresh elements to an N-element set; they are removed again, untimed,
// after each batch.
template <class Set>
void add_bench(benchmark::State& state) {
  const std::uint64_t n = size_of(state);
  const std::uint64_t batch = mutation_batch(n);
  Set set = build_set<Set>(element_names(0, n), kReplica);
  std::uint64_t next_id = n;
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<std::string> fresh = element_names(next_id, batch);
    next_id += batch;
    state.ResumeTiming();
    for (const std::string& name : fresh) {
      benchmark::DoNotOptimize(set.add(kReplica, name));
    }
    state.PauseTiming();
    for (const std::string& name : fresh) {
      set.remove(name);
    }
    state.ResumeTiming();
  }
  report_per_op(state, batch);
}

// Removes present elements of an N-element set; they are re-added, untimed,
// after each batch.
template <class Set>
void remove_bench(benchmark::State& state) {
  const std::uint64_t n = size_of(state);
  const std::uint64_t batch = mutation_batch(n);
  const std::vector<std::string> names = element_names(0, n);
  Set set = build_set<Set>(names, kReplica);
  std::uint64_t cursor = 0;
  std::vector<const std::string*> victims(batch);
  for (auto _ : state) {
    for (const std::string*& victim : victims) {
      victim = &names[cursor++ % n];
    }
    for (const std::string* victim : victims) {
      benchmark::DoNotOptimize(set.remove(*victim));
    }
    state.PauseTiming();
    for (const std::string* victim : victims) {
      set.add(kReplica, *victim);
    }
    state.ResumeTiming();
  }
  report_per_op(state, batch);
}

// Merges two N-element replicas that share all but 1% of their elements:
// each added 1% new elements and removed 1% of the shared ones. The left side
// is copied, untimed, before every merge.
template <class Set>
void merge_bench(benchmark::State& state) {
  const std::uint64_t n = size_of(state);
  const std::uint64_t changed = std::max<std::uint64_t>(1, n / 100);
  Set left = build_set<Set>(element_names(0, n), kReplica);
  Set right = left;
  for (std::uint64_t index = 0; index < changed; ++index) {
    left.add(kReplica, element_name(n + index));
    right.add(kOtherReplica, element_name(n + changed + index));
    left.remove(element_name(index));
    right.remove(element_name(changed + index));
  }
  const std::uint64_t merges = std::max<std::uint64_t>(1, 10'000 / n);
  std::vector<Set> targets;
  for (auto _ : state) {
    state.PauseTiming();
    targets.assign(merges, left);
    state.ResumeTiming();
    for (Set& target : targets) {
      target.merge(right);
    }
    benchmark::DoNotOptimize(targets.data());
  }
  report_per_op(state, merges);
}

// Applies add deltas (re-adds of present elements, made by another replica)
// to an N-element replica.
template <class Set>
void delta_apply_bench(benchmark::State& state) {
  constexpr std::uint64_t kDeltas = 16;
  const std::uint64_t n = size_of(state);
  const std::vector<std::string> names = element_names(0, n);
  Set source = build_set<Set>(names, kReplica);
  Set target = source;
  std::uint64_t cursor = 0;
  std::vector<Set> deltas;
  for (auto _ : state) {
    state.PauseTiming();
    deltas.clear();
    for (std::uint64_t index = 0; index < kDeltas; ++index) {
      deltas.push_back(source.add(kReplica, names[cursor++ % n]));
    }
    state.ResumeTiming();
    for (const Set& delta : deltas) {
      target.merge(delta);
    }
  }
  report_per_op(state, kDeltas);
}

template <class Set>
void encode_bench(benchmark::State& state) {
  const std::uint64_t n = size_of(state);
  const Set set = build_set<Set>(element_names(0, n), kReplica);
  std::size_t encoded_bytes = 0;
  for (auto _ : state) {
    const crdtsim::core::Bytes bytes = crdtsim::core::encode(set);
    encoded_bytes = bytes.size();
    benchmark::DoNotOptimize(bytes.data());
  }
  report_per_op(state, 1);
  state.counters["encoded_bytes"] = static_cast<double>(encoded_bytes);
}

template <class Set>
void decode_bench(benchmark::State& state) {
  const std::uint64_t n = size_of(state);
  const crdtsim::core::Bytes bytes =
      crdtsim::core::encode(build_set<Set>(element_names(0, n), kReplica));
  for (auto _ : state) {
    const crdtsim::core::Decoded<Set> decoded = crdtsim::core::decode<Set>(bytes);
    if (!decoded) {
      state.SkipWithError(decoded.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded.value->size());
  }
  report_per_op(state, 1);
}

// Heap and encoded bytes per element of a set built by N adds (in scrambled
// order) and of the same set decoded from bytes (built in sorted order).
template <class Set>
void bytes_bench(benchmark::State& state) {
  const std::uint64_t n = size_of(state);
  const std::vector<std::string> names = element_names(0, n);
  const auto elements = static_cast<double>(n);
  for (auto _ : state) {
    const std::size_t bytes_before = bench_heap_bytes_in_use();
    const std::size_t allocations_before = bench_heap_allocation_count();
    const Set set = build_set<Set>(names, kReplica);
    const std::size_t heap_bytes = bench_heap_bytes_in_use() - bytes_before;
    const crdtsim::core::Bytes encoded = crdtsim::core::encode(set);
    const std::size_t decoded_before = bench_heap_bytes_in_use();
    const crdtsim::core::Decoded<Set> decoded = crdtsim::core::decode<Set>(encoded);
    const std::size_t decoded_heap_bytes = bench_heap_bytes_in_use() - decoded_before;
    benchmark::DoNotOptimize(decoded.value->size());
    state.counters["heap_B_per_elem"] = static_cast<double>(heap_bytes) / elements;
    state.counters["allocs_per_elem"] =
        static_cast<double>(bench_heap_allocation_count() - allocations_before) / elements;
    state.counters["decoded_heap_B_per_elem"] = static_cast<double>(decoded_heap_bytes) / elements;
    state.counters["encoded_B_per_elem"] = static_cast<double>(encoded.size()) / elements;
  }
}

// Iterations per N, fixed so that setup (building 100,000-element sets) runs
// once per benchmark and the whole OR-Set run stays well under a minute.
struct Operation {
  const char* name;
  void (*project)(benchmark::State&);
  void (*baseline)(benchmark::State&);
  std::int64_t (*iterations)(std::int64_t n);
};

std::int64_t mutation_iterations(std::int64_t n) {
  return 40'000 / static_cast<std::int64_t>(mutation_batch(static_cast<std::uint64_t>(n)));
}
std::int64_t merge_iterations(std::int64_t n) {
  return n >= 100'000 ? 40 : 200;
}
std::int64_t delta_iterations(std::int64_t n) {
  return n >= 100'000 ? 10 : 1'000;
}
std::int64_t codec_iterations(std::int64_t n) {
  return std::max<std::int64_t>(20, 2'000'000 / n);
}
std::int64_t once(std::int64_t /*n*/) {
  return 1;
}

bool register_or_set_benchmarks() {
  const Operation operations[] = {
      {"add", add_bench<ORSet>, add_bench<BaselineORSet>, mutation_iterations},
      {"remove", remove_bench<ORSet>, remove_bench<BaselineORSet>, mutation_iterations},
      {"merge", merge_bench<ORSet>, merge_bench<BaselineORSet>, merge_iterations},
      {"delta_apply", delta_apply_bench<ORSet>, delta_apply_bench<BaselineORSet>, delta_iterations},
      {"encode", encode_bench<ORSet>, encode_bench<BaselineORSet>, codec_iterations},
      {"decode", decode_bench<ORSet>, decode_bench<BaselineORSet>, codec_iterations},
      {"bytes", bytes_bench<ORSet>, bytes_bench<BaselineORSet>, once},
  };
  for (const Operation& operation : operations) {
    for (const std::int64_t n : kSizes) {
      const std::string prefix = std::string("or_set/") + operation.name;
      benchmark::RegisterBenchmark((prefix + "/project").c_str(), operation.project)
          ->Arg(n)
          ->Iterations(operation.iterations(n))
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark((prefix + "/baseline").c_str(), operation.baseline)
          ->Arg(n)
          ->Iterations(operation.iterations(n))
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}

const bool or_set_benchmarks_registered = register_or_set_benchmarks();

}  // namespace
