#!/usr/bin/env bash
# Writes against the sample schema (scripts/sample_data.sql) so a rehearsal is
# faithful: pgbench with a custom script updates orders and inserts events, at a
# steady rate, for a while, then stops by itself.
#
#   scripts/traffic.sh --conninfo "host=... dbname=shop" --rate 50 --duration 60s
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

rate=50
duration=60
conninfo="${PGCUTOVER_TRAFFIC_CONNINFO:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --duration) duration=${2%s}; shift 2 ;;
    --conninfo) conninfo=$2; shift 2 ;;
    *) echo "usage: $0 --conninfo CONNINFO [--rate TPS] [--duration SECONDS]" >&2; exit 2 ;;
  esac
done
[ -n "$conninfo" ] || { echo "traffic.sh: --conninfo is required" >&2; exit 2; }

script=$(mktemp /tmp/pgcutover-traffic-XXXXXX.sql)
trap 'rm -f "$script"' EXIT
cat > "$script" <<'SQL'
\set cid random(1, 1000)
BEGIN;
UPDATE public.orders SET status = 'paid', payload = coalesce(payload, '{}') || jsonb_build_object('touched', now())
 WHERE id = (SELECT id FROM public.orders TABLESAMPLE SYSTEM (1) LIMIT 1);
INSERT INTO public.events (kind, customer_id, data) VALUES ('traffic', :cid, '{"source": "traffic.sh"}');
UPDATE public.events SET updated_at = now() WHERE id = (SELECT max(id) FROM public.events);
END;
SQL
# pgbench refuses -q in benchmarking mode; its output goes to a file so a
# failure keeps pgbench's own message and exit code.
log=$(mktemp)
trap 'rm -f "$script" "$log"' EXIT
if ! "$(pgcutover_pg_bindir)/pgbench" -n -f "$script" --rate "$rate" -T "$duration" -c 2 -j 1 "$conninfo" >"$log" 2>&1; then
  cat "$log" >&2
  echo "traffic.sh: pgbench failed: no traffic was driven" >&2
  exit 1
fi
sed -n -E '/transactions actually|latency average/p' "$log" >&2
