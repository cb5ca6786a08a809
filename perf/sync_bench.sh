#!/usr/bin/env bash
# `pgcutover sync` after a base copy, against the same maneuver done by hand
# with psql, on a table of public.big's size (1x) and on one twice as large
# (2x) with the same number of changed rows. Both tables have an indexed
# `updated_at timestamptz` change column.
#
#   perf/sync_bench.sh               # 5 repetitions of each method and size: ~1.5 min base copies, ~3 min timed
#                                    # (+2 min to generate the data once, + the build)
#   perf/sync_bench.sh --reps 3
#
# Clusters of its own (so the other perf scripts, which stop and reset their
# clusters, cannot disturb it): perf/out/sync-source (database `syncsrc`) and
# perf/out/sync-target. Data, generated once and reused (--regen rebuilds):
#   public.sync1x  the rows of public.big from perf/copy_bench.sh's source
#                  (perf/out/source-s1, database bench: run copy_bench.sh first)
#                  plus updated_at = created_at; PRIMARY KEY (id), INDEX (updated_at)
#   public.sync2x  the same rows twice (the second time with id + N and created_at
#                  shifted), same keys and index
# then VACUUM (FREEZE, ANALYZE).
#
# Each run of the script:
#   1. reverts the changes an earlier run made on the source (deletes the rows
#      past the generated ids, sets payload - 'rev' and updated_at = created_at
#      back), VACUUM (FREEZE, ANALYZE);
#   2. per size, base copy (not timed): `pgcutover copy --table public.<t> --jobs 2`
#      into a fresh target database <t>_base (creates the table, its primary key
#      and index, records the watermark in pgcutover.watermarks), then
#      VACUUM (FREEZE, ANALYZE) of it there;
#   3. per size, the changes on the source, one transaction: U rows updated
#      (updated_at = clock_timestamp(), payload || {"rev": ...}), spread evenly
#      over the key space (id % S in two residues, one odd = small payload, one
#      even = 2-8 KB TOASTed payload), and I new rows past the max id (copies of
#      rows spread the same way). U = 1 % and I = 0.5 % of the 1x table's rows,
#      the same counts for 2x. Then VACUUM (ANALYZE) of the source table so no
#      timed reader pays for hint bits;
#   4. timed runs, alternated (size x method, each repetition starting at a
#      different one). Before each: target database <t>_run dropped and recreated
#      as a file copy of <t>_base (CREATE DATABASE ... TEMPLATE ... STRATEGY
#      FILE_COPY: the exact pre-sync state, watermark included), `sync`,
#      CHECKPOINT on both servers. Methods:
#        sync  pgcutover sync --table public.<t> --overlap 1s --jobs 2
#        hand  psql COPY (SELECT * FROM <t> WHERE updated_at >= <watermark - 1s>)
#              TO STDOUT (FORMAT binary) | one psql session on the target:
#              BEGIN; CREATE TEMP TABLE s (LIKE <t>) ON COMMIT DROP;
#              \copy s FROM pstdin (FORMAT binary); INSERT INTO <t> SELECT * FROM s
#              ON CONFLICT (id) DO UPDATE SET <every other column> = EXCLUDED.<col>; COMMIT
#              (watermark = pgcutover.watermarks' point on <t>_base, the copy's snapshot time)
#        hand_skip  the same with the condition sync's merge adds to skip rows that
#              are already equal: ... DO UPDATE SET ... WHERE ROW(t.*)::text IS
#              DISTINCT FROM ROW(EXCLUDED.*)::text (columns listed), to tell that
#              condition's cost from the rest of sync
#        sync_split  sync with --range-bytes 8MB: the ~25 MB of changed rows are
#              cut into 4 ranges (at key quantiles of the changed rows) that the 2
#              jobs share. With the default 256MB, sync cuts a change set past 4 MB
#              into --jobs ranges (2 here; before commit 13f8092 it stayed one range
#              and --jobs 2 had nothing to share)
#      Checked after each: row count of the target = the source's, and
#      count(*), sum(hashtext(t::text)) of the rows with updated_at >= watermark
#      equal on both sides;
#   5. per size, one more sync with -vv --json on a fresh clone (not in the
#      medians): every statement's duration, summed by kind, and the phases.
#
# Options:
#   --reps N         repetitions of each method and size (default 5)
#   --sizes LIST     comma-separated subset of 1x,2x (default both)
#   --methods LIST   comma-separated subset of sync,hand,hand_skip,sync_split (default all)
#   --regen          regenerate the source tables
#   --no-vv          skip step 5
#   --no-build       do not (re)build build-perf-sync/pgcutover first
#   --keep-running   leave both clusters running at the end
#
# Waits (polling every 20 s) while perf/copy_bench.sh, verify_bench.sh or
# resume_bench.sh run, before the generation and before every timed run.
# Prints a markdown report on stdout, also saved with runs.tsv and one log per
# run in perf/out/logs/sync-<stamp>/.
set -euo pipefail

CMDLINE="perf/sync_bench.sh${*:+ $*}"
REPS=5; SIZES=1x,2x; METHODS=sync,hand,hand_skip,sync_split; REGEN=0; VV=1; BUILD=1; KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --reps) REPS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --no-vv) VV=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sync_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf-sync/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=sync-source; TGT=sync-target; ORIG=source-s1
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/sync-$STAMP
mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
OTHERS='verify_bench.sh|resume_bench.sh|copy_bench.sh'
WAITED=0
wait_quiet() {
  local said=0
  while pgrep -f "$OTHERS" >/dev/null; do
    [ "$said" -eq 1 ] || { log "another benchmark is running ($(pgrep -af "$OTHERS" | head -n 1)); waiting"; said=1; }
    sleep 20; WAITED=$((WAITED + 20))
  done
}

if [ "$BUILD" -eq 1 ]; then
  log "building $BIN"
  (cd "$ROOT" && cmake -S . -B build-perf-sync -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_BUILD_TESTS=OFF \
      -DPGCUTOVER_BUILD_BENCH=OFF >"$LOGDIR/build.log" 2>&1 &&
   cmake --build build-perf-sync --target pgcutover -j2 >>"$LOGDIR/build.log" 2>&1) ||
    { echo "build failed, see $LOGDIR/build.log" >&2; tail -n 30 "$LOGDIR/build.log" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
# What the binary was built from (the working tree may move on while it is reused with --no-build).
BUILD_INFO=$PERF_OUT/sync-build.info
if [ "$BUILD" -eq 1 ]; then
  echo "commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' + uncommitted changes') as of $(date '+%Y-%m-%d %H:%M')" >"$BUILD_INFO"
fi
if [ -f "$BUILD_INFO" ] && ! [ "$BIN" -nt "$BUILD_INFO" ]; then BUILT_FROM=$(cat "$BUILD_INFO")
else BUILT_FROM="binary of $(date -r "$BIN" '+%Y-%m-%d %H:%M'), source commit unknown"; fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(perf_top_snapshot)
log "load before: $LOAD_BEFORE"
perf_cluster_start "$SRC"; perf_cluster_start "$TGT"
STARTED_ORIG=0
cleanup() {
  if [ "$STARTED_ORIG" -eq 1 ] && ! pgrep -f "$OTHERS" >/dev/null; then perf_cluster_stop "$ORIG" || true; fi
  [ "$KEEP" -eq 1 ] || { perf_cluster_stop "$SRC" || true; perf_cluster_stop "$TGT" || true; }
}
trap cleanup EXIT
SRC_ADMIN=$(perf_conninfo "$SRC" postgres); SRC_CI=$(perf_conninfo "$SRC" syncsrc)
TGT_ADMIN=$(perf_conninfo "$TGT" postgres)
tgt_ci() { perf_conninfo "$TGT" "$1"; }
q() { perf_psql -d "$1" -Atc "$2"; }
READY=$(perf_cluster_dir "$SRC")/sync_ready

# ---------------------------------------------------------------- source data (once)
generate() {
  wait_quiet
  [ -f "$(perf_cluster_dir "$ORIG")/bench_ready" ] ||
    { echo "no public.big to copy: run perf/copy_bench.sh first (it generates perf/out/$ORIG)" >&2; exit 1; }
  perf_cluster_running "$ORIG" || { perf_cluster_start "$ORIG"; STARTED_ORIG=1; }
  local orig_ci n t0
  orig_ci=$(perf_conninfo "$ORIG" bench)
  n=$(q "$orig_ci" "SELECT count(*) FROM public.big")
  log "generating syncsrc.public.sync1x ($n rows of public.big) and sync2x ($((2 * n)) rows)"
  t0=$(date +%s)
  rm -f "$READY"
  perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE IF EXISTS syncsrc WITH (FORCE)" -c "CREATE DATABASE syncsrc"
  perf_psql -d "$SRC_CI" -c "CREATE TABLE public.sync1x (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb, note text, updated_at timestamptz NOT NULL)"
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$orig_ci" \
      -c "COPY (SELECT id, created_at, payload, note, created_at FROM public.big) TO STDOUT (FORMAT binary)" |
    perf_psql -d "$SRC_CI" -c "COPY public.sync1x FROM STDIN (FORMAT binary)"
  [ "$STARTED_ORIG" -eq 0 ] || { pgrep -f "$OTHERS" >/dev/null || perf_cluster_stop "$ORIG"; STARTED_ORIG=0; }
  perf_psql -d "$SRC_CI" <<EOF
CREATE TABLE public.sync2x (LIKE public.sync1x);
INSERT INTO public.sync2x SELECT * FROM public.sync1x;
INSERT INTO public.sync2x
  SELECT id + $n, created_at + $n * interval '17 seconds', payload, note, created_at + $n * interval '17 seconds'
  FROM public.sync1x;
ALTER TABLE public.sync1x ADD PRIMARY KEY (id);
ALTER TABLE public.sync2x ADD PRIMARY KEY (id);
CREATE INDEX sync1x_updated_at_idx ON public.sync1x (updated_at);
CREATE INDEX sync2x_updated_at_idx ON public.sync2x (updated_at);
VACUUM (FREEZE, ANALYZE) public.sync1x;
VACUUM (FREEZE, ANALYZE) public.sync2x;
EOF
  echo "$n" >"$READY"
  GEN_S=$(( $(date +%s) - t0 ))
  log "generated in $GEN_S s"
}
GEN_S=
if [ "$REGEN" -eq 1 ] || [ ! -f "$READY" ] ||
   [ "$(q "$SRC_ADMIN" "SELECT count(*) FROM pg_database WHERE datname = 'syncsrc'")" != 1 ]; then
  generate
else
  log "reusing source data in $(perf_cluster_dir "$SRC") (--regen to rebuild)"
fi
N1=$(cat "$READY")
U=$((N1 / 100))   # rows updated, both sizes
I=$((N1 / 200))   # rows inserted, both sizes
PG_VERSION=$(q "$SRC_CI" "SHOW server_version")

IFS=, read -r -a SIZE_LIST <<<"$SIZES"
for s in "${SIZE_LIST[@]}"; do case $s in 1x|2x) ;; *) echo "unknown size $s" >&2; exit 2 ;; esac; done
IFS=, read -r -a METHOD_LIST <<<"$METHODS"
for m in "${METHOD_LIST[@]}"; do case $m in sync|hand|hand_skip|sync_split) ;; *) echo "unknown method $m" >&2; exit 2 ;; esac; done
rows_of() { [ "$1" = 1x ] && echo "$N1" || echo $((2 * N1)); }

# ---------------------------------------------------------------- 1. revert earlier changes
wait_quiet
t0=$(date +%s)
for s in "${SIZE_LIST[@]}"; do
  t=sync$s; n=$(rows_of "$s")
  q "$SRC_CI" "SELECT count(*) FILTER (WHERE id > $n) || ' inserted, ' || count(*) FILTER (WHERE updated_at <> created_at) || ' updated' FROM public.$t" |
    sed "s/^/[revert] $t: /" >&2
  perf_psql -d "$SRC_CI" -c "BEGIN" -c "DELETE FROM public.$t WHERE id > $n" \
    -c "UPDATE public.$t SET payload = payload - 'rev', updated_at = created_at WHERE updated_at <> created_at" -c COMMIT \
    -c "VACUUM (FREEZE, ANALYZE) public.$t"
done
log "source reverted to the generated state in $(( $(date +%s) - t0 )) s"
DBOID=$(q "$SRC_ADMIN" "SELECT oid FROM pg_database WHERE datname = 'syncsrc'")
cat "$(perf_cluster_dir "$SRC")/data/base/$DBOID"/* >/dev/null 2>&1 ||
  echo "warning: the page-cache warm-up read of the source failed; the first timed run may read from disk" >&2

checkpoint_both() { sync; perf_psql -d "$TGT_ADMIN" -c CHECKPOINT; perf_psql -d "$SRC_ADMIN" -c CHECKPOINT; }

# ---------------------------------------------------------------- 2. base copies, 3. changes
declare -A WM FROM TBYTES SETUP_COPY SETUP_VAC SETCOLS SKIPCOND CHANGE_S
for s in "${SIZE_LIST[@]}"; do
  t=sync$s
  TBYTES[$s]=$(q "$SRC_CI" "SELECT pg_total_relation_size('public.$t') - pg_indexes_size('public.$t')")
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS ${t}_run WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${t}_base WITH (FORCE)" \
    -c "CREATE DATABASE ${t}_base"
  checkpoint_both
  log "base copy of public.$t ($(rows_of "$s") rows, $((TBYTES[$s] / 1000000)) MB) into ${t}_base"
  SETUP_COPY[$s]=$(perf_measure "$SRC" "$TGT" "$LOGDIR/base-copy-$s.log" "$BIN" copy --source "$SRC_CI" --target "$(tgt_ci "${t}_base")" \
    --table "public.$t" --jobs 2)
  [ "$(echo "${SETUP_COPY[$s]}" | cut -d' ' -f8)" = 0 ] || { echo "base copy failed:" >&2; tail -n 20 "$LOGDIR/base-copy-$s.log" >&2; exit 1; }
  log "base copy: ${SETUP_COPY[$s]}"
  t0=$(date +%s.%N)
  perf_psql -d "$(tgt_ci "${t}_base")" -c "VACUUM (FREEZE, ANALYZE) public.$t"
  SETUP_VAC[$s]=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
  WM[$s]=$(q "$(tgt_ci "${t}_base")" "SELECT to_char(point AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM pgcutover.watermarks
    WHERE table_schema = 'public' AND table_name = '$t' ORDER BY point LIMIT 1")
  [ -n "${WM[$s]}" ] || { echo "no watermark for public.$t on ${t}_base" >&2; exit 1; }
  FROM[$s]=$(q "$SRC_CI" "SELECT to_char(('${WM[$s]}'::timestamptz - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
  SETCOLS[$s]=$(q "$SRC_CI" "SELECT string_agg(format('%I = EXCLUDED.%I', attname, attname), ', ' ORDER BY attnum) FROM pg_attribute
    WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'")
  # The condition pgcutover's merge adds to skip rows that are already equal (sql::upsert_from_stage).
  SKIPCOND[$s]=$(q "$SRC_CI" "SELECT format('ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
      string_agg('t.' || quote_ident(attname), ', ' ORDER BY attnum), string_agg('EXCLUDED.' || quote_ident(attname), ', ' ORDER BY attnum))
    FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped")
  [ "$(q "$(tgt_ci "${t}_base")" "SELECT count(*) FROM public.$t")" = "$(rows_of "$s")" ] || { echo "base copy: wrong row count" >&2; exit 1; }
  log "watermark $t: ${WM[$s]} (hand-made maneuver reads updated_at >= ${FROM[$s]}); VACUUM FREEZE on the target ${SETUP_VAC[$s]} s"
done

for s in "${SIZE_LIST[@]}"; do
  t=sync$s; n=$(rows_of "$s")
  su=$((2 * n / U)); si=$((2 * n / I))
  t0=$(date +%s.%N)
  perf_psql -d "$SRC_CI" -c "BEGIN" \
    -c "UPDATE public.$t SET updated_at = clock_timestamp(), payload = payload || jsonb_build_object('rev', '$STAMP')
        WHERE id % $su IN (37, $((su / 2 + 38)))" \
    -c "INSERT INTO public.$t
        SELECT $n + row_number() OVER (ORDER BY id), now(), payload || jsonb_build_object('rev', 'new'), note, clock_timestamp()
        FROM public.$t WHERE id % $si IN (11, $((si / 2 + 12))) AND id <= $n" \
    -c COMMIT -c "VACUUM (ANALYZE) public.$t"
  CHANGE_S[$s]=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
  log "changes on $t: $(q "$SRC_CI" "SELECT count(*) FILTER (WHERE id <= $n) || ' updated, ' || count(*) FILTER (WHERE id > $n) || ' inserted'
    FROM public.$t WHERE updated_at >= '${WM[$s]}'") (${CHANGE_S[$s]} s with VACUUM ANALYZE)"
done
SRC_COUNT_1x=; SRC_COUNT_2x=
for s in "${SIZE_LIST[@]}"; do
  t=sync$s
  declare "SRC_COUNT_$s=$(q "$SRC_CI" "SELECT count(*) FROM public.$t")"
  declare "SRC_HASH_$s=$(q "$SRC_CI" "SELECT count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) FROM public.$t x WHERE updated_at >= '${WM[$s]}'")"
  declare "CHANGED_$s=$(q "$SRC_CI" "SELECT count(*) FROM public.$t WHERE updated_at >= '${FROM[$s]}'")"
done

# ---------------------------------------------------------------- 4. timed runs
restore() {  # restore SIZE: <t>_run = a file copy of <t>_base; prints seconds
  local t=sync$1 t0
  t0=$(date +%s.%N)
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS ${t}_run WITH (FORCE)" \
    -c "CREATE DATABASE ${t}_run TEMPLATE ${t}_base STRATEGY FILE_COPY"
  awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'
}
PSQL="$PG_BIN/psql -X -v ON_ERROR_STOP=1"
method_cmd() {  # method_cmd METHOD SIZE: sets CMD
  local t=sync$2 run_ci where=
  run_ci=$(tgt_ci "${t}_run")
  case $1 in
    sync) CMD=("$BIN" sync --source "$SRC_CI" --target "$run_ci" --table "public.$t" --overlap 1s --jobs 2) ;;
    sync_split) CMD=("$BIN" sync --source "$SRC_CI" --target "$run_ci" --table "public.$t" --overlap 1s --jobs 2 --range-bytes 8MB) ;;
    syncvv) CMD=("$BIN" sync --source "$SRC_CI" --target "$run_ci" --table "public.$t" --overlap 1s --jobs 2 -vv --json) ;;
    hand|hand_skip)
      [ "$1" = hand ] || where=" WHERE ${SKIPCOND[$2]}"
      CMD=(bash -c "set -o pipefail
      $PSQL -q -d $(printf '%q' "$SRC_CI") -c $(printf '%q' "COPY (SELECT * FROM public.$t WHERE updated_at >= '${FROM[$2]}'::timestamptz) TO STDOUT (FORMAT binary)") |
      $PSQL -d $(printf '%q' "$run_ci") -c '\\timing on' -c BEGIN -c $(printf '%q' "CREATE TEMP TABLE s (LIKE public.$t) ON COMMIT DROP") \
        -c '\\copy s FROM pstdin (FORMAT binary)' \
        -c $(printf '%q' "INSERT INTO public.$t AS t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET ${SETCOLS[$2]}$where") -c COMMIT") ;;
  esac
}

RUNS=$LOGDIR/runs.tsv
printf 'size\tmethod\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\trc\tload1\trestore_s\trows_read\trows_written\tok\n' >"$RUNS"
run_one() {
  local s=$1 m=$2 rep=$3 t=sync$1 out res rc ok n h rs rr rw src_count src_hash
  wait_quiet
  rs=$(restore "$s")
  checkpoint_both
  method_cmd "$m" "$s"
  out=$LOGDIR/$s-$m-r$rep.log
  res=$(perf_measure "$SRC" "$TGT" "$out" "${CMD[@]}")
  rc=$(echo "$res" | cut -d' ' -f8)
  src_count=SRC_COUNT_$s; src_hash=SRC_HASH_$s
  n=$(q "$(tgt_ci "${t}_run")" "SELECT count(*) FROM public.$t" 2>/dev/null || echo none)
  h=$(q "$(tgt_ci "${t}_run")" "SELECT count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) FROM public.$t x WHERE updated_at >= '${WM[$s]}'" 2>/dev/null || echo none)
  ok=yes
  [ "$rc" = 0 ] || ok="FAILED(rc=$rc)"
  [ "$n" = "${!src_count}" ] || ok="BAD(rows $n != ${!src_count})"
  [ "$h" = "${!src_hash}" ] || ok="BAD(changed rows' count:hash $h != source ${!src_hash})"
  case $m in
    sync|sync_split) read -r rr rw < <(awk -v t="public.$t" '$1 == t { print $3, $5 }' "$out") || true ;;
    syncvv) read -r rr rw < <("$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); t=d["tables"][0]; print(t["rows_read"], t["rows_written"])' \
                              <"$out.json" 2>/dev/null) || true ;;
    hand|hand_skip) rr=$(awk '/^COPY [0-9]+/ { print $2 }' "$out" | tail -n 1); rw=$(awk '/^INSERT 0 [0-9]+/ { print $3 }' "$out") ;;
  esac
  [ "$ok" = yes ] || { log "$s $m rep $rep: $ok"; tail -n 10 "$out" >&2; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$m" "$rep" "$(echo "$res" | tr ' ' '\t')" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$rs" "${rr:-?}" "${rw:-?}" "$ok" >>"$RUNS"
  log "$(printf '%s %-6s rep %d: %s  load %s  restore %s s  read %s written %s  %s' "$s" "$m" "$rep" "$res" "$(cut -d' ' -f1 /proc/loadavg)" "$rs" "${rr:-?}" "${rw:-?}" "$ok")"
}

COMBOS=()
for s in "${SIZE_LIST[@]}"; do for m in "${METHOD_LIST[@]}"; do COMBOS+=("$s $m"); done; done
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
for rep in $(seq 1 "$REPS"); do
  nc=${#COMBOS[@]}
  for i in $(seq 0 $((nc - 1))); do
    # shellcheck disable=SC2086
    run_one ${COMBOS[$(( (i + rep - 1) % nc ))]} "$rep"
  done
done
T_TOTAL=$(( $(date +%s) - T_START ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- 5. -vv runs
if [ "$VV" -eq 1 ]; then
  for s in "${SIZE_LIST[@]}"; do
    # --json: the result (with the phases) on stdout, the -vv statements on stderr.
    wait_quiet
    rs=$(restore "$s"); checkpoint_both
    method_cmd syncvv "$s"
    out=$LOGDIR/$s-syncvv-r1.log
    res=$(perf_measure "$SRC" "$TGT" "$out" bash -c '"$@" >"$0.json"' "$out" "${CMD[@]}")
    t=sync$s
    h=$(q "$(tgt_ci "${t}_run")" "SELECT count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) FROM public.$t x WHERE updated_at >= '${WM[$s]}'")
    src_hash=SRC_HASH_$s; ok=yes; [ "$h" = "${!src_hash}" ] || ok="BAD(hash)"
    read -r rr rw < <("$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); t=d["tables"][0]; print(t["rows_read"], t["rows_written"])' <"$out.json") ||
      { echo "sync_bench.sh: no rows_read/rows_written in $out.json; the run is marked BAD(json)" >&2; ok="BAD(json)"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" syncvv 1 "$(echo "$res" | tr ' ' '\t')" "$(cut -d' ' -f1 /proc/loadavg)" \
      "$rs" "${rr:-?}" "${rw:-?}" "$ok" >>"$RUNS"
    log "$s syncvv: $res  $ok"
  done
fi
perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS sync1x_run WITH (FORCE)" -c "DROP DATABASE IF EXISTS sync2x_run WITH (FORCE)"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_AFTER=$(perf_top_snapshot)
log "load after: $LOAD_AFTER; timed part took $T_TOTAL s"

# ---------------------------------------------------------------- report
export RUNS LOGDIR
export SIZES_S="${SIZE_LIST[*]}"
for s in "${SIZE_LIST[@]}"; do
  c=CHANGED_$s; sc=SRC_COUNT_$s
  export "INFO_$s=$(rows_of "$s")|${TBYTES[$s]}|${WM[$s]}|${FROM[$s]}|${!c}|${!sc}|${SETUP_COPY[$s]}|${SETUP_VAC[$s]}|${CHANGE_S[$s]}"
done
{
  echo "## pgcutover sync benchmark ($STAMP)"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- PostgreSQL $PG_VERSION (perf/lib.sh settings; clusters perf/out/$SRC, perf/out/$TGT); $("$BIN" --version 2>/dev/null | head -n 1) ($BIN, Release: $BUILT_FROM)"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, at the first timed run $LOAD_START, after the timed runs $LOAD_END, at the end $LOAD_AFTER; timed part $T_TOTAL s (restores included)${GEN_S:+; data generated in $GEN_S s}; waited $WAITED s for other benchmarks"
  echo "- changes per size: $U rows updated + $I rows inserted (1 % + 0.5 % of the 1x table), the same counts for 2x; $REPS repetitions, alternated"
  echo
  "$PY" - <<'EOF'
import csv, os, re, json, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
sizes = os.environ["SIZES_S"].split()
info = {}
for s in sizes:
    rows, by, wm, frm, changed, srccount, copy, vac, chg = os.environ["INFO_" + s].split("|")
    info[s] = dict(rows=int(rows), bytes=int(by), wm=wm, frm=frm, changed=int(changed), srccount=int(srccount), copy=copy.split(), vac=vac, chg=chg)
print("### Data")
print()
print("| size | table | rows after the base copy | heap + TOAST MB (source) | rows changed (read by both) | source rows after the changes | watermark (copy snapshot) | base copy s (not timed) | VACUUM FREEZE on target s | changes + VACUUM ANALYZE on source s |")
print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
for s in sizes:
    i = info[s]
    print(f"| {s} | public.sync{s} | {i['rows']:,} | {i['bytes'] / 1e6:.0f} | {i['changed']:,} | {i['srccount']:,} | {i['wm']} | {float(i['copy'][0]):.1f} | {i['vac']} | {i['chg']} |")
print()
by = {}
for r in runs: by.setdefault((r["size"], r["method"]), []).append(r)
def med(rs, k): return st.median(float(r[k]) for r in rs)
def other(r): return float(r["machine_busy_s"]) - float(r["src_cpu_s"]) - float(r["tgt_cpu_s"]) - float(r["user_s"]) - float(r["sys_s"])
wall = {k: med(rs, "wall_s") for k, rs in by.items()}
labels = {"sync": "a. `pgcutover sync --overlap 1s --jobs 2`", "hand": "b. by hand (psql pipe, temp table, INSERT ... ON CONFLICT)",
          "hand_skip": "b'. (b) + sync's skip-unchanged WHERE", "sync_split": "a'. (a) with `--range-bytes 8MB`"}
print("### Results (medians)")
print()
print("Engine CPU = user+sys of the client processes (`/usr/bin/time`): pgcutover, or the two psql. Server CPU = utime+stime of every process of each cluster during the run (s, and cores on average). Other = machine busy minus both clusters and the client.")
print()
print("| size | method | runs | median s | min-max s | rows read / written | time / hand (b) | engine CPU s | engine peak RSS MB | source CPU s (cores) | target CPU s (cores) | other CPU s | restore s (not timed) | ok |")
print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for s in sizes:
    for m in ("sync", "sync_split", "hand", "hand_skip"):
        rs = by.get((s, m))
        if not rs: continue
        w = wall[(s, m)]; ws = [float(r["wall_s"]) for r in rs]
        cpu = st.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
        rss = st.median(int(r["maxrss_kb"]) for r in rs) / 1024
        src = med(rs, "src_cpu_s"); tgt = med(rs, "tgt_cpu_s"); oth = st.median(other(r) for r in rs)
        rw = "; ".join(sorted(set(f"{r['rows_read']} / {r['rows_written']}" for r in rs)))
        ratio = f"{w / wall[(s, 'hand')]:.2f}" if (s, "hand") in wall else ""
        ok = "yes" if all(r["ok"] == "yes" for r in rs) else "; ".join(sorted(set(r["ok"] for r in rs)))
        print(f"| {s} | {labels[m]} | {len(rs)} | {w:.2f} | {min(ws):.2f}-{max(ws):.2f} | {rw} | {ratio} | {cpu:.2f} | {rss:.0f} | "
              f"{src:.2f} ({src / w:.2f}) | {tgt:.2f} ({tgt / w:.2f}) | {oth:.2f} | {med(rs, 'restore_s'):.1f} | {ok} |")
print()
for m in ("sync", "sync_split", "hand", "hand_skip"):
    if ("1x", m) in wall and ("2x", m) in wall:
        print(f"- {m}: 2x / 1x time ratio (same number of changed rows, table twice as large) {wall[('2x', m)] / wall[('1x', m)]:.2f}" + (" (target < 1.3)" if m == "sync" else ""))
for s in sizes:
    if (s, "sync") in wall and (s, "hand") in wall:
        print(f"- {s}: sync / hand = {wall[(s, 'sync')] / wall[(s, 'hand')]:.2f} (target <= 1)" +
              (f"; sync / hand_skip = {wall[(s, 'sync')] / wall[(s, 'hand_skip')]:.2f}" if (s, "hand_skip") in wall else "") +
              (f"; sync_split / hand = {wall[(s, 'sync_split')] / wall[(s, 'hand')]:.2f}" if (s, "sync_split") in wall else ""))
print()

# Hand-made maneuver: psql's \timing of each statement on the target.
print("### Where the time goes")
print()
print("By hand (psql `\\timing` on the target session, medians, ms): the COPY into the temp table runs while the source streams, so it includes the source's index scan and COPY out.")
print()
print("| size | method | BEGIN + CREATE TEMP TABLE | \\copy into temp table | INSERT ... ON CONFLICT | COMMIT | wall (all) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
logdir = os.environ["LOGDIR"]
for s, hm in [(s, hm) for s in sizes for hm in ("hand", "hand_skip")]:
    rs = by.get((s, hm), [])
    cols = []
    for r in rs:
        t = [float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", open(os.path.join(logdir, f"{s}-{hm}-r{r['rep']}.log")).read(), re.M)]
        cols.append(t)
    if not cols or any(len(c) < 4 for c in cols): continue
    # \timing lines: BEGIN, CREATE, [\copy], INSERT, COMMIT (\copy is timed too in psql 15)
    n = min(len(c) for c in cols)
    if n == 5:
        parts = [st.median(c[0] + c[1] for c in cols), st.median(c[2] for c in cols), st.median(c[3] for c in cols), st.median(c[4] for c in cols)]
    else:
        parts = [st.median(c[0] + c[1] for c in cols), float("nan"), st.median(c[2] for c in cols), st.median(c[3] for c in cols)]
    print(f"| {s} | {hm} | {parts[0]:.0f} | {parts[1]:.0f} | {parts[2]:.0f} | {parts[3]:.0f} | {wall[(s, hm)] * 1000:.0f} |")
print()

rec = re.compile(r'^pgcutover: debug: (source|target) \S+ user=\S+: ([0-9.]+) ms: ?(.*)$')
def kinds(path):
    stmts, cur = [], None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = rec.match(line)
        if m:
            cur = [m.group(1), float(m.group(2)), m.group(3)]; stmts.append(cur)
        elif line.startswith("pgcutover:"):
            cur = None
        elif cur is not None:
            cur[2] += "\n" + line
    out = {}
    for side, ms, text in stmts:
        u = text.lstrip().upper()
        if side == "source" and u.startswith("SELECT COUNT(*)") and "WHERE" in u: k = "source: count of changed rows (index scan)"
        elif side == "source" and u.startswith("COPY"): k = "source: COPY (changed rows) TO STDOUT"
        elif side == "source" and ("PERCENTILE" in u or "NTILE" in u or "ROW_NUMBER" in u): k = "source: key quantiles of the changes"
        elif side == "source": k = "source: catalog, snapshot, other"
        elif u.startswith("CREATE TEMP"): k = "target: CREATE TEMP TABLE"
        elif u.startswith("COPY"): k = "target: COPY into the temp table"
        elif u.startswith("INSERT INTO") and "ON CONFLICT" in u and '"PGCUTOVER"' not in u: k = "target: INSERT ... ON CONFLICT (merge, unchanged rows skipped)"
        elif '"PGCUTOVER"' in u or "PG_ADVISORY" in u: k = "target: ledger and watermark statements"
        elif u.startswith("COMMIT"): k = "target: COMMIT"
        else: k = "target: catalog, session, other"
        n, t = out.get(k, (0, 0.0)); out[k] = (n + 1, t + ms)
    return out
for s in sizes:
    rs = by.get((s, "syncvv"))
    if not rs: continue
    r = rs[0]
    path = os.path.join(logdir, f"{s}-syncvv-r1.log")
    print(f"sync {s} with -vv --json (one run, {float(r['wall_s']):.2f} s wall, rows read / written {r['rows_read']} / {r['rows_written']}, {r['ok']}): statement durations as pgcutover logs them (COPY: until the stream ended), and its phases:")
    print()
    print("| statements | count | ms |")
    print("| --- | ---: | ---: |")
    for k, (n, t) in sorted(kinds(path).items()):
        print(f"| {k} | {n} | {t:.1f} |")
    try:
        d = json.load(open(path + ".json"))
        rg = d.get("ranges", [])
        if len(rg) == 1:
            k = kinds(path)
            inrange = sum(t for name, (n, t) in k.items() if name.startswith("target:") and "catalog" not in name)
            print(f"| COPY stream, source to temp table (the range's {rg[0]['end'] - rg[0]['start']:.3f} s minus the target statements above) | | {(rg[0]['end'] - rg[0]['start']) * 1000 - inrange:.0f} |")
        ins = [float(m.group(1)) for m in re.finditer(r'^pgcutover: debug: target \S+ user=\S+: ([0-9.]+) ms: INSERT INTO "(?!pgcutover)', open(path, errors="replace").read(), re.M)]
        for r in sorted(rg, key=lambda r: r["range"]):
            print(f"| range {r['range']} {r['bounds']} (worker {r['worker']}): {r['rows']} rows, {r['bytes'] / 1e6:.1f} MB of COPY stream, "
                  f"from {r['start']:.3f} s to {r['end']:.3f} s | | {(r['end'] - r['start']) * 1000:.0f} |")
        if len(ins) > 1:
            print(f"| merge statements, one per range (ms, in the order they ended; they run side by side): {', '.join(f'{x:.0f}' for x in ins)} | | |")
        print("| phases: " + ", ".join(f"{p['phase']} {p['seconds']:.2f} s" for p in d.get("phases", [])) + " | | |")
    except Exception as e:
        print(f"| phases: unreadable ({e}) | | |")
    print()
print("### Every run")
print()
print("| size | method | rep | wall s | engine user+sys s | engine peak RSS MB | source CPU s | target CPU s | machine busy s | load1 at end | restore s | read / written | ok |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
for r in runs:
    print(f"| {r['size']} | {r['method']} | {r['rep']} | {float(r['wall_s']):.2f} | {float(r['user_s']) + float(r['sys_s']):.2f} | {int(r['maxrss_kb']) / 1024:.0f} | "
          f"{r['src_cpu_s']} | {r['tgt_cpu_s']} | {r['machine_busy_s']} | {r['load1']} | {r['restore_s']} | {r['rows_read']} / {r['rows_written']} | {r['ok']} |")
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
