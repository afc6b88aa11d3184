// Lattice benchmarks: for each CRDT of core/ (GCounter, PNCounter, GSet,
// LwwMap, LwwRegister, MvRegister): mutate, merge of two N-element states,
// delta apply, encode, decode and encoded bytes per element.
//
// N is the number of replica entries for the counters, elements for the set,
// fields for the map; the registers are single states (N = 1).
// Merge timings include copying the left state (the merge happens in place).
// Mutate and delta apply restart from a fresh copy every kBatch operations,
// outside the timed region, so every operation adds something new.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/g_set.h"
#include "core/crdt/lww_map.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/mv_register.h"
#include "core/crdt/pn_counter.h"
#include "core/types.h"

namespace {

using crdtsim::core::Bytes;
using crdtsim::core::GCounter;
using crdtsim::core::GSet;
using crdtsim::core::LwwMap;
using crdtsim::core::LwwRegister;
using crdtsim::core::LwwTimestamp;
using crdtsim::core::MvRegister;
using crdtsim::core::PNCounter;
using crdtsim::core::ReplicaId;

constexpr std::size_t kBatch = 4096;

// A key-like string: "prefix:" and a zero-padded number (13 to 16 bytes).
std::string key(const char* prefix, std::size_t number) {
  std::string digits = std::to_string(number);
  return std::string(prefix) + ":" + std::string(8 - std::min<std::size_t>(8, digits.size()), '0') +
         digits;
}

const std::string kValue(16, 'v');

// Per type: make(n, variant) builds an n-element state (variants 0 and 1
// overlap on about half their elements); mutate(state, n, i) applies the
// i-th benchmark mutation and returns its delta.
template <class T>
struct Fixture;

template <>
struct Fixture<GCounter> {
  static GCounter make(std::size_t n, int variant) {
    GCounter counter;
    for (std::size_t index = 0; index < n; ++index) {
      const std::uint64_t bump = variant == 1 && index % 2 == 1 ? 5 : 0;
      static_cast<void>(counter.increment(static_cast<ReplicaId>(index), 1000 + index + bump));
    }
    return counter;
  }
  static GCounter mutate(GCounter& counter, std::size_t n, std::size_t i) {
    return *counter.increment(static_cast<ReplicaId>(i % n), 1);
  }
};

template <>
struct Fixture<PNCounter> {
  static PNCounter make(std::size_t n, int variant) {
    PNCounter counter;
    for (std::size_t index = 0; index < n; ++index) {
      const std::uint64_t bump = variant == 1 && index % 2 == 1 ? 5 : 0;
      static_cast<void>(counter.increment(static_cast<ReplicaId>(index), 1000 + index + bump));
      static_cast<void>(counter.decrement(static_cast<ReplicaId>(index), 500 + index));
    }
    return counter;
  }
  static PNCounter mutate(PNCounter& counter, std::size_t n, std::size_t i) {
    const auto replica = static_cast<ReplicaId>(i % n);
    return i % 2 == 0 ? *counter.increment(replica, 1) : *counter.decrement(replica, 1);
  }
};

template <>
struct Fixture<GSet> {
  static GSet make(std::size_t n, int variant) {
    GSet set;
    const std::size_t first = variant == 1 ? n / 2 : 0;
    for (std::size_t index = first; index < first + n; ++index) {
      set.add(key("element", index));
    }
    return set;
  }
  static GSet mutate(GSet& set, std::size_t /*n*/, std::size_t i) {
    return set.add(key("added", i));
  }
};

template <>
struct Fixture<LwwMap> {
  static LwwMap make(std::size_t n, int variant) {
    LwwMap map;
    const std::size_t first = variant == 1 ? n / 2 : 0;
    for (std::size_t index = first; index < first + n; ++index) {
      map.set_field(key("field", index), kValue,
                    LwwTimestamp{1000 + index, 0, static_cast<ReplicaId>(variant)});
    }
    return map;
  }
  static LwwMap mutate(LwwMap& map, std::size_t n, std::size_t i) {
    return map.set_field(key("field", i % n), kValue, LwwTimestamp{1'000'000 + i, 0, 7});
  }
};

template <>
struct Fixture<LwwRegister> {
  static LwwRegister make(std::size_t /*n*/, int variant) {
    LwwRegister reg;
    reg.write(kValue, LwwTimestamp{100, 0, static_cast<ReplicaId>(variant)});
    return reg;
  }
  static LwwRegister mutate(LwwRegister& reg, std::size_t /*n*/, std::size_t i) {
    return reg.write(kValue, LwwTimestamp{1000 + i, 0, 1});
  }
};

template <>
struct Fixture<MvRegister> {
  // Variants are concurrent writes at different replicas: merged, two siblings.
  static MvRegister make(std::size_t /*n*/, int variant) {
    MvRegister reg;
    reg.write(static_cast<ReplicaId>(variant), kValue);
    return reg;
  }
  static MvRegister mutate(MvRegister& reg, std::size_t /*n*/, std::size_t i) {
    return reg.write(static_cast<ReplicaId>(i % 3), kValue);
  }
};

std::size_t element_count(const benchmark::State& state) {
  return static_cast<std::size_t>(state.range(0));
}

template <class T>
void BM_Mutate(benchmark::State& state) {
  const std::size_t n = element_count(state);
  const T base = Fixture<T>::make(n, 0);
  T current = base;
  std::size_t done = 0;
  for (auto _ : state) {
    if (done % kBatch == kBatch - 1) {
      state.PauseTiming();
      current = base;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(Fixture<T>::mutate(current, n, done));
    ++done;
  }
  state.SetItemsProcessed(state.iterations());
}

template <class T>
void BM_Merge(benchmark::State& state) {
  const std::size_t n = element_count(state);
  const T left = Fixture<T>::make(n, 0);
  const T right = Fixture<T>::make(n, 1);
  for (auto _ : state) {
    T joined = left;
    joined.merge(right);
    benchmark::DoNotOptimize(joined);
  }
  state.counters["elements"] = static_cast<double>(n);
}

template <class T>
void BM_DeltaApply(benchmark::State& state) {
  const std::size_t n = element_count(state);
  const T base = Fixture<T>::make(n, 0);
  std::vector<T> deltas;
  deltas.reserve(kBatch);
  T source = base;
  for (std::size_t index = 0; index < kBatch; ++index) {
    deltas.push_back(Fixture<T>::mutate(source, n, index));
  }
  T target = base;
  std::size_t done = 0;
  for (auto _ : state) {
    if (done == kBatch) {
      state.PauseTiming();
      target = base;
      done = 0;
      state.ResumeTiming();
    }
    target.merge(deltas[done]);
    ++done;
  }
  state.SetItemsProcessed(state.iterations());
}

template <class T>
void BM_Encode(benchmark::State& state) {
  const std::size_t n = element_count(state);
  const T value = Fixture<T>::make(n, 0);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const Bytes encoded = crdtsim::core::encode(value);
    bytes = encoded.size();
    benchmark::DoNotOptimize(encoded.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["bytes_per_element"] = static_cast<double>(bytes) / static_cast<double>(n);
}

template <class T>
void BM_Decode(benchmark::State& state) {
  const std::size_t n = element_count(state);
  const Bytes encoded = crdtsim::core::encode(Fixture<T>::make(n, 0));
  for (auto _ : state) {
    auto decoded = crdtsim::core::decode<T>(encoded);
    if (!decoded) {
      state.SkipWithError(decoded.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded.value);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(encoded.size()));
}

// Short minimum times keep the whole lattice run well under a minute.
#define CRDTSIM_LATTICE_BENCH(Op, Type)                                                 \
  BENCHMARK_TEMPLATE(Op, Type)->Arg(10)->Arg(1'000)->Arg(100'000)->MinTime(0.05)->Unit( \
      benchmark::kMicrosecond)
#define CRDTSIM_REGISTER_BENCH(Op, Type) \
  BENCHMARK_TEMPLATE(Op, Type)->Arg(1)->MinTime(0.05)->Unit(benchmark::kNanosecond)

CRDTSIM_LATTICE_BENCH(BM_Mutate, GCounter);
CRDTSIM_LATTICE_BENCH(BM_Merge, GCounter);
CRDTSIM_LATTICE_BENCH(BM_DeltaApply, GCounter);
CRDTSIM_LATTICE_BENCH(BM_Encode, GCounter);
CRDTSIM_LATTICE_BENCH(BM_Decode, GCounter);

CRDTSIM_LATTICE_BENCH(BM_Mutate, PNCounter);
CRDTSIM_LATTICE_BENCH(BM_Merge, PNCounter);
CRDTSIM_LATTICE_BENCH(BM_DeltaApply, PNCounter);
CRDTSIM_LATTICE_BENCH(BM_Encode, PNCounter);
CRDTSIM_LATTICE_BENCH(BM_Decode, PNCounter);

CRDTSIM_LATTICE_BENCH(BM_Mutate, GSet);
CRDTSIM_LATTICE_BENCH(BM_Merge, GSet);
CRDTSIM_LATTICE_BENCH(BM_DeltaApply, GSet);
CRDTSIM_LATTICE_BENCH(BM_Encode, GSet);
CRDTSIM_LATTICE_BENCH(BM_Decode, GSet);

CRDTSIM_LATTICE_BENCH(BM_Mutate, LwwMap);
CRDTSIM_LATTICE_BENCH(BM_Merge, LwwMap);
CRDTSIM_LATTICE_BENCH(BM_DeltaApply, LwwMap);
CRDTSIM_LATTICE_BENCH(BM_Encode, LwwMap);
CRDTSIM_LATTICE_BENCH(BM_Decode, LwwMap);

CRDTSIM_REGISTER_BENCH(BM_Mutate, LwwRegister);
CRDTSIM_REGISTER_BENCH(BM_Merge, LwwRegister);
CRDTSIM_REGISTER_BENCH(BM_DeltaApply, LwwRegister);
CRDTSIM_REGISTER_BENCH(BM_Encode, LwwRegister);
CRDTSIM_REGISTER_BENCH(BM_Decode, LwwRegister);

CRDTSIM_REGISTER_BENCH(BM_Mutate, MvRegister);
CRDTSIM_REGISTER_BENCH(BM_Merge, MvRegister);
CRDTSIM_REGISTER_BENCH(BM_DeltaApply, MvRegister);
CRDTSIM_REGISTER_BENCH(BM_Encode, MvRegister);
CRDTSIM_REGISTER_BENCH(BM_Decode, MvRegister);

}  // namespace
