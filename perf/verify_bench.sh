#!/usr/bin/env bash
# How long `pgcutover verify` takes on public.big, next to a single-query
# whole-table hash run on both servers at once and to the copy itself. Reuses
# the clusters and source data of perf/copy_bench.sh (run that first, same --scale).
#
#   perf/verify_bench.sh                        # 3 repetitions of everything, ~8 min
#   perf/verify_bench.sh --reps 1 --extra-reps 0
#
# Setup (once, untimed unless said): target database `bench` dropped and
# recreated, `pgcutover copy --table public.big --jobs 2` into it (creates the
# table with its primary key and leaves the job's 7 ranges in the ledger, which
# verify reuses); one client-hash verify right after the copy (timed and shown
# apart: it pays for setting hint bits on the fresh rows); VACUUM (FREEZE,
# ANALYZE) of the target's public.big (the source's was frozen when generated),
# so every timed reader finds the same state on both sides.
#
# Methods, alternated (each repetition starts at a different method), each after
# `sync` and CHECKPOINT on both servers:
#   client_j2  pgcutover verify --table public.big --mode hash --hash client --jobs 2
#   server_j2  pgcutover verify --table public.big --mode hash --hash server --jobs 2
#   count_j2   pgcutover verify --table public.big --mode count --jobs 2
#   sql_md5    one whole-table hash query on each server, both at once:
#              SELECT md5(string_agg(md5(t::text), '' ORDER BY id)) FROM public.big t
#              (the script first tries string_agg(t::text, ...), which fails with
#              "out of memory" above 1 GB of text; it says which one it used)
#   copy_j2    pgcutover copy --table public.big --jobs 2 into an index-less empty
#              table of database bench_copy on the target (as copy_bench.sh's (a))
#   variants (--extra-reps): client_j1, client_j3, server_j1, server_j3
#
# Options:
#   --scale F        data size of the source (default 1)
#   --reps N         repetitions of the main methods (default 3)
#   --extra-reps N   repetitions of the --jobs 1/3 variants (default: --reps)
#   --methods LIST   comma-separated subset of the methods above
#   --no-build       do not (re)build build-perf/pgcutover first
#   --keep-running   leave both clusters running at the end
#   --report DIR     only print the report of an earlier run again (DIR: its log folder)
#
# Prints a markdown report on stdout, also saved with the raw figures
# (runs.tsv) and one log per run in perf/out/logs/verify-<stamp>/.
set -euo pipefail

CMDLINE="perf/verify_bench.sh${*:+ $*}"
SCALE=1; REPS=3; EXTRA_REPS=; BUILD=1; KEEP=0; REPORT_ONLY=
METHODS=client_j2,server_j2,count_j2,sql_md5,copy_j2,client_j1,client_j3,server_j1,server_j3
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --extra-reps) EXTRA_REPS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    --report) REPORT_ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "verify_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
: "${EXTRA_REPS:=$REPS}"

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=source-s$SCALE; TGT=target
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/verify-$STAMP
[ -n "$REPORT_ONLY" ] || mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The report, from $RUNS and the variables meta.sh keeps.
report() {
export RUNS BIG_BYTES LABELS SETUP_COPY FIRST_VERIFY FULL_TRY
{
  echo "## pgcutover verify benchmark ($STAMP)"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- PostgreSQL $PG_VERSION (perf/lib.sh settings); pgcutover $PGC_VERSION"
  echo "- data: public.big, $BIG_ROWS rows, $(awk -v b="$BIG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB heap + TOAST on the source (MB = 10^6 bytes); verify uses the copy job's $RANGES ranges"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, at the first timed run $LOAD_START, after $LOAD_AFTER; timed part $T_TOTAL s"
  echo "- reps: $REPS (main), $EXTRA_REPS (variants); methods alternated, each repetition starting at a different method"
  echo "- single-query hash used: \`$SQL_USED\` ($SQL_NOTE)"
  echo "- VACUUM (FREEZE, ANALYZE) of the target's public.big after the setup copy: $VACUUM_S s"
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
labels = {k: v.replace("|", "\\|") for k, v in (l.split("\t", 1) for l in os.environ["LABELS"].strip().split("\n"))}
size = int(os.environ["BIG_BYTES"])
by = {}
for r in runs: by.setdefault(r["method"], []).append(r)
def med(rs, k): return st.median(float(r[k]) for r in rs)
wall = {m: med(rs, "wall_s") for m, rs in by.items()}
def one(s):
    w, u, sy, rss, src, tgt, busy, rc = s.split()
    return float(w), float(u) + float(sy), int(rss), float(src), float(tgt), float(busy), rc
print("### Results (medians)")
print()
print("MB/s = public.big's heap + TOAST on the source / wall time. vs e / vs d = time ratio to the copy (e) / to the single-query hash (d); < 1 is faster.")
print("Engine CPU = user+sys of the client process tree (`/usr/bin/time`): pgcutover, or the two psql for (d). Server CPU = utime+stime of all processes of each cluster during the run (s, and cores on average). Other = machine busy minus both clusters and the client.")
print()
print("Work CPU s = engine + source + target CPU: the work a method needs whatever else runs on the machine (on 2 cores, wall time cannot be below half of it).")
print()
print("| method | runs | median s | min-max s | MB/s | vs e (copy) | vs d (1 query) | engine CPU s | engine CPU % of a core | engine peak RSS MB | source CPU s (cores) | target CPU s (cores) | work CPU s | other CPU s | ok |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for m in labels:
    rs = by.get(m)
    if not rs: continue
    w = wall[m]; ws = [float(r["wall_s"]) for r in rs]
    cpu = st.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
    rss = st.median(int(r["maxrss_kb"]) for r in rs) / 1024
    src = med(rs, "src_cpu_s"); tgt = med(rs, "tgt_cpu_s")
    other = st.median(float(r["machine_busy_s"]) - float(r["src_cpu_s"]) - float(r["tgt_cpu_s"]) - float(r["user_s"]) - float(r["sys_s"]) for r in rs)
    ve = f"{w / wall['copy_j2']:.2f}" if "copy_j2" in wall else "-"
    vd = f"{w / wall['sql_md5']:.2f}" if "sql_md5" in wall else "-"
    ok = "yes" if all(r["ok"] == "yes" for r in rs) else "; ".join(sorted(set(r["ok"] for r in rs)))
    print(f"| {labels[m]} | {len(rs)} | {w:.1f} | {min(ws):.1f}-{max(ws):.1f} | {size / 1e6 / w:.0f} | {ve} | {vd} | {cpu:.1f} | {cpu / w * 100:.0f} | {rss:.0f} | "
          f"{src:.1f} ({src / w:.2f}) | {tgt:.1f} ({tgt / w:.2f}) | {cpu + src + tgt:.1f} | {other:.1f} | {ok} |")
print()
print("Setup and one-off runs (not alternated, one run each):")
print()
print("| run | wall s | engine CPU s | source CPU s | target CPU s | rc |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name, key in (("setup: copy --table public.big --jobs 2 into a fresh database (creates table and primary key)", "SETUP_COPY"),
                  ("first verify --hash client --jobs 2 right after that copy (sets hint bits on the target)", "FIRST_VERIFY"),
                  ("single query in the plain form string_agg(t::text ...), both servers", "FULL_TRY")):
    w, c, rss, s, t, b, rc = one(os.environ[key])
    print(f"| {name} | {w:.1f} | {c:.1f} | {s:.1f} | {t:.1f} | {rc} |")
print()
print("### Every run")
print()
print("| method | rep | wall s | engine user+sys s | engine peak RSS MB | source CPU s | target CPU s | machine busy s | load1 at end | ok |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in runs:
    print(f"| {r['method']} | {r['rep']} | {float(r['wall_s']):.1f} | {float(r['user_s']) + float(r['sys_s']):.1f} | {int(r['maxrss_kb']) / 1024:.0f} | "
          f"{r['src_cpu_s']} | {r['tgt_cpu_s']} | {r['machine_busy_s']} | {r['load1']} | {r['ok']} |")
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
}
}

if [ -n "$REPORT_ONLY" ]; then
  LOGDIR=$(cd "$REPORT_ONLY" && pwd); RUNS=$LOGDIR/runs.tsv
  . "$LOGDIR/meta.sh"
  report
  exit 0
fi

if [ "$BUILD" -eq 1 ]; then
  log "building $BIN"
  (cd "$ROOT" && cmake -S . -B build-perf -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_BUILD_TESTS=OFF \
      -DPGCUTOVER_BUILD_BENCH=OFF >"$LOGDIR/build.log" 2>&1 &&
   cmake --build build-perf --target pgcutover -j2 >>"$LOGDIR/build.log" 2>&1) ||
    { echo "build failed, see $LOGDIR/build.log" >&2; tail -n 30 "$LOGDIR/build.log" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
[ -f "$(perf_cluster_dir "$SRC")/bench_ready" ] ||
  { echo "no source data for scale $SCALE: run perf/copy_bench.sh --scale $SCALE first" >&2; exit 1; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(perf_top_snapshot)
log "load before: $LOAD_BEFORE"
perf_cluster_start "$SRC"; perf_cluster_start "$TGT"
cleanup() { [ "$KEEP" -eq 1 ] || { perf_cluster_stop "$SRC" || true; perf_cluster_stop "$TGT" || true; }; }
trap cleanup EXIT
SRC_ADMIN=$(perf_conninfo "$SRC" postgres); SRC_CI=$(perf_conninfo "$SRC" bench)
TGT_ADMIN=$(perf_conninfo "$TGT" postgres); TGT_CI=$(perf_conninfo "$TGT" bench)
COPY_CI=$(perf_conninfo "$TGT" bench_copy)
q() { perf_psql -d "$1" -Atc "$2"; }

BIG_BYTES=$(q "$SRC_CI" "SELECT pg_total_relation_size('public.big') - pg_indexes_size('public.big')")
BIG_ROWS=$(q "$SRC_CI" "SELECT count(*) FROM public.big")
PG_VERSION=$(q "$SRC_CI" "SHOW server_version")
log "public.big: $BIG_ROWS rows, $BIG_BYTES bytes (heap + TOAST)"
DBOID=$(q "$SRC_ADMIN" "SELECT oid FROM pg_database WHERE datname = 'bench'")
cat "$(perf_cluster_dir "$SRC")/data/base/$DBOID"/* >/dev/null 2>&1 ||
  echo "warning: the source database files were not all read into the page cache; the first timed run may include disk reads" >&2

checkpoint_both() { sync; perf_psql -d "$TGT_ADMIN" -c CHECKPOINT; perf_psql -d "$SRC_ADMIN" -c CHECKPOINT; }

# ---------------------------------------------------------------- setup: the copy to verify
perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" \
  -c "CREATE DATABASE bench" 2>/dev/null
checkpoint_both
log "setup: pgcutover copy --table public.big --jobs 2 into a fresh target database"
SETUP_COPY=$(perf_measure "$SRC" "$TGT" "$LOGDIR/setup-copy.log" "$BIN" copy --source "$SRC_CI" --target "$TGT_CI" --table public.big --jobs 2)
[ "$(echo "$SETUP_COPY" | cut -d' ' -f8)" = 0 ] || { echo "setup copy failed:" >&2; tail -n 20 "$LOGDIR/setup-copy.log" >&2; exit 1; }
[ "$(q "$TGT_CI" "SELECT count(*) FROM public.big")" = "$BIG_ROWS" ] || { echo "setup copy: wrong row count" >&2; exit 1; }
RANGES=$(q "$TGT_CI" "SELECT count(*) FROM pgcutover.ranges")
log "setup copy: $SETUP_COPY ($RANGES ranges)"
checkpoint_both
FIRST_VERIFY=$(perf_measure "$SRC" "$TGT" "$LOGDIR/first-verify.log" "$BIN" verify --source "$SRC_CI" --target "$TGT_CI" \
  --table public.big --mode hash --hash client --jobs 2)
log "first verify after the copy (hint bits): $FIRST_VERIFY"
t0=$(date +%s.%N)
perf_psql -d "$TGT_CI" -c "VACUUM (FREEZE, ANALYZE) public.big"
VACUUM_S=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
log "VACUUM (FREEZE, ANALYZE) of the target's public.big: $VACUUM_S s"
TGT_DBOID=$(q "$TGT_ADMIN" "SELECT oid FROM pg_database WHERE datname = 'bench'")
cat "$(perf_cluster_dir "$TGT")/data/base/$TGT_DBOID"/* >/dev/null 2>&1 ||
  echo "warning: the source database files were not all read into the page cache; the first timed run may include disk reads" >&2

# The single-query hash: the plain form first; it needs the whole table as one
# text value, which PostgreSQL caps at 1 GB.
SQL_FULL="SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM public.big t"
SQL_MD5="SELECT md5(string_agg(md5(t::text), '' ORDER BY id)) FROM public.big t"
both_sides() {  # both_sides SQL OUTPREFIX: the query on both servers at once
  bash -c '"$1" -X -q -v ON_ERROR_STOP=1 -d "$2" -Atc "$4" >"$5.src" 2>&1 & p1=$!
           "$1" -X -q -v ON_ERROR_STOP=1 -d "$3" -Atc "$4" >"$5.tgt" 2>&1 & p2=$!
           rc=0; wait $p1 || rc=1; wait $p2 || rc=1; exit $rc' _ "$PG_BIN/psql" "$SRC_CI" "$TGT_CI" "$1" "$2"
}
checkpoint_both
export -f both_sides; export PG_BIN SRC_CI TGT_CI
FULL_TRY=$(perf_measure "$SRC" "$TGT" "$LOGDIR/sql-full-try.log" bash -c 'both_sides "$1" "$2"' _ "$SQL_FULL" "$LOGDIR/sql-full-try")
if [ "$(echo "$FULL_TRY" | cut -d' ' -f8)" = 0 ]; then
  SQL_USED=$SQL_FULL; SQL_NOTE="the plain form worked"
else
  SQL_USED=$SQL_MD5
  SQL_NOTE="the plain form failed after $(echo "$FULL_TRY" | cut -d' ' -f1) s: source: $(tr '\n' ' ' <"$LOGDIR/sql-full-try.src") / target: $(tr '\n' ' ' <"$LOGDIR/sql-full-try.tgt")"
fi
log "single-query hash: $SQL_NOTE"

# ---------------------------------------------------------------- methods
method_label() {
  case $1 in
    client_j2) echo "a. verify --mode hash --hash client --jobs 2" ;;
    server_j2) echo "b. verify --mode hash --hash server --jobs 2" ;;
    count_j2) echo "c. verify --mode count --jobs 2" ;;
    sql_md5) echo "d. one hash query per server, both at once" ;;
    copy_j2) echo "e. copy --table public.big --jobs 2 (index-less empty table)" ;;
    client_j1) echo "a1. verify --hash client --jobs 1" ;;
    client_j3) echo "a3. verify --hash client --jobs 3" ;;
    server_j1) echo "b1. verify --hash server --jobs 1" ;;
    server_j3) echo "b3. verify --hash server --jobs 3" ;;
  esac
}
method_cmd() {
  local v=("$BIN" verify --source "$SRC_CI" --target "$TGT_CI" --table public.big)
  case $1 in
    client_j*) CMD=("${v[@]}" --mode hash --hash client --jobs "${1#client_j}") ;;
    server_j*) CMD=("${v[@]}" --mode hash --hash server --jobs "${1#server_j}") ;;
    count_j2) CMD=("${v[@]}" --mode count --jobs 2) ;;
    sql_md5) CMD=(bash -c 'both_sides "$1" "$2"' _ "$SQL_USED" "$LOGDIR/$1-r$2") ;;
    copy_j2) CMD=("$BIN" copy --source "$SRC_CI" --target "$COPY_CI" --table public.big --jobs 2) ;;
  esac
}

RUNS=$LOGDIR/runs.tsv
printf 'method\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\trc\tload1\tok\n' >"$RUNS"
run_one() {
  local m=$1 rep=$2 out res rc ok n h1 h2
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)" 2>/dev/null
  if [ "$m" = copy_j2 ]; then
    perf_psql -d "$TGT_ADMIN" -c "CREATE DATABASE bench_copy"
    perf_psql -d "$COPY_CI" -c "CREATE TABLE public.big (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb, note text)"
  fi
  checkpoint_both
  method_cmd "$m" "$rep"
  out=$LOGDIR/$m-r$rep.log
  res=$(perf_measure "$SRC" "$TGT" "$out" "${CMD[@]}")
  rc=$(echo "$res" | cut -d' ' -f8)
  ok=yes
  case $m in
    sql_md5)
      h1=$(cat "$LOGDIR/$m-r$rep.src"); h2=$(cat "$LOGDIR/$m-r$rep.tgt")
      [[ "$rc" = 0 && "$h1" =~ ^[0-9a-f]{32}$ && "$h1" = "$h2" ]] || ok="BAD(rc=$rc source '$h1' target '$h2')" ;;
    copy_j2)
      n=$(q "$COPY_CI" "SELECT count(*) FROM public.big" 2>/dev/null || echo none)
      [[ "$rc" = 0 && "$n" = "$BIG_ROWS" ]] || ok="BAD(rc=$rc rows $n)" ;;
    *)
      [[ "$rc" = 0 ]] && grep -q '^OK: ' "$out" || ok="BAD(rc=$rc: $(grep -E '^(OK|DIFFERENCES)' "$out" | head -n 1))" ;;
  esac
  [ "$ok" = yes ] || { log "$m rep $rep: $ok"; tail -n 10 "$out" >&2; }
  printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$rep" "$(echo "$res" | tr ' ' '\t')" "$(cut -d' ' -f1 /proc/loadavg)" "$ok" >>"$RUNS"
  log "$(printf '%-10s rep %d: %s  load %s  %s' "$m" "$rep" "$res" "$(cut -d' ' -f1 /proc/loadavg)" "$ok")"
}

IFS=, read -r -a SELECTED <<<"$METHODS"
MAIN=(); EXTRA=()
for m in "${SELECTED[@]}"; do
  [ -n "$(method_label "$m")" ] || { echo "unknown method $m" >&2; exit 2; }
  case $m in client_j1|client_j3|server_j1|server_j3) EXTRA+=("$m") ;; *) MAIN+=("$m") ;; esac
done
MAXREP=$(( REPS > EXTRA_REPS ? REPS : EXTRA_REPS ))
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
for rep in $(seq 1 "$MAXREP"); do
  list=()
  [ "$rep" -le "$REPS" ] && list+=("${MAIN[@]}")
  [ "$rep" -le "$EXTRA_REPS" ] && list+=("${EXTRA[@]}")
  n=${#list[@]}
  [ "$n" -gt 0 ] || continue
  for i in $(seq 0 $((n - 1))); do run_one "${list[$(( (i + rep - 1) % n ))]}" "$rep"; done
done
T_TOTAL=$(( $(date +%s) - T_START ))
perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)" 2>/dev/null
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_AFTER=$(perf_top_snapshot)
log "load after: $LOAD_AFTER; timed part took $T_TOTAL s"

LABELS=$(for m in "${SELECTED[@]}"; do printf '%s\t%s\n' "$m" "$(method_label "$m")"; done)
{
  declare -p CMDLINE LOAD_BEFORE LOAD_START LOAD_AFTER T_TOTAL REPS EXTRA_REPS TOP_BEFORE TOP_AFTER BIG_BYTES BIG_ROWS PG_VERSION STAMP \
    RANGES SQL_USED SQL_NOTE VACUUM_S SETUP_COPY FIRST_VERIFY FULL_TRY LABELS
  echo "PGC_VERSION=$(printf '%q' "$("$BIN" --version 2>/dev/null | head -n 1) at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes)')")"
} >"$LOGDIR/meta.sh"
. "$LOGDIR/meta.sh"
report | tee "$LOGDIR/report.md"
