#!/usr/bin/env bash
# Where the final sync's time goes on the target, statement by statement
# (issue 15, point 3). Uses the clusters perf/final_sync_bench.sh leaves behind
# with --keep-running (its source changes made, target database `syncbase` =
# the state before the sync):
#
#   perf/final_sync_bench.sh --scale 1 --reps 1 --methods sync --keep-running
#   perf/sync_where_time_goes.sh --reps 4
#
# Two parts, both on a fresh file copy of `syncbase` after a CHECKPOINT:
#   1. Hand-made variants of the target's work, from files the source's
#      changed rows were exported to once (so the target alone is timed,
#      psql `\timing`, in one transaction with session_replication_role =
#      replica and default_toast_compression = lz4, as pgcutover's writers):
#        extended    temp table as CREATE TEMP TABLE (LIKE) makes it, COPY, upsert
#        main        the same with the temp table's jsonb column STORAGE MAIN
#        split_main  main, but only the rows with existing keys staged and
#                    upserted; the new keys (above the target's largest) COPY
#                    straight into public.docs
#      Alternated; medians.
#   2. One `pgcutover sync` with log_statement_stats in its sessions
#      (PGOPTIONS): CPU seconds per statement kind on each server, from the
#      servers' logs.
# Report: perf/out/logs/sync-where-<stamp>/report.md.
set -euo pipefail

REPS=4; SCALE=1; BUILD=0
while [ $# -gt 0 ]; do
  case $1 in
    --reps) REPS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sync_where_time_goes.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf/pgcutover}
[ -x "$BIN" ] || { echo "no binary at $BIN (build it: see perf/README.md)" >&2; exit 1; }
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=prod-sync-source-s$SCALE; TGT=prod-sync-target
for c in "$SRC" "$TGT"; do
  [ -d "$(perf_cluster_dir "$c")/data" ] || { echo "no cluster $c: run perf/final_sync_bench.sh --scale $SCALE --keep-running first" >&2; exit 1; }
  perf_cluster_running "$c" || perf_cluster_start "$c"
done
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/sync-where-$STAMP
mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
q() { perf_psql -d "$1" -Atc "$2"; }
SRC_CI=$(perf_conninfo "$SRC" syncsrc); SRC_ADMIN=$(perf_conninfo "$SRC" postgres)
TGT_ADMIN=$(perf_conninfo "$TGT" postgres); BASE_CI=$(perf_conninfo "$TGT" syncbase); RUN_CI=$(perf_conninfo "$TGT" syncrun)
[ "$(q "$TGT_ADMIN" "SELECT count(*) FROM pg_database WHERE datname = 'syncbase'")" = 1 ] ||
  { echo "no database syncbase on $TGT: run perf/final_sync_bench.sh --keep-running first" >&2; exit 1; }

restore() {
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS syncrun WITH (FORCE)" \
    -c "CREATE DATABASE syncrun TEMPLATE syncbase STRATEGY FILE_COPY"
  sync; perf_psql -d "$TGT_ADMIN" -c CHECKPOINT; perf_psql -d "$SRC_ADMIN" -c CHECKPOINT
}

# ---------------------------------------------------------------- the changed rows, exported once
FROM=$(q "$BASE_CI" "SELECT to_char((min(point) - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
  FROM pgcutover.watermarks WHERE table_schema = 'public' AND table_name = 'docs'")
MAXID=$(q "$BASE_CI" "SELECT max(id) FROM public.docs")
DATA=$LOGDIR/data; mkdir -p "$DATA"
export_rows() {
  perf_psql -d "$SRC_CI" -c "\\copy (SELECT * FROM public.docs WHERE updated_at >= '$FROM'::timestamptz $1) TO '$DATA/$2' (FORMAT binary)"
}
export_rows "" all.bin; export_rows "AND id <= $MAXID" existing.bin; export_rows "AND id > $MAXID" new.bin
N_ALL=$(q "$SRC_CI" "SELECT count(*) FROM public.docs WHERE updated_at >= '$FROM'::timestamptz")
N_NEW=$(q "$SRC_CI" "SELECT count(*) FROM public.docs WHERE updated_at >= '$FROM'::timestamptz AND id > $MAXID")
log "changed rows since $FROM: $N_ALL ($N_NEW above the target's largest key $MAXID)"
SETCOLS=$(q "$SRC_CI" "SELECT string_agg(format('%I = EXCLUDED.%I', attname, attname), ', ' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'")

# ---------------------------------------------------------------- 1. hand-made variants
variant_sql() {
  local storage= file=all.bin extra=
  case $1 in
    main) storage="ALTER TABLE s ALTER COLUMN payload SET STORAGE MAIN;" ;;
    split_main) storage="ALTER TABLE s ALTER COLUMN payload SET STORAGE MAIN;"; file=existing.bin
                extra="\\copy public.docs FROM '$DATA/new.bin' (FORMAT binary)" ;;
  esac
  cat <<EOF
BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL default_toast_compression = lz4;
CREATE TEMP TABLE s (LIKE public.docs) ON COMMIT DROP;
$storage
\\timing on
\\copy s FROM '$DATA/$file' (FORMAT binary)
INSERT INTO public.docs SELECT * FROM s ON CONFLICT (id) DO UPDATE SET $SETCOLS;
$extra
COMMIT;
EOF
}
TSV=$LOGDIR/variants.tsv
printf 'variant\trep\twall_s\tcopy_stage_ms\tupsert_ms\tcopy_new_ms\tcommit_ms\n' >"$TSV"
VARIANTS=(extended main split_main)
for rep in $(seq 1 "$REPS"); do
  for i in 0 1 2; do
    v=${VARIANTS[$(( (i + rep - 1) % 3 ))]}
    restore
    t0=$(date +%s.%N)
    variant_sql "$v" | perf_psql -d "$RUN_CI" >"$LOGDIR/$v-r$rep.log" 2>&1
    t1=$(date +%s.%N)
    mapfile -t ms < <(grep -o 'Time: [0-9.]*' "$LOGDIR/$v-r$rep.log" | awk '{ print $2 }')
    # \timing lines: COPY into s, the upsert, [the COPY of the new keys,] COMMIT
    if [ "$v" = split_main ]; then row=("${ms[0]}" "${ms[1]}" "${ms[2]}" "${ms[3]}"); else row=("${ms[0]}" "${ms[1]}" 0 "${ms[2]}"); fi
    n=$(q "$RUN_CI" "SELECT count(*) FROM public.docs WHERE updated_at >= '$FROM'::timestamptz")
    [ "$n" = "$N_ALL" ] || { echo "$v rep $rep: $n changed rows on the target, the source has $N_ALL" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$rep" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
      "${row[@]}" >>"$TSV"
    log "$v rep $rep: $(tail -n 1 "$TSV" | cut -f3-)"
  done
done

# ---------------------------------------------------------------- 2. pgcutover sync, statement CPU
restore
SLOG=$(perf_cluster_dir "$SRC")/server.log; TLOG=$(perf_cluster_dir "$TGT")/server.log
s0=$(wc -l <"$SLOG"); t0=$(wc -l <"$TLOG")
PGOPTIONS="-c log_statement_stats=on -c log_min_error_statement=log" \
  "$BIN" sync --source "$SRC_CI" --target "$RUN_CI" --table public.docs --overlap 1s --jobs 2 --json >"$LOGDIR/sync.json" 2>"$LOGDIR/sync.err"
sleep 1  # the last statements' log lines
tail -n +"$((s0 + 1))" "$SLOG" >"$LOGDIR/source-stats.log"; tail -n +"$((t0 + 1))" "$TLOG" >"$LOGDIR/target-stats.log"

export TSV LOGDIR
"$PY" - >"$LOGDIR/report.md" <<'EOF'
import csv, json, os, re, statistics
tsv, logdir = os.environ["TSV"], os.environ["LOGDIR"]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
print("## Where the final sync's time goes (`perf/sync_where_time_goes.sh`)\n")
print("### Hand-made variants of the target's work (medians, target alone, files as input)\n")
print("| variant | runs | wall s | COPY into the stage ms | upsert ms | COPY of the new keys ms | COMMIT ms |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for v in ("extended", "main", "split_main"):
    r = [x for x in rows if x["variant"] == v]
    med = lambda k: statistics.median(float(x[k]) for x in r)
    print(f"| {v} | {len(r)} | {med('wall_s'):.2f} | {med('copy_stage_ms'):.0f} | {med('upsert_ms'):.0f} | {med('copy_new_ms'):.0f} | {med('commit_ms'):.0f} |")

def stats(fn):
    out, cur = [], None
    for line in open(fn, errors="replace"):
        if re.search(r"\] DETAIL:\s+! system usage stats", line): cur = {}
        m = re.search(r"!\s+([\d.]+) s user, ([\d.]+) s system, ([\d.]+) s elapsed", line)
        if m and cur is not None and "cpu" not in cur: cur["cpu"] = float(m[1]) + float(m[2]); cur["el"] = float(m[3])
        m = re.search(r"\] STATEMENT:\s+(.*)", line)
        if m and cur is not None and "cpu" in cur: cur["stmt"] = m[1]; out.append(cur); cur = None
    return out
def kind(s):
    for k, p in (("COPY out of public.docs (a range)", r"^COPY \(SELECT .* FROM ONLY \"public\".\"docs\""),
                 ("COPY into the stage", r"^COPY pg_temp"), ("COPY of the new keys into public.docs", r"^COPY \"public\".\"docs\""),
                 ("upsert from the stage", r"^INSERT INTO \"public\".\"docs\""), ("change counts", r"^SELECT count\(\*\)"),
                 ("key quantiles", r"pgcutover_rn"), ("COMMIT", r"^COMMIT")):
        if re.search(p, s): return k
    return "everything else (catalogs, drift, ledger, watermarks, lock watcher, set-up)"
print("\n### One `pgcutover sync --jobs 2`, CPU by statement (log_statement_stats, user + system)\n")
print("| server | statement kind | statements | CPU s | elapsed s (summed) |")
print("| --- | --- | ---: | ---: | ---: |")
for side in ("source", "target"):
    agg = {}
    for x in stats(os.path.join(logdir, f"{side}-stats.log")):
        a = agg.setdefault(kind(x["stmt"]), [0, 0.0, 0.0]); a[0] += 1; a[1] += x["cpu"]; a[2] += x["el"]
    for k, (n, c, e) in sorted(agg.items(), key=lambda kv: -kv[1][1]):
        print(f"| {side} | {k} | {n} | {c:.3f} | {e:.3f} |")
    print(f"| {side} | **all statements** | {sum(a[0] for a in agg.values())} | {sum(a[1] for a in agg.values()):.3f} | |")
j = json.load(open(os.path.join(logdir, "sync.json")))
print("\nThe sync's phases: " + ", ".join(f"{p['phase']} {p['seconds']:.2f} s" for p in j["phases"]))
print("; its ranges: " + ", ".join(f"{r['bounds']} {r['rows']} rows {r['start']:.2f}-{r['end']:.2f} s" for r in j["ranges"]))
print(f"; rows appended without a stage: {j['tables'][0].get('rows_appended')}.")
EOF
cat "$LOGDIR/report.md"
echo
echo "Report: $LOGDIR/report.md"
