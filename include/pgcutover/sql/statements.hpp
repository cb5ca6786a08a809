#pragma once
// Every statement text the engine sends lives in sql/, one file per consumer:
//   copy.hpp       COPY out/in, staging, upsert and the other merges (pipeline/)
//   range.hpp      key ranges and key sets (shared)
//   plan.hpp       key samples (plan/)
//   catalog.hpp    catalog introspection (catalog/)
//   server.hpp     transactions, snapshots, lock holders, writability (pg/)
//   ledger.hpp     the ledger's tables and statements (ledger/, sync watermarks)
//   diff.hpp       digests, key hashes, quantiles, key sets (diff/)
//   verify.hpp     client digests and repair (verify/)
//   sync.hpp       change predicates, drift (sync/)
//   sequences.hpp  setval, max (sequences/)
//   bench.hpp      scratch tables, WAL measurement (strategy_bench/)
//   misc.hpp       small helpers of the commands
// Session SETs live in pg/session.cpp. Names are always quoted through
// sql::quote_ident; values go as $n parameters, except in COPY, which takes no
// parameters: range bounds there are 'text'::type literals.
//
// This header includes them all, for callers that have not picked theirs.
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/bench.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/sql/copy.hpp"
#include "pgcutover/sql/diff.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/ledger.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/sql/plan.hpp"
#include "pgcutover/sql/range.hpp"
#include "pgcutover/sql/sequences.hpp"
#include "pgcutover/sql/server.hpp"
#include "pgcutover/sql/sync.hpp"
#include "pgcutover/sql/verify.hpp"
