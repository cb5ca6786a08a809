#pragma once
// How a range lands on the target.
//   Direct: COPY straight into the table; only for a table that was empty
//           when the copy began (or that the copy created).
//   Merge:  COPY into a temp table, then INSERT ... ON CONFLICT (key) DO
//           UPDATE, one transaction per range: running it twice gives the
//           same target.
//   Replace: every row of the table deleted, then COPY straight into it, in
//           one transaction: the one exact way to bring a table without a
//           primary key up to date (its rows cannot be matched one by one).
//   Auto:   Direct for tables created or found empty, Merge otherwise.
#include <string>

namespace pgcutover::merge {

enum class Strategy { Auto, Direct, Merge, Replace };
const char *to_string(Strategy s);
Strategy parse_strategy(const std::string &text);  // throws Usage

}  // namespace pgcutover::merge
