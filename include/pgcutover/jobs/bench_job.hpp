#pragma once
// The bench job: one source snapshot, every combination of the levers run
// (interleaved, repeated) on one table into scratch tables on the target.
#include "pgcutover/jobs/scope.hpp"
#include "pgcutover/strategy_bench/bench_runner.hpp"

namespace pgcutover::jobs {

struct BenchConfig {
  Scope scope;  // source, target and the one table measured on
  strategy_bench::BenchOptions options;
};

strategy_bench::BenchResult run_bench(const BenchConfig &config);

}  // namespace pgcutover::jobs
