#!/usr/bin/env bash
# Text keys under a real collation (issue 24, point 1): what a table keyed by text
# costs when its databases do not sort bytewise, with the old rule (every range
# predicate under COLLATE "C", which no index serves: each range is a sequential
# scan of the whole table) against the new one (the same collation, provider,
# locale and recorded collation version on both servers: ranges compare in the
# key's own order and the primary key index serves them). Two builds of pgcutover
# on the same data, production-profile servers, PostgreSQL 15.
#
#   perf/text_keys.sh --rows 200000 --repeat 1      # quick check of the harness
#   perf/text_keys.sh                               # 1M rows, 3 repetitions
#   PGCUTOVER_BASE_BIN=/tmp/old/build/pgcutover perf/text_keys.sh --cases icu
#
# Options:
#   --rows N           rows of public.words (default 1000000)
#   --repeat R         repetitions (default 3); within one, the cases alternate and so do
#                      the two builds (each repetition and case starts at a different one)
#   --cases LIST       icu,c,icu_c (default icu,c)
#   --order O          physical order of the rows: random (default; inserted ORDER BY
#                      md5(g), unrelated to the key order in either collation) or key
#                      (inserted ORDER BY k in the database's own collation)
#   --range-bytes S    pgcutover's --range-bytes (default 8MB)
#   --jobs N           pgcutover's --jobs (default 2)
#   --timeout SECS     give up on one timed command after this long (default 7200; 0 = never)
#   --regen            regenerate the source databases
#   --keep-running     leave both clusters running at the end
#   -h, --help         this text
#
# Binaries: NEW = $PGCUTOVER_BIN (default build-dev/pgcutover of this work tree), BASE =
# $PGCUTOVER_BASE_BIN (default /tmp/fresh2/build/pgcutover: a build from before the
# change, which put every non-C text key under COLLATE "C"). Both are copied to private
# temporary files at the start and the copies are run (a rebuild meanwhile changes
# nothing); the script never builds.
#
# Cases (clusters perf/out/textkey-source and perf/out/textkey-target, production
# profile; the same database definition on both servers):
#   icu  CREATE DATABASE tk_icu TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu
#        ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'
#   c    CREATE DATABASE tk_c TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' (the control:
#        both rules use the index)
#   icu_c  the servers order the key differently: the source is icu's database (tk_icu, the
#        same rows), the target database is created as in c. BASE here should be a build
#        from before copy cut its ranges in the source's order (every range of such a key
#        under COLLATE "C"); NEW reads them through the source's key index, and its verify
#        reads each side once and compares rows summed into buckets by a hash of the key
#        (a build between the two, e.g. 91f5558, verifies by C-order ranges of its own:
#        one full scan per range on each side).
# Data (source, generated once per case and reused; --regen rebuilds): public.words
# (k text PRIMARY KEY, v text NOT NULL), N rows, the same rows in both cases:
# k = prefix || lpad(g / 60, 7, '0') || suffix, prefix from 'a','A','b','B','é','E','_',
# ' ','Z','z','ä','Å' (g % 12), suffix from '','-x',' y','Y','z' ((g / 12) % 5), i.e.
# keys whose C order and en-US order disagree (case, accents, punctuation, spaces), as
# in tests/integration/collation_test.cpp; v = 100 hex characters. VACUUM (FREEZE,
# ANALYZE), CHECKPOINT.
#
# Per case, once: `plan --range-bytes S --json` with NEW (and BASE, for its range count)
# against the empty target database: the table's key_order text and range count; and
# the baseline pipe (time only):
#   pipe         psql -c "COPY words TO STDOUT (FORMAT binary)" | psql -c "COPY words FROM
#                STDIN (FORMAT binary)" into an empty words of the same definition (its
#                primary key included) in tk_<case>_pipe on the target
# Then, each repetition, per case, per build (NEW and BASE alternating):
#   copy_<b>     pgcutover copy --source S --target T --range-bytes S --jobs N into an empty
#                target database tk_<case> (dropped and recreated right before)
#   verify_<b>   pgcutover verify --source S --target T --jobs N --range-bytes S, the same
#                build, on that target (after an untimed ANALYZE of the target's words);
#                --range-bytes only matters where verify cuts ranges of its own (no
#                ledger ranges it can use: icu_c with builds before the buckets)
# Before every timed run: both clusters settle (no autovacuum worker, up to 120 s), sync,
# CHECKPOINT on both, then SELECT pg_stat_reset() in the source database and the target
# database. Timed with perf_measure (lib.sh: wall, client user+sys and max RSS, CPU of
# each cluster and of the machine). After it: 1 s of sleep (the ended sessions flush
# their statistics), then seq_scan, seq_tup_read, idx_scan, idx_tup_fetch of public.words
# from pg_stat_user_tables on the source and the target.
# Checks: a copy or the pipe must exit 0 and leave on the target the source's row count
# and content digest (md5 over the rows in k COLLATE "C" order); a verify must exit 0 and
# print OK. A failing run is recorded as FAILED (or BAD for a wrong result) with the
# first error line of its log, never as a time.
#
# Output: perf/out/text_keys/runs.tsv (this run's raw rows, rewritten per run) and
# perf/out/text_keys/<stamp>/ (one log per run, runs.tsv, plan.tsv, summary.md). The
# summary gives per case and method the median wall time of the runs that passed, the
# rows read by sequential scans as scans' worth of the table (seq_tup_read / rows), the
# index scans, CPU, and the ratios NEW/BASE and icu/c.
# Exit status: 0 when every run passed its check, 1 when any failed, 2 for a usage error.
set -euo pipefail

CMDLINE="perf/text_keys.sh${*:+ $*}"
ROWS=1000000
REPEAT=3
CASES=icu,c
ORDER=random
RANGE_BYTES=8MB
JOBS=2
TIMEOUT=7200
REGEN=0
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --rows) ROWS=${2:?--rows N}; shift 2 ;;
    --repeat) REPEAT=${2:?--repeat R}; shift 2 ;;
    --cases) CASES=${2:?--cases LIST}; shift 2 ;;
    --order) ORDER=${2:?--order random|key}; shift 2 ;;
    --range-bytes) RANGE_BYTES=${2:?--range-bytes SIZE}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs N}; shift 2 ;;
    --timeout) TIMEOUT=${2:?--timeout SECS}; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --keep-running) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "text_keys.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
isnum "$ROWS" && [ "$ROWS" -ge 60 ] || { echo "text_keys.sh: bad --rows '$ROWS' (at least 60)" >&2; exit 2; }
isnum "$REPEAT" && [ "$REPEAT" -ge 1 ] || { echo "text_keys.sh: bad --repeat '$REPEAT'" >&2; exit 2; }
isnum "$JOBS" && [ "$JOBS" -ge 1 ] || { echo "text_keys.sh: bad --jobs '$JOBS'" >&2; exit 2; }
isnum "$TIMEOUT" || { echo "text_keys.sh: bad --timeout '$TIMEOUT'" >&2; exit 2; }
[[ $RANGE_BYTES =~ ^[0-9]+[A-Za-z]*$ ]] || { echo "text_keys.sh: bad --range-bytes '$RANGE_BYTES'" >&2; exit 2; }
case $ORDER in random|key) ;; *) echo "text_keys.sh: --order random or key" >&2; exit 2 ;; esac
IFS=, read -r -a CASE_LIST <<<"$CASES"
[ ${#CASE_LIST[@]} -gt 0 ] || { echo "text_keys.sh: --cases needs icu and/or c" >&2; exit 2; }
for c in "${CASE_LIST[@]}"; do
  case $c in icu|c|icu_c) ;; *) echo "text_keys.sh: unknown case '$c' (icu, c or icu_c)" >&2; exit 2 ;; esac
done

export PERF_PROFILE=production
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=textkey-source
TGT=textkey-target
OUTDIR=$PERF_OUT/text_keys
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$OUTDIR/$STAMP
RUNS=$OUTDIR/runs.tsv
PLANS=$LOGDIR/plan.tsv
mkdir -p "$LOGDIR"

# ---------------------------------------------------------------- binaries
declare -A ORIG BIN VERSION SHA
ORIG[new]=${PGCUTOVER_BIN:-$ROOT/build-dev/pgcutover}
ORIG[base]=${PGCUTOVER_BASE_BIN:-/tmp/fresh2/build/pgcutover}
BIN[new]=
BIN[base]=
for b in new base; do
  [ -x "${ORIG[$b]}" ] || { echo "text_keys.sh: no pgcutover binary at ${ORIG[$b]} (set $( [ $b = new ] && echo PGCUTOVER_BIN || echo PGCUTOVER_BASE_BIN))" >&2; exit 1; }
done
cleanup() {
  local rc=$?
  rm -f "${BIN[new]}" "${BIN[base]}"
  if [ "$KEEP" -eq 0 ]; then
    perf_cluster_stop "$SRC" || true   # at exit: a failed stop must not hide the run's status
    perf_cluster_stop "$TGT" || true
  else
    log "clusters left running: $(perf_conninfo "$SRC" 2>/dev/null) and $(perf_conninfo "$TGT" 2>/dev/null)"
  fi
  return $rc
}
trap cleanup EXIT
for b in new base; do
  # A private copy: a concurrent rebuild must not change the binary mid-run.
  BIN[$b]=$(mktemp "${TMPDIR:-/tmp}/pgcutover-text-keys-$b.XXXXXX")
  cp "${ORIG[$b]}" "${BIN[$b]}" && chmod 0755 "${BIN[$b]}"
  VERSION[$b]=$("${BIN[$b]}" --version 2>&1 | head -n 1) || VERSION[$b]="(--version failed: ${VERSION[$b]:-no output})"
  SHA[$b]=$(sha256sum "${BIN[$b]}" | cut -c1-12)
  log "$b: ${ORIG[$b]} copied to ${BIN[$b]} (${VERSION[$b]}, sha256 ${SHA[$b]}, built $(date -r "${ORIG[$b]}" '+%F %T'))"
done
[ "${SHA[new]}" != "${SHA[base]}" ] || log "warning: NEW and BASE are the same file (sha256 ${SHA[new]})"

# ---------------------------------------------------------------- clusters
LOAD_BEFORE=$(loadavg)
perf_cluster_start "$SRC"
perf_cluster_start "$TGT"
SRC_ADMIN=$(ci "$SRC" postgres)
TGT_ADMIN=$(ci "$TGT" postgres)
PG_VERSION=$(q "$TGT_ADMIN" "SHOW server_version")
SETTINGS_Q="SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'autovacuum', 'shared_buffers', 'work_mem')"
SRC_SETTINGS=$(q "$SRC_ADMIN" "$SETTINGS_Q")
TGT_SETTINGS=$(q "$TGT_ADMIN" "$SETTINGS_Q")

db_of() { if [ "$1" = icu_c ]; then echo tk_icu; else echo "tk_$1"; fi; }
source_case() { if [ "$1" = icu_c ]; then echo icu; else echo "$1"; fi; }  # the case whose source database it reads
create_db_sql() {  # create_db_sql CASE NAME (the target's database; the source's is its source_case's)
  case $1 in
    icu_c) echo "CREATE DATABASE $2 TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" ;;
    icu) echo "CREATE DATABASE $2 TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" ;;
    c) echo "CREATE DATABASE $2 TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" ;;
  esac
}
COLL_Q="SELECT concat_ws(' ', 'provider=' || datlocprovider::text, 'icu_locale=' || coalesce(daticulocale, '-'),
  'collate=' || datcollate, 'ctype=' || datctype, 'collversion=' || coalesce(datcollversion, '-'))
  FROM pg_database WHERE datname = current_database()"
DIGEST_Q="SELECT count(*) || ' rows, md5 ' || left(md5(coalesce(string_agg(md5(k || E'\\t' || v), '' ORDER BY k COLLATE \"C\"), '')), 16) FROM public.words"
TABLE_DDL="CREATE TABLE public.words (k text PRIMARY KEY, v text NOT NULL)"

# ---------------------------------------------------------------- source data
generate() {  # generate CASE
  local c=$1 db order_by
  db=$(db_of "$c")
  order_by="md5(g::text)"; [ "$ORDER" = key ] && order_by="k"
  perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "$(create_db_sql "$(source_case "$c")" "$db")"
  perf_psql -d "$(ci "$SRC" "$db")" -c "$TABLE_DDL" -c "
INSERT INTO public.words (k, v)
SELECT k, v FROM (
  SELECT g, (ARRAY['a', 'A', 'b', 'B', 'é', 'E', '_', ' ', 'Z', 'z', 'ä', 'Å'])[1 + g % 12] || lpad((g / 60)::text, 7, '0') ||
            (ARRAY['', '-x', ' y', 'Y', 'z'])[1 + (g / 12) % 5] AS k,
         rpad(md5(g::text), 100, md5(g::text || 'v')) AS v
    FROM generate_series(0, $ROWS - 1) g) s
ORDER BY $order_by" -c "VACUUM (FREEZE, ANALYZE) public.words"
  perf_psql -d "$SRC_ADMIN" -c CHECKPOINT
}

declare -A GEN_S SRC_DIGEST SRC_COLL SRC_BYTES
for c in "${CASE_LIST[@]}"; do
  db=$(db_of "$c")
  perf_source_db "$SRC" "$db" "$(source_case "$c")" "rows=$ROWS order=$ORDER v1" "$REGEN" \
    "generating $db on $SRC: $ROWS rows, physical order $ORDER" generate "$(source_case "$c")"
  [ -z "$PERF_GEN_S" ] || GEN_S[$c]=$PERF_GEN_S
  SRC_DIGEST[$c]=$(q "$(ci "$SRC" "$db")" "$DIGEST_Q")
  SRC_COLL[$c]=$(q "$(ci "$SRC" "$db")" "$COLL_Q")
  SRC_BYTES[$c]=$(q "$(ci "$SRC" "$db")" "SELECT pg_table_size('public.words')")
  log "$db: ${SRC_DIGEST[$c]}; table $(( SRC_BYTES[$c] / 1000000 )) MB; ${SRC_COLL[$c]}"
  [ "${SRC_DIGEST[$c]%% *}" = "$ROWS" ] || { echo "text_keys.sh: $db has ${SRC_DIGEST[$c]%% *} rows, not $ROWS (--regen)" >&2; exit 1; }
  perf_cache_db "$SRC" "$db"
done
# Same source digest in both cases: the same rows.
if [ ${#CASE_LIST[@]} -eq 2 ] && [ "${SRC_DIGEST[icu]}" != "${SRC_DIGEST[c]}" ]; then
  echo "text_keys.sh: tk_icu and tk_c differ (${SRC_DIGEST[icu]} / ${SRC_DIGEST[c]}); --regen" >&2; exit 1
fi

# ---------------------------------------------------------------- helpers
fresh_target() {  # fresh_target CASE NAME [ddl]: drop every tk_* database on the target, create NAME
  local d
  for d in $(q "$TGT_ADMIN" "SELECT datname FROM pg_database WHERE datname LIKE 'tk\\_%'"); do
    perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE $d WITH (FORCE)"
  done
  perf_psql -d "$TGT_ADMIN" -c "$(create_db_sql "$1" "$2")"
  [ -z "${3-}" ] || perf_psql -d "$(ci "$TGT" "$2")" -c "$3"
}
first_error() {  # perf_first_error LOG, "(no output)" for an empty log
  local l
  l=$(perf_first_error "$1")
  echo "${l:-(no output)}"
}
STATS_Q="SELECT concat_ws(' ', seq_scan, seq_tup_read, coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0))
  FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = 'words'"
stats_of() {  # stats_of CONNINFO: "seq_scan seq_tup_read idx_scan idx_tup_fetch", or "- - - -" without the table
  local s
  s=$(q "$1" "$STATS_Q" 2>/dev/null || true)   # no table (a failed copy): shown as "-"
  [ -n "$s" ] && echo "$s" || echo "- - - -"
}
reset_stats() {  # reset_stats CONNINFO...
  local c
  for c in "$@"; do q "$c" "SELECT pg_stat_reset()" >/dev/null; done
}

printf 'case\tmethod\tbin\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\tsrc_seq_scan\tsrc_seq_tup_read\tsrc_idx_scan\tsrc_idx_tup_fetch\ttgt_seq_scan\ttgt_seq_tup_read\ttgt_idx_scan\ttgt_idx_tup_fetch\tsettle_s\tload_before\tload_after\tok\n' >"$RUNS"
printf 'case\tbin\tranges\tkey_order\tok\n' >"$PLANS"
FAILS=0

# timed CASE METHOD BIN REP TGTDB CMD...: settle, reset the statistics, run CMD under
# perf_measure, read the statistics. Sets RES, RC, OK, LOG, LB, LA, SST, TST.
timed() {
  local c=$1 m=$2 b=$3 rep=$4 tdb=$5 sc tc
  shift 5
  sc=$(ci "$SRC" "$(db_of "$c")"); tc=$(ci "$TGT" "$tdb")
  LOG=$LOGDIR/$c-$m-r$rep.log
  local cmd=("$@")
  if [ "$TIMEOUT" -gt 0 ]; then cmd=(timeout -k 30 "$TIMEOUT" "${cmd[@]}"); fi
  printf '%q ' "${cmd[@]}" >"$LOG.cmd"; echo >>"$LOG.cmd"
  perf_settle "$SRC_ADMIN" "$TGT_ADMIN"   # both clusters quiet, then sync and CHECKPOINT
  reset_stats "$sc" "$tc"
  LB=$(loadavg)
  RES=$(perf_measure "$SRC" "$TGT" "$LOG" "${cmd[@]}")
  LA=$(loadavg)
  sleep 1   # the run's sessions report their statistics when they end
  SST=$(stats_of "$sc"); TST=$(stats_of "$tc")
  RC=${RES##* }
  OK=yes
  if [ "$RC" -eq 124 ] && [ "$TIMEOUT" -gt 0 ]; then OK="FAILED(timeout after $TIMEOUT s: $(first_error "$LOG"))"
  elif [ "$RC" -ne 0 ]; then OK="FAILED(rc=$RC: $(first_error "$LOG"))"; fi
}
check_content() {  # check_content CASE TGTDB: appends to OK when the target's words differ from the source's
  local d
  d=$(q "$(ci "$TGT" "$2")" "$DIGEST_Q" 2>&1 | tail -n 1 || true)   # the failure is the finding
  [ "$d" = "${SRC_DIGEST[$1]}" ] || OK="BAD(target: $d; source ${SRC_DIGEST[$1]})"
}
record() {  # record CASE METHOD BIN REP
  local wall u sy rss scpu tcpu mb _rc s1 s2 s3 s4 t1 t2 t3 t4
  read -r wall u sy rss scpu tcpu mb _rc <<<"$RES"
  read -r s1 s2 s3 s4 <<<"$SST"
  read -r t1 t2 t3 t4 <<<"$TST"
  printf '%s\t' "$1" "$2" "$3" "$4" "$wall" "$u" "$sy" "$rss" "$scpu" "$tcpu" "$mb" "$s1" "$s2" "$s3" "$s4" "$t1" "$t2" "$t3" "$t4" \
    "$PERF_SETTLED" "$LB" "$LA" >>"$RUNS"
  printf '%s\n' "$OK" >>"$RUNS"
  if [ "$OK" != yes ]; then
    FAILS=$((FAILS + 1))
    if [ -f "$LOG" ]; then log "$2 $1 rep $4: $OK; log $LOG:"; tail -n 15 "$LOG" >&2; fi
  fi
  log "$(printf '%-4s %-12s rep %s: %7.1f s  src CPU %.1f s  tgt CPU %.1f s  source seq_tup_read %s idx_scan %s  target seq_tup_read %s idx_scan %s  %s' \
    "$1" "$2" "$4" "$wall" "$scpu" "$tcpu" "$s2" "$s3" "$t2" "$t3" "$OK")"
}

# ---------------------------------------------------------------- per case, once: plan and pipe
declare -A KEY_ORDER RANGES TGT_COLL
for c in "${CASE_LIST[@]}"; do
  db=$(db_of "$c")
  fresh_target "$c" "$db"
  TGT_COLL[$c]=$(q "$(ci "$TGT" "$db")" "$COLL_Q")
  for b in new base; do
    out=$LOGDIR/$c-plan-$b.json
    ok=yes
    if "${BIN[$b]}" plan --source "$(ci "$SRC" "$db")" --target "$(ci "$TGT" "$db")" --range-bytes "$RANGE_BYTES" --json \
         >"$out" 2>"$out.err"; then
      parsed=$("$PY" -c '
import json, sys
p = json.load(open(sys.argv[1]))
t = [t for t in p.get("tables", []) if t.get("table") == "public.words"]
if not t: print("-\tno public.words in the plan"); sys.exit(0)
print(str(t[0].get("ranges")) + "\t" + (t[0].get("key_order") or "-"))' "$out" 2>&1) || parsed=$'-\tunreadable plan JSON'
    else
      ok="FAILED(rc=$?: $(first_error "$out.err"))"; parsed=$'-\t-'
    fi
    IFS=$'\t' read -r r k <<<"$parsed"
    [ "$r" != - ] || [ "$ok" != yes ] || ok="BAD($k)"
    RANGES[$c,$b]=$r; KEY_ORDER[$c,$b]=$k
    printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$b" "$r" "$k" "$ok" >>"$PLANS"
    log "plan $c $b: $r ranges; key_order: $k; $ok"
    # BASE may predate key_order; only NEW's plan must name the rule.
    if [ "$ok" != yes ] || { [ "$b" = new ] && [ "$k" = - ]; }; then FAILS=$((FAILS + 1)); fi
  done

  pdb=${db}_pipe
  fresh_target "$c" "$pdb" "$TABLE_DDL"
  pipe_cmd="set -o pipefail
$(printf '%q' "$PG_BIN/psql") -X -v ON_ERROR_STOP=1 -d $(printf '%q' "$(ci "$SRC" "$db")") -c 'COPY words TO STDOUT (FORMAT binary)' |
  $(printf '%q' "$PG_BIN/psql") -X -v ON_ERROR_STOP=1 -d $(printf '%q' "$(ci "$TGT" "$pdb")") -c 'COPY words FROM STDIN (FORMAT binary)'"
  timed "$c" pipe - 1 "$pdb" bash -c "$pipe_cmd"
  [ "$RC" -ne 0 ] || check_content "$c" "$pdb"
  record "$c" pipe - 1
done

# ---------------------------------------------------------------- repetitions
T_START=$(date +%s)
nc=${#CASE_LIST[@]}
for rep in $(seq 1 "$REPEAT"); do
  for i in $(seq 0 $((nc - 1))); do
    ci_=$(( (i + rep - 1) % nc ))
    c=${CASE_LIST[$ci_]}
    db=$(db_of "$c")
    if [ $(( (rep + ci_) % 2 )) -eq 1 ]; then order=(new base); else order=(base new); fi
    for b in "${order[@]}"; do
      sc=$(ci "$SRC" "$db"); tc=$(ci "$TGT" "$db")
      fresh_target "$c" "$db"
      timed "$c" "copy_$b" "$b" "$rep" "$db" \
        "${BIN[$b]}" copy --source "$sc" --target "$tc" --range-bytes "$RANGE_BYTES" --jobs "$JOBS"
      [ "$RC" -ne 0 ] || check_content "$c" "$db"
      record "$c" "copy_$b" "$b" "$rep"
      if [ "$OK" != yes ]; then
        RES="0 0 0 0 0 0 0 -1"; SST="- - - -"; TST="- - - -"; LB=-; LA=-; PERF_SETTLED=0
        OK="not run: copy_$b failed"; LOG=-
        record "$c" "verify_$b" "$b" "$rep"
        continue
      fi
      # Statistics now, so autovacuum does not analyze the fresh table during the verify.
      perf_psql -d "$tc" -c "ANALYZE public.words"
      timed "$c" "verify_$b" "$b" "$rep" "$db" \
        "${BIN[$b]}" verify --source "$sc" --target "$tc" --jobs "$JOBS" --range-bytes "$RANGE_BYTES"
      if [ "$RC" -eq 0 ] && ! grep -qw OK "$LOG"; then OK="BAD(verify exited 0 without OK: $(first_error "$LOG"))"; fi
      record "$c" "verify_$b" "$b" "$rep"
    done
  done
done
T_TOTAL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(loadavg)
log "timed part took $T_TOTAL s; load $LOAD_AFTER"

# ---------------------------------------------------------------- summary
CASEINFO=$(for c in "${CASE_LIST[@]}"; do printf '%s\t%s\t%s\n' "$c" "$ROWS" "${SRC_BYTES[$c]}"; done)
export RUNS PLANS CASEINFO
{
  echo "## Text keys under a real collation ($STAMP)"
  echo
  perf_summary_setup "$CMDLINE" "$SRC" "$TGT" "$PG_VERSION" "$SRC_SETTINGS" "$TGT_SETTINGS"
  for b in new base; do
    echo "- $(echo "$b" | tr a-z A-Z): ${VERSION[$b]}, private copy of ${ORIG[$b]} (sha256 ${SHA[$b]}, built $(date -r "${ORIG[$b]}" '+%F %T'))"
  done
  echo "- work tree at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' (+ uncommitted changes in src/include; NEW may or may not contain them)')"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, after $LOAD_AFTER; timed repetitions $T_TOTAL s; $REPEAT repetition(s), cases and builds alternated"
  echo "- pgcutover: copy and verify with --jobs $JOBS and --range-bytes $RANGE_BYTES"
  for c in "${CASE_LIST[@]}"; do
    echo "- case $c: source $(db_of "$c") ${SRC_COLL[$c]}; target ${TGT_COLL[$c]}; public.words ${SRC_DIGEST[$c]}, table $(awk -v b="${SRC_BYTES[$c]}" 'BEGIN { printf "%.1f", b / 1e6 }') MB, physical order $ORDER$([ -z "${GEN_S[$c]-}" ] || echo "; generated in ${GEN_S[$c]} s")"
  done
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
plans = list(csv.DictReader(open(os.environ["PLANS"]), delimiter="\t"))
info = {l.split("\t")[0]: int(l.split("\t")[1]) for l in os.environ["CASEINFO"].strip().split("\n")}
cases = list(info)
methods = ["pipe", "copy_new", "copy_base", "verify_new", "verify_base"]
esc = lambda s: s.replace("|", "\\|")
num = lambda x: None if x in ("", "-") else float(x)
by, bad = {}, {}
for r in runs:
    k = (r["case"], r["method"])
    if r["ok"] == "yes": by.setdefault(k, []).append(r)
    else: bad.setdefault(k, []).append(esc(r["ok"]))
def med(rs, f):
    v = [f(r) for r in rs]; v = [x for x in v if x is not None]
    return st.median(v) if v else None
def scans(side):  # rows read by sequential scans, in scans' worth of the table
    return lambda r: None if num(r[side + "_seq_tup_read"]) is None else num(r[side + "_seq_tup_read"]) / info[r["case"]]
fmt = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
wall = {k: med(rs, lambda r: float(r["wall_s"])) for k, rs in by.items()}

print("### Plan (`pgcutover plan --json`, empty target database)")
print()
print("| case | build | ranges | key_order | ok |")
print("| --- | --- | ---: | --- | --- |")
for p in plans:
    print(f"| {p['case']} | {p['bin'].upper()} | {p['ranges']} | {esc(p['key_order'])} | {esc(p['ok'])} |")
print()
print("### Medians of the runs that passed")
print()
print("Scans = rows read by sequential scans of public.words (pg_stat_user_tables.seq_tup_read) / the table's rows: "
      "1.0 is one full scan; under COLLATE \"C\" each range reads the whole table. idx scans = idx_scan of the table "
      "(index and bitmap scans). Copy: the target's figures include the index build after the data. CPU in seconds.")
print()
print("| case | method | passed | median s | min-max s | source scans | source seq scans | source idx scans | "
      "target scans | target idx scans | source CPU | target CPU | client CPU | failed |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for c in cases:
    for m in methods:
        k = (c, m); rs = by.get(k, []); why = "; ".join(sorted(set(bad.get(k, []))))
        if not rs:
            if k in bad: print(f"| {c} | {m} | 0/{len(bad[k])} | | | | | | | | | | | {why} |")
            continue
        ws = [float(r["wall_s"]) for r in rs]
        print(f"| {c} | {m} | {len(rs)}/{len(rs) + len(bad.get(k, []))} | {wall[k]:.1f} | {min(ws):.1f}-{max(ws):.1f} | "
              f"{fmt(med(rs, scans('src')), 2)} | {fmt(med(rs, lambda r: num(r['src_seq_scan'])), 0)} | "
              f"{fmt(med(rs, lambda r: num(r['src_idx_scan'])), 0)} | {fmt(med(rs, scans('tgt')), 2)} | "
              f"{fmt(med(rs, lambda r: num(r['tgt_idx_scan'])), 0)} | {fmt(med(rs, lambda r: float(r['src_cpu_s'])))} | "
              f"{fmt(med(rs, lambda r: float(r['tgt_cpu_s'])))} | "
              f"{fmt(med(rs, lambda r: float(r['user_s']) + float(r['sys_s'])))} | {why} |")
print()
def ratio(a, b):
    return f"{wall[a] / wall[b]:.2f}" if a in wall and b in wall and wall[b] > 0 else "-"
def sratio(a, b, side):
    x = med(by.get(a, []), scans(side)); y = med(by.get(b, []), scans(side))
    return f"{x:.2f} / {y:.2f}" if x is not None and y is not None else "-"
print("### Ratios of the median wall times")
print()
print("NEW / BASE < 1: the new rule is faster. icu / c: what the real collation costs over bytewise keys with the same build.")
print()
print("| case | step | NEW / BASE | source scans NEW / BASE | target scans NEW / BASE | NEW / pipe | BASE / pipe |")
print("| --- | --- | ---: | --- | --- | ---: | ---: |")
for c in cases:
    for s in ("copy", "verify"):
        n, b = (c, s + "_new"), (c, s + "_base")
        print(f"| {c} | {s} | {ratio(n, b)} | {sratio(n, b, 'src')} | {sratio(n, b, 'tgt')} | "
              f"{ratio(n, (c, 'pipe'))} | {ratio(b, (c, 'pipe'))} |")
if "icu" in cases and "c" in cases:
    print()
    print("| method | icu / c |")
    print("| --- | ---: |")
    for m in methods:
        print(f"| {m} | {ratio(('icu', m), ('c', m))} |")
print()
print("### Every run")
print()
print("| case | method | rep | wall s | source seq_scan / seq_tup_read / idx_scan | target seq_scan / seq_tup_read / idx_scan | "
      "source CPU s | target CPU s | client CPU s | settle s | load before | load after | ok |")
print("| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |")
for r in runs:
    print(f"| {r['case']} | {r['method']} | {r['rep']} | {float(r['wall_s']):.1f} | "
          f"{r['src_seq_scan']} / {r['src_seq_tup_read']} / {r['src_idx_scan']} | "
          f"{r['tgt_seq_scan']} / {r['tgt_seq_tup_read']} / {r['tgt_idx_scan']} | {r['src_cpu_s']} | {r['tgt_cpu_s']} | "
          f"{float(r['user_s']) + float(r['sys_s']):.1f} | {r['settle_s']} | {r['load_before']} | {r['load_after']} | {esc(r['ok'])} |")
EOF
  echo
  echo "Raw rows: $RUNS (copy in $LOGDIR, with plan.tsv); one log per run in $LOGDIR."
  [ "$FAILS" -eq 0 ] || echo "**$FAILS run(s) or plan(s) failed: see the ok columns.**"
} | tee "$LOGDIR/summary.md"
cp "$RUNS" "$LOGDIR/runs.tsv"
[ "$FAILS" -eq 0 ] || exit 1
