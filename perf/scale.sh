#!/usr/bin/env bash
# The scale run (issue 24, point 4): pgcutover copy, sync and verify of a whole
# database at 1x and 2x of ~10 GB of table data on production-configured servers
# (perf/lib.sh profile "production": fsync, full_page_writes, synchronous_commit on,
# wal_level replica, autovacuum on), the databases in a non-C collation, with the
# plain peers in the same run: does time grow in proportion to the data (within 10 %),
# does the engine's memory stay flat, does the ledger cope with 10,000+ ranges, does
# verify grow with the data; GB/h per pair of cores for copy, sync and verify.
#
#   perf/scale.sh --gb 0.2,0.4                        # quick check of the harness (~1 min to generate, ~2 min timed)
#   perf/scale.sh                                     # 10 and 20 GB, 1 repetition (estimate below; ~84 GB of disk)
#   perf/scale.sh --low-disk --no-peers-at-largest    # one source database at a time (~71 GB), no pg_dump at 20 GB
#
# Options:
#   --gb LIST            table data per scale in GB (10^9 bytes), comma-separated (default
#                        10,20: 1x and 2x); each scale has its own source database, generated
#                        once and reused (--regen rebuilds); the smallest is the reference of
#                        the scaling table
#   --reps N             repetitions (default 1); within one, the method groups alternate
#   --methods LIST       comma-separated subset of pgc_copy,pgc_sync,pgc_verify,dump_fc,pgcopydb,pipe
#                        (default all). pgc_sync and pgc_verify run on pgc_copy's target
#                        right after it, so selecting one of them runs pgc_copy too
#   --range-bytes SIZE   pgcutover copy's --range-bytes (default auto: the largest scale's
#                        table data / 11,000, rounded down to 0.1 MB, at least 1MB, so its
#                        ledger holds 10,000+ ranges: 1.8MB for 20 GB)
#   --jobs N             pgcutover's --jobs, vacuumdb's and pg_restore's -j (default 2)
#   --seed-scale S       perf/prod_data.sh scale of the seed the scales grow from (default
#                        auto: 0.5, or half the smallest scale when that is below 3 GB)
#   --collation C        auto (default: libc en_US.UTF-8 where `locale -a` lists it, else ICU
#                        en-US), libc or icu; the same definition for every database on both
#                        servers
#   --timeout SECS       give up on one timed command after this long (default 14400; 0 = never)
#   --regen              regenerate the seed and every scale's source database
#   --keep-running       leave both clusters running at the end
#   --no-peers-at-largest  skip dump_fc and pgcopydb at the largest scale (recorded as skipped, not failed)
#   --low-disk           generate each scale's source database right before its runs and drop
#                        it after them (one scale on disk at a time; nothing reused next time)
#   -h, --help           this text
#
# Data (cluster perf/out/scale-source, database scale_<GB>, e.g. scale_10, scale_0_2): the
# tables of perf/prod_data.sh (customers, orders, order_lines, docs: 10 indexes, 4 primary
# keys, 3 foreign keys), grown to the asked size. Generating jsonb at that size with SQL
# would take hours on 2 cores, so:
#   1. seed: database scale_seed, prod_generate at --seed-scale (~1.5 GB at 0.5), generated
#      once, in the chosen collation;
#   2. per scale: CREATE DATABASE scale_<GB> TEMPLATE scale_seed STRATEGY FILE_COPY; its
#      post-data saved (pg_dump -Fc --section=post-data), every foreign key, key and index
#      dropped; every table grown by the same factor f = GB / seed table data: copies
#      k = 1 .. floor(f) - 1 of the seed's rows and a last partial one (keys up to a cutoff),
#      by INSERT ... SELECT over the seed's pages only (TID range scan, ctid < the seed's
#      page count), keys shifted by k x the seed's largest key (order_lines.order_id with
#      its orders; customer_id of docs and orders shifted to customer copy k mod floor(f),
#      so every foreign key holds; emails recomputed from the new id, so they stay unique;
#      payloads copied as stored, compressed TOAST values are not recompressed); docs in one
#      session, the three other tables in a second one;
#   3. vacuumdb -j N --freeze --analyze, pg_restore -j N of the saved post-data (indexes,
#      keys, foreign keys), the object counts compared with the seed's, CHECKPOINT.
# The table data (pg_total_relation_size - pg_indexes_size, all tables) must come out
# within +-5 % of the asked GB, else the generation fails. Per-table sizes and the
# generation rate (GB of table data per minute, split into growth, vacuum and indexes)
# are printed and go into the summary.
# Disk: before generating, the script estimates what the source databases to generate,
# the largest target and both servers' WAL (max_wal_size 8GB each, less what pg_wal holds already) need, from the seed's
# index ratio, and stops if the file system has less free (--low-disk needs less).
#
# Methods (cluster perf/out/scale-target; every target database is created empty, in the
# source's collation, right before its group, every earlier scale_t_* database dropped
# first), each timed with perf_measure_tree (lib.sh: wall, client user+sys, peak RSS of
# the largest client process and of the client's process tree, CPU of each cluster and of
# the machine):
#   pgc_copy    pgcutover copy --source S --target T --jobs N --range-bytes R
#               then, not timed: the checks, and vacuumdb -j N --analyze of the target (so
#               no autovacuum of the fresh tables lands in the next timed runs)
#   pgc_sync    then, not timed: on the source 1 % of public.docs updated (updated_at =
#               clock_timestamp(), payload || {"rev": REP}; the rows id % 100 = REP % 100,
#               their old values saved to a file first) and 0.5 % inserted (copies of the
#               rows id % 200 = (7 REP + 1) % 200 with new keys); timed:
#               pgcutover sync --source S --target T --final --allow-scan --jobs N
#               (--allow-scan: customers and order_lines have no indexed change column, so
#               the final sync reads them whole, as it would in production)
#   pgc_verify  then pgcutover verify --source S --target T --jobs N (must exit 0 and print
#               OK; it works by the copy's ranges from the ledger). Afterwards, not timed, the
#               source gets its saved rows back and loses the inserted ones, then VACUUM
#               (FREEZE, ANALYZE) public.docs (an interrupted run's pending restore is done at
#               the next start)
#   dump_fc     pg_dump -Fc | pg_restore --exit-on-error, into an empty database
#   pgcopydb    pgcopydb clone --table-jobs N --index-jobs N --split-tables-larger-than 256MB
#               into an empty database (Debian's pgcopydb, or $PGCOPYDB; installed with
#               apt-get when missing and run as root; if it cannot be, its rows say "not run")
#   pipe        one psql binary COPY pipe per table, one after the other:
#               psql -c "COPY t TO STDOUT (FORMAT binary)" | psql -c "COPY t FROM STDIN (FORMAT
#               binary)", into the tables pg_dump --section=pre-data made
#               (not timed; no keys, no indexes): the single-pipe floor
# Before every timed run: both clusters settle (no autovacuum worker, waited up to 120 s),
# sync, CHECKPOINT on both.
# Checks, by SQL on both servers, independent of pgcutover: every table's row count equal,
# the sum of hashtext(row::text) of every row of public.customers and of the public.docs
# rows with id % 50 = 0 (TimeZone UTC on both sides) equal to the source's; pgc_copy and
# dump_fc, pgcopydb: the number of indexes and of constraints per type equal; the sync: public.docs'
# row count and the hash sum of the rows changed (updated_at >= the change's start) equal;
# verify: exit 0 and OK. A failing run is recorded as FAILED (BAD for a wrong result) with
# the first error line of its log, never as a time; what depends on a failed run is "not
# run".
#
# Output: perf/out/scale/<stamp>/ (one log per run, runs.tsv, summary.md; the summary is
# printed too): per scale and method the median wall time of the runs that passed, the
# table data in GB, GB/h per pair of cores (= GB / hours of wall time: this machine has 2
# cores, i.e. one pair, and they run both servers and the tool), CPU-seconds per GB of the
# source, target and engine (the client process tree), the engine's peak RSS, the ledger's
# ranges, the time ratios to dump_fc, pgcopydb and pipe of the same scale; then the scaling table
# against the smallest scale: time ratio against data ratio (passes within 10 %), engine
# memory ratio.
# Exit status: 0 when every run passed its check (the scaling verdicts are findings, not
# failures; runs skipped by --no-peers-at-largest are not failures), 1 when any failed or
# was not run, or the generation failed, 2 for a usage error.
#
# The pgcutover binary ($PGCUTOVER_BIN, default build-dev/pgcutover) is copied to a
# private temporary file at the start and that copy is run; the script never builds.
#
# Estimate for the defaults on a quiet 2-core machine (extrapolated from --gb 0.2,0.4 by GB
# per hour; the small runs are cached, so take it as a lower bound): generation ~30-40 min
# once (seed ~5 min, then ~1.3 GB/min of table data: growth, vacuum and index builds of 30 GB),
# timed runs ~65 min (pgc_copy ~23, pgc_sync ~2, pgc_verify ~8, dump_fc ~22, pipe ~10), plus
# ~20-25 min of untimed checks, vacuums, source restores and checkpoints between them.
set -euo pipefail

CMDLINE="perf/scale.sh${*:+ $*}"
GBS=10,20
REPS=1
METHODS=pgc_copy,pgc_sync,pgc_verify,dump_fc,pgcopydb,pipe
RANGE_BYTES=auto
JOBS=2
SEED_SCALE=auto
COLLATION=auto
TIMEOUT=14400
REGEN=0
KEEP=0
NO_PEERS_LARGEST=0
LOW_DISK=0
while [ $# -gt 0 ]; do
  case $1 in
    --gb) GBS=${2:?--gb LIST}; shift 2 ;;
    --reps) REPS=${2:?--reps N}; shift 2 ;;
    --methods) METHODS=${2:?--methods LIST}; shift 2 ;;
    --range-bytes) RANGE_BYTES=${2:?--range-bytes SIZE}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs N}; shift 2 ;;
    --seed-scale) SEED_SCALE=${2:?--seed-scale S}; shift 2 ;;
    --collation) COLLATION=${2:?--collation auto|libc|icu}; shift 2 ;;
    --timeout) TIMEOUT=${2:?--timeout SECS}; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --keep-running) KEEP=1; shift ;;
    --no-peers-at-largest) NO_PEERS_LARGEST=1; shift ;;
    --low-disk) LOW_DISK=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
usage_error() { echo "scale.sh: $*" >&2; exit 2; }
isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
isdec() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v x="$1" 'BEGIN { exit !(x + 0 > 0) }'; }
IFS=, read -r -a GB_ASKED <<<"$GBS"
[ ${#GB_ASKED[@]} -gt 0 ] || usage_error "--gb needs at least one size"
for g in "${GB_ASKED[@]}"; do isdec "$g" || usage_error "bad size '$g' in --gb (GB, e.g. 10 or 0.2)"; done
# Ascending, each once: the smallest is the reference of the scaling table.
mapfile -t GB_LIST < <(printf '%s\n' "${GB_ASKED[@]}" | sort -g -u)
if ! isnum "$REPS" || [ "$REPS" -lt 1 ]; then usage_error "bad --reps '$REPS'"; fi
if ! isnum "$JOBS" || [ "$JOBS" -lt 1 ] || [ "$JOBS" -gt 64 ]; then usage_error "bad --jobs '$JOBS'"; fi
isnum "$TIMEOUT" || usage_error "bad --timeout '$TIMEOUT'"
[ "$SEED_SCALE" = auto ] || isdec "$SEED_SCALE" || usage_error "bad --seed-scale '$SEED_SCALE'"
[ "$RANGE_BYTES" = auto ] || [[ $RANGE_BYTES =~ ^[0-9]+(\.[0-9]+)?[A-Za-z]*$ ]] || usage_error "bad --range-bytes '$RANGE_BYTES'"
case $COLLATION in auto|libc|icu) ;; *) usage_error "--collation auto, libc or icu" ;; esac

ALL="pgc_copy pgc_sync pgc_verify dump_fc pgcopydb pipe"
IFS=, read -r -a ASKED <<<"$METHODS"
declare -A WANT
for m in "${ASKED[@]}"; do
  [[ " $ALL " == *" $m "* ]] || usage_error "unknown method '$m' (one of: $ALL)"
  WANT[$m]=1
done
PGC_DEPENDENTS=()
for m in pgc_sync pgc_verify; do [ -z "${WANT[$m]-}" ] || PGC_DEPENDENTS+=("$m"); done
if [ ${#PGC_DEPENDENTS[@]} -gt 0 ] && [ -z "${WANT[pgc_copy]-}" ]; then
  echo "scale.sh: ${PGC_DEPENDENTS[*]} run on pgc_copy's target: pgc_copy is run (and timed) too" >&2
  WANT[pgc_copy]=1
fi
GROUPS_=()   # rotation units in the order asked; pgc_copy carries its dependents
for a in "${ASKED[@]}"; do
  grp=$a; [[ $a == pgc_* ]] && grp=pgc_copy
  [[ " ${GROUPS_[*]-} " == *" $grp "* ]] || GROUPS_+=("$grp")
done
ORDERED=()   # report order
for m in $ALL; do [ -z "${WANT[$m]-}" ] || ORDERED+=("$m"); done
LARGEST=${GB_LIST[$((${#GB_LIST[@]} - 1))]}
SMALLEST=${GB_LIST[0]}
if [ "$RANGE_BYTES" = auto ]; then
  RANGE_BYTES=$(awk -v g="$LARGEST" 'BEGIN { r = int(g * 1e9 / 11000 / 1e5) / 10; if (r < 1) r = 1; printf "%.1fMB\n", r }')
fi
if [ "$SEED_SCALE" = auto ]; then
  SEED_SCALE=$(awk -v g="$SMALLEST" 'BEGIN { s = g / 3.05 / 2; if (s > 0.5) s = 0.5; printf "%.3g\n", s }')
fi

export PERF_PROFILE=production
# shellcheck source=perf/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=perf/prod_data.sh
. "$PERF_DIR/prod_data.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC="scale-source"
TGT="scale-target"
OUTDIR=$PERF_OUT/scale
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$OUTDIR/$STAMP
WORK=$OUTDIR/work
RUNS=$LOGDIR/runs.tsv
mkdir -p "$LOGDIR" "$WORK"
loud() { echo "################################################################" >&2; log "$*"; echo "################################################################" >&2; }
gbfmt() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e9 }'; }

# ---------------------------------------------------------------- collation
HAVE_EN_US=0
locale -a 2>/dev/null | grep -qix 'en_US\.utf-\?8' && HAVE_EN_US=1
EN_US_HOWTO="add it (Debian, as root): apt-get install locales (or . scripts/lib/deps.sh; pgcutover_install_deps locales), then sed -i 's/^# *\\(en_US.UTF-8 UTF-8\\)/\\1/' /etc/locale.gen && locale-gen; then restart the clusters (perf/scale.sh stops them at its end unless --keep-running)"
if [ "$COLLATION" = auto ]; then
  if [ "$HAVE_EN_US" -eq 1 ]; then COLLATION=libc
  else
    COLLATION=icu
    log "en_US.UTF-8 is not installed (locale -a); the databases use ICU en-US instead. For libc en_US.UTF-8, $EN_US_HOWTO"
  fi
elif [ "$COLLATION" = libc ] && [ "$HAVE_EN_US" -eq 0 ]; then
  echo "scale.sh: --collation libc needs the en_US.UTF-8 locale, which locale -a does not list; $EN_US_HOWTO; or use --collation icu" >&2
  exit 2
fi
create_db_sql() {  # create_db_sql NAME: an empty database in the run's collation
  case $COLLATION in
    libc) echo "CREATE DATABASE $1 TEMPLATE template0 ENCODING 'UTF8' LOCALE 'en_US.UTF-8'" ;;
    icu) echo "CREATE DATABASE $1 TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" ;;
  esac
}
COLL_Q="SELECT concat_ws(' ', 'provider=' || datlocprovider::text, 'icu_locale=' || coalesce(daticulocale, '-'),
  'collate=' || datcollate, 'ctype=' || datctype) FROM pg_database WHERE datname = current_database()"

# ---------------------------------------------------------------- binary
ORIG_BIN=${PGCUTOVER_BIN:-$ROOT/build-dev/pgcutover}
BIN=
cleanup() {
  local rc=$?
  [ -z "$BIN" ] || rm -f "$BIN"
  rm -rf "$WORK"
  if [ "$KEEP" -eq 0 ]; then
    perf_cluster_stop "$SRC" || log "warning: stopping $SRC failed"   # at exit: must not hide the run's status
    perf_cluster_stop "$TGT" || log "warning: stopping $TGT failed"
  else
    log "clusters left running: $(perf_conninfo "$SRC" 2>/dev/null) and $(perf_conninfo "$TGT" 2>/dev/null)"
  fi
  return $rc
}
trap cleanup EXIT
if [ -n "${WANT[pgc_copy]-}" ]; then
  [ -x "$ORIG_BIN" ] || { echo "scale.sh: no pgcutover binary at $ORIG_BIN (set PGCUTOVER_BIN)" >&2; exit 1; }
  # A private copy: a concurrent rebuild of $ORIG_BIN must not change the binary mid-run.
  BIN=$(mktemp "${TMPDIR:-/tmp}/pgcutover-scale.XXXXXX")
  cp "$ORIG_BIN" "$BIN" && chmod 0755 "$BIN"
  BIN_VERSION=$("$BIN" --version 2>&1 | head -n 1)
  BIN_SHA=$(sha256sum "$BIN" | cut -c1-12)
  log "pgcutover: $ORIG_BIN copied to $BIN ($BIN_VERSION, sha256 $BIN_SHA, built $(date -r "$ORIG_BIN" '+%F %T'))"
fi

# ---------------------------------------------------------------- pgcopydb
declare -A NOT_RUN
PGCOPYDB=${PGCOPYDB:-pgcopydb}
PGCOPYDB_WORK=$WORK/pgcopydb
if [ -n "${WANT[pgcopydb]-}" ] && ! command -v "$PGCOPYDB" >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    log "pgcopydb is not installed: apt-get install pgcopydb (log $LOGDIR/apt.log)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgcopydb ||
           { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgcopydb; }; } >"$LOGDIR/apt.log" 2>&1; then
      log "apt-get install pgcopydb failed (see $LOGDIR/apt.log)"
    fi
  fi
  if ! command -v "$PGCOPYDB" >/dev/null; then
    NOT_RUN[pgcopydb]="$PGCOPYDB is not installed and could not be installed (apt-get install pgcopydb; see $LOGDIR/apt.log)"
    loud "pgcopydb WILL NOT RUN: ${NOT_RUN[pgcopydb]}"
  fi
fi
PGCOPYDB_VERSION=$(command -v "$PGCOPYDB" >/dev/null && "$PGCOPYDB" --version 2>&1 | sed -n 's/.*\(pgcopydb version [^ ]*\).*/\1/p' | head -n 1)
uri() { echo "postgres://postgres@127.0.0.1:$(cat "$(perf_cluster_dir "$1")/port")/$2"; }

# ---------------------------------------------------------------- clusters
LOAD_BEFORE=$(loadavg)
perf_cluster_start "$SRC"
perf_cluster_start "$TGT"
SRC_ADMIN=$(ci "$SRC" postgres)
TGT_ADMIN=$(ci "$TGT" postgres)
PG_VERSION=$(q "$TGT_ADMIN" "SHOW server_version")
SETTINGS_Q="SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_wal_size',
                 'checkpoint_timeout', 'autovacuum', 'maintenance_work_mem', 'max_parallel_maintenance_workers')"
SRC_SETTINGS=$(q "$SRC_ADMIN" "$SETTINGS_Q")
TGT_SETTINGS=$(q "$TGT_ADMIN" "$SETTINGS_Q")
USER_TABLES="FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcutover')"
TABLES_Q="SELECT string_agg(format('%I.%I', n.nspname, c.relname), ' ' ORDER BY 1) $USER_TABLES"
DATA_Q="SELECT coalesce(sum(pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)), 0) $USER_TABLES"
INDEX_Q="SELECT coalesce(sum(pg_indexes_size(c.oid)), 0) $USER_TABLES"
OBJ_Q="SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ' indexes; constraints ' ||
  (SELECT coalesce(string_agg(contype::text || '=' || n, ',' ORDER BY contype), 'none') FROM (SELECT contype, count(*) n
     FROM pg_constraint co JOIN pg_namespace s ON s.oid = co.connamespace WHERE s.nspname = 'public' GROUP BY contype) x)"
SIZES_Q="SELECT string_agg(format('%s|%s|%s|%s|%s|%s', c.relname, c.reltuples::bigint, pg_relation_size(c.oid),
    pg_total_relation_size(c.oid) - pg_indexes_size(c.oid) - pg_relation_size(c.oid), pg_indexes_size(c.oid),
    pg_total_relation_size(c.oid) - pg_indexes_size(c.oid)), ' ' ORDER BY pg_total_relation_size(c.oid) DESC) $USER_TABLES"
# Content check: row counts, and hash sums of every customers row and of docs' id % 50 = 0 rows.
CHECK_Q="SELECT concat_ws(' ',
  (SELECT 'customers=' || count(*) || '/' || coalesce(sum(hashtext(t::text)::bigint), 0) FROM public.customers t),
  (SELECT 'docs=' || count(*) || '/' || coalesce(sum(hashtext(t::text)::bigint) FILTER (WHERE t.id % 50 = 0), 0) FROM public.docs t),
  (SELECT 'orders=' || count(*) FROM public.orders),
  (SELECT 'order_lines=' || count(*) FROM public.order_lines))"
check_of() {  # check_of CONNINFO: the content check's line
  perf_psql -d "$1" -At -c "SET TimeZone = 'UTC'" -c "$CHECK_Q"
}
src_db() { echo "scale_$(echo "$1" | tr . _)"; }
tgt_db() { echo "scale_t_$(echo "$1" | tr . _)_$2"; }

# ---------------------------------------------------------------- pending source restores
# pgc_sync changes the source; its old rows are saved first (pending_<db>.bin, .meta) and
# put back after verify. A run that died in between left them: put them back now.
restore_source() {  # restore_source DB
  local db=$1 base meta m0 c
  base=$(perf_cluster_dir "$SRC")/pending_$db
  meta=$base.meta
  [ -f "$meta" ] || return 0
  if [ "$(q "$SRC_ADMIN" "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    rm -f "$base.bin" "$meta"; return 0
  fi
  m0=$(sed -n 's/^max_id=//p' "$meta")
  c=$(ci "$SRC" "$db")
  log "$db: putting the rows the sync run changed back (docs above id $m0 deleted, $(stat -c %s "$base.bin") bytes of saved rows)"
  perf_psql -d "$c" -1 -c "CREATE TEMP TABLE scale_saved (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, payload jsonb NOT NULL) ON COMMIT DROP" \
    -c "COPY scale_saved FROM STDIN (FORMAT binary)" \
    -c "DELETE FROM public.docs WHERE id > $m0" \
    -c "UPDATE public.docs d SET updated_at = s.updated_at, payload = s.payload FROM scale_saved s WHERE d.id = s.id" <"$base.bin"
  perf_psql -d "$c" -c "VACUUM (FREEZE, ANALYZE) public.docs"
  local left
  left=$(q "$c" "SELECT (SELECT count(*) FROM public.docs WHERE id > $m0) + (SELECT count(*) FROM public.docs WHERE updated_at >= '$(sed -n 's/^t0=//p' "$meta")')")
  [ "$left" = 0 ] || { echo "scale.sh: restoring $db left $left changed rows in public.docs (--regen)" >&2; return 1; }
  rm -f "$base.bin" "$meta"
}
for f in "$(perf_cluster_dir "$SRC")"/pending_*.meta; do
  [ -e "$f" ] || continue
  d=${f##*/pending_}; restore_source "${d%.meta}"
done

# ---------------------------------------------------------------- source data
SEED_DB=scale_seed
SEED_STAMP="seed scale=$SEED_SCALE collation=$COLLATION prod_data v1"
scale_stamp() { echo "gb=$1 from [$SEED_STAMP] grow v1"; }
make_seed() {
  prod_counts "$SEED_SCALE"
  perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE IF EXISTS $SEED_DB WITH (FORCE)" -c "$(create_db_sql "$SEED_DB")"
  prod_generate "$(ci "$SRC" "$SEED_DB")" "$SEED_SCALE" all
  perf_psql -d "$SRC_ADMIN" -c CHECKPOINT
}
perf_source_db "$SRC" "$SEED_DB" seed "$SEED_STAMP" "$REGEN" \
  "generating the seed $SEED_DB: perf/prod_data.sh at scale $SEED_SCALE, collation $COLLATION" make_seed
SEED_GEN_S=$PERF_GEN_S
# How each source database was generated, kept beside its ready_* file: a reused one's summary says it too.
gen_note() {  # gen_note KEY [NOTE]: write NOTE (this run generated it), else print the kept one
  local f
  f=$(perf_cluster_dir "$SRC")/gen_$1
  if [ $# -gt 1 ]; then echo "$2" >"$f"; echo "$2"
  elif [ -f "$f" ]; then echo "reused; $(cat "$f")"
  else echo "reused"; fi
}
SEED_CI=$(ci "$SRC" "$SEED_DB")
SEED_BYTES=$(q "$SEED_CI" "$DATA_Q")
SEED_INDEX=$(q "$SEED_CI" "$INDEX_Q")
SEED_OBJS=$(q "$SEED_CI" "$OBJ_Q")
if [ -n "$SEED_GEN_S" ]; then
  SEED_NOTE=$(gen_note seed "generated in $SEED_GEN_S s ($(awk -v b="$SEED_BYTES" -v s="$SEED_GEN_S" 'BEGIN { printf "%.2f", b / 1e9 / s * 60 }') GB/min of table data)")
else
  SEED_NOTE=$(gen_note seed)
fi
log "seed $SEED_DB: $(gbfmt "$SEED_BYTES") GB of table data, $(gbfmt "$SEED_INDEX") GB of indexes; $SEED_OBJS; $SEED_NOTE"
for g in "${GB_LIST[@]}"; do
  awk -v g="$g" -v b="$SEED_BYTES" 'BEGIN { exit !(g * 1e9 >= b) }' ||
    { echo "scale.sh: the seed ($(gbfmt "$SEED_BYTES") GB) is larger than the $g GB scale: a smaller --seed-scale" >&2; exit 2; }
done

# Disk: the source databases still to generate (table data + indexes, at the seed's
# index ratio), the largest target, and the WAL both servers may still add (max_wal_size each,
# less what their pg_wal already holds: that is on disk, not free, already).
scale_ready() {  # scale_ready GB: whether perf_source_db would reuse its database
  local ready
  ready=$(perf_cluster_dir "$SRC")/ready_gb_$(echo "$1" | tr . _)
  [ "$REGEN" -eq 0 ] && [ -f "$ready" ] && [ "$(cat "$ready")" = "$(scale_stamp "$1")" ] &&
    [ "$(q "$SRC_ADMIN" "SELECT count(*) FROM pg_database WHERE datname = '$(src_db "$1")'")" = 1 ]
}
NEED=$(
  gen=0
  for g in "${GB_LIST[@]}"; do
    if [ "$LOW_DISK" -eq 1 ]; then gen=$g; elif ! scale_ready "$g"; then gen=$(awk -v a="$gen" -v b="$g" 'BEGIN { print a + b }'); fi
  done
  # WAL already on disk is in use already: only each server's growth up to max_wal_size (8 GB) is still needed.
  wal=0
  for c in "$SRC" "$TGT"; do
    have=$(du -sb "$(perf_cluster_dir "$c")/data/pg_wal" 2>/dev/null | cut -f1)
    wal=$(awk -v w="$wal" -v h="${have:-0}" 'BEGIN { n = 8e9 - h; if (n < 0) n = 0; printf "%.0f\n", w + n }')
  done
  awk -v gen="$gen" -v big="$LARGEST" -v r="$(awk -v i="$SEED_INDEX" -v b="$SEED_BYTES" 'BEGIN { print i / b }')" -v wal="$wal" \
    'BEGIN { printf "%.0f\n", (gen + big) * 1e9 * (1 + r) * 1.05 + wal }')
FREE=$(df -B1 --output=avail "$PERF_OUT" | tail -n 1 | tr -d ' ')
if [ "$LOW_DISK" -eq 1 ]; then
  # --low-disk drops each smaller scale's source database after its runs, before the largest is generated.
  for g in "${GB_LIST[@]}"; do
    [ "$g" != "$LARGEST" ] && scale_ready "$g" || continue
    FREED=$(q "$SRC_ADMIN" "SELECT pg_database_size('$(src_db "$g")')")
    log "disk: $(src_db "$g") ($(gbfmt "$FREED") GB) is dropped after its runs, before the $LARGEST GB scale is generated"
    FREE=$((FREE + FREED))
  done
fi
log "disk: about $(gbfmt "$NEED") GB needed from here on (sources to generate, the largest target, the WAL both servers may still add up to 8 GB each), $(gbfmt "$FREE") GB free in $PERF_OUT"
if [ "$FREE" -lt "$NEED" ]; then
  echo "scale.sh: not enough disk: about $(gbfmt "$NEED") GB needed, $(gbfmt "$FREE") GB free in $PERF_OUT$([ "$LOW_DISK" -eq 1 ] || echo " (--low-disk keeps one source database at a time)")" >&2
  exit 1
fi

DROP_KEYS_SQL="DO \$d\$
DECLARE r record;
BEGIN
  FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
           WHERE connamespace = 'public'::regnamespace AND contype = 'f' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP;
  FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
           WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'x') LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP;
  FOR r IN SELECT x.indexrelid::regclass AS i FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
           WHERE c.relnamespace = 'public'::regnamespace LOOP
    EXECUTE format('DROP INDEX %s', r.i);
  END LOOP;
END
\$d\$"

# grow_sql TABLE K LIMIT: one copy of the seed's rows of TABLE (keys up to LIMIT), keys shifted by K.
grow_sql() {
  local t=$1 k=$2 lim=$3 cs=$(( ($2 % NFULL) * M_CUST ))
  case $t in
    customers) echo "INSERT INTO public.customers SELECT id + $k * $M_CUST, 'customer ' || (id + $k * $M_CUST),
  'user' || (id + $k * $M_CUST) || '@example' || ((id + $k * $M_CUST) % 50) || '.com', region, created_at
  FROM public.customers WHERE ctid < '($P_CUST,0)' AND id <= $lim;" ;;
    orders) echo "INSERT INTO public.orders SELECT id + $k * $M_ORD, customer_id + $cs, status, amount, created_at, note
  FROM public.orders WHERE ctid < '($P_ORD,0)' AND id <= $lim;" ;;
    order_lines) echo "INSERT INTO public.order_lines SELECT order_id + $k * $M_ORD, line, sku, qty, price
  FROM public.order_lines WHERE ctid < '($P_LINES,0)' AND order_id <= $lim;" ;;
    docs) echo "INSERT INTO public.docs SELECT id + $k * $M_DOCS, customer_id + $cs, kind, created_at, updated_at, payload
  FROM public.docs WHERE ctid < '($P_DOCS,0)' AND id <= $lim;" ;;
  esac
}
grow_session() {  # grow_session TABLE...: the SQL of every copy of these tables, in key order
  local t k m cut
  echo "SET synchronous_commit = off;"
  for t in "$@"; do
    case $t in customers) m=$M_CUST ;; orders|order_lines) m=$M_ORD ;; docs) m=$M_DOCS ;; esac
    for k in $(seq 1 $((NFULL - 1))); do grow_sql "$t" "$k" "$m"; done
    cut=$(awk -v f="$FRAC" -v m="$m" 'BEGIN { printf "%d\n", f * m + 0.5 }')
    [ "$cut" -eq 0 ] || grow_sql "$t" "$NFULL" "$cut"
  done
}
declare -A GROW_S VAC_S IDX_S GEN_S GEN_FACTOR
grow_scale() {  # grow_scale GB: make database scale_<GB> from the seed
  local g=$1 db c post t0 pa pb rc=0 bytes objs
  db=$(src_db "$g"); c=$(ci "$SRC" "$db"); post=$WORK/post-$db.dump
  perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    -c "CREATE DATABASE $db TEMPLATE $SEED_DB STRATEGY FILE_COPY"
  "$PG_BIN/pg_dump" -Fc --section=post-data -f "$post" -d "$c"
  perf_psql -d "$c" -c "$DROP_KEYS_SQL"
  read -r M_CUST P_CUST < <(q "$c" "SELECT max(id), pg_relation_size('public.customers') / current_setting('block_size')::int FROM public.customers" | tr '|' ' ')
  read -r M_ORD P_ORD < <(q "$c" "SELECT max(id), pg_relation_size('public.orders') / current_setting('block_size')::int FROM public.orders" | tr '|' ' ')
  read -r P_LINES < <(q "$c" "SELECT pg_relation_size('public.order_lines') / current_setting('block_size')::int")
  read -r M_DOCS P_DOCS < <(q "$c" "SELECT max(id), pg_relation_size('public.docs') / current_setting('block_size')::int FROM public.docs" | tr '|' ' ')
  GEN_FACTOR[$g]=$(awk -v g="$g" -v b="$SEED_BYTES" 'BEGIN { printf "%.4f\n", g * 1e9 / b }')
  NFULL=$(awk -v f="${GEN_FACTOR[$g]}" 'BEGIN { printf "%d\n", f }')
  FRAC=$(awk -v f="${GEN_FACTOR[$g]}" -v n="$NFULL" 'BEGIN { printf "%.6f\n", f - n }')
  log "$db: growing every table ${GEN_FACTOR[$g]}x ($((NFULL - 1)) full copies of the seed's rows and a ${FRAC} partial one); docs in one session, customers, orders, order_lines in another"
  t0=$(date +%s)
  grow_session docs | perf_psql -d "$c" >"$LOGDIR/grow-$db-docs.log" 2>&1 &
  pa=$!
  grow_session customers orders order_lines | perf_psql -d "$c" >"$LOGDIR/grow-$db-rest.log" 2>&1 &
  pb=$!
  wait "$pa" || rc=1
  wait "$pb" || rc=1
  [ "$rc" -eq 0 ] || { cat "$LOGDIR/grow-$db-docs.log" "$LOGDIR/grow-$db-rest.log" >&2; echo "scale.sh: growing $db failed" >&2; return 1; }
  GROW_S[$g]=$(( $(date +%s) - t0 ))
  log "$db: grown in ${GROW_S[$g]} s; vacuumdb -j $JOBS --freeze --analyze"
  t0=$(date +%s)
  "$PG_BIN/vacuumdb" -q -j "$JOBS" --freeze --analyze -d "$c"
  VAC_S[$g]=$(( $(date +%s) - t0 ))
  log "$db: vacuumed in ${VAC_S[$g]} s; pg_restore -j $JOBS of the post-data (indexes, keys, foreign keys)"
  t0=$(date +%s)
  "$PG_BIN/pg_restore" -j "$JOBS" --exit-on-error -d "$c" "$post"
  perf_psql -d "$SRC_ADMIN" -c CHECKPOINT
  IDX_S[$g]=$(( $(date +%s) - t0 ))
  rm -f "$post"
  objs=$(q "$c" "$OBJ_Q")
  [ "$objs" = "$SEED_OBJS" ] || { echo "scale.sh: $db has $objs after the post-data, the seed $SEED_OBJS" >&2; return 1; }
  bytes=$(q "$c" "$DATA_Q")
  log "$db: indexes built in ${IDX_S[$g]} s; $(gbfmt "$bytes") GB of table data (asked: $g GB)"
  awk -v b="$bytes" -v g="$g" 'BEGIN { exit !(b >= 0.95 * g * 1e9 && b <= 1.05 * g * 1e9) }' ||
    { echo "scale.sh: $db holds $(gbfmt "$bytes") GB of table data, not within 5 % of $g GB" >&2; return 1; }
}

# ---------------------------------------------------------------- methods
method_label() {
  case $1 in
    pgc_copy) echo "pgcutover copy --jobs $JOBS --range-bytes $RANGE_BYTES" ;;
    pgc_sync) echo "pgcutover sync --final --allow-scan --jobs $JOBS (1 % of docs updated, 0.5 % inserted)" ;;
    pgc_verify) echo "pgcutover verify --jobs $JOBS" ;;
    dump_fc) echo "pg_dump -Fc | pg_restore" ;;
    pgcopydb) echo "pgcopydb clone --table-jobs $JOBS --index-jobs $JOBS --split-tables-larger-than 256MB" ;;
    pipe) echo "psql binary COPY pipe, table after table" ;;
  esac
}
PSQL_Q=$(printf '%q' "$PG_BIN/psql")
method_cmd() {  # method_cmd METHOD GB: sets CMD
  local m=$1 g=$2 grp sc tc script t
  grp=$m; [[ $m == pgc_* ]] && grp=pgc_copy
  sc=$(ci "$SRC" "$(src_db "$g")"); tc=$(ci "$TGT" "$(tgt_db "$g" "$grp")")
  case $m in
    pgc_copy) CMD=("$BIN" copy --source "$sc" --target "$tc" --jobs "$JOBS" --range-bytes "$RANGE_BYTES") ;;
    pgc_sync) CMD=("$BIN" sync --source "$sc" --target "$tc" --final --allow-scan --jobs "$JOBS") ;;
    pgc_verify) CMD=("$BIN" verify --source "$sc" --target "$tc" --jobs "$JOBS") ;;
    dump_fc) CMD=(bash -c "set -o pipefail
      $(printf '%q' "$PG_BIN/pg_dump") -Fc -d $(printf '%q' "$sc") | $(printf '%q' "$PG_BIN/pg_restore") --exit-on-error -d $(printf '%q' "$tc")") ;;
    pgcopydb)
      rm -rf "$PGCOPYDB_WORK"   # its work directory holds a finished clone's state: a rerun would resume it
      CMD=(env PATH="$PG_BIN:$PATH" "$PGCOPYDB" clone --source "$(uri "$SRC" "$(src_db "$g")")" --target "$(uri "$TGT" "$(tgt_db "$g" "$grp")")"
           --table-jobs "$JOBS" --index-jobs "$JOBS" --split-tables-larger-than 256MB --dir "$PGCOPYDB_WORK") ;;
    pipe)
      script="set -eo pipefail"
      for t in ${TABLES[$g]}; do
        script+="
$PSQL_Q -X -q -v ON_ERROR_STOP=1 -d $(printf '%q' "$sc") -c $(printf '%q' "COPY $t TO STDOUT (FORMAT binary)") |
  $PSQL_Q -X -q -v ON_ERROR_STOP=1 -d $(printf '%q' "$tc") -c $(printf '%q' "COPY $t FROM STDIN (FORMAT binary)")"
      done
      CMD=(bash -c "$script") ;;
  esac
  if [ "$TIMEOUT" -gt 0 ]; then CMD=(timeout -k 30 "$TIMEOUT" "${CMD[@]}"); fi
}
fresh_target() {  # fresh_target DB: drop every scale_t_* database on the target, create DB empty
  local d
  for d in $(q "$TGT_ADMIN" "SELECT datname FROM pg_database WHERE datname LIKE 'scale\\_t\\_%'"); do
    perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE $d WITH (FORCE)"
  done
  perf_psql -d "$TGT_ADMIN" -c "$(create_db_sql "$1")"
}
first_error() {
  local l
  l=$(perf_first_error "$1")
  echo "${l:-(no output)}"
}

printf 'gb\tmethod\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\ttree_rss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\tranges\tsettle_s\tload_before\tload_after\tok\n' >"$RUNS"
FAILS=0
record() {  # record GB METHOD REP RANGES: the last timed run (RES, LB, LA, OK)
  local wall u sy rss sc tc mb _rc tree
  read -r wall u sy rss sc tc mb _rc tree <<<"$RES"
  printf '%s\t' "$1" "$2" "$3" "$wall" "$u" "$sy" "$rss" "$tree" "$sc" "$tc" "$mb" "$4" "$PERF_SETTLED" "$LB" "$LA" >>"$RUNS"
  printf '%s\n' "$OK" >>"$RUNS"
  if [ "$OK" != yes ]; then
    FAILS=$((FAILS + 1))
    log "$2 ${1} GB rep $3: $OK; log $LOG:"; tail -n 15 "$LOG" >&2
  fi
  log "$(printf '%-10s %s GB rep %s: %8.1f s  engine %.1f s  src %.1f s  tgt %.1f s  RSS %d MB  ranges %s  load %s  %s' "$2" "$1" "$3" "$wall" \
    "$(awk -v a="$u" -v b="$sy" 'BEGIN { print a + b }')" "$sc" "$tc" $((tree / 1024)) "$4" "$LA" "$OK")"
}
not_run() {  # not_run GB METHOD REP WHY [skipped]
  printf '%s\t%s\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t-\t0\t-\t-\t%s: %s\n' "$1" "$2" "$3" "${5:-not run}" "$4" >>"$RUNS"
  [ "${5:-not run}" = skipped ] || FAILS=$((FAILS + 1))
  log "$2 $1 GB rep $3: ${5:-not run}: $4"
}
timed() {  # timed GB METHOD REP: settle, run and time one method; sets RES RC OK LOG LB LA
  local g=$1 m=$2 rep=$3
  LOG=$LOGDIR/gb$g-$m-r$rep.log
  perf_settle "$(ci "$SRC" postgres)" "$TGT_ADMIN"
  method_cmd "$m" "$g"
  printf '%q ' "${CMD[@]}" >"$LOG.cmd"; echo >>"$LOG.cmd"
  LB=$(loadavg)
  RES=$(perf_measure_tree "$SRC" "$TGT" "$LOG" "${CMD[@]}")
  LA=$(loadavg)
  RC=$(echo "$RES" | awk '{ print $8 }')
  OK=yes
  if [ "$RC" -eq 124 ] && [ "$TIMEOUT" -gt 0 ]; then OK="FAILED(timeout after $TIMEOUT s: $(first_error "$LOG"))"
  elif [ "$RC" -ne 0 ]; then OK="FAILED(rc=$RC: $(first_error "$LOG"))"; fi
}
check_copy() {  # check_copy GB DB OBJECTS(0|1): appends to OK what differs from the source
  local g=$1 c got objs
  c=$(ci "$TGT" "$2")
  got=$(check_of "$c" 2>&1) || got="query failed: $(echo "$got" | tail -n 1 | cut -c1-200)"
  [ "$got" = "${SRC_CHECK[$g]}" ] || OK="$OK; BAD(content: $got; source ${SRC_CHECK[$g]})"
  if [ "$3" -eq 1 ]; then
    objs=$(q "$c" "$OBJ_Q" 2>&1) || objs="query failed: $(echo "$objs" | tail -n 1 | cut -c1-200)"
    [ "$objs" = "${SRC_OBJS[$g]}" ] || OK="$OK; BAD(objects: $objs; source ${SRC_OBJS[$g]})"
  fi
  OK=${OK#yes; }
}

# The sync's change on the source (not timed). Saves the rows it updates first.
CHANGED_Q=
change_source() {  # change_source GB REP
  local g=$1 rep=$2 db c base m0 t0 x y
  db=$(src_db "$g"); c=$(ci "$SRC" "$db"); base=$(perf_cluster_dir "$SRC")/pending_$db
  x=$(( rep % 100 )); y=$(( (7 * rep + 1) % 200 ))
  m0=$(q "$c" "SELECT max(id) FROM public.docs")
  t0=$(q "$c" "SELECT clock_timestamp()")
  perf_psql -d "$c" -c "COPY (SELECT id, updated_at, payload FROM public.docs WHERE id % 100 = $x) TO STDOUT (FORMAT binary)" >"$base.bin"
  printf 'max_id=%s\nt0=%s\n' "$m0" "$t0" >"$base.meta"
  perf_psql -d "$c" -c "UPDATE public.docs SET updated_at = clock_timestamp(), payload = payload || jsonb_build_object('rev', $rep) WHERE id % 100 = $x" \
    -c "INSERT INTO public.docs SELECT id + $m0, customer_id, kind, created_at, clock_timestamp(), payload FROM public.docs WHERE id % 200 = $y AND id <= $m0"
  CHANGED_Q="SELECT count(*) || ' rows, hash ' || coalesce(sum(hashtext(t::text)::bigint), 0) FROM public.docs t WHERE updated_at >= '$t0'"
  CHANGED_SRC=$(perf_psql -d "$c" -At -c "SET TimeZone = 'UTC'" -c "$CHANGED_Q")
  DOCS_SRC=$(q "$c" "SELECT count(*) FROM public.docs")
  log "source $db: $CHANGED_SRC changed in public.docs (id % 100 = $x updated, id % 200 = $y inserted above $m0); $DOCS_SRC rows now"
}

run_group() {  # run_group GB GROUP REP
  local g=$1 grp=$2 rep=$3 db tc ranges m copy_ok sync_ok got
  db=$(tgt_db "$g" "$grp"); tc=$(ci "$TGT" "$db")
  if { [ "$grp" = dump_fc ] || [ "$grp" = pgcopydb ]; } && [ "$NO_PEERS_LARGEST" -eq 1 ] && [ "$g" = "$LARGEST" ]; then
    not_run "$g" "$grp" "$rep" "--no-peers-at-largest" skipped; return 0
  fi
  if [ -n "${NOT_RUN[$grp]-}" ]; then not_run "$g" "$grp" "$rep" "${NOT_RUN[$grp]}"; return 0; fi
  fresh_target "$db"
  if [ "$grp" = pipe ]; then
    "$PG_BIN/pg_dump" --section=pre-data -d "$(ci "$SRC" "$(src_db "$g")")" | perf_psql -d "$tc" >"$LOGDIR/gb$g-pipe-r$rep.predata.log" 2>&1
  fi
  timed "$g" "$grp" "$rep"
  ranges=-
  if [ "$RC" -eq 0 ]; then
    check_copy "$g" "$db" "$([ "$grp" = pipe ] && echo 0 || echo 1)"
    if [ "$grp" = pgc_copy ]; then
      ranges=$(q "$tc" "SELECT count(*) FROM pgcutover.ranges" 2>/dev/null || echo '?')   # a missing ledger shows as ?
    fi
  fi
  record "$g" "$grp" "$rep" "$ranges"
  [ "$grp" = pgc_copy ] || return 0
  copy_ok=$OK; sync_ok=yes
  if [ "$copy_ok" = yes ] && [ ${#PGC_DEPENDENTS[@]} -gt 0 ]; then
    log "vacuumdb -j $JOBS --analyze of the copy's target (not timed)"
    "$PG_BIN/vacuumdb" -q -j "$JOBS" --analyze -d "$tc"
  fi
  for m in "${PGC_DEPENDENTS[@]}"; do
    if [ "$copy_ok" != yes ]; then not_run "$g" "$m" "$rep" "pgc_copy failed"; continue; fi
    if [ "$m" = pgc_verify ] && [ "$sync_ok" != yes ]; then not_run "$g" "$m" "$rep" "pgc_sync failed"; continue; fi
    if [ "$m" = pgc_sync ]; then change_source "$g" "$rep"; fi
    timed "$g" "$m" "$rep"
    if [ "$RC" -eq 0 ] && [ "$m" = pgc_sync ]; then
      got=$(perf_psql -d "$tc" -At -c "SET TimeZone = 'UTC'" -c "$CHANGED_Q" 2>&1) || got="query failed: $(echo "$got" | tail -n 1)"
      [ "$got" = "$CHANGED_SRC" ] || OK="$OK; BAD(changed docs on the target: $got; source $CHANGED_SRC)"
      got=$(q "$tc" "SELECT count(*) FROM public.docs" 2>&1) || got="query failed: $(echo "$got" | tail -n 1)"
      [ "$got" = "$DOCS_SRC" ] || OK="$OK; BAD(docs rows on the target: $got; source $DOCS_SRC)"
      OK=${OK#yes; }
    fi
    if [ "$RC" -eq 0 ] && [ "$m" = pgc_verify ] && ! grep -qw OK "$LOG"; then
      OK="BAD(verify exited 0 without OK: $(first_error "$LOG"))"
    fi
    local r=-
    if [ "$m" = pgc_verify ]; then
      if grep -q 'verifying by the ranges of job' "$LOG"; then r=$ranges; else r="new"; fi
    fi
    record "$g" "$m" "$rep" "$r"
    [ "$m" != pgc_sync ] || sync_ok=$OK
  done
  restore_source "$(src_db "$g")"
}

# ---------------------------------------------------------------- per scale: data, then runs
declare -A TABLES DB_BYTES SIZES SRC_CHECK SRC_OBJS SRC_COLL GEN_NOTE
T_START=$(date +%s)
for g in "${GB_LIST[@]}"; do
  db=$(src_db "$g")
  perf_source_db "$SRC" "$db" "gb_$(echo "$g" | tr . _)" "$(scale_stamp "$g")" "$REGEN" \
    "generating $db ($g GB of table data) from $SEED_DB" grow_scale "$g"
  [ -z "$PERF_GEN_S" ] || GEN_S[$g]=$PERF_GEN_S
  c=$(ci "$SRC" "$db")
  TABLES[$g]=$(q "$c" "$TABLES_Q")
  DB_BYTES[$g]=$(q "$c" "$DATA_Q")
  SIZES[$g]=$(q "$c" "$SIZES_Q")
  SRC_OBJS[$g]=$(q "$c" "$OBJ_Q")
  SRC_COLL[$g]=$(q "$c" "$COLL_Q")
  log "$db: $(gbfmt "${DB_BYTES[$g]}") GB of table data; ${SRC_OBJS[$g]}; ${SRC_COLL[$g]}"
  for s in ${SIZES[$g]}; do
    IFS='|' read -r rel rows heap toast idx data <<<"$s"
    log "$(printf '  %-12s %12s rows  heap %8.1f MB  TOAST %8.1f MB  indexes %8.1f MB  table data %8.1f MB' "$rel" "$rows" \
      "$(awk -v b="$heap" 'BEGIN { print b / 1e6 }')" "$(awk -v b="$toast" 'BEGIN { print b / 1e6 }')" \
      "$(awk -v b="$idx" 'BEGIN { print b / 1e6 }')" "$(awk -v b="$data" 'BEGIN { print b / 1e6 }')")"
  done
  if [ -n "${GEN_S[$g]-}" ]; then
    GEN_NOTE[$g]=$(gen_note "gb_$(echo "$g" | tr . _)" "generated in ${GEN_S[$g]} s = $(awk -v b="${DB_BYTES[$g]}" -v s="${GEN_S[$g]}" 'BEGIN { printf "%.2f", b / 1e9 / s * 60 }') GB/min of table data (growth ${GROW_S[$g]} s, vacuum ${VAC_S[$g]} s, indexes and keys ${IDX_S[$g]} s; factor ${GEN_FACTOR[$g]} over the seed)")
  else
    GEN_NOTE[$g]=$(gen_note "gb_$(echo "$g" | tr . _)")
  fi
  log "$db: ${GEN_NOTE[$g]}"
  awk -v b="${DB_BYTES[$g]}" -v g="$g" 'BEGIN { exit !(b >= 0.95 * g * 1e9 && b <= 1.05 * g * 1e9) }' ||
    { echo "scale.sh: $db holds $(gbfmt "${DB_BYTES[$g]}") GB of table data, not within 5 % of $g GB (--regen)" >&2; exit 1; }
  log "$db: the content check on the source (counts, hash sums; also reads the database into the page cache as far as it fits)"
  SRC_CHECK[$g]=$(check_of "$c")
  log "$db: ${SRC_CHECK[$g]}"
  ng=${#GROUPS_[@]}
  for rep in $(seq 1 "$REPS"); do
    for i in $(seq 0 $((ng - 1))); do run_group "$g" "${GROUPS_[$(( (i + rep - 1) % ng ))]}" "$rep"; done
  done
  if [ "$LOW_DISK" -eq 1 ]; then
    log "--low-disk: dropping $db"
    perf_psql -d "$SRC_ADMIN" -c "DROP DATABASE $db WITH (FORCE)"
    rm -f "$(perf_cluster_dir "$SRC")/ready_gb_$(echo "$g" | tr . _)"
  fi
done
fresh_target_drop() {
  local d
  for d in $(q "$TGT_ADMIN" "SELECT datname FROM pg_database WHERE datname LIKE 'scale\\_t\\_%'"); do
    perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE $d WITH (FORCE)"
  done
}
[ "$KEEP" -eq 1 ] || fresh_target_drop   # the disk back; --keep-running leaves the last target to look at
T_TOTAL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(loadavg)
log "generation and timed part took $T_TOTAL s; load $LOAD_AFTER"

# ---------------------------------------------------------------- summary
ORDER="${ORDERED[*]}"
LABELS=$(for m in "${ORDERED[@]}"; do printf '%s\t%s\n' "$m" "$(method_label "$m")"; done)
SCALE_INFO=$(for g in "${GB_LIST[@]}"; do printf '%s %s\n' "$g" "${DB_BYTES[$g]}"; done)
export RUNS ORDER LABELS SCALE_INFO LARGEST
{
  echo "## Scale run: 1x and 2x on production-configured servers ($STAMP)"
  echo
  perf_summary_setup "$CMDLINE" "$SRC" "$TGT" "$PG_VERSION" "$SRC_SETTINGS" "$TGT_SETTINGS"
  [ -z "${WANT[pgcopydb]-}" ] || echo "- ${PGCOPYDB_VERSION:-pgcopydb: not installed} ($PGCOPYDB)"
  [ -z "$BIN" ] || echo "- $BIN_VERSION: private copy of $ORIG_BIN (sha256 $BIN_SHA) at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' (+ uncommitted changes in the work tree; the binary may or may not contain them)')"
  echo "- the 2 cores run both servers and the tool: GB/h per pair of cores = GB / hours of wall time on this machine"
  echo "- collation of every database on both servers ($COLLATION): ${SRC_COLL[$SMALLEST]}$([ "$HAVE_EN_US" -eq 1 ] || echo "; en_US.UTF-8 is not installed here")"
  echo "- pgcutover: --jobs $JOBS, copy --range-bytes $RANGE_BYTES; load average (1/5/15 min) before $LOAD_BEFORE, after $LOAD_AFTER; $REPS repetition(s), method groups alternated; generation and timed part $T_TOTAL s"
  echo "- seed $SEED_DB: perf/prod_data.sh scale $SEED_SCALE, $(gbfmt "$SEED_BYTES") GB of table data; $SEED_NOTE"
  for g in "${GB_LIST[@]}"; do
    echo "- $g GB: $(src_db "$g"), $(gbfmt "${DB_BYTES[$g]}") GB of table data; ${SRC_OBJS[$g]}; source check ${SRC_CHECK[$g]}; ${GEN_NOTE[$g]}"
  done
  echo
  echo "### Source data"
  echo
  echo "| scale GB | table | rows (est.) | heap MB | TOAST MB | indexes MB | table data MB |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"
  for g in "${GB_LIST[@]}"; do
    for s in ${SIZES[$g]}; do
      IFS='|' read -r rel rows heap toast idx data <<<"$s"
      awk -v g="$g" -v r="$rel" -v n="$rows" -v h="$heap" -v t="$toast" -v i="$idx" -v d="$data" \
        'BEGIN { printf "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f |\n", g, r, n, h / 1e6, t / 1e6, i / 1e6, d / 1e6 }'
    done
  done
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
order = os.environ["ORDER"].split()
labels = {k: v.replace("|", "\\|") for k, v in (l.split("\t", 1) for l in os.environ["LABELS"].strip().split("\n"))}
info = {l.split()[0]: int(l.split()[1]) for l in os.environ["SCALE_INFO"].strip().split("\n")}
gbs = list(info)
esc = lambda s: s.replace("|", "\\|")
by, bad = {}, {}
for r in runs:
    k = (r["gb"], r["method"])
    if r["ok"] == "yes": by.setdefault(k, []).append(r)
    else: bad.setdefault(k, []).append(esc(r["ok"]))
med = lambda rs, f: st.median(f(r) for r in rs)
wall = {k: med(rs, lambda r: float(r["wall_s"])) for k, rs in by.items()}
tree = {k: med(rs, lambda r: int(r["tree_rss_kb"])) / 1024 for k, rs in by.items()}
print("### Per scale and method (medians of the runs that passed)")
print()
print("GB = table data of the source database (pg_total_relation_size - pg_indexes_size, 10^9 bytes): what copy and "
      "dump_fc move, what the final sync (whole database, customers and order_lines read whole) and verify cover. "
      "GB/h per pair of cores = GB / hours of wall time on this 2-core machine (both servers and the tool on it). "
      "CPU s/GB: CPU-seconds of the source cluster, the target cluster and the engine (the client process tree: "
      "pgcutover with its pg_dump/pg_restore; pg_dump and pg_restore; the psql processes) per GB. Peak RSS: the "
      "largest client process / the client tree summed (sampled every 0.2 s). Ranges: the copy's ledger "
      "(pgcutover.ranges on the target); verify's when it worked by them. ÷ dump_fc, ÷ pgcopydb, ÷ pipe: the median wall time / "
      "that method's at the same scale (< 1: faster).")
print()
print("| GB | method | passed | median s | min-max s | GB/h per pair of cores | source CPU s/GB | target CPU s/GB | engine CPU s/GB | engine peak RSS MB | ranges | ÷ dump_fc | ÷ pgcopydb | ÷ pipe | failed / not run |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for g in gbs:
    gb = info[g] / 1e9
    for m in order:
        k = (g, m); rs = by.get(k, []); why = "; ".join(sorted(set(bad.get(k, []))))
        nb = len([x for x in bad.get(k, []) if not x.startswith("skipped")])
        if not rs:
            print(f"| {gb:.2f} | {labels[m]} | 0/{nb} | | | | | | | | | | | | {why} |"); continue
        w = wall[k]; ws = [float(r["wall_s"]) for r in rs]
        ratio = lambda ref: f"{w / wall[(g, ref)]:.2f}" if (g, ref) in wall else "-"
        ranges = sorted(set(r["ranges"] for r in rs))
        print(f"| {gb:.2f} | {labels[m]} | {len(rs)}/{len(rs) + nb} | {w:.1f} | {min(ws):.1f}-{max(ws):.1f} | {gb / (w / 3600):.1f} | "
              f"{med(rs, lambda r: float(r['src_cpu_s'])) / gb:.1f} | {med(rs, lambda r: float(r['tgt_cpu_s'])) / gb:.1f} | "
              f"{med(rs, lambda r: float(r['user_s']) + float(r['sys_s'])) / gb:.1f} | "
              f"{med(rs, lambda r: int(r['maxrss_kb'])) / 1024:.0f} / {tree[k]:.0f} | {', '.join(ranges)} | "
              f"{ratio('dump_fc')} | {ratio('pgcopydb')} | {ratio('pipe')} | {why} |")
print()
for g in gbs if "pgc_copy" in order else []:
    p = wall.get((g, "pgc_copy")); parts = []
    for ref in ("dump_fc", "pgcopydb", "pipe"):
        if p is not None and (g, ref) in wall: parts.append(f"pgc_copy / {ref} = {p / wall[(g, ref)]:.2f}")
        else: parts.append(f"pgc_copy / {ref}: no ratio (" + ("pgc_copy" if p is None else ref) + " has no passed run)")
    print(f"- {info[g] / 1e9:.2f} GB: " + "; ".join(parts))
if len(gbs) > 1:
    a = gbs[0]
    print()
    print(f"### Scaling (against {info[a] / 1e9:.2f} GB)")
    print()
    print("Time grows in proportion to the data when time ratio / data ratio is within 1 +- 0.10 (pass); engine memory is "
          "flat when its ratio stays near 1 (tree peak RSS; the copy's and sync's tables, the verify's ranges are all bigger at 2x).")
    print()
    print("| method | GB | data ratio | median s | time ratio | time ratio / data ratio | within 10 % | engine peak RSS MB (tree) | RSS ratio | ranges |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for m in order:
        for g in gbs:
            if (g, m) not in wall: continue
            d = info[g] / info[a]; w = wall[(g, m)]
            ranges = ", ".join(sorted(set(r["ranges"] for r in by[(g, m)])))
            if (a, m) in wall:
                t = w / wall[(a, m)]; tt = t / d
                verdict = "-" if g == a else ("yes" if abs(tt - 1) <= 0.10 else "NO")
                rr = f"{tree[(g, m)] / tree[(a, m)]:.2f}" if tree[(a, m)] else "-"
                print(f"| {labels[m]} | {info[g] / 1e9:.2f} | {d:.2f} | {w:.1f} | {t:.2f} | {tt:.2f} | {verdict} | {tree[(g, m)]:.0f} | {rr} | {ranges} |")
            else:
                print(f"| {labels[m]} | {info[g] / 1e9:.2f} | {d:.2f} | {w:.1f} | - | - | - | {tree[(g, m)]:.0f} | - | {ranges} |")
    big = gbs[-1]
    cr = [r["ranges"] for r in by.get((big, "pgc_copy"), [])]
    if cr:
        n = min(int(x) for x in cr if x.isdigit()) if any(x.isdigit() for x in cr) else None
        print()
        print(f"- the largest scale's ledger: {', '.join(sorted(set(cr)))} ranges" + ("" if n is None else (" (10,000+: yes)" if n >= 10000 else " (10,000+: no; a smaller --range-bytes, or more data)")))
print()
print("### Every run")
print()
print("| GB | method | rep | wall s | engine user+sys s | peak RSS MB (process / tree) | source CPU s | target CPU s | machine busy s | ranges | settle s | load before | load after | ok |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
for r in runs:
    print(f"| {info[r['gb']] / 1e9:.2f} | {r['method']} | {r['rep']} | {float(r['wall_s']):.1f} | {float(r['user_s']) + float(r['sys_s']):.1f} | "
          f"{int(r['maxrss_kb']) / 1024:.0f} / {int(r['tree_rss_kb']) / 1024:.0f} | {r['src_cpu_s']} | {r['tgt_cpu_s']} | {r['machine_busy_s']} | "
          f"{r['ranges']} | {r['settle_s']} | {r['load_before']} | {r['load_after']} | {esc(r['ok'])} |")
EOF
  echo
  echo "Raw rows: $RUNS; one log per run in $LOGDIR."
  [ "$FAILS" -eq 0 ] || echo "**$FAILS run(s) failed or were not run: see the ok column.**"
} | tee "$LOGDIR/summary.md"
[ "$FAILS" -eq 0 ] || exit 1
