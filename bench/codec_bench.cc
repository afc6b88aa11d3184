// Codec building blocks: varint encode and decode throughput.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "core/codec/bytes.h"

namespace {

using crdtsim::core::Bytes;
using crdtsim::core::Decoder;
using crdtsim::core::Encoder;

void BM_VarintEncode(benchmark::State& state) {
  Bytes out;
  out.reserve(10 * 1024);
  for (auto _ : state) {
    out.clear();
    Encoder encoder(out);
    for (std::uint64_t value = 0; value < 1024; ++value) {
      encoder.varint(value * 2654435761u);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_VarintEncode);

void BM_VarintDecode(benchmark::State& state) {
  Bytes out;
  Encoder encoder(out);
  for (std::uint64_t value = 0; value < 1024; ++value) {
    encoder.varint(value * 2654435761u);
  }
  for (auto _ : state) {
    Decoder decoder(out);
    std::uint64_t sum = 0;
    for (int index = 0; index < 1024; ++index) {
      sum += decoder.varint();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_VarintDecode);

}  // namespace
