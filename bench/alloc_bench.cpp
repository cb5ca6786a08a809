// Buffer handling cost, mimalloc against glibc: allocate, touch a few bytes,
// free, reported as allocations per second. 64 KiB is a pipeline chunk, 1 MiB
// a large spill or COPY buffer, and batches of 100-byte blocks stand for
// per-row allocations.
//
// micro_bench links mimalloc, which overrides malloc/free, so glibc's
// allocator is called through its internal entry points __libc_malloc /
// __libc_free, which glibc exports whatever malloc the process uses.
#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "pgcutover/util/types.hpp"

extern "C" {
void *__libc_malloc(std::size_t size);
void __libc_free(void *p);
}

namespace pgcutover {
namespace {

constexpr i64 SMALL_SIZE = 100;
constexpr i64 SMALL_BATCH = 1000;

struct Mimalloc {
  static void *allocate(std::size_t n) { return mi_malloc(n); }
  static void release(void *p) { mi_free(p); }
};

struct Glibc {
  static void *allocate(std::size_t n) { return __libc_malloc(n); }
  static void release(void *p) { __libc_free(p); }
};

// One buffer at a time: allocate, write its first and last bytes, free.
template <typename Allocator>
void BM_Alloc_Buffer(benchmark::State &state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    char *p = static_cast<char *>(Allocator::allocate(size));
    std::memset(p, 0x5a, 16);
    std::memset(p + size - 16, 0x5a, 16);
    benchmark::DoNotOptimize(p);
    Allocator::release(p);
  }
  state.SetItemsProcessed(state.iterations());
}

// A batch of 100-byte blocks alive at once, then all freed, as rows built for
// one chunk would be.
template <typename Allocator>
void BM_Alloc_SmallBatch(benchmark::State &state) {
  std::vector<void *> blocks(static_cast<std::size_t>(SMALL_BATCH));
  for (auto _ : state) {
    for (void *&b : blocks) {
      b = Allocator::allocate(SMALL_SIZE);
      std::memset(b, 0x5a, 8);
    }
    benchmark::DoNotOptimize(blocks.data());
    for (void *b : blocks) Allocator::release(b);
  }
  state.SetItemsProcessed(state.iterations() * SMALL_BATCH);
}

BENCHMARK_TEMPLATE(BM_Alloc_Buffer, Mimalloc)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK_TEMPLATE(BM_Alloc_Buffer, Glibc)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK_TEMPLATE(BM_Alloc_SmallBatch, Mimalloc);
BENCHMARK_TEMPLATE(BM_Alloc_SmallBatch, Glibc);

}  // namespace
}  // namespace pgcutover
