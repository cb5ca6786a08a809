#!/usr/bin/env bash
# pgcutover against its peers on the same data: pg_dump -Fc | pg_restore,
# pg_dump -Fd -j 2 + pg_restore -j 2, pgcopydb clone, and a hand-made parallel
# psql COPY pipe (public.big only). Optionally the same on `bench2x`, a copy of
# `bench` with public.big doubled, to see how each method scales.
#
#   perf/peers_bench.sh                          # 1x, 3 repetitions, then 2x once
#   perf/peers_bench.sh --reps 1 --sizes 1x      # quick
#
# Options:
#   --reps N          repetitions at 1x (default 3)
#   --reps2x N        repetitions at 2x (default 1)
#   --sizes LIST      1x,2x (default) or 1x or 2x
#   --methods LIST    subset of pgc_db,dump_fc,dump_fd,pgcopydb,pgc_big,pipe2 (2x runs only
#                     pgc_db, dump_fc and pgcopydb)
#   --stop-at HH:MM   start no timed run after this time (the report says what was skipped)
#   --prepare-only    only start the clusters and create bench2x if missing
#   --no-build        do not (re)build build-perf-peers/pgcutover first
#   --keep-running    leave the clusters this script started running
#
# Needs the source data of perf/copy_bench.sh (cluster perf/out/source-s1,
# database `bench`); reuses that cluster, and creates database `bench2x` in it
# (CREATE DATABASE ... TEMPLATE bench, then public.big doubled with ids shifted
# by max(id), then VACUUM (FREEZE, ANALYZE)). The target is its own cluster
# perf/out/peers-target (so other perf scripts' resets of `target` cannot
# collide), database `peers`, dropped and recreated before every run.
#
# Before every timed run it waits (polling every 20 s) until no other perf
# benchmark runs (pgrep -f 'sync_bench.sh|verify_bench.sh|resume_bench.sh|copy_bench.sh'),
# and records the load average right before and right after the run.
# Each run is checked: row count of public.big equals the source's; whole-database
# methods also every table's row count and the number of indexes and constraints.
#
# Raw figures and one log per run: perf/out/logs/peers-<stamp>/ (runs.tsv, report.md).
set -euo pipefail

CMDLINE="perf/peers_bench.sh${*:+ $*}"
REPS=3
REPS2X=1
SIZES=1x,2x
METHODS=pgc_db,dump_fc,dump_fd,pgcopydb,pgc_big,pipe2
STOP_AT=
PREPARE_ONLY=0
BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --reps) REPS=$2; shift 2 ;;
    --reps2x) REPS2X=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --stop-at) STOP_AT=$2; shift 2 ;;
    --prepare-only) PREPARE_ONLY=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "peers_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf-peers/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=source-s1
TGT=peers-target
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/peers-$STAMP
WORK=$PERF_OUT/peers-work          # pg_dump -Fd output, pgcopydb --dir
mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

if [ "$BUILD" -eq 1 ]; then
  log "building $BIN"
  (cd "$ROOT" && cmake -S . -B build-perf-peers -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_BUILD_TESTS=OFF \
      -DPGCUTOVER_BUILD_BENCH=OFF >"$LOGDIR/build.log" 2>&1 &&
   cmake --build build-perf-peers --target pgcutover -j2 >>"$LOGDIR/build.log" 2>&1) ||
    { echo "build failed, see $LOGDIR/build.log" >&2; tail -n 30 "$LOGDIR/build.log" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
command -v pgcopydb >/dev/null || log "pgcopydb not installed (apt-get install pgcopydb); its runs will fail"

# ---------------------------------------------------------------- clusters
STARTED=()
ensure_clusters() {
  local c
  for c in "$SRC" "$TGT"; do
    if ! perf_cluster_running "$c"; then
      perf_cluster_start "$c"
      case " ${STARTED[*]-} " in *" $c "*) ;; *) STARTED+=("$c") ;; esac
    fi
  done
}
cleanup() {
  [ "$KEEP" -eq 1 ] && return 0
  local c
  for c in "${STARTED[@]-}"; do [ -n "$c" ] && perf_cluster_stop "$c" || true; done
}
trap cleanup EXIT
ensure_clusters

ci() { perf_conninfo "$1" "$2"; }
uri() { echo "postgres://postgres@127.0.0.1:$(cat "$(perf_cluster_dir "$1")/port")/$2"; }
q() { perf_psql -d "$1" -Atc "$2"; }
[ "$(q "$(ci $SRC postgres)" "SELECT count(*) FROM pg_database WHERE datname = 'bench'")" = 1 ] ||
  { echo "no database bench in $(perf_cluster_dir $SRC): run perf/copy_bench.sh first" >&2; exit 1; }

OTHERS='sync_bench.sh|verify_bench.sh|resume_bench.sh|copy_bench.sh'
wait_idle() {
  local waited=0
  while pgrep -f "$OTHERS" >/dev/null; do
    [ "$waited" -eq 0 ] && log "another benchmark is running ($(pgrep -af "$OTHERS" | head -n 1 | cut -c1-80)); waiting"
    sleep 20; waited=$((waited + 20))
  done
  [ "$waited" -eq 0 ] || log "waited $waited s for other benchmarks"
  WAITED=$waited
}
# ---------------------------------------------------------------- bench2x
make_bench2x() {
  [ "$(q "$(ci $SRC postgres)" "SELECT count(*) FROM pg_database WHERE datname = 'bench2x'")" != 1 ] || return 0
  wait_idle
  log "creating bench2x (bench with public.big doubled)"
  local t0; t0=$(date +%s)
  perf_psql -d "$(ci $SRC postgres)" -c "DROP DATABASE IF EXISTS bench2x_tmp" \
    -c "CREATE DATABASE bench2x_tmp TEMPLATE bench"
  perf_psql -d "$(ci $SRC bench2x_tmp)" \
    -c "INSERT INTO public.big SELECT id + (SELECT max(id) FROM public.big), created_at, payload, note FROM public.big" \
    -c "VACUUM (FREEZE, ANALYZE)"
  perf_psql -d "$(ci $SRC postgres)" -c "ALTER DATABASE bench2x_tmp RENAME TO bench2x"
  log "bench2x created in $(( $(date +%s) - t0 )) s"
}
if [ "$PREPARE_ONLY" -eq 1 ]; then
  [[ ",$SIZES," == *,2x,* ]] && make_bench2x
  log "prepared"; exit 0
fi

# ---------------------------------------------------------------- source facts
USER_TABLES="FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
COUNTS_Q="SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
  SELECT 'big' t, count(*) n FROM public.big UNION ALL SELECT 'events', count(*) FROM public.events
  UNION ALL SELECT 'accounts', count(*) FROM public.pgbench_accounts UNION ALL SELECT 'tellers', count(*) FROM public.pgbench_tellers
  UNION ALL SELECT 'branches', count(*) FROM public.pgbench_branches UNION ALL SELECT 'history', count(*) FROM public.pgbench_history) s"
OBJ_Q="SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ' indexes, ' ||
  (SELECT count(*) FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = 'public') || ' constraints'"
declare -A BIG_BYTES DB_BYTES BIG_ROWS MEDIAN_ID SRC_COUNTS SRC_OBJS
source_facts() {
  local size=$1 db c oid
  db=bench; [ "$size" = 2x ] && db=bench2x
  c=$(ci $SRC $db)
  BIG_BYTES[$size]=$(q "$c" "SELECT pg_total_relation_size('public.big') - pg_indexes_size('public.big')")
  DB_BYTES[$size]=$(q "$c" "SELECT sum(pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)) $USER_TABLES")
  BIG_ROWS[$size]=$(q "$c" "SELECT count(*) FROM public.big")
  MEDIAN_ID[$size]=$(q "$c" "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM public.big")
  SRC_COUNTS[$size]=$(q "$c" "$COUNTS_Q")
  SRC_OBJS[$size]=$(q "$c" "$OBJ_Q")
  log "$db: public.big ${BIG_ROWS[$size]} rows, ${BIG_BYTES[$size]} bytes; database ${DB_BYTES[$size]} bytes; ${SRC_OBJS[$size]}"
  # Warm the page cache with the source database's files.
  oid=$(q "$(ci $SRC postgres)" "SELECT oid FROM pg_database WHERE datname = '$db'")
  cat "$(perf_cluster_dir $SRC)/data/base/$oid"/* >/dev/null 2>&1 ||
  echo "warning: the source database files were not all read into the page cache; the first timed run may include disk reads" >&2
}

# ---------------------------------------------------------------- methods
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"
method_scope() { case $1 in pgc_big|pipe2) echo table ;; *) echo db ;; esac; }
method_label() {
  case $1 in
    pgc_db) echo "a. pgcutover copy --jobs 2 (whole database)" ;;
    dump_fc) echo "b. pg_dump -Fc | pg_restore -d target" ;;
    dump_fd) echo "c. pg_dump -Fd -j 2 -f DIR; pg_restore -j 2 -d target DIR" ;;
    pgcopydb) echo "d. pgcopydb clone --table-jobs 2 --index-jobs 2" ;;
    pgc_big) echo "e. pgcutover copy --table public.big --jobs 2" ;;
    pipe2) echo "e'. 2 psql COPY binary pipes in parallel (id < median / id >= median)" ;;
  esac
}
# Sets CMD for method $1 at size $2.
method_cmd() {
  local m=$1 size=$2 db=bench s t su tu
  [ "$size" = 2x ] && db=bench2x
  s=$(ci $SRC $db); t=$(ci $TGT peers); su=$(uri $SRC $db); tu=$(uri $TGT peers)
  local qs qt; qs=$(printf '%q' "$s"); qt=$(printf '%q' "$t")
  case $m in
    pgc_db) CMD=("$BIN" copy --source "$s" --target "$t" --jobs 2) ;;
    pgc_big) CMD=("$BIN" copy --source "$s" --target "$t" --table public.big --jobs 2) ;;
    dump_fc) CMD=(bash -c "set -o pipefail
      $PG_BIN/pg_dump -Fc -d $qs | $PG_BIN/pg_restore --exit-on-error -d $qt") ;;
    dump_fd) CMD=(bash -c "set -e
      $PG_BIN/pg_dump -Fd -j 2 -f $WORK/dump -d $qs
      $PG_BIN/pg_restore --exit-on-error -j 2 -d $qt $WORK/dump") ;;
    pgcopydb) CMD=(env PATH="$PG_BIN:$PATH" pgcopydb clone --source "$su" --target "$tu"
                   --table-jobs 2 --index-jobs 2 --dir "$WORK/pgcopydb") ;;
    pipe2) CMD=(bash -c "set -o pipefail
      ( $PSQL -d $qs -c 'COPY (SELECT * FROM public.big WHERE id < ${MEDIAN_ID[$size]}) TO STDOUT (FORMAT binary)' |
        $PSQL -d $qt -c 'COPY public.big FROM STDIN (FORMAT binary)' ) & p1=\$!
      ( $PSQL -d $qs -c 'COPY (SELECT * FROM public.big WHERE id >= ${MEDIAN_ID[$size]}) TO STDOUT (FORMAT binary)' |
        $PSQL -d $qt -c 'COPY public.big FROM STDIN (FORMAT binary)' ) & p2=\$!
      wait \$p1 && wait \$p2") ;;
  esac
}

reset_target() {
  perf_psql -d "$(ci $TGT postgres)" -c "DROP DATABASE IF EXISTS peers WITH (FORCE)" -c "CREATE DATABASE peers"
  if [ "$1" = table ]; then
    perf_psql -d "$(ci $TGT peers)" -c "CREATE TABLE public.big (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb, note text)"
  fi
  rm -rf "$WORK" && mkdir -p "$WORK"
  sync
  perf_psql -d "$(ci $TGT postgres)" -c CHECKPOINT
  perf_psql -d "$(ci $SRC postgres)" -c CHECKPOINT
}

past_stop() {
  [ -n "$STOP_AT" ] || return 1
  [ "$(date +%H%M)" -ge "$(echo "$STOP_AT" | tr -d :)" ]
}

RUNS=$LOGDIR/runs.tsv
printf 'method\tsize\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\tload_before\tload_after\twaited_s\tok\n' >"$RUNS"
SKIPPED=()

run_one() {
  local m=$1 size=$2 rep=$3 scope out res lb la ok counts objs rc
  if past_stop; then SKIPPED+=("$m/$size/r$rep"); log "skip $m $size rep $rep (past --stop-at $STOP_AT)"; return 0; fi
  scope=$(method_scope "$m")
  wait_idle
  ensure_clusters    # another script may have stopped them at its end
  reset_target "$scope"
  method_cmd "$m" "$size"
  out=$LOGDIR/$m-$size-r$rep.log
  lb=$(loadavg)
  res=$(perf_measure "$SRC" "$TGT" "$out" "${CMD[@]}")
  la=$(loadavg)
  rc=${res##* }
  ok=yes
  [ "$rc" -eq 0 ] || ok="FAILED(rc=$rc)"
  counts=$(q "$(ci $TGT peers)" "SELECT count(*) FROM public.big" 2>/dev/null || echo none)
  [ "$counts" = "${BIG_ROWS[$size]}" ] || ok="$ok; BAD(big rows $counts != ${BIG_ROWS[$size]})"
  if [ "$scope" = db ]; then
    counts=$(q "$(ci $TGT peers)" "$COUNTS_Q" 2>/dev/null || echo none)
    objs=$(q "$(ci $TGT peers)" "$OBJ_Q" 2>/dev/null || echo none)
    [ "$counts" = "${SRC_COUNTS[$size]}" ] || ok="$ok; BAD(counts $counts)"
    [ "$objs" = "${SRC_OBJS[$size]}" ] || ok="$ok; BAD(objects $objs, source ${SRC_OBJS[$size]})"
  fi
  ok=${ok#yes; }
  [ "$ok" = yes ] || { log "$m $size rep $rep: $ok; log $out:"; tail -n 15 "$out" >&2; }
  read -r wall u s rss sc tc mb _ <<<"$res"
  printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$size" "$rep" "$wall" "$u" "$s" "$rss" \
    "$sc" "$tc" "$mb" "$lb" "$la" "$WAITED" "$ok" >>"$RUNS"
  log "$(printf '%-9s %s rep %d: %7.1f s  load %s -> %s  %s' "$m" "$size" "$rep" "$wall" "$lb" "$la" "$ok")"
}

LOAD_BEFORE=$(loadavg)
T_START=$(date +%s)
IFS=, read -r -a SELECTED <<<"$METHODS"
for m in "${SELECTED[@]}"; do [ -n "$(method_label "$m")" ] || { echo "unknown method $m" >&2; exit 2; }; done
if [[ ",$SIZES," == *,1x,* ]]; then
  source_facts 1x
  n=${#SELECTED[@]}
  for rep in $(seq 1 "$REPS"); do
    for i in $(seq 0 $((n - 1))); do run_one "${SELECTED[$(( (i + rep - 1) % n ))]}" 1x "$rep"; done
  done
fi
if [[ ",$SIZES," == *,2x,* ]] && ! past_stop; then
  ensure_clusters
  make_bench2x
  source_facts 2x
  L2=()
  for m in "${SELECTED[@]}"; do case $m in pgc_db|dump_fc|pgcopydb) L2+=("$m") ;; esac; done
  n=${#L2[@]}
  for rep in $(seq 1 "$REPS2X"); do
    for i in $(seq 0 $((n - 1))); do run_one "${L2[$(( (i + rep - 1) % n ))]}" 2x "$rep"; done
  done
elif [[ ",$SIZES," == *,2x,* ]]; then
  SKIPPED+=("all-2x(bench2x-not-built)"); log "2x skipped (past --stop-at $STOP_AT)"
fi
LOAD_AFTER=$(loadavg)
T_TOTAL=$(( $(date +%s) - T_START ))

# ---------------------------------------------------------------- report
export RUNS
export SIZE_INFO=$(for s in 1x 2x; do [ -n "${BIG_BYTES[$s]-}" ] && printf '%s %s %s\n' "$s" "${BIG_BYTES[$s]}" "${DB_BYTES[$s]}"; done)
export LABELS=$(for m in "${SELECTED[@]}"; do printf '%s\t%s\n' "$m" "$(method_label "$m")"; done)
{
  echo "## pgcutover vs peers ($STAMP)"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores, kernel $(uname -r); PostgreSQL $(q "$(ci $SRC postgres)" 'SHOW server_version'); $("$BIN" --version 2>/dev/null | head -n 1); $(pgcopydb --version 2>/dev/null | grep -m1 'pgcopydb version' | sed 's/^.*\(pgcopydb version\)/\1/')"
  echo "- load average (1/5/15): before $LOAD_BEFORE, after $LOAD_AFTER; timed part incl. waiting $T_TOTAL s"
  for s in 1x 2x; do [ -n "${BIG_BYTES[$s]-}" ] && echo "- $s: public.big ${BIG_ROWS[$s]} rows, $(awk -v b="${BIG_BYTES[$s]}" 'BEGIN{printf "%.1f", b/1e6}') MB; whole database $(awk -v b="${DB_BYTES[$s]}" 'BEGIN{printf "%.1f", b/1e6}') MB of table data; ${SRC_OBJS[$s]}"; done
  [ ${#SKIPPED[@]} -eq 0 ] || echo "- skipped (past --stop-at $STOP_AT): ${SKIPPED[*]}"
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
labels = dict(l.split("\t", 1) for l in os.environ["LABELS"].strip().split("\n"))
labels = {k: v.replace("|", "\\|") for k, v in labels.items()}
sizes = {}
for l in os.environ["SIZE_INFO"].strip().split("\n"):
    s, b, d = l.split(); sizes[s] = {"table": int(b), "db": int(d)}
scope = lambda m: "table" if m in ("pgc_big", "pipe2") else "db"
ref = {"table": "pgc_big", "db": "pgc_db"}
by = {}
for r in runs:
    if r["ok"] == "yes": by.setdefault((r["method"], r["size"]), []).append(r)
wall = {k: st.median(float(r["wall_s"]) for r in rs) for k, rs in by.items()}
print("### Medians (successful runs only)")
print()
print("time ratio = method / pgcutover of the same scope and size (> 1: slower than pgcutover, i.e. pgcutover is that many times faster).")
print()
print("| method | size | scope | runs | median s | min-max s | MB/s | time ratio | client CPU s | source CPU s | target CPU s |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for size in sizes:
    for m in labels:
        rs = by.get((m, size))
        if not rs: continue
        g = scope(m); w = wall[(m, size)]; ws = [float(r["wall_s"]) for r in rs]
        rw = wall.get((ref[g], size))
        ratio = f"{w / rw:.2f}" if rw else "-"
        cli = st.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
        print(f"| {labels[m]} | {size} | {'public.big' if g == 'table' else 'database'} | {len(rs)} | {w:.1f} | {min(ws):.1f}-{max(ws):.1f} | "
              f"{sizes[size][g] / 1e6 / w:.1f} | {ratio} | {cli:.1f} | "
              f"{st.median(float(r['src_cpu_s']) for r in rs):.1f} | {st.median(float(r['tgt_cpu_s']) for r in rs):.1f} |")
if "2x" in sizes and "1x" in sizes:
    print()
    print("### Scaling 1x -> 2x (median 2x time / median 1x time; data grows by "
          f"{sizes['2x']['db'] / sizes['1x']['db']:.2f}x)")
    print()
    print("| method | 1x s | 2x s | 2x / 1x |")
    print("| --- | ---: | ---: | ---: |")
    for m in labels:
        a, b = wall.get((m, "1x")), wall.get((m, "2x"))
        if a and b: print(f"| {labels[m]} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
print()
print("### Every run")
print()
print("| method | size | rep | wall s | client user+sys s | client RSS MB | source CPU s | target CPU s | machine busy s | load before | load after | waited s | ok |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |")
for r in runs:
    print(f"| {r['method']} | {r['size']} | {r['rep']} | {float(r['wall_s']):.1f} | {float(r['user_s']) + float(r['sys_s']):.1f} | "
          f"{int(r['maxrss_kb']) / 1024:.0f} | {r['src_cpu_s']} | {r['tgt_cpu_s']} | {r['machine_busy_s']} | {r['load_before']} | {r['load_after']} | {r['waited_s']} | {r['ok']} |")
EOF
  echo
  echo "Raw figures: $RUNS; per-run logs in $LOGDIR."
} | tee "$LOGDIR/report.md"
