#pragma once
// Blocking work over a list, `jobs` items at a time, on oneTBB.
//
// Every body blocks in libpq, and a blocked body holds a TBB thread; TBB's
// default pool on a 2-core machine has 2 threads. So the arena is sized from
// `jobs` (plus one for the caller), under a matching global_control, not from
// the core count: the threads mostly wait and the servers get the CPU.
// No item starts after a cancel request; the first exception is rethrown on
// the caller once the items in flight have ended.
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "pgcutover/util/cancel.hpp"

namespace pgcutover::pipeline {

template <typename T, typename F>
void run_each(std::vector<T> &items, int jobs, F &&body) {
  if (items.empty()) return;
  size_t tokens = static_cast<size_t>(std::max(1, jobs));
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, tokens + 1);
  tbb::task_arena arena(static_cast<int>(tokens) + 1);
  std::atomic<size_t> next{0};
  arena.execute([&] {
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void, T *>(tbb::filter_mode::serial_in_order,
                                    [&](tbb::flow_control &fc) -> T * {
                                      size_t i = next.fetch_add(1);
                                      if (i >= items.size() || cancel::requested()) {
                                        fc.stop();
                                        return nullptr;
                                      }
                                      return &items[i];
                                    }) &
            tbb::make_filter<T *, void>(tbb::filter_mode::parallel, [&](T *item) { body(*item); }));
  });
  cancel::throw_if_requested();
}

}  // namespace pgcutover::pipeline
