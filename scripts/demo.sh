#!/usr/bin/env bash
# The main job on sample data: installs what is missing, builds, starts two
# throwaway PostgreSQL clusters on free loopback ports, loads a small shop
# (scripts/sample_data.sql, ~400k rows) into the source, and copies it to the
# empty target with `pgcutover copy`. Exits with pgcutover's exit code. The
# clusters are stopped and deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/deps.sh
pgcutover_install_deps
pgcutover_build build pgcutover >/dev/null  # the tool alone; scripts/test.sh builds the tests

PGCUTOVER_CLUSTER_ROOT=$(mktemp -d /tmp/pgcutover-demo-XXXXXX)
export PGCUTOVER_CLUSTER_ROOT
source scripts/lib/cluster.sh
cleanup() {
  cluster_destroy demo_source || true
  cluster_destroy demo_target || true
  rm -rf "$PGCUTOVER_CLUSTER_ROOT"
}
trap cleanup EXIT

src_port=$(cluster_free_port)
cluster_start demo_source "$src_port"
dst_port=$(cluster_free_port)
while [ "$dst_port" = "$src_port" ]; do dst_port=$(cluster_free_port); done
cluster_start demo_target "$dst_port"

psql=$(pgcutover_pg_bindir)/psql
for c in demo_source demo_target; do
  "$psql" -X -q -v ON_ERROR_STOP=1 -d "$(cluster_conninfo "$c")" -c 'CREATE DATABASE shop' >/dev/null
done
src=$(cluster_conninfo demo_source shop)
dst=$(cluster_conninfo demo_target shop)

echo "== loading sample data into the source ($src)" >&2
start_ns=$(date +%s%N)
"$psql" -X -q -v ON_ERROR_STOP=1 -d "$src" -f scripts/sample_data.sql >/dev/null
echo "   loaded in $(( ($(date +%s%N) - start_ns) / 1000000 )) ms" >&2

echo "== build/pgcutover copy --source \"$src\" --target \"$dst\" --jobs 2" >&2
set +e
build/pgcutover copy --source "$src" --target "$dst" --jobs 2
rc=$?
set -e

if [ "$rc" -eq 0 ]; then
  echo "== row counts, source vs target" >&2
  for t in customers orders order_items events; do
    n_src=$("$psql" -X -A -t -d "$src" -c "SELECT count(*) FROM public.$t")
    n_dst=$("$psql" -X -A -t -d "$dst" -c "SELECT count(*) FROM public.$t" 2>/dev/null || echo missing)
    printf '   %-12s %8s %8s\n' "$t" "$n_src" "$n_dst" >&2
  done
fi
[ "$rc" -eq 0 ] || exit "$rc"

# The rest of the story: the source stays live (a minute of traffic), then a
# timed rehearsal of the cutover against a budget, with its report.
# `pgcutover traffic` writes on any schema with primary keys (updates, inserts
# where a sequence feeds the key, a few deletes), in proportion to table size,
# and prints what it changed per table; scripts/traffic.sh is the same idea
# with your own SQL through pgbench (PGCUTOVER_DEMO_PGBENCH=1 runs it too).
traffic_seconds=${PGCUTOVER_DEMO_TRAFFIC_SECONDS:-60}
echo "== a minute of traffic on the source (build/pgcutover traffic --rate 50 --duration ${traffic_seconds}s)" >&2
if [ "${PGCUTOVER_DEMO_PGBENCH:-0}" = 1 ]; then
  scripts/traffic.sh --conninfo "$src" --rate 20 --duration "$traffic_seconds" &
  pgbench_pid=$!
fi
build/pgcutover traffic --source "$src" --rate 50 --duration "${traffic_seconds}s" --mix 80:15:5
if [ -n "${pgbench_pid:-}" ]; then wait "$pgbench_pid"; fi
report_dir=${PGCUTOVER_DEMO_REPORT:-$PWD/rehearsal-report}
config=$(mktemp /tmp/pgcutover-demo-XXXXXX.toml)
cat > "$config" <<TOML
source = "$src"
target = "$dst"
jobs = 2
budget = "10min"
safety = 0.8
overlap = "1s"
deletes = "detect"
# events.updated_at is not indexed and created_at misses updates (the traffic
# stamps updated_at): read events by xmin, as the sync's warning suggests.
[tables."public.events"]
change_column = "xmin"
[[checks]]
name = "every order has a customer"
sql = "SELECT NOT EXISTS (SELECT 1 FROM public.orders o LEFT JOIN public.customers c ON c.id = o.customer_id WHERE c.id IS NULL)"
[[checks]]
name = "order count and total, source (sync's snapshot) vs target"
sql = "SELECT count(*), sum(total) FROM public.orders"
same_rows = true
[[queries]]
name = "orders of one customer"
sql = "SELECT * FROM public.orders WHERE customer_id = 42"
TOML
# The rehearsal runs under live traffic too: verify compares the target with
# the source as of the sync's snapshot, so writes after it are no difference.
echo "== live traffic during the rehearsal (build/pgcutover traffic --rate 20, in the background)" >&2
traffic_log=$(mktemp)
build/pgcutover traffic --source "$src" --rate 20 --duration 30min --mix 80:15:5 >"$traffic_log" 2>&1 &
live_pid=$!
echo "== build/pgcutover rehearse --config $config --report $report_dir" >&2
set +e
build/pgcutover rehearse --config "$config" --report "$report_dir"
rc=$?
set -e
if kill -0 "$live_pid" 2>/dev/null; then kill -INT "$live_pid"; fi
set +e
wait "$live_pid"
traffic_rc=$?
set -e
if [ "$traffic_rc" -ne 0 ] && [ "$traffic_rc" -ne 130 ]; then
  echo "== the background traffic failed (exit $traffic_rc), so the rehearsal did not run under traffic:" >&2
  cat "$traffic_log" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
rm -f "$config" "$traffic_log"
echo "== the rehearsal report: $report_dir/report.html (also report.md, report.json)" >&2
if [ -f "$report_dir/report.md" ]; then
  echo "== key lines of report.md" >&2
  grep -E '^# Cutover|^## Verdict|^- (\*\*blocking|warning)|^- total|^- verify|^\| public\.|^\| (1h|6h|24h) \||^Latest last sync' \
    "$report_dir/report.md" >&2 ||
    echo "== report.md holds none of the expected lines; open it: $report_dir/report.md" >&2
fi
exit "$rc"
