#!/usr/bin/env bash
# The final sync on production-configured servers (issue 15, point 3): 1 % of
# public.docs's rows updated and 0.5 % inserted on the source after a base copy;
# `pgcutover sync` against the hand-made maneuver (psql COPY into a temp table,
# INSERT ... ON CONFLICT DO UPDATE) and against MERGE (PostgreSQL 15), with the
# foreign keys and a trigger on the target table.
#
#   perf/final_sync_bench.sh                        # scale 1 (public.docs ~1.8 GB), 5 repetitions
#   perf/final_sync_bench.sh --scale 0.05 --reps 1  # quick check of the harness
#
# Options:
#   --scale S        data size factor of perf/prod_data.sh (1 = public.docs 1.05M rows,
#                    ~1.8 GB, and public.customers 1.5M rows; default 1)
#   --reps N         repetitions of every method (default 5)
#   --methods LIST   comma-separated subset of sync,hand,merge,hand_fire,sync_walc,hand_walc,sync_base
#                    (default the first four)
#   --profile P      production (default) or bulk (perf/lib.sh's tuned-down settings)
#   --regen          regenerate the source data
#   --no-build       do not (re)build build-perf/pgcutover first
#   --keep-running   leave both clusters running at the end
#
# Clusters of its own: perf/out/prod-sync-source-s<scale> (database `syncsrc`:
# public.customers and public.docs of perf/prod_data.sh, with docs.updated_at
# indexed; generated once, reused) and perf/out/prod-sync-target.
# Each run of the script:
#   1. reverts the changes an earlier run made on the source (rows past the
#      generated ids deleted, updated_at = created_at and payload - 'rev' back),
#      VACUUM (FREEZE, ANALYZE);
#   2. base copy (not timed): `pgcutover copy --jobs 2` of the database into target
#      database `syncbase` (tables, primary keys, indexes, the foreign key
#      docs.customer_id -> customers, the watermarks); then, on the target, an audit
#      table public.docs_audit and a trigger on public.docs (AFTER INSERT OR UPDATE,
#      FOR EACH ROW, one audit row per written row); VACUUM (FREEZE, ANALYZE);
#   3. the changes on the source, one transaction: U = 1 % of public.docs's rows
#      updated (updated_at = clock_timestamp(), payload || {"rev": ...}), spread over
#      the key space, half small inline payloads, half large compressed ones; I = 0.5 %
#      new rows past the max id (copies of existing rows, so valid customer_id);
#      VACUUM (ANALYZE);
#   4. timed runs, methods alternated (each repetition starts at a different one).
#      Before each: target database `syncrun` recreated as a file copy of `syncbase`
#      (CREATE DATABASE ... TEMPLATE syncbase STRATEGY FILE_COPY: the exact pre-sync
#      state), sync, CHECKPOINT on both servers. Methods:
#        sync       pgcutover sync --table public.docs --overlap 1s --jobs 2
#                   (its writers run without triggers and foreign-key actions)
#        hand       psql COPY (SELECT * FROM public.docs WHERE updated_at >= <watermark
#                   - 1 s>) TO STDOUT (FORMAT binary) | one psql session on the target:
#                   BEGIN; SET LOCAL session_replication_role = replica (as pgcutover's
#                   writers: no trigger, no foreign-key check); CREATE TEMP TABLE s (LIKE
#                   public.docs) ON COMMIT DROP; \copy s FROM pstdin (FORMAT binary);
#                   INSERT INTO public.docs SELECT * FROM s ON CONFLICT (id) DO UPDATE
#                   SET <every other column> = EXCLUDED.<col>; COMMIT
#        merge      the same, but ANALYZE s; MERGE INTO public.docs t USING s ON t.id = s.id
#                   WHEN MATCHED THEN UPDATE SET ... WHEN NOT MATCHED THEN INSERT VALUES (...)
#        sync_base  (sync) with another build, PGCUTOVER_BASE_BIN=/path/to/pgcutover: an A/B
#                   of two builds in one run (e.g. before and after a change)
#        sync_walc  (sync) with PGOPTIONS='-c wal_compression=lz4': the writer sessions
#                   compress full-page images (a superuser setting, or GRANT SET on 15+)
#        hand_walc  (hand) with SET LOCAL wal_compression = lz4
#        hand_fire  (hand) without session_replication_role: the audit trigger fires for
#                   every written row and the foreign key is checked (what the maneuver
#                   costs when nobody turns them off)
#      Checked after each: row count of public.docs equal to the source's, and count and
#      sum(hashtext(row::text)) of the rows with updated_at >= watermark equal on both
#      sides; the trigger enabled and the foreign key validated as before the run;
#      audit rows written by the trigger are reported.
# Per run: wall s, engine (client) CPU, source and target CPU, target WAL bytes,
# engine peak RSS (largest process / summed tree). Report, runs.tsv and one log per
# run in perf/out/logs/final-sync-<stamp>/.
# At scale 1 (estimates): ~8 min to generate once, ~1.5 min base copy, ~30-40 s per
# timed run including the restore and CHECKPOINT (20 runs: ~12 min).
# --scale 0.05 --reps 1: ~1.5 min.
set -euo pipefail

CMDLINE="perf/final_sync_bench.sh${*:+ $*}"
SCALE=1; REPS=5; METHODS=sync,hand,merge,hand_fire; PROFILE=production; REGEN=0; BUILD=1; KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "final_sync_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $PROFILE in production) PFX=prod ;; bulk) PFX=prodbulk ;; *) echo "final_sync_bench.sh: --profile production or bulk" >&2; exit 2 ;; esac
export PERF_PROFILE=$PROFILE
IFS=, read -r -a METHOD_LIST <<<"$METHODS"
for m in "${METHOD_LIST[@]}"; do case $m in sync|hand|merge|hand_fire|sync_walc|hand_walc|sync_base) ;; *) echo "unknown method $m" >&2; exit 2 ;; esac; done
case ",$METHODS," in
  *,sync_base,*) [ -x "${PGCUTOVER_BASE_BIN:-}" ] || { echo "method sync_base needs PGCUTOVER_BASE_BIN=<an executable pgcutover>" >&2; exit 2; } ;;
esac

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$PERF_DIR/prod_data.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=$PFX-sync-source-s$SCALE; TGT=$PFX-sync-target
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/final-sync-$STAMP
mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [ "$BUILD" -eq 1 ]; then
  log "building $BIN"
  (cd "$ROOT" && cmake -S . -B build-perf -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGCUTOVER_BUILD_TESTS=OFF \
      -DPGCUTOVER_BUILD_BENCH=OFF >"$LOGDIR/build.log" 2>&1 &&
   cmake --build build-perf --target pgcutover -j2 >>"$LOGDIR/build.log" 2>&1) ||
    { echo "build failed, see $LOGDIR/build.log" >&2; tail -n 30 "$LOGDIR/build.log" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(perf_top_snapshot)
perf_cluster_start "$SRC"; perf_cluster_start "$TGT"
cleanup() { [ "$KEEP" -eq 1 ] || { perf_cluster_stop "$SRC" || true; perf_cluster_stop "$TGT" || true; }; }
trap cleanup EXIT
SRC_ADMIN=$(perf_conninfo "$SRC" postgres); SRC_CI=$(perf_conninfo "$SRC" syncsrc)
TGT_ADMIN=$(perf_conninfo "$TGT" postgres); BASE_CI=$(perf_conninfo "$TGT" syncbase); RUN_CI=$(perf_conninfo "$TGT" syncrun)
q() { perf_psql -d "$1" -Atc "$2"; }
READY=$(perf_cluster_dir "$SRC")/sync_ready

# ---------------------------------------------------------------- source data (once)
GEN_S=
if [ "$REGEN" -eq 1 ] || [ ! -f "$READY" ] ||
   [ "$(q "$SRC_ADMIN" "SELECT count(*) FROM pg_database WHERE datname = 'syncsrc'")" != 1 ]; then
  prod_counts "$SCALE"
  log "generating $SRC: customers $N_CUST rows, docs $N_DOCS rows"
  t0=$(date +%s); rm -f "$READY"
  perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE IF EXISTS syncsrc WITH (FORCE)" -c "CREATE DATABASE syncsrc"
  prod_generate "$SRC_CI" "$SCALE" sync
  q "$SRC_CI" "SELECT max(id) FROM public.docs" >"$READY"
  GEN_S=$(( $(date +%s) - t0 )); log "generated in $GEN_S s"
else
  log "reusing source data in $(perf_cluster_dir "$SRC") (--regen to rebuild)"
fi
N=$(cat "$READY")
U=$((N / 100)); I=$((N / 200))
[ "$U" -ge 2 ] && [ "$I" -ge 2 ] || { echo "scale too small: $N rows" >&2; exit 1; }
PG_VERSION=$(q "$SRC_CI" "SHOW server_version")
SETTINGS_Q="SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_wal_size', 'autovacuum')"

# ---------------------------------------------------------------- 1. revert
t0=$(date +%s)
perf_psql -d "$SRC_CI" -c "BEGIN" -c "DELETE FROM public.docs WHERE id > $N" \
  -c "UPDATE public.docs SET payload = payload - 'rev', updated_at = created_at WHERE updated_at <> created_at" -c COMMIT \
  -c "VACUUM (FREEZE, ANALYZE) public.docs"
log "source reverted in $(( $(date +%s) - t0 )) s"
DBOID=$(q "$SRC_ADMIN" "SELECT oid FROM pg_database WHERE datname = 'syncsrc'")
cat "$(perf_cluster_dir "$SRC")/data/base/$DBOID"/* >/dev/null 2>&1 ||
  echo "warning: the source database files were not all read into the page cache; the first timed run may include disk reads" >&2
DOCS_BYTES=$(q "$SRC_CI" "SELECT pg_total_relation_size('public.docs') - pg_indexes_size('public.docs')")
checkpoint_both() { sync; perf_psql -d "$TGT_ADMIN" -c CHECKPOINT; perf_psql -d "$SRC_ADMIN" -c CHECKPOINT; }

# ---------------------------------------------------------------- 2. base copy
perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS syncrun WITH (FORCE)" -c "DROP DATABASE IF EXISTS syncbase WITH (FORCE)" \
  -c "CREATE DATABASE syncbase"
checkpoint_both
log "base copy of syncsrc ($N docs) into syncbase"
BASE_COPY=$(perf_measure_tree "$SRC" "$TGT" "$LOGDIR/base-copy.log" "$BIN" copy --source "$SRC_CI" --target "$BASE_CI" --jobs 2)
[ "$(echo "$BASE_COPY" | cut -d' ' -f8)" = 0 ] || { echo "base copy failed:" >&2; tail -n 20 "$LOGDIR/base-copy.log" >&2; exit 1; }
log "base copy: $BASE_COPY"
perf_psql -d "$BASE_CI" <<'EOF'
CREATE TABLE public.docs_audit (id bigserial PRIMARY KEY, doc_id bigint NOT NULL, op text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION public.docs_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.docs_audit (doc_id, op) VALUES (NEW.id, TG_OP);
  RETURN NULL;
END $$;
CREATE TRIGGER docs_audit_trg AFTER INSERT OR UPDATE ON public.docs FOR EACH ROW EXECUTE FUNCTION public.docs_audit_fn();
VACUUM (FREEZE, ANALYZE);
EOF
WM=$(q "$BASE_CI" "SELECT to_char(point AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM pgcutover.watermarks
  WHERE table_schema = 'public' AND table_name = 'docs' ORDER BY point LIMIT 1")
[ -n "$WM" ] || { echo "no watermark for public.docs on syncbase" >&2; exit 1; }
FROM=$(q "$SRC_CI" "SELECT to_char(('$WM'::timestamptz - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
COLS=$(q "$SRC_CI" "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped")
SETCOLS=$(q "$SRC_CI" "SELECT string_agg(format('%I = EXCLUDED.%I', attname, attname), ', ' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'")
MERGESET=$(q "$SRC_CI" "SELECT string_agg(format('%I = s.%I', attname, attname), ', ' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'")
MERGEVALS=$(q "$SRC_CI" "SELECT string_agg('s.' || quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped")
TGT_OBJS=$(q "$BASE_CI" "SELECT (SELECT count(*) FROM pg_indexes WHERE tablename = 'docs') || ' indexes, ' ||
  (SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.docs'::regclass AND contype = 'f') || ' foreign key(s), ' ||
  (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.docs'::regclass AND NOT tgisinternal) || ' trigger(s) on public.docs'")
# The trigger enabled and the foreign key present and validated, after every run as before it.
GUARD_Q="SELECT (SELECT string_agg(tgname || '=' || tgenabled::text, ',') FROM pg_trigger WHERE tgrelid = 'public.docs'::regclass AND NOT tgisinternal) || ' ' ||
  (SELECT string_agg(conname || '=' || convalidated::text, ',') FROM pg_constraint WHERE conrelid = 'public.docs'::regclass AND contype = 'f')"
BASE_GUARD=$(q "$BASE_CI" "$GUARD_Q")
log "watermark $WM (hand-made maneuvers read updated_at >= $FROM); target: $TGT_OBJS"

# ---------------------------------------------------------------- 3. changes
su=$((2 * N / U)); si=$((2 * N / I))
t0=$(date +%s.%N)
perf_psql -d "$SRC_CI" -c "BEGIN" \
  -c "UPDATE public.docs SET updated_at = clock_timestamp(), payload = payload || jsonb_build_object('rev', '$STAMP')
      WHERE id % $su IN (37 % $su, ($((su / 2)) + 38) % $su)" \
  -c "INSERT INTO public.docs
      SELECT $N + row_number() OVER (ORDER BY id), customer_id, kind, now(), clock_timestamp(), payload || jsonb_build_object('rev', 'new')
      FROM public.docs WHERE id % $si IN (11 % $si, ($((si / 2)) + 12) % $si) AND id <= $N" \
  -c COMMIT -c "VACUUM (ANALYZE) public.docs"
CHANGE_S=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
CHANGES=$(q "$SRC_CI" "SELECT count(*) FILTER (WHERE id <= $N) || ' updated (' || count(*) FILTER (WHERE id <= $N AND id % 2 = 0) || ' with a large payload), ' ||
  count(*) FILTER (WHERE id > $N) || ' inserted' FROM public.docs WHERE updated_at >= '$WM'")
SRC_COUNT=$(q "$SRC_CI" "SELECT count(*) FROM public.docs")
SRC_HASH=$(q "$SRC_CI" "SELECT count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) FROM public.docs x WHERE updated_at >= '$WM'")
CHANGED=$(q "$SRC_CI" "SELECT count(*) FROM public.docs WHERE updated_at >= '$FROM'")
CHANGED_BYTES=$(q "$SRC_CI" "SELECT sum(pg_column_size(x)) FROM public.docs x WHERE updated_at >= '$FROM'")
log "changes: $CHANGES ($CHANGE_S s with VACUUM ANALYZE); rows read by the maneuvers: $CHANGED"

# ---------------------------------------------------------------- 4. timed runs
restore() {
  local t0; t0=$(date +%s.%N)
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS syncrun WITH (FORCE)" \
    -c "CREATE DATABASE syncrun TEMPLATE syncbase STRATEGY FILE_COPY"
  awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'
}
PSQL="$PG_BIN/psql -X -v ON_ERROR_STOP=1"
method_cmd() {
  local m=$1 role="-c 'SET LOCAL session_replication_role = replica'" stmt
  [ "$m" = hand_fire ] && role=
  [ "$m" = hand_walc ] && role="$role -c 'SET LOCAL wal_compression = lz4'"
  case $m in
    sync) CMD=("$BIN" sync --source "$SRC_CI" --target "$RUN_CI" --table public.docs --overlap 1s --jobs 2); return ;;
    sync_base) CMD=("$PGCUTOVER_BASE_BIN" sync --source "$SRC_CI" --target "$RUN_CI" --table public.docs --overlap 1s --jobs 2); return ;;
    sync_walc) CMD=(env PGOPTIONS="-c wal_compression=lz4" "$BIN" sync --source "$SRC_CI" --target "$RUN_CI"
                    --table public.docs --overlap 1s --jobs 2); return ;;
    hand|hand_fire|hand_walc) stmt="INSERT INTO public.docs AS t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET $SETCOLS" ;;
    merge) stmt="MERGE INTO public.docs t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET $MERGESET WHEN NOT MATCHED THEN INSERT ($COLS) VALUES ($MERGEVALS)" ;;
  esac
  local analyze=
  [ "$m" = merge ] && analyze="-c 'ANALYZE s'"
  CMD=(bash -c "set -o pipefail
  $PSQL -q -d $(printf '%q' "$SRC_CI") -c $(printf '%q' "COPY (SELECT * FROM public.docs WHERE updated_at >= '$FROM'::timestamptz) TO STDOUT (FORMAT binary)") |
  $PSQL -d $(printf '%q' "$RUN_CI") -c '\\timing on' -c BEGIN $role -c 'CREATE TEMP TABLE s (LIKE public.docs) ON COMMIT DROP' \
    -c '\\copy s FROM pstdin (FORMAT binary)' $analyze -c $(printf '%q' "$stmt") -c COMMIT")
}
label() {
  case $1 in
    sync) echo "pgcutover sync --table public.docs --overlap 1s --jobs 2" ;;
    hand) echo "by hand: psql COPY pipe, temp table, INSERT ... ON CONFLICT DO UPDATE (session_replication_role = replica)" ;;
    merge) echo "by hand with MERGE (temp table, ANALYZE, MERGE; session_replication_role = replica)" ;;
    hand_fire) echo "by hand, INSERT ... ON CONFLICT, trigger and foreign key firing" ;;
    sync_walc) echo "pgcutover sync (as sync) with wal_compression = lz4 in its sessions" ;;
    sync_base) echo "pgcutover sync (as sync), the build $PGCUTOVER_BASE_BIN" ;;
    hand_walc) echo "by hand (as hand) with SET LOCAL wal_compression = lz4" ;;
  esac
}

RUNS=$LOGDIR/runs.tsv
printf 'method\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\trc\ttree_rss_kb\ttgt_wal_bytes\trestore_s\taudit_rows\tload1\tok\n' >"$RUNS"
run_one() {
  local m=$1 rep=$2 out res rc ok n h rs l0 l1 wal audit guard
  rs=$(restore)
  checkpoint_both
  method_cmd "$m"
  out=$LOGDIR/$m-r$rep.log
  l0=$(perf_wal_lsn "$TGT")
  res=$(perf_measure_tree "$SRC" "$TGT" "$out" "${CMD[@]}")
  l1=$(perf_wal_lsn "$TGT")
  wal=$(perf_wal_bytes "$TGT" "$l0" "$l1")
  rc=$(echo "$res" | cut -d' ' -f8)
  n=$(q "$RUN_CI" "SELECT count(*) FROM public.docs" 2>/dev/null || echo none)
  h=$(q "$RUN_CI" "SELECT count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) FROM public.docs x WHERE updated_at >= '$WM'" 2>/dev/null || echo none)
  audit=$(q "$RUN_CI" "SELECT count(*) FROM public.docs_audit" 2>/dev/null || echo none)
  guard=$(q "$RUN_CI" "$GUARD_Q" 2>/dev/null || echo none)
  ok=yes
  [ "$rc" = 0 ] || ok="FAILED(rc=$rc: $(grep -v '^\s*$' "$out" | tail -n 1 | tr '\t|' '  ' | cut -c1-160 || true))"
  [ "$n" = "$SRC_COUNT" ] || ok="$ok; BAD(rows $n != $SRC_COUNT)"
  [ "$h" = "$SRC_HASH" ] || ok="$ok; BAD(changed rows' count:hash $h != source $SRC_HASH)"
  [ "$guard" = "$BASE_GUARD" ] || ok="$ok; BAD(trigger / foreign key after the run: $guard, before: $BASE_GUARD)"
  ok=${ok#yes; }
  [ "$ok" = yes ] || { log "$m rep $rep: $ok"; tail -n 10 "$out" >&2; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$rep" "$(echo "$res" | tr ' ' '\t')" "$wal" "$rs" "$audit" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$ok" >>"$RUNS"
  log "$(printf '%-9s rep %d: %s  WAL %s  restore %s s  audit rows %s  %s' "$m" "$rep" "$res" "$wal" "$rs" "$audit" "$ok")"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
nm=${#METHOD_LIST[@]}
for rep in $(seq 1 "$REPS"); do
  for i in $(seq 0 $((nm - 1))); do run_one "${METHOD_LIST[$(( (i + rep - 1) % nm ))]}" "$rep"; done
done
T_TOTAL=$(( $(date +%s) - T_START ))
perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS syncrun WITH (FORCE)"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_AFTER=$(perf_top_snapshot)
log "timed part took $T_TOTAL s"

# ---------------------------------------------------------------- report
export RUNS LOGDIR DOCS_BYTES CHANGED CHANGED_BYTES
export LABELS=$(for m in "${METHOD_LIST[@]}"; do printf '%s\t%s\n' "$m" "$(label "$m")"; done)
{
  echo "## Final sync, $PROFILE profile ($STAMP)"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r); PostgreSQL $PG_VERSION"
  echo "- source settings: $(q "$SRC_ADMIN" "$SETTINGS_Q")"
  echo "- target settings: $(q "$TGT_ADMIN" "$SETTINGS_Q")"
  echo "- $("$BIN" --version 2>/dev/null | head -n 1) ($BIN) at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, at the first timed run $LOAD_START, after $LOAD_AFTER; timed part $T_TOTAL s (restores included)${GEN_S:+; data generated in $GEN_S s}"
  echo "- public.docs: $N rows after the base copy, $(awk -v b="$DOCS_BYTES" 'BEGIN { printf "%.2f", b / 1e9 }') GB heap + TOAST on the source; $(prod_docs_facts "$SRC_CI")"
  echo "- changes: $CHANGES ($U updated + $I inserted asked: 1 % and 0.5 %); rows read by the hand-made maneuvers (updated_at >= watermark - 1 s): $CHANGED, $(awk -v b="$CHANGED_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
  echo "- target: $TGT_OBJS (the trigger writes one public.docs_audit row per row written while it fires)"
  echo "- base copy (not timed): $(echo "$BASE_COPY" | awk '{ printf "%.1f s, engine peak RSS %d MB", $1, $9 / 1024 }'); watermark $WM"
  echo
  "$PY" - <<'EOF'
import csv, os, re, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
labels = {k: v.replace("|", "\\|") for k, v in (l.split("\t", 1) for l in os.environ["LABELS"].strip().split("\n"))}
by, failed = {}, {}
for r in runs:
    if r["ok"] == "yes": by.setdefault(r["method"], []).append(r)
    else: failed.setdefault(r["method"], []).append(r["ok"])
def med(rs, f): return st.median(f(r) for r in rs)
wall = {m: med(rs, lambda r: float(r["wall_s"])) for m, rs in by.items()}
print("### Results (medians of the runs that passed their check)")
print()
print("time / hand = median time / the hand-made maneuver's (issue 15's target for pgcutover sync: at most 0.70). "
      "Engine = the client processes (pgcutover, or the two psql). Target WAL = pg_wal_lsn_diff over the run.")
print()
print("| method | runs | median s | min-max s | time / hand | time / merge | engine CPU s | source CPU s | target CPU s | target WAL MB | engine peak RSS MB (process / tree) | audit rows written | restore s (not timed) | ok |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for m in labels:
    rs = by.get(m)
    if not rs:
        print(f"| {labels[m]} | 0 | | | | | | | | | | | | {'; '.join(sorted(set(failed.get(m, ['no run']))))} |"); continue
    w = wall[m]; ws = [float(r["wall_s"]) for r in rs]
    rh = f"{w / wall['hand']:.2f}" if "hand" in wall else "-"
    rm = f"{w / wall['merge']:.2f}" if "merge" in wall else "-"
    ok = "yes" if m not in failed else f"yes ({len(failed[m])} failed: {'; '.join(sorted(set(failed[m])))})"
    print(f"| {labels[m]} | {len(rs)} | {w:.2f} | {min(ws):.2f}-{max(ws):.2f} | {rh} | {rm} | "
          f"{med(rs, lambda r: float(r['user_s']) + float(r['sys_s'])):.2f} | {med(rs, lambda r: float(r['src_cpu_s'])):.2f} | "
          f"{med(rs, lambda r: float(r['tgt_cpu_s'])):.2f} | {med(rs, lambda r: int(r['tgt_wal_bytes'])) / 1e6:.1f} | "
          f"{med(rs, lambda r: int(r['maxrss_kb'])) / 1024:.0f} / {med(rs, lambda r: int(r['tree_rss_kb'])) / 1024:.0f} | "
          f"{'; '.join(sorted(set(r['audit_rows'] for r in rs)))} | {med(rs, lambda r: float(r['restore_s'])):.1f} | {ok} |")
print()
print("### Where the hand-made maneuvers spend their time (psql `\\timing` on the target, medians, ms)")
print()
print("| method | BEGIN, SET, CREATE TEMP TABLE | \\copy into the temp table (while the source streams) | ANALYZE | INSERT ... ON CONFLICT / MERGE | COMMIT |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for m in ("hand", "merge", "hand_fire"):
    rs = by.get(m)
    if not rs: continue
    rows = []
    for r in rs:
        text = open(os.path.join(os.environ["LOGDIR"], f"{m}-r{r['rep']}.log"), errors="replace").read()
        rows.append([float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", text, re.M)])
    n = min(len(x) for x in rows)
    # statements in order: BEGIN, [SET], CREATE, \copy, [ANALYZE], stmt, COMMIT
    pre = 3 if m != "hand_fire" else 2
    try:
        a = st.median(sum(x[:pre]) for x in rows); c = st.median(x[pre] for x in rows)
        an = st.median(x[pre + 1] for x in rows) if m == "merge" else None
        k = pre + (2 if m == "merge" else 1)
        s_ = st.median(x[k] for x in rows); cm = st.median(x[k + 1] for x in rows)
        print(f"| {m} | {a:.0f} | {c:.0f} | {'' if an is None else f'{an:.0f}'} | {s_:.0f} | {cm:.0f} |")
    except (IndexError, st.StatisticsError):
        print(f"| {m} | ({n} timings found, unexpected) | | | | |")
print()
print("### Every run")
print()
print("| method | rep | wall s | engine user+sys s | source CPU s | target CPU s | machine busy s | target WAL MB | peak RSS MB (process / tree) | audit rows | restore s | load1 | ok |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in runs:
    print(f"| {r['method']} | {r['rep']} | {float(r['wall_s']):.2f} | {float(r['user_s']) + float(r['sys_s']):.2f} | {r['src_cpu_s']} | {r['tgt_cpu_s']} | "
          f"{r['machine_busy_s']} | {int(r['tgt_wal_bytes']) / 1e6:.1f} | {int(r['maxrss_kb']) / 1024:.0f} / {int(r['tree_rss_kb']) / 1024:.0f} | "
          f"{r['audit_rows']} | {r['restore_s']} | {r['load1']} | {r['ok']} |")
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
