// Heap probes: bytes the allocator holds (mallinfo2) and a per-thread count of operator new calls.
//
//   const std::size_t before = heap_in_use();
//   build(...);
//   const double per_task = double(heap_in_use() - before) / n;
//
//   const std::uint64_t a = allocations();   // this thread's operator new calls so far
#pragma once

#include <cstddef>
#include <cstdint>

namespace tasklane::bench {

std::size_t heap_in_use();        // malloc'd bytes in use, arena and mmap'd blocks together
std::uint64_t allocations();      // operator new calls made by the calling thread

}  // namespace tasklane::bench
