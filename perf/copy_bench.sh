#!/usr/bin/env bash
# End-to-end copy throughput: pgcutover against hand-made COPY pipes and
# pg_dump | pg_restore, on two local PostgreSQL 15 clusters. One command
# reproduces every figure in perf/RESULTS.md:
#
#   perf/copy_bench.sh                 # full size (public.big >= 1.5 GB), 3 repetitions
#   perf/copy_bench.sh --scale 0.1     # quick check
#
# Options:
#   --scale F        data size factor (1 = full size; default 1)
#   --reps N         repetitions of the main methods (default 3)
#   --extra-reps N   repetitions of the variants (spill, --jobs 1, --jobs 3) (default: --reps)
#   --methods LIST   comma-separated subset of: pgc_j2,pipe1,pipe2,pgc_db,dump_restore,pgc_spill,pgc_j1,pgc_j3
#   --regen          regenerate the source data even if it is already there
#   --no-build       do not (re)build build-perf/pgcutover first
#   --keep-running   leave both clusters running at the end
#
# Clusters, logs and raw results live in perf/out/ (git-ignored):
#   perf/out/source-s<scale>/  source cluster (database `bench`), reused across runs
#   perf/out/target/           target cluster (database `bench` dropped and recreated before every run)
#   perf/out/logs/<stamp>/     one log per timed run, runs.tsv (raw figures), report.md
#
# Prints a markdown report on stdout (also saved as report.md in the log folder).
set -euo pipefail

CMDLINE="perf/copy_bench.sh${*:+ $*}"
SCALE=1
REPS=3
EXTRA_REPS=
METHODS=pgc_j2,pipe1,pipe2,pgc_db,dump_restore,pgc_spill,pgc_j1,pgc_j3
REGEN=0
BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --extra-reps) EXTRA_REPS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "copy_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
: "${EXTRA_REPS:=$REPS}"

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=source-s$SCALE
TGT=target
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/$STAMP
SPILL=$PERF_OUT/spill
mkdir -p "$LOGDIR"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# What else runs: top's busiest processes right now (ps's %CPU is a lifetime average).
# Second top sample (the first one's %CPU is meaningless); processes above 0 %CPU.
top_snapshot() {
  top -b -n 2 -d 2 -w 160 2>/dev/null |
    awk '/^top -/ { n++ } n == 2 && (/^(top|Tasks|%Cpu|MiB)/ || /PID USER/ || ($9 + 0 > 0 && c++ < 12))' ||
    ps -eo pcpu,etime,comm --sort=-pcpu | head -n 12
}

# ---------------------------------------------------------------- build
if [ "$BUILD" -eq 1 ]; then
  log "building $BIN"
  (cd "$ROOT" && cmake -S . -B build-perf -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_BUILD_TESTS=OFF \
      -DPGCUTOVER_BUILD_BENCH=OFF >"$LOGDIR/build.log" 2>&1 &&
   cmake --build build-perf --target pgcutover -j2 >>"$LOGDIR/build.log" 2>&1) ||
    { echo "build failed, see $LOGDIR/build.log" >&2; tail -n 30 "$LOGDIR/build.log" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no binary at $BIN (run without --no-build, or set PGCUTOVER_BIN)" >&2; exit 1; }

# ---------------------------------------------------------------- clusters
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(top_snapshot)
log "load before: $LOAD_BEFORE"
perf_cluster_start "$SRC"
perf_cluster_start "$TGT"
cleanup() {
  rm -rf "$SPILL"
  if [ "$KEEP" -eq 0 ]; then perf_cluster_stop "$SRC" || true; perf_cluster_stop "$TGT" || true; fi
}
trap cleanup EXIT
SRC_ADMIN=$(perf_conninfo "$SRC" postgres)
SRC_CI=$(perf_conninfo "$SRC" bench)
TGT_ADMIN=$(perf_conninfo "$TGT" postgres)
TGT_CI=$(perf_conninfo "$TGT" bench)
log "source $SRC_CI; target $TGT_CI"

# ---------------------------------------------------------------- source data
N_BIG=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 500000 * s }')
N_EVENTS=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 1400000 * s }')
PGBENCH_SCALE=$(awk -v s="$SCALE" 'BEGIN { n = int(20 * s + 0.5); if (n < 1) n = 1; print n }')
READY=$(perf_cluster_dir "$SRC")/bench_ready

generate() {
  log "generating source data: public.big $N_BIG rows, public.events $N_EVENTS rows, pgbench -s $PGBENCH_SCALE"
  rm -f "$READY"
  perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
  local batches=8 b lo hi sql
  sql=$(cat <<'EOF'
CREATE TABLE public.big (
  id         bigint PRIMARY KEY,
  created_at timestamptz NOT NULL,
  payload    jsonb,
  note       text
);
-- 4096 pieces of 1 KB of md5 hex: a large payload is 2-8 consecutive pieces,
-- so every value is distinct and pglz finds little to compress (hex is ~4 bits
-- per byte, with no repeats inside one value).
CREATE TEMP TABLE pool (i int PRIMARY KEY, c text NOT NULL);
INSERT INTO pool
SELECT i, (SELECT string_agg(md5((i * 100 + j)::text), '' ORDER BY j) FROM generate_series(1, 32) j)
FROM generate_series(1, 4096) i;
ANALYZE pool;
EOF
)
  for b in $(seq 0 $((batches - 1))); do
    lo=$((N_BIG * b / batches + 1)); hi=$((N_BIG * (b + 1) / batches))
    sql+=$'\n'"INSERT INTO public.big
SELECT g,
       timestamptz '2021-01-01 00:00:00+00' + g * interval '17 seconds',
       CASE WHEN g % 2 = 0 THEN
         jsonb_build_object('id', g, 'kind', 'large', 'tags', jsonb_build_array('a' || g % 7, 'b' || g % 11),
           'parts', (SELECT jsonb_agg(p.c ORDER BY p.i) FROM pool p WHERE p.i BETWEEN v.s AND v.s + v.k - 1))
       ELSE
         jsonb_build_object('id', g, 'kind', 'small', 'v', md5(g::text), 'n', g % 97)
       END,
       'note ' || (g % 1000)
FROM generate_series($lo, $hi) g
CROSS JOIN LATERAL (VALUES (1 + (hashint8(g) & 2147483647) % 4088,
                            2 + (hashint8(g + 1000000007) & 2147483647) % 7)) v(s, k);"
  done
  sql+=$'\n'"CREATE TABLE public.events (
  id         bigint PRIMARY KEY,
  account_id int NOT NULL,
  kind       smallint NOT NULL,
  amount     numeric(12,2),
  at         timestamptz NOT NULL,
  ref        text
);
INSERT INTO public.events
SELECT g, (g * 7919) % 100000, g % 5, (g % 100000) / 100.0,
       timestamptz '2022-01-01 00:00:00+00' + g * interval '1 second', 'r' || (g % 100)
FROM generate_series(1::bigint, $N_EVENTS) g;
CREATE INDEX events_account_idx ON public.events (account_id);"
  perf_psql -d "$SRC_CI" <<<"$sql"
  "$PG_BIN/pgbench" -i -q -s "$PGBENCH_SCALE" --foreign-keys -h 127.0.0.1 -p "$(cat "$(perf_cluster_dir "$SRC")/port")" \
      -U postgres bench >"$LOGDIR/pgbench-init.log" 2>&1 || { cat "$LOGDIR/pgbench-init.log" >&2; exit 1; }
  # Freeze and set hint bits now, so no timed reader pays for them.
  perf_psql -d "$SRC_CI" -c "VACUUM (FREEZE, ANALYZE)"
  echo "$SCALE" >"$READY"
}

if [ "$REGEN" -eq 1 ] || [ ! -f "$READY" ] || [ "$(cat "$READY")" != "$SCALE" ] ||
   [ "$(perf_psql -d "$SRC_ADMIN" -Atc "SELECT count(*) FROM pg_database WHERE datname = 'bench'")" != 1 ]; then
  t0=$(date +%s)
  generate
  log "generated in $(( $(date +%s) - t0 )) s"
else
  log "reusing source data in $(perf_cluster_dir "$SRC") (--regen to rebuild)"
fi

# ---------------------------------------------------------------- sizes
q() { perf_psql -d "$1" -Atc "$2"; }
BIG_BYTES=$(q "$SRC_CI" "SELECT pg_total_relation_size('public.big') - pg_indexes_size('public.big')")
USER_TABLES="FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
DB_BYTES=$(q "$SRC_CI" "SELECT sum(pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)) $USER_TABLES")
BIG_ROWS=$(q "$SRC_CI" "SELECT count(*) FROM public.big")
MEDIAN_ID=$(q "$SRC_CI" "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM public.big")
SRC_COUNTS=$(q "$SRC_CI" "SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
  SELECT 'big' t, count(*) n FROM public.big UNION ALL SELECT 'events', count(*) FROM public.events
  UNION ALL SELECT 'accounts', count(*) FROM public.pgbench_accounts UNION ALL SELECT 'tellers', count(*) FROM public.pgbench_tellers
  UNION ALL SELECT 'branches', count(*) FROM public.pgbench_branches UNION ALL SELECT 'history', count(*) FROM public.pgbench_history) s")
OBJ_QUERY="SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ' indexes, ' ||
  (SELECT count(*) FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = 'public') || ' constraints'"
SRC_OBJS=$(q "$SRC_CI" "$OBJ_QUERY")
SIZES=$(q "$SRC_CI" "SELECT format('| %s | %s | %s | %s | %s | %s |', c.relname, c.reltuples::bigint,
    pg_size_pretty(pg_relation_size(c.oid)), pg_size_pretty(pg_total_relation_size(c.oid) - pg_indexes_size(c.oid) - pg_relation_size(c.oid)),
    pg_size_pretty(pg_indexes_size(c.oid)), round((pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)) / 1e6, 1))
  $USER_TABLES ORDER BY pg_total_relation_size(c.oid) DESC")
TOAST_INFO=$(q "$SRC_CI" "SELECT format('%s of %s rows have a payload stored out of line; payload sizes (bytes as stored) median %s, max %s; large values: avg %s raw bytes',
    count(*) FILTER (WHERE pg_column_size(payload) > 2000), count(*),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY pg_column_size(payload)), max(pg_column_size(payload)),
    round(avg(octet_length(payload::text)) FILTER (WHERE payload->>'kind' = 'large')))
  FROM public.big")
PG_VERSION=$(q "$SRC_CI" "SHOW server_version")
log "public.big: $BIG_ROWS rows, $BIG_BYTES bytes (heap + TOAST); database: $DB_BYTES bytes; median id $MEDIAN_ID"

# Warm the OS page cache with the source database's files (reading them is
# cheap; the first timed run would otherwise pay for the disk).
DBOID=$(q "$SRC_ADMIN" "SELECT oid FROM pg_database WHERE datname = 'bench'")
cat "$(perf_cluster_dir "$SRC")/data/base/$DBOID"/* >/dev/null 2>&1 ||
  echo "warning: the source database files were not all read into the page cache; the first timed run may include disk reads" >&2

# ---------------------------------------------------------------- methods
q_src() { printf '%q' "$SRC_CI"; }
q_tgt() { printf '%q' "$TGT_CI"; }
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"

method_group() {
  case $1 in pgc_db|dump_restore) echo db ;; *) echo table ;; esac
}
method_label() {
  case $1 in
    pgc_j2) echo "a. pgcutover copy --table public.big --jobs 2" ;;
    pipe1) echo "b. 1 pipe: psql COPY binary | psql COPY binary" ;;
    pipe2) echo "c. 2 pipes in parallel (id < median / id >= median)" ;;
    pgc_db) echo "d. pgcutover copy --jobs 2 (whole database)" ;;
    dump_restore) echo "e. pg_dump -Fc | pg_restore (whole database)" ;;
    pgc_spill) echo "a'. pgcutover copy --table public.big --jobs 2 --spill-dir" ;;
    pgc_j1) echo "a1. pgcutover copy --table public.big --jobs 1" ;;
    pgc_j3) echo "a3. pgcutover copy --table public.big --jobs 3" ;;
  esac
}
# Sets CMD (an argv array) for a method.
method_cmd() {
  local pgc=("$BIN" copy --source "$SRC_CI" --target "$TGT_CI")
  case $1 in
    pgc_j2) CMD=("${pgc[@]}" --table public.big --jobs 2) ;;
    pgc_j1) CMD=("${pgc[@]}" --table public.big --jobs 1) ;;
    pgc_j3) CMD=("${pgc[@]}" --table public.big --jobs 3) ;;
    pgc_spill) CMD=("${pgc[@]}" --table public.big --jobs 2 --spill-dir "$SPILL") ;;
    pgc_db) CMD=("${pgc[@]}" --jobs 2) ;;
    pipe1) CMD=(bash -c "set -o pipefail
      $PSQL -d $(q_src) -c 'COPY (SELECT * FROM public.big) TO STDOUT (FORMAT binary)' |
      $PSQL -d $(q_tgt) -c 'COPY public.big FROM STDIN (FORMAT binary)'") ;;
    pipe2) CMD=(bash -c "set -o pipefail
      ( $PSQL -d $(q_src) -c 'COPY (SELECT * FROM public.big WHERE id < $MEDIAN_ID) TO STDOUT (FORMAT binary)' |
        $PSQL -d $(q_tgt) -c 'COPY public.big FROM STDIN (FORMAT binary)' ) & p1=\$!
      ( $PSQL -d $(q_src) -c 'COPY (SELECT * FROM public.big WHERE id >= $MEDIAN_ID) TO STDOUT (FORMAT binary)' |
        $PSQL -d $(q_tgt) -c 'COPY public.big FROM STDIN (FORMAT binary)' ) & p2=\$!
      wait \$p1 && wait \$p2") ;;
    dump_restore) CMD=(bash -c "set -o pipefail
      $PG_BIN/pg_dump -Fc -d $(q_src) | $PG_BIN/pg_restore --exit-on-error -d $(q_tgt)") ;;
  esac
}

reset_target() {
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
  if [ "$1" = table ]; then
    # Same columns as the source, no primary key, no index.
    perf_psql -d "$TGT_CI" -c "CREATE TABLE public.big (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb, note text)"
  fi
  rm -rf "$SPILL"
  sync
  perf_psql -d "$TGT_ADMIN" -c CHECKPOINT
  perf_psql -d "$SRC_ADMIN" -c CHECKPOINT
}

RUNS=$LOGDIR/runs.tsv
printf 'method\tgroup\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\tload1\tok\n' >"$RUNS"

run_one() {
  local m=$1 rep=$2 group tf out t0 t1 s0 s1 g0 g1 b0 b1 rc ok counts objs
  group=$(method_group "$m")
  reset_target "$group"
  method_cmd "$m"
  tf=$LOGDIR/$m-r$rep.time
  out=$LOGDIR/$m-r$rep.log
  s0=$(perf_cluster_ticks "$SRC"); g0=$(perf_cluster_ticks "$TGT"); b0=$(perf_machine_busy_ticks)
  t0=$(date +%s.%N)
  rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$tf" -- "${CMD[@]}" >"$out" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  s1=$(perf_cluster_ticks "$SRC"); g1=$(perf_cluster_ticks "$TGT"); b1=$(perf_machine_busy_ticks)
  ok=yes
  if [ "$rc" -ne 0 ]; then ok="FAILED(rc=$rc)"; fi
  counts=$(q "$TGT_CI" "SELECT count(*) FROM public.big" 2>/dev/null || echo none)
  [ "$counts" = "$BIG_ROWS" ] || ok="BAD(big rows $counts != $BIG_ROWS)"
  if [ "$group" = db ] && [ "$ok" = yes ]; then
    counts=$(q "$TGT_CI" "SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
      SELECT 'big' t, count(*) n FROM public.big UNION ALL SELECT 'events', count(*) FROM public.events
      UNION ALL SELECT 'accounts', count(*) FROM public.pgbench_accounts UNION ALL SELECT 'tellers', count(*) FROM public.pgbench_tellers
      UNION ALL SELECT 'branches', count(*) FROM public.pgbench_branches UNION ALL SELECT 'history', count(*) FROM public.pgbench_history) s" 2>/dev/null || echo none)
    objs=$(q "$TGT_CI" "$OBJ_QUERY" 2>/dev/null || echo none)
    [ "$counts" = "$SRC_COUNTS" ] || ok="BAD(counts $counts)"
    [ "$objs" = "$SRC_OBJS" ] || ok="BAD(objects: $objs, source $SRC_OBJS)"
  fi
  [ "$ok" = yes ] || { log "$m rep $rep: $ok; log $out:"; tail -n 20 "$out" >&2; }
  read -r _ u s rss <"$tf" || { u=0; s=0; rss=0; }
  awk -v m="$m" -v g="$group" -v r="$rep" -v t0="$t0" -v t1="$t1" -v u="$u" -v s="$s" -v rss="$rss" \
      -v s0="$s0" -v s1="$s1" -v g0="$g0" -v g1="$g1" -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" \
      -v load="$(cut -d' ' -f1 /proc/loadavg)" -v ok="$ok" \
      'BEGIN { printf "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%s\t%s\n",
               m, g, r, t1 - t0, u, s, rss, (s1 - s0) / hz, (g1 - g0) / hz, (b1 - b0) / hz, load, ok }' >>"$RUNS"
  log "$(tail -n 1 "$RUNS" | awk -F'\t' '{ printf "%-12s rep %d: %6.1f s  client %.1f+%.1f s  src %.1f s  tgt %.1f s  machine %.1f s  load %s  %s", $1, $3, $4, $5, $6, $8, $9, $10, $11, $12 }')"
}

IFS=, read -r -a SELECTED <<<"$METHODS"
MAIN=(); EXTRA=()
for m in "${SELECTED[@]}"; do
  [ -n "$(method_label "$m")" ] || { echo "unknown method $m" >&2; exit 2; }
  case $m in pgc_spill|pgc_j1|pgc_j3) EXTRA+=("$m") ;; *) MAIN+=("$m") ;; esac
done
MAXREP=$(( REPS > EXTRA_REPS ? REPS : EXTRA_REPS ))
T_START=$(date +%s)
for rep in $(seq 1 "$MAXREP"); do
  list=()
  [ "$rep" -le "$REPS" ] && list+=("${MAIN[@]}")
  [ "$rep" -le "$EXTRA_REPS" ] && list+=("${EXTRA[@]}")
  n=${#list[@]}
  [ "$n" -gt 0 ] || continue
  # Alternate: every repetition starts at a different method.
  for i in $(seq 0 $((n - 1))); do
    run_one "${list[$(( (i + rep - 1) % n ))]}" "$rep"
  done
done
T_TOTAL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_AFTER=$(top_snapshot)
log "load after: $LOAD_AFTER; timed part took $T_TOTAL s"

# ---------------------------------------------------------------- report
export RUNS BIG_BYTES DB_BYTES
LABELS=$(for m in "${SELECTED[@]}"; do printf '%s\t%s\n' "$m" "$(method_label "$m")"; done)
export LABELS
{
  echo "## pgcutover copy benchmark ($STAMP)"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- PostgreSQL $PG_VERSION (source and target clusters on this machine, see perf/lib.sh for settings); pgcutover $("$BIN" --version 2>/dev/null | head -n 1) at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, after $LOAD_AFTER; timed part $T_TOTAL s"
  echo "- reps: $REPS (main), $EXTRA_REPS (variants); methods alternated, each repetition starting at a different method"
  echo
  echo "### Source data"
  echo
  echo "| table | rows (est.) | heap | TOAST (+fsm/vm) | indexes | table data MB (heap+TOAST) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  echo "$SIZES"
  echo
  echo "- public.big: $BIG_ROWS rows; $TOAST_INFO"
  echo "- table data (pg_total_relation_size - pg_indexes_size, on the source): public.big $(awk -v b="$BIG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB; whole database $(awk -v b="$DB_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB (MB = 10^6 bytes)"
  echo "- source objects: $SRC_OBJS"
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
labels = {k: v.replace("|", "\\|") for k, v in (l.split("\t", 1) for l in os.environ["LABELS"].strip().split("\n"))}
size = {"table": int(os.environ["BIG_BYTES"]), "db": int(os.environ["DB_BYTES"])}
ref = {"table": "pgc_j2", "db": "pgc_db"}
by = {}
for r in runs:
    by.setdefault(r["method"], []).append(r)
def med(rs, k): return st.median(float(r[k]) for r in rs)
wall = {m: med(rs, "wall_s") for m, rs in by.items()}
print("### Results (medians)")
print()
print("Time ratio = method / pgcutover of the same scope (a for table runs, d for whole-database runs); > 1 means slower than pgcutover.")
print("Client CPU = user+sys of the client process tree (pgcutover incl. its pg_dump/pg_restore children; the psql/pg_dump/pg_restore processes for the others), as % of one core over the wall time.")
print("Server CPU = utime+stime of all processes of each cluster during the run, in seconds and as cores busy on average; other = machine busy time minus both clusters and the client (everything else on the machine).")
print()
print("| method | scope | runs | median s | min-max s | MB/s | time ratio vs pgcutover | client CPU % | client peak RSS MB | source CPU s (cores) | target CPU s (cores) | other CPU s | ok |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for m in labels:
    rs = by.get(m)
    if not rs: continue
    g = rs[0]["group"]; w = wall[m]
    ws = [float(r["wall_s"]) for r in rs]
    cpu = st.median((float(r["user_s"]) + float(r["sys_s"])) / float(r["wall_s"]) * 100 for r in rs)
    rss = st.median(int(r["maxrss_kb"]) for r in rs) / 1024
    src = med(rs, "src_cpu_s"); tgt = med(rs, "tgt_cpu_s")
    other = st.median(float(r["machine_busy_s"]) - float(r["src_cpu_s"]) - float(r["tgt_cpu_s"]) - float(r["user_s"]) - float(r["sys_s"]) for r in rs)
    ratio = f"{w / wall[ref[g]]:.2f}" if ref[g] in wall else "-"
    ok = "yes" if all(r["ok"] == "yes" for r in rs) else "; ".join(sorted(set(r["ok"] for r in rs)))
    print(f"| {labels[m]} | {'public.big' if g == 'table' else 'database'} | {len(rs)} | {w:.1f} | {min(ws):.1f}-{max(ws):.1f} | "
          f"{size[g] / 1e6 / w:.1f} | {ratio} | {cpu:.0f} | {rss:.0f} | {src:.1f} ({src / w:.2f}) | {tgt:.1f} ({tgt / w:.2f}) | {other:.1f} | {ok} |")
print()
print("### Every run")
print()
print("pgcutover phases: the `phases:` line of its summary.")
print()
print("| method | rep | wall s | client user+sys s | client peak RSS MB | source CPU s | target CPU s | machine busy s | load1 at end | ok | pgcutover phases |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
logdir = os.path.dirname(os.environ["RUNS"])
for r in runs:
    phases = ""
    try:
        for line in open(os.path.join(logdir, f"{r['method']}-r{r['rep']}.log"), errors="replace"):
            if line.startswith("phases:"): phases = line[len("phases:"):].strip()
    except OSError:
        pass
    print(f"| {r['method']} | {r['rep']} | {float(r['wall_s']):.1f} | {float(r['user_s']) + float(r['sys_s']):.1f} | "
          f"{int(r['maxrss_kb']) / 1024:.0f} | {r['src_cpu_s']} | {r['tgt_cpu_s']} | {r['machine_busy_s']} | {r['load1']} | {r['ok']} | {phases} |")
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
