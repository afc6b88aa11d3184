#pragma once
// Heap accounting for the benchmark binary. or_set_bench.cc replaces the
// global operator new and delete (once for the whole binary) to keep these
// counts; any benchmark may read them around the code it measures.
//
// Bytes are the allocator's usable sizes (malloc_usable_size), so they include
// the allocator's rounding but not its per-chunk header.

#include <cstddef>

// Bytes currently allocated through operator new and not yet deleted.
std::size_t bench_heap_bytes_in_use();

// Calls to operator new so far.
std::size_t bench_heap_allocation_count();
