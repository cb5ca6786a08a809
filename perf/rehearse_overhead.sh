#!/usr/bin/env bash
# Rehearsal overhead: does the rehearsal add time of its own? Runs the demo's
# story at a larger scale (sample data x SCALE loads, traffic, rehearsal) and
# compares the sum of the phase times in report.json with (a) the rehearsal's
# own total and (b) the wall time of the whole `pgcutover rehearse` process.
# Target: the phases cover at least 95% of the wall time.
#
#   perf/rehearse_overhead.sh [--reps 3] [--traffic-seconds 20]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
pgcutover_install_deps
pgcutover_build build >/dev/null
reps=3
traffic=20
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --traffic-seconds) traffic=$2; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--traffic-seconds S]" >&2; exit 2 ;;
  esac
done
PGCUTOVER_CLUSTER_ROOT=$(mktemp -d /tmp/pgcutover-rehearse-perf-XXXXXX)
export PGCUTOVER_CLUSTER_ROOT
source scripts/lib/cluster.sh
trap 'cluster_destroy perf_src || true; cluster_destroy perf_dst || true; rm -rf "$PGCUTOVER_CLUSTER_ROOT"' EXIT
sp=$(cluster_free_port); cluster_start perf_src "$sp"
dp=$(cluster_free_port); while [ "$dp" = "$sp" ]; do dp=$(cluster_free_port); done; cluster_start perf_dst "$dp"
psql=$(pgcutover_pg_bindir)/psql
for c in perf_src perf_dst; do "$psql" -X -q -d "$(cluster_conninfo "$c")" -c 'CREATE DATABASE shop'; done
src=$(cluster_conninfo perf_src shop); dst=$(cluster_conninfo perf_dst shop)
"$psql" -X -q -v ON_ERROR_STOP=1 -d "$src" -f scripts/sample_data.sql >/dev/null
build/pgcutover copy --source "$src" --target "$dst" -q
config=$PGCUTOVER_CLUSTER_ROOT/rehearsal.toml
cat > "$config" <<TOML
source = "$src"
target = "$dst"
jobs = 2
budget = "1h"
overlap = "1s"
deletes = "detect"
[[checks]]
name = "every order has a customer"
sql = "SELECT NOT EXISTS (SELECT 1 FROM public.orders o LEFT JOIN public.customers c ON c.id = o.customer_id WHERE c.id IS NULL)"
TOML
echo "| rep | wall s | rehearsal total s | sum of phases s | phases / total | phases / wall |"
echo "|---:|---:|---:|---:|---:|---:|"
for r in $(seq 1 "$reps"); do
  scripts/traffic.sh --conninfo "$src" --rate 100 --duration "$traffic"
  t0=$(date +%s.%N)
  build/pgcutover rehearse --config "$config" --report "$PGCUTOVER_CLUSTER_ROOT/report" -q
  t1=$(date +%s.%N)
  python3 - "$PGCUTOVER_CLUSTER_ROOT/report/report.json" "$t0" "$t1" "$r" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); wall = float(sys.argv[3]) - float(sys.argv[2])
total = j["verdict"]["total_seconds"]; s = sum(p["seconds"] for p in j["phases"])
print(f"| {sys.argv[4]} | {wall:.2f} | {total:.2f} | {s:.2f} | {s/total*100:.1f}% | {s/wall*100:.1f}% |")
PY
done
