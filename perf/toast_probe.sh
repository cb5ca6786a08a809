#!/usr/bin/env bash
# Where the target's CPU goes when loading public.big: the same binary COPY pipe
# (psql | psql) of the first ROWS rows of the source's public.big into an empty
# index-less table whose payload column is
#   pglz      the default: the toaster tries pglz on every large value
#   external  SET STORAGE EXTERNAL: out of line, no compression attempt
#   lz4       SET COMPRESSION lz4
# Reuses the clusters and data of perf/copy_bench.sh (run it first, same --scale).
#
#   perf/toast_probe.sh [--scale F] [--rows N] [--reps N]
set -euo pipefail
SCALE=1; ROWS=150000; REPS=3
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    *) echo "toast_probe.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC=source-s$SCALE; TGT=target
[ -f "$(perf_cluster_dir "$SRC")/bench_ready" ] || { echo "no source data for scale $SCALE: run perf/copy_bench.sh --scale $SCALE first" >&2; exit 1; }
was_running_src=0; was_running_tgt=0
perf_cluster_running "$SRC" && was_running_src=1
perf_cluster_running "$TGT" && was_running_tgt=1
perf_cluster_start "$SRC"; perf_cluster_start "$TGT"
cleanup() {
  [ "$was_running_src" -eq 1 ] || perf_cluster_stop "$SRC" || true
  [ "$was_running_tgt" -eq 1 ] || perf_cluster_stop "$TGT" || true
}
trap cleanup EXIT
SRC_CI=$(perf_conninfo "$SRC" bench); TGT_CI=$(perf_conninfo "$TGT" bench); TGT_ADMIN=$(perf_conninfo "$TGT" postgres)
BYTES=$(perf_psql -d "$SRC_CI" -Atc "SELECT sum(pg_column_size(b.*)) FROM public.big b WHERE id <= $ROWS")

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $ROWS rows of public.big, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB as stored on the source"
echo
echo "| payload storage | rep | wall s | target CPU s | target MB after | source CPU s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for rep in $(seq 1 "$REPS"); do
  for v in pglz external lz4; do
    perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench" 2>/dev/null
    perf_psql -d "$TGT_CI" -c "CREATE TABLE public.big (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb, note text)"
    case $v in
      external) perf_psql -d "$TGT_CI" -c "ALTER TABLE public.big ALTER payload SET STORAGE EXTERNAL" ;;
      lz4) perf_psql -d "$TGT_CI" -c "ALTER TABLE public.big ALTER payload SET COMPRESSION lz4" ;;
    esac
    sync; perf_psql -d "$TGT_ADMIN" -c CHECKPOINT
    s0=$(perf_cluster_ticks "$SRC"); g0=$(perf_cluster_ticks "$TGT"); t0=$(date +%s.%N)
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$SRC_CI" -c "COPY (SELECT * FROM public.big WHERE id <= $ROWS) TO STDOUT (FORMAT binary)" |
      "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$TGT_CI" -c "COPY public.big FROM STDIN (FORMAT binary)"
    t1=$(date +%s.%N); s1=$(perf_cluster_ticks "$SRC"); g1=$(perf_cluster_ticks "$TGT")
    size=$(perf_psql -d "$TGT_CI" -Atc "SELECT round(pg_total_relation_size('public.big') / 1e6, 1)")
    awk -v v="$v" -v r="$rep" -v t0="$t0" -v t1="$t1" -v g="$((g1 - g0))" -v s="$((s1 - s0))" -v hz="$CLK_TCK" -v size="$size" \
      'BEGIN { printf "| %s | %d | %.1f | %.1f | %s | %.1f |\n", v, r, t1 - t0, g / hz, size, s / hz }'
  done
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
