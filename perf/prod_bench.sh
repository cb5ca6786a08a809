#!/usr/bin/env bash
# pgcutover against its peers on production-configured servers (issue 15):
# fsync, full_page_writes and synchronous_commit on, wal_level replica,
# autovacuum on (perf/lib.sh profile "production"), with at least 3 GB of table
# data shaped like the issue's (perf/prod_data.sh).
#
#   perf/prod_bench.sh                          # scale 1 (3.05 GB), 3 repetitions
#   perf/prod_bench.sh --scale 1,2 --reps 3     # and the 2x scale check in the same run
#   perf/prod_bench.sh --scale 0.05 --reps 1    # quick check of the harness
#
# Options:
#   --scale LIST     data size factors, comma-separated (1 = 3.05 GB of table data;
#                    default 1). Every scale has its own source cluster; with more than
#                    one, the report adds a scaling table (time and engine memory per scale)
#   --reps N         repetitions of every method (default 3)
#   --only SCOPE     whole (whole-database methods) or table (the largest table alone)
#   --methods LIST   comma-separated subset of
#                    pgc_db,pgc_db_during,dump_fc,dump_fd,pgcopydb,pgc_table,pipe2,pipe4
#                    (default all but pgc_db_during)
#   --jobs N         parallelism of pgcutover, pg_dump/pg_restore -Fd and pgcopydb (default 2)
#   --profile P      production (default) or bulk (perf/lib.sh's tuned-down settings,
#                    for the second, labelled table; clusters prodbulk-*)
#   --regen          regenerate the source data even if it is there
#   --no-build       do not (re)build build-perf/pgcutover first
#   --keep-running   leave the clusters running at the end
#
# Methods (each run starts from the same state: target database `prod` dropped and
# recreated, for table methods with an index-less, key-less public.docs; the work
# folder emptied; sync; CHECKPOINT on both servers):
#   whole database
#     pgc_db     pgcutover copy --jobs N
#     pgc_db     (both servers on this machine: auto builds every index after the data)
#     pgc_db_during pgcutover copy --jobs N --index-builds during-data (each created table's
#                indexes as soon as its ranges are done: what overlapping gains or costs here)
#     dump_fc    pg_dump -Fc | pg_restore --exit-on-error
#     dump_fd    pg_dump -Fd -j N -f DIR; pg_restore -j N DIR
#     pgcopydb   pgcopydb clone --table-jobs N --index-jobs N --split-tables-larger-than 256MB
#                (Debian's pgcopydb, or $PGCOPYDB; a row "not run: ..." if it is not installed)
#   the largest table (public.docs) alone
#     pgc_table  pgcutover copy --table public.docs --jobs N
#     pipe2      2 psql binary COPY pipes at once, split by id at the median
#     pipe4      4 such pipes, split by id at the quartiles
# The methods alternate: every repetition starts at a different method.
#
# Per run: wall s; CPU-seconds of the source cluster, the target cluster and the
# engine (client: user+sys of the whole client process tree, /usr/bin/time);
# target WAL bytes (pg_wal_lsn_diff of pg_current_wal_lsn() before and after);
# engine peak memory (largest client process's max RSS, and the peak of the
# summed RSS of the client process tree sampled every 0.2 s); the check (row
# count of every copied table equal to the source's; whole database: the number of
# indexes, constraints per type and triggers equal too).
#
# Clusters (perf/out/, git-ignored): prod-source-s<scale> (database `prod`, reused
# across runs; --regen rebuilds), prod-target. Logs, runs.tsv and report.md in
# perf/out/logs/prod-<stamp>/. Estimates for a quiet 2-core machine (from the CPU
# per GB of small runs): generation at scale 1 ~12 min (once), a timed repetition
# of all 7 methods ~16 min; scale 2 twice that. --scale 0.05 --reps 1: ~5 min.
set -euo pipefail

CMDLINE="perf/prod_bench.sh${*:+ $*}"
SCALES=1
REPS=3
ONLY=
METHODS=pgc_db,dump_fc,dump_fd,pgcopydb,pgc_table,pipe2,pipe4
JOBS=2
PROFILE=production
REGEN=0
BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALES=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "prod_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $ONLY in ''|whole|table) ;; *) echo "prod_bench.sh: --only whole or table" >&2; exit 2 ;; esac
case $PROFILE in production) PFX=prod ;; bulk) PFX=prodbulk ;; *) echo "prod_bench.sh: --profile production or bulk" >&2; exit 2 ;; esac
export PERF_PROFILE=$PROFILE

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$PERF_DIR/prod_data.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
TGT=$PFX-target
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/prod-$STAMP
WORK=$PERF_OUT/$PFX-work
mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

IFS=, read -r -a SCALE_LIST <<<"$SCALES"
for s in "${SCALE_LIST[@]}"; do
  awk -v s="$s" 'BEGIN { exit !(s + 0 > 0) }' || { echo "prod_bench.sh: bad scale $s" >&2; exit 2; }
done
method_scope() { case $1 in pgc_table|pipe2|pipe4) echo table ;; pgc_db|pgc_db_during|dump_fc|dump_fd|pgcopydb) echo whole ;; esac; }
IFS=, read -r -a ALL_METHODS <<<"$METHODS"
SELECTED=()
for m in "${ALL_METHODS[@]}"; do
  [ -n "$(method_scope "$m")" ] || { echo "prod_bench.sh: unknown method $m" >&2; exit 2; }
  [ -z "$ONLY" ] || [ "$(method_scope "$m")" = "$ONLY" ] || continue
  SELECTED+=("$m")
done
[ ${#SELECTED[@]} -gt 0 ] || { echo "prod_bench.sh: no method selected" >&2; exit 2; }

# ---------------------------------------------------------------- build
if [ "$BUILD" -eq 1 ]; then
  log "building $BIN"
  (cd "$ROOT" && cmake -S . -B build-perf -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_BUILD_TESTS=OFF \
      -DPGCUTOVER_BUILD_BENCH=OFF >"$LOGDIR/build.log" 2>&1 &&
   cmake --build build-perf --target pgcutover -j2 >>"$LOGDIR/build.log" 2>&1) ||
    { echo "build failed, see $LOGDIR/build.log" >&2; tail -n 30 "$LOGDIR/build.log" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no binary at $BIN (run without --no-build, or set PGCUTOVER_BIN)" >&2; exit 1; }

# Methods that cannot run here get a "not run" row in the report, never a silent skip.
declare -A NOT_RUN
PGCOPYDB=${PGCOPYDB:-pgcopydb}
if ! command -v "$PGCOPYDB" >/dev/null; then
  NOT_RUN[pgcopydb]="$PGCOPYDB is not installed (apt-get install pgcopydb)"
fi

# ---------------------------------------------------------------- clusters
LOAD_BEFORE=$(loadavg)
TOP_BEFORE=$(perf_top_snapshot)
src_name() { echo "$PFX-source-s$1"; }
for s in "${SCALE_LIST[@]}"; do perf_cluster_start "$(src_name "$s")"; done
perf_cluster_start "$TGT"
cleanup() {
  rm -rf "$WORK"
  [ "$KEEP" -eq 1 ] && return 0
  for s in "${SCALE_LIST[@]}"; do perf_cluster_stop "$(src_name "$s")" || true; done
  perf_cluster_stop "$TGT" || true
}
trap cleanup EXIT
q() { perf_psql -d "$1" -Atc "$2"; }
ci() { perf_conninfo "$1" "$2"; }
uri() { echo "postgres://postgres@127.0.0.1:$(cat "$(perf_cluster_dir "$1")/port")/$2"; }
TGT_ADMIN=$(ci "$TGT" postgres)
TGT_CI=$(ci "$TGT" prod)
SETTINGS_Q="SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_wal_size',
                 'checkpoint_timeout', 'autovacuum', 'maintenance_work_mem', 'wal_compression')"

# ---------------------------------------------------------------- source data
declare -A GEN_S
for s in "${SCALE_LIST[@]}"; do
  src=$(src_name "$s")
  ready=$(perf_cluster_dir "$src")/prod_ready
  if [ "$REGEN" -eq 1 ] || [ ! -f "$ready" ] || [ "$(cat "$ready")" != "$s" ] ||
     [ "$(q "$(ci "$src" postgres)" "SELECT count(*) FROM pg_database WHERE datname = 'prod'")" != 1 ]; then
    prod_counts "$s"
    log "generating $src: customers $N_CUST, orders $N_ORDERS, order_lines $N_LINES, docs $N_DOCS rows"
    t0=$(date +%s)
    rm -f "$ready"
    perf_psql -d "$(ci "$src" postgres)" -c "DROP DATABASE IF EXISTS prod WITH (FORCE)" -c "CREATE DATABASE prod"
    prod_generate "$(ci "$src" prod)" "$s" all
    echo "$s" >"$ready"
    GEN_S[$s]=$(( $(date +%s) - t0 ))
    log "generated in ${GEN_S[$s]} s"
  else
    log "reusing source data in $(perf_cluster_dir "$src") (--regen to rebuild)"
  fi
done

# ---------------------------------------------------------------- source facts
USER_TABLES="FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover')"
TABLES_Q="SELECT string_agg(format('%I.%I', n.nspname, c.relname), ' ' ORDER BY 1) $USER_TABLES"
OBJ_Q="SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ' indexes; constraints ' ||
  (SELECT string_agg(contype::text || '=' || n, ',' ORDER BY contype) FROM (SELECT contype, count(*) n FROM pg_constraint co
     JOIN pg_namespace s ON s.oid = co.connamespace WHERE s.nspname = 'public' GROUP BY contype) x) || '; ' ||
  (SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE s.nspname = 'public' AND NOT tg.tgisinternal) || ' triggers'"
counts_q() {  # exact row counts of the given tables, one line
  local sql="" t
  for t in "$@"; do sql+="${sql:+ UNION ALL }SELECT '$t' t, count(*) n FROM $t"; done
  echo "SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM ($sql) s"
}
declare -A TABLES DB_BYTES BIG_BYTES BIG_ROWS SRC_COUNTS SRC_BIG_COUNT SRC_OBJS BOUNDS2 BOUNDS4 SIZES DOCS_FACTS
for s in "${SCALE_LIST[@]}"; do
  c=$(ci "$(src_name "$s")" prod)
  TABLES[$s]=$(q "$c" "$TABLES_Q")
  # shellcheck disable=SC2086
  SRC_COUNTS[$s]=$(q "$c" "$(counts_q ${TABLES[$s]})")
  SRC_BIG_COUNT[$s]=$(q "$c" "$(counts_q public.docs)")
  SRC_OBJS[$s]=$(q "$c" "$OBJ_Q")
  DB_BYTES[$s]=$(q "$c" "SELECT sum(pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)) $USER_TABLES")
  BIG_BYTES[$s]=$(q "$c" "SELECT pg_total_relation_size('public.docs') - pg_indexes_size('public.docs')")
  BIG_ROWS[$s]=$(q "$c" "SELECT count(*) FROM public.docs")
  BOUNDS2[$s]=$(q "$c" "SELECT array_to_string(percentile_disc(ARRAY[0.5]) WITHIN GROUP (ORDER BY id), ' ') FROM public.docs")
  BOUNDS4[$s]=$(q "$c" "SELECT array_to_string(percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY id), ' ') FROM public.docs")
  SIZES[$s]=$(q "$c" "SELECT string_agg(format('| %s | %s | %s | %s | %s | %s | %s |', '$s', c.relname, to_char(c.reltuples::bigint, 'FM999,999,999,999'),
      round(pg_relation_size(c.oid) / 1e6, 1), round((pg_total_relation_size(c.oid) - pg_indexes_size(c.oid) - pg_relation_size(c.oid)) / 1e6, 1),
      round(pg_indexes_size(c.oid) / 1e6, 1), round((pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)) / 1e6, 1)), E'\n'
      ORDER BY pg_total_relation_size(c.oid) DESC) $USER_TABLES")
  DOCS_FACTS[$s]=$(prod_docs_facts "$c")
  log "scale $s: ${DB_BYTES[$s]} bytes of table data, public.docs ${BIG_BYTES[$s]} bytes (${BIG_ROWS[$s]} rows); ${SRC_OBJS[$s]}"
  # Warm the OS page cache with the source database's files.
  oid=$(q "$(ci "$(src_name "$s")" postgres)" "SELECT oid FROM pg_database WHERE datname = 'prod'")
  cat "$(perf_cluster_dir "$(src_name "$s")")/data/base/$oid"/* >/dev/null 2>&1 ||
  echo "warning: the source database files were not all read into the page cache; the first timed run may include disk reads" >&2
done
PG_VERSION=$(q "$TGT_ADMIN" "SHOW server_version")
SRC_SETTINGS=$(q "$(ci "$(src_name "${SCALE_LIST[0]}")" postgres)" "$SETTINGS_Q")
TGT_SETTINGS=$(q "$TGT_ADMIN" "$SETTINGS_Q")

# ---------------------------------------------------------------- methods
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"
method_label() {
  case $1 in
    pgc_db) echo "pgcutover copy --jobs $JOBS" ;;
    pgc_db_during) echo "pgcutover copy --jobs $JOBS --index-builds during-data" ;;
    dump_fc) echo "pg_dump -Fc | pg_restore" ;;
    dump_fd) echo "pg_dump -Fd -j $JOBS + pg_restore -j $JOBS" ;;
    pgcopydb) echo "pgcopydb clone --table-jobs $JOBS --index-jobs $JOBS --split-tables-larger-than 256MB" ;;
    pgc_table) echo "pgcutover copy --table public.docs --jobs $JOBS" ;;
    pipe2) echo "2 psql binary COPY pipes (split by id)" ;;
    pipe4) echo "4 psql binary COPY pipes (split by id)" ;;
  esac
}
pipes_cmd() {  # pipes_cmd SRC_CI "B1 B2 ...": one pipe per range, all at once
  local qs qt bounds=($2) lo= hi i n conds=() script="set -o pipefail; pids="
  qs=$(printf '%q' "$1"); qt=$(printf '%q' "$TGT_CI")
  n=$(( ${#bounds[@]} + 1 ))
  for i in $(seq 0 $((n - 1))); do
    hi=${bounds[$i]-}
    if [ -z "$lo" ]; then conds+=("id < $hi")
    elif [ -z "$hi" ]; then conds+=("id >= $lo")
    else conds+=("id >= $lo AND id < $hi"); fi
    lo=$hi
  done
  for i in "${!conds[@]}"; do
    script+="
( $PSQL -d $qs -c 'COPY (SELECT * FROM public.docs WHERE ${conds[$i]}) TO STDOUT (FORMAT binary)' |
  $PSQL -d $qt -c 'COPY public.docs FROM STDIN (FORMAT binary)' ) & pids=\"\$pids \$!\""
  done
  script+="
rc=0; for p in \$pids; do wait \$p || rc=1; done; exit \$rc"
  CMD=(bash -c "$script")
}
method_cmd() {  # method_cmd METHOD SCALE: sets CMD
  local m=$1 s=$2 src sc su tu
  src=$(src_name "$s"); sc=$(ci "$src" prod); su=$(uri "$src" prod); tu=$(uri "$TGT" prod)
  case $m in
    pgc_db) CMD=("$BIN" copy --source "$sc" --target "$TGT_CI" --jobs "$JOBS") ;;
    pgc_db_during) CMD=("$BIN" copy --source "$sc" --target "$TGT_CI" --jobs "$JOBS" --index-builds during-data) ;;
    pgc_table) CMD=("$BIN" copy --source "$sc" --target "$TGT_CI" --table public.docs --jobs "$JOBS") ;;
    dump_fc) CMD=(bash -c "set -o pipefail
      $PG_BIN/pg_dump -Fc -d $(printf '%q' "$sc") | $PG_BIN/pg_restore --exit-on-error -d $(printf '%q' "$TGT_CI")") ;;
    dump_fd) CMD=(bash -c "set -e
      $PG_BIN/pg_dump -Fd -j $JOBS -f $WORK/dump -d $(printf '%q' "$sc")
      $PG_BIN/pg_restore --exit-on-error -j $JOBS -d $(printf '%q' "$TGT_CI") $WORK/dump") ;;
    pgcopydb) CMD=(env PATH="$PG_BIN:$PATH" "$PGCOPYDB" clone --source "$su" --target "$tu"
                   --table-jobs "$JOBS" --index-jobs "$JOBS" --split-tables-larger-than 256MB --dir "$WORK/pgcopydb") ;;
    pipe2) pipes_cmd "$sc" "${BOUNDS2[$s]}" ;;
    pipe4) pipes_cmd "$sc" "${BOUNDS4[$s]}" ;;
  esac
}

reset_target() {  # reset_target SCOPE SCALE
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS prod WITH (FORCE)" -c "CREATE DATABASE prod"
  if [ "$1" = table ]; then
    # The source's columns, no key, no index, no foreign key.
    perf_psql -d "$TGT_CI" -c "CREATE TABLE public.docs (id bigint NOT NULL, customer_id bigint NOT NULL, kind text NOT NULL,
      created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, payload jsonb NOT NULL)"
  fi
  rm -rf "$WORK" && mkdir -p "$WORK"
  sync
  perf_psql -d "$TGT_ADMIN" -c CHECKPOINT
  perf_psql -d "$(ci "$(src_name "$2")" postgres)" -c CHECKPOINT
}

RUNS=$LOGDIR/runs.tsv
printf 'scale\tmethod\tscope\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\ttree_rss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\ttgt_wal_bytes\tload_before\tload_after\tok\n' >"$RUNS"

run_one() {
  local s=$1 m=$2 rep=$3 scope out res rc ok counts objs lb la l0 l1 wal src
  scope=$(method_scope "$m"); src=$(src_name "$s")
  out=$LOGDIR/s$s-$m-r$rep.log
  if [ -n "${NOT_RUN[$m]-}" ]; then
    printf '%s\t%s\t%s\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t0\t-\t-\tnot run: %s\n' "$s" "$m" "$scope" "$rep" "${NOT_RUN[$m]}" >>"$RUNS"
    log "$m scale $s rep $rep: not run: ${NOT_RUN[$m]}"
    return 0
  fi
  reset_target "$scope" "$s"
  method_cmd "$m" "$s"
  lb=$(loadavg)
  l0=$(perf_wal_lsn "$TGT")
  res=$(perf_measure_tree "$src" "$TGT" "$out" "${CMD[@]}")
  l1=$(perf_wal_lsn "$TGT")
  la=$(loadavg)
  wal=$(perf_wal_bytes "$TGT" "$l0" "$l1")
  read -r wall u sy rss sc tc mb rc tree <<<"$res"
  ok=yes
  [ "$rc" -eq 0 ] || ok="FAILED(rc=$rc: $(grep -v '^\s*$' "$out" | tail -n 1 | tr '\t|' '  ' | cut -c1-160 || true))"
  if [ "$scope" = table ]; then
    counts=$(q "$TGT_CI" "$(counts_q public.docs)" 2>/dev/null || echo none)
    [ "$counts" = "${SRC_BIG_COUNT[$s]}" ] || ok="$ok; BAD(rows $counts, source ${SRC_BIG_COUNT[$s]})"
  else
    # shellcheck disable=SC2086
    counts=$(q "$TGT_CI" "$(counts_q ${TABLES[$s]})" 2>/dev/null || echo none)
    objs=$(q "$TGT_CI" "$OBJ_Q" 2>/dev/null || echo none)
    [ "$counts" = "${SRC_COUNTS[$s]}" ] || ok="$ok; BAD(rows $counts, source ${SRC_COUNTS[$s]})"
    [ "$objs" = "${SRC_OBJS[$s]}" ] || ok="$ok; BAD(objects: $objs, source ${SRC_OBJS[$s]})"
  fi
  ok=${ok#yes; }
  [ "$ok" = yes ] || { log "$m scale $s rep $rep: $ok; log $out:"; tail -n 15 "$out" >&2; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$m" "$scope" "$rep" "$wall" "$u" "$sy" "$rss" "$tree" \
    "$sc" "$tc" "$mb" "$wal" "$lb" "$la" "$ok" >>"$RUNS"
  log "$(printf '%-9s scale %s rep %d: %7.1f s  engine %.1f s  src %.1f s  tgt %.1f s  WAL %d MB  RSS %d MB  load %s  %s' \
    "$m" "$s" "$rep" "$wall" "$(awk -v a="$u" -v b="$sy" 'BEGIN { print a + b }')" "$sc" "$tc" $((wal / 1000000)) $((tree / 1024)) "$la" "$ok")"
}

T_START=$(date +%s)
for s in "${SCALE_LIST[@]}"; do
  n=${#SELECTED[@]}
  for rep in $(seq 1 "$REPS"); do
    for i in $(seq 0 $((n - 1))); do run_one "$s" "${SELECTED[$(( (i + rep - 1) % n ))]}" "$rep"; done
  done
done
T_TOTAL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(loadavg)
TOP_AFTER=$(perf_top_snapshot)
log "timed part took $T_TOTAL s; load $LOAD_AFTER"

# ---------------------------------------------------------------- report
export RUNS LOGDIR
export SCALE_INFO=$(for s in "${SCALE_LIST[@]}"; do printf '%s %s %s %s\n' "$s" "${DB_BYTES[$s]}" "${BIG_BYTES[$s]}" "${BIG_ROWS[$s]}"; done)
export LABELS=$(for m in "${SELECTED[@]}"; do printf '%s\t%s\n' "$m" "$(method_label "$m")"; done)
{
  echo "## pgcutover vs peers, $PROFILE profile ($STAMP)"
  echo
  [ "$PROFILE" = bulk ] && { echo "**Tuned-down servers (bulk-load settings: fsync, full_page_writes, synchronous_commit off, wal_level minimal). No production server runs like this.**"; echo; }
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- PostgreSQL $PG_VERSION, source and target clusters on this machine over TCP 127.0.0.1"
  echo "- source settings: $SRC_SETTINGS"
  echo "- target settings: $TGT_SETTINGS"
  echo "- $("$BIN" --version 2>/dev/null | head -n 1) ($BIN) at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' (+ uncommitted changes)'); $("$PGCOPYDB" --version 2>&1 | grep -m1 -o 'pgcopydb version [^ ]*' || echo 'pgcopydb: not installed')"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, after $LOAD_AFTER; timed part $T_TOTAL s; $REPS repetition(s), methods alternated (each repetition starts at a different method)"
  for s in "${SCALE_LIST[@]}"; do [ -z "${GEN_S[$s]-}" ] || echo "- scale $s: data generated in ${GEN_S[$s]} s"; done
  echo
  echo "### Source data"
  echo
  echo "| scale | table | rows (est.) | heap MB | TOAST MB | indexes MB | table data MB |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  for s in "${SCALE_LIST[@]}"; do echo "${SIZES[$s]}"; done
  echo
  for s in "${SCALE_LIST[@]}"; do
    echo "- scale $s: table data (pg_total_relation_size - pg_indexes_size) $(awk -v b="${DB_BYTES[$s]}" 'BEGIN { printf "%.2f", b / 1e9 }') GB, public.docs $(awk -v b="${BIG_BYTES[$s]}" 'BEGIN { printf "%.2f", b / 1e9 }') GB (GB = 10^9 bytes); source objects: ${SRC_OBJS[$s]}"
    echo "- scale $s: ${DOCS_FACTS[$s]}"
  done
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
labels = {k: v.replace("|", "\\|") for k, v in (l.split("\t", 1) for l in os.environ["LABELS"].strip().split("\n"))}
info = {}
for l in os.environ["SCALE_INFO"].strip().split("\n"):
    s, db, big, rows = l.split(); info[s] = {"whole": int(db), "table": int(big)}
scales = list(info)
ref = {"whole": "pgc_db", "table": "pgc_table"}
scope_name = {"whole": "whole database", "table": "public.docs"}
by, notrun, failed = {}, {}, {}
for r in runs:
    k = (r["scale"], r["method"])
    if r["ok"] == "yes": by.setdefault(k, []).append(r)
    elif r["ok"].startswith("not run"): notrun[k] = r["ok"]
    else: failed.setdefault(k, []).append(r["ok"])
def med(rs, f): return st.median(f(r) for r in rs)
wall = {k: med(rs, lambda r: float(r["wall_s"])) for k, rs in by.items()}
print("### Results (medians of the runs that passed their check)")
print()
print("time ratio = method's median time / pgcutover's of the same scope and scale (> 1: the method is slower than pgcutover). "
      "CPU s/GB = CPU-seconds per GB (10^9 bytes) of table data copied (the scope's heap + TOAST on the source). "
      "Engine = the client process tree (pgcutover with its pg_dump/pg_restore; psql, pg_dump, pg_restore or pgcopydb and their children). "
      "Peak RSS: of the largest client process (`/usr/bin/time` %M) / of the whole client tree summed (sampled every 0.2 s). "
      "Target WAL = pg_wal_lsn_diff of pg_current_wal_lsn() after and before the run.")
print()
print("| scale | scope | method | runs | median s | min-max s | time ratio to pgcutover | engine CPU s/GB (% of one core) | source CPU s/GB | target CPU s/GB | target WAL MB (x table data) | engine peak RSS MB (process / tree) | ok |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for s in scales:
    for scope in ("whole", "table"):
        gb = info[s][scope] / 1e9
        for m in labels:
            if (("pgc_table", "pipe2", "pipe4").count(m) > 0) != (scope == "table"): continue
            k = (s, m)
            if k in notrun:
                print(f"| {s} | {scope_name[scope]} | {labels[m]} | 0 | | | | | | | | | {notrun[k]} |"); continue
            rs = by.get(k)
            if not rs:
                if k in failed: print(f"| {s} | {scope_name[scope]} | {labels[m]} | 0 | | | | | | | | | {'; '.join(sorted(set(failed[k])))} |")
                continue
            w = wall[k]; ws = [float(r["wall_s"]) for r in rs]
            rw = wall.get((s, ref[scope]))
            ratio = f"{w / rw:.2f}" if rw else "-"
            eng = med(rs, lambda r: float(r["user_s"]) + float(r["sys_s"]))
            src = med(rs, lambda r: float(r["src_cpu_s"])); tgt = med(rs, lambda r: float(r["tgt_cpu_s"]))
            wal = med(rs, lambda r: int(r["tgt_wal_bytes"]))
            rss = med(rs, lambda r: int(r["maxrss_kb"])) / 1024; tree = med(rs, lambda r: int(r["tree_rss_kb"])) / 1024
            ok = "yes" if k not in failed else f"yes ({len(failed[k])} other run(s) failed: {'; '.join(sorted(set(failed[k])))})"
            print(f"| {s} | {scope_name[scope]} | {labels[m]} | {len(rs)} | {w:.1f} | {min(ws):.1f}-{max(ws):.1f} | {ratio} | "
                  f"{eng / gb:.2f} ({eng / w * 100:.0f}%) | {src / gb:.2f} | {tgt / gb:.2f} | {wal / 1e6:.0f} ({wal / info[s][scope]:.2f}) | {rss:.0f} / {tree:.0f} | {ok} |")
if len(scales) > 1:
    a = scales[0]
    print()
    print(f"### Scale check (against scale {a})")
    print()
    print("Time grows in proportion when time ratio / data ratio is about 1; the engine's memory should not grow with the data.")
    print()
    print("| method | scale | data ratio | median s | time ratio | time ratio / data ratio | engine peak RSS MB (process / tree) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for m in labels:
        scope = "table" if m in ("pgc_table", "pipe2", "pipe4") else "whole"
        if (a, m) not in wall: continue
        for s in scales:
            if (s, m) not in wall: continue
            d = info[s][scope] / info[a][scope]; t = wall[(s, m)] / wall[(a, m)]
            rs = by[(s, m)]
            print(f"| {labels[m]} | {s} | {d:.2f} | {wall[(s, m)]:.1f} | {t:.2f} | {t / d:.2f} | "
                  f"{med(rs, lambda r: int(r['maxrss_kb'])) / 1024:.0f} / {med(rs, lambda r: int(r['tree_rss_kb'])) / 1024:.0f} |")
print()
print("### Every run")
print()
print("| scale | method | rep | wall s | engine user+sys s | source CPU s | target CPU s | machine busy s | target WAL MB | peak RSS MB (process / tree) | load before | load after | ok | pgcutover phases |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |")
for r in runs:
    phases = ""
    if r["method"] in ("pgc_db", "pgc_db_during", "pgc_table"):
        try:
            for line in open(os.path.join(os.environ["LOGDIR"], f"s{r['scale']}-{r['method']}-r{r['rep']}.log"), errors="replace"):
                if line.startswith("phases:"): phases = line[len("phases:"):].strip().replace("|", "/")
        except OSError:
            pass
    print(f"| {r['scale']} | {r['method']} | {r['rep']} | {float(r['wall_s']):.1f} | {float(r['user_s']) + float(r['sys_s']):.1f} | {r['src_cpu_s']} | "
          f"{r['tgt_cpu_s']} | {r['machine_busy_s']} | {int(r['tgt_wal_bytes']) / 1e6:.0f} | {int(r['maxrss_kb']) / 1024:.0f} / {int(r['tree_rss_kb']) / 1024:.0f} | "
          f"{r['load_before']} | {r['load_after']} | {r['ok']} | {phases} |")
EOF
  echo
  echo "### Other processes (top) before and after"
  echo
  echo '```'
  echo "$TOP_BEFORE"
  echo "--- after"
  echo "$TOP_AFTER"
  echo '```'
  echo
  echo "Raw figures: $RUNS; per-run logs in $LOGDIR."
} | tee "$LOGDIR/report.md"
