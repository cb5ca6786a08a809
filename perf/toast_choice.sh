#!/usr/bin/env bash
# Which TOAST compression should pgcutover's writer sessions set? Loads the
# same rows through one binary COPY pipe into a fresh table with
# default_toast_compression = pglz (the server default) and = lz4, on
# compressible and on incompressible data, alternating, and reports the
# median load time and the table's size (heap + TOAST) for each.
#
#   perf/toast_choice.sh [--rows N] [--reps N] [--production]
#
# --production: the cluster runs with fsync, full_page_writes and
# synchronous_commit on and wal_level = replica (default: scripts/lib/cluster.sh's
# test settings). Own cluster in $PGCUTOVER_CLUSTER_ROOT/toast-choice, removed
# at the end. Output: a Markdown table on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rows=60000
reps=3
production=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --production) production=1; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "toast_choice.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

export PGCUTOVER_CLUSTER_ROOT=${PGCUTOVER_CLUSTER_ROOT:-/tmp/pgcutover-perf-$(id -u)}
# shellcheck source=../scripts/lib/cluster.sh
source "$here/../scripts/lib/cluster.sh"
port=$(cluster_free_port)
cluster_start toast-choice "$port"
trap 'cluster_destroy toast-choice' EXIT
ci=$(cluster_conninfo toast-choice postgres)
if [ "$production" = 1 ]; then
  psql "$ci" -qXc "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET full_page_writes = on" \
    -c "ALTER SYSTEM SET synchronous_commit = on" -c "ALTER SYSTEM SET wal_level = replica"
  cluster_stop toast-choice
  cluster_start toast-choice "$port"
fi
lz4=$(psql "$ci" -AtXc "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
[ "$lz4" = t ] || { echo "toast_choice.sh: this server has no lz4" >&2; exit 1; }

# compressible: jsonb of repeated key names and words with some hex (pglz
# gets ~2x); incompressible: the same size of md5 hex only. 600 B to 4 KB a
# row, about half past the TOAST threshold.
psql "$ci" -qX -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE src_compressible (id bigint PRIMARY KEY, payload jsonb);
INSERT INTO src_compressible
SELECT g, (SELECT jsonb_object_agg('attribute_' || k,
                                   CASE WHEN k % 4 = 0 THEN md5((g * k)::text)
                                        ELSE 'status pending review by the regional team ' || (g % 13) END)
           FROM generate_series(1, CASE WHEN g % 2 = 0 THEN 60 ELSE 10 END) k)
FROM generate_series(1, $rows) g;
CREATE TABLE src_incompressible (id bigint PRIMARY KEY, payload jsonb);
INSERT INTO src_incompressible
SELECT g, jsonb_build_object('h', (SELECT string_agg(md5((g * k)::text), '')
                                   FROM generate_series(1, CASE WHEN g % 2 = 0 THEN 100 ELSE 18 END) k))
FROM generate_series(1, $rows) g;
VACUUM ANALYZE;
SQL

results=$(mktemp)
for rep in $(seq 1 "$reps"); do
  order="pglz lz4"
  [ $((rep % 2)) = 0 ] && order="lz4 pglz"
  for data in compressible incompressible; do
    for method in $order; do
      psql "$ci" -qXc "DROP TABLE IF EXISTS dst" -c "CREATE TABLE dst (LIKE src_$data)" -c "CHECKPOINT"
      start=$(date +%s.%N)
      psql "$ci" -qXc "COPY src_$data TO STDOUT (FORMAT binary)" |
        psql "$ci" -qX -v ON_ERROR_STOP=1 -c "SET default_toast_compression = $method" -c "COPY dst FROM STDIN (FORMAT binary)"
      end=$(date +%s.%N)
      size=$(psql "$ci" -AtXc "SELECT pg_table_size('dst')")
      echo "$data $method $(echo "$end - $start" | bc) $size" >>"$results"
    done
  done
done

src_size() { psql "$ci" -AtXc "SELECT pg_table_size('src_$1')"; }
echo "| data | compression | load seconds (median of $reps) | table size (MB) | size vs pglz | time vs pglz |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for data in compressible incompressible; do
  pglz_t=$(awk -v d=$data '$1==d && $2=="pglz" {print $3}' "$results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  pglz_s=$(awk -v d=$data '$1==d && $2=="pglz" {print $4}' "$results" | tail -n 1)
  for method in pglz lz4; do
    t=$(awk -v d=$data -v m=$method '$1==d && $2==m {print $3}' "$results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    s=$(awk -v d=$data -v m=$method '$1==d && $2==m {print $4}' "$results" | tail -n 1)
    printf '| %s | %s | %.2f | %.1f | %.2f | %.2f |\n' "$data" "$method" "$t" "$(echo "$s / 1000000" | bc -l)" \
      "$(echo "$s / $pglz_s" | bc -l)" "$(echo "$t / $pglz_t" | bc -l)"
  done
done
echo
echo "source tables: compressible $(($(src_size compressible) / 1000000)) MB, incompressible $(($(src_size incompressible) / 1000000)) MB (pglz, as stored); $rows rows each"
rm -f "$results"
