# Sourced by perf/*.sh: throwaway PostgreSQL clusters for throughput runs, CPU
# accounting helpers, and helpers the scripts share (logging, one-line queries, the
# first error line of a log, settling before a timed run, generated source databases).
#
# Clusters live in $PERF_OUT/NAME (default perf/out/NAME): data/ (also the unix
# socket dir), server.log, port, profile. Two settings profiles, chosen by
# PERF_PROFILE when the cluster is created (initdb), recorded in NAME/profile:
#   bulk (default)  tuned for bulk loading, not for safety: fsync,
#                   synchronous_commit, full_page_writes off; wal_level=minimal;
#                   autovacuum off (so no background vacuum/analyze lands inside
#                   a timed run)
#   production      what a production server runs: fsync, full_page_writes and
#                   (server-level) synchronous_commit on; wal_level=replica;
#                   autovacuum on
# Both: shared_buffers=512MB, max_wal_size=8GB, checkpoint_timeout=30min,
# maintenance_work_mem=512MB. perf_cluster_start refuses an existing cluster
# created with the other profile (a cluster without NAME/profile is bulk).
# PostgreSQL refuses to run as root, so as root the server tools run as the
# `postgres` OS user.
#
#   perf_cluster_start NAME   initdb if missing, start on a free port if not running
#   perf_cluster_stop NAME    stop if running (fast mode)
#   perf_cluster_running NAME whether the cluster's server runs (pg_ctl status)
#   perf_cluster_dir NAME     $PERF_OUT/NAME
#   perf_as_server_user CMD...  CMD as the server's OS user (postgres when root), from /
#   perf_conninfo NAME [DB]   host=127.0.0.1 port=N dbname=DB user=postgres
#   perf_postmaster_pid NAME  first line of postmaster.pid
#   perf_cluster_ticks NAME   utime+stime of the postmaster, its live children and
#                             its exited (waited-for) children, in clock ticks
#   perf_machine_busy_ticks   busy (non-idle, non-iowait) ticks of the whole machine
#   perf_free_port            a port nothing listens on right now
#   perf_measure SRC TGT LOG CMD...
#                             run CMD (stdout+stderr to LOG) under /usr/bin/time and print
#                             "wall user sys maxrss_kb src_cpu tgt_cpu machine_busy rc"
#                             (seconds; the CPU of clusters SRC and TGT and of the machine)
#   perf_measure_tree SRC TGT LOG CMD...
#                             the same, plus a ninth field: the peak of the summed RSS (kB)
#                             of CMD's whole process tree, sampled every 0.2 s (maxrss_kb is
#                             the largest single process only)
#   perf_tree_rss_sampler ROOT OUT
#                             perf_measure_tree's sampler: the running peak of the summed RSS
#                             (kB) of ROOT's process tree, written to OUT every 0.2 s until
#                             ROOT exits
#   perf_wal_lsn NAME         pg_current_wal_lsn() of a cluster
#   perf_wal_bytes NAME LSN0 LSN1  pg_wal_lsn_diff(LSN1, LSN0)
#   perf_top_snapshot         the busiest processes right now (top's second sample)
#   perf_psql ARGS...         psql -X -q -v ON_ERROR_STOP=1 ARGS
#   perf_first_error LOG [ERE]
#                             the first line of LOG naming an error (ERROR, FATAL, Error:,
#                             error:, or ERE), else the first with error or fatal in any
#                             case, else its last non-empty line; tabs and | as spaces, at
#                             most 200 characters; nothing for an empty or missing LOG
#   perf_settle SRC_CI TGT_CI wait (up to 120 s) until neither server (conninfos) runs an
#                             autovacuum worker, then sync and CHECKPOINT on the target and
#                             on the source; sets PERF_SETTLED to the seconds it took
#   perf_source_db NAME DB KEY STAMP REGEN MESSAGE CMD...
#                             generate-or-reuse a source database DB on cluster NAME: when
#                             REGEN is 1, NAME/ready_KEY is missing or does not hold STAMP, or
#                             DB does not exist, log MESSAGE, run CMD (which makes DB), write
#                             STAMP to NAME/ready_KEY and log the time; else log the reuse.
#                             Sets PERF_GEN_S to CMD's seconds (empty when DB was reused)
#   perf_cache_db NAME DB     read database DB's files into the OS page cache (a warning on
#                             stderr when not all of them could be read)
#   perf_machine              "N cores (CPU model), X GiB RAM, kernel K"
#   perf_summary_setup CMDLINE SRC TGT PG_VERSION SRC_SETTINGS TGT_SETTINGS
#                             a summary's opening bullets: the command, the machine, the
#                             server version and clusters (with PERF_PROFILE), and each
#                             cluster's settings
# Short helpers, unprefixed (a script that defines its own after sourcing this
# file, as some still do, gets the same):
#   log MESSAGE...            MESSAGE on stderr after an [HH:MM:SS] time stamp
#   loadavg                   the 1, 5 and 15 minute load averages
#   q CONNINFO SQL            one query: psql -Atc SQL (perf_psql), unaligned, tuples only
#   ci NAME DB                perf_conninfo NAME DB

PERF_DIR=${PERF_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
PERF_OUT=${PERF_OUT:-$PERF_DIR/out}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PERF_PROFILE=${PERF_PROFILE:-bulk}
CLK_TCK=$(getconf CLK_TCK)

# Runs a server tool as the server user, from / (postgres may not enter our cwd).
perf_as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- env -u PGDATA -u PGPORT -u PGHOST "$@")
  else
    (cd / && env -u PGDATA -u PGPORT -u PGHOST "$@")
  fi
}

perf_free_port() {
  local port i
  for i in $(seq 1 200); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  echo "perf_free_port: no free port found" >&2
  return 1
}

perf_cluster_dir() { echo "$PERF_OUT/$1"; }

perf_cluster_running() {
  perf_as_server_user "$PG_BIN/pg_ctl" -D "$(perf_cluster_dir "$1")/data" status >/dev/null 2>&1
}

perf_cluster_start() {
  local name=${1:?perf_cluster_start NAME} dir out port have
  dir=$(perf_cluster_dir "$name")
  case $PERF_PROFILE in bulk|production) ;; *) echo "perf_cluster_start: unknown PERF_PROFILE '$PERF_PROFILE' (bulk or production)" >&2; return 1 ;; esac
  if [ -f "$dir/data/PG_VERSION" ]; then
    have=bulk; [ -f "$dir/profile" ] && have=$(cat "$dir/profile")
    if [ "$have" != "$PERF_PROFILE" ]; then
      echo "perf_cluster_start $name: the cluster was created with profile '$have', not '$PERF_PROFILE' (remove $dir to recreate it)" >&2
      return 1
    fi
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$PERF_OUT"
    rm -rf "$dir" && mkdir -m 0700 "$dir" || return 1
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      # postgres must be able to reach $dir: every parent needs o+x.
      local p=$dir
      while p=$(dirname "$p"); [ "$p" != / ]; do
        [ -x "$p" ] && runuser -u postgres -- test -x "$p" || { echo "perf_cluster_start: postgres cannot enter $p" >&2; return 1; }
      done
    fi
    local locale=C
    locale -a 2>/dev/null | grep -qix 'c.utf-\?8' && locale=C.UTF-8
    if ! out=$(perf_as_server_user env LC_ALL=C "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust \
               -E UTF8 --locale="$locale" --no-sync --no-instructions 2>&1); then
      echo "perf_cluster_start $name: initdb failed:" >&2; echo "$out" >&2; return 1
    fi
    if [ "$PERF_PROFILE" = production ]; then
      cat >>"$dir/data/postgresql.conf" <<EOF

# perf/lib.sh, profile production
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/data'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 512MB
max_wal_size = 8GB
checkpoint_timeout = 30min
maintenance_work_mem = 512MB
wal_level = replica
autovacuum = on
max_connections = 100
logging_collector = off
include_if_exists = 'perf_port.conf'
EOF
    else
    cat >>"$dir/data/postgresql.conf" <<EOF

# perf/lib.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/data'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
max_wal_size = 8GB
checkpoint_timeout = 30min
maintenance_work_mem = 512MB
wal_level = minimal
max_wal_senders = 0
autovacuum = off
max_connections = 100
logging_collector = off
include_if_exists = 'perf_port.conf'
EOF
    fi
    echo "$PERF_PROFILE" >"$dir/profile"
    cat >"$dir/data/pg_hba.conf" <<'EOF'
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
  fi
  if perf_cluster_running "$name"; then
    return 0   # reuse: the port file is current
  fi
  port=$(perf_free_port) || return 1
  echo "$port" >"$dir/port"
  echo "port = $port" >"$dir/data/perf_port.conf"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/data/perf_port.conf"; fi
  touch "$dir/server.log"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/server.log"; fi
  if ! out=$(perf_as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start 2>&1); then
    echo "perf_cluster_start $name: pg_ctl start failed:" >&2; echo "$out" >&2
    tail -n 20 "$dir/server.log" >&2 2>/dev/null
    return 1
  fi
}

perf_cluster_stop() {
  local name=${1:?perf_cluster_stop NAME} dir out
  dir=$(perf_cluster_dir "$name")
  [ -f "$dir/data/postmaster.pid" ] || return 0
  if ! out=$(perf_as_server_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 120 stop 2>&1); then
    echo "perf_cluster_stop $name: $out" >&2; return 1
  fi
}

perf_conninfo() {
  local name=${1:?perf_conninfo NAME [DB]} db=${2:-postgres} dir
  dir=$(perf_cluster_dir "$name")
  [ -f "$dir/port" ] || { echo "perf_conninfo: no cluster $name in $PERF_OUT" >&2; return 1; }
  echo "host=127.0.0.1 port=$(cat "$dir/port") dbname=$db user=postgres"
}

perf_postmaster_pid() { head -n 1 "$(perf_cluster_dir "$1")/data/postmaster.pid"; }

# Every process of a cluster: the postmaster and its children (backends,
# background processes). Exited backends are only in the postmaster's
# cutime/cstime (it waits for them), so the sum is consistent across a run:
# a backend's ticks move from "live child" to the postmaster's cutime when it
# exits. Fields after the ")" of comm: 1 state, 2 ppid, 12 utime, 13 stime,
# 14 cutime, 15 cstime.
# A backend reaped while /proc is being read would be counted twice or not at
# all (right after a client exits, its backends are still finishing: up to
# several seconds of CPU), so the postmaster is read before and after the
# children, and the whole read repeats until no child was reaped in between.
perf_cluster_ticks() {
  local pm i t
  pm=$(perf_postmaster_pid "$1") || return 1
  for i in $(seq 1 50); do
    # cat fails on processes that exit meanwhile; that must not fail the caller.
    t=$({ cat "/proc/$pm/stat"; cat /proc/[0-9]*/stat 2>/dev/null; cat "/proc/$pm/stat"; } | awk -v pm="$pm" '
      { pid = $1; s = $0; sub(/^.*\) /, "", s); n = split(s, a, " ") }
      NR == 1 { first = a[14] + a[15]; own = a[12] + a[13]; next }
      pid == pm { last = a[14] + a[15]; next }
      a[2] == pm { kids += a[12] + a[13] }
      END { if (first == last) printf "%d\n", own + first + kids; else print "retry" }')
    [ "$t" = retry ] || { echo "$t"; return 0; }
    sleep 0.02
  done
  echo "perf_cluster_ticks $1: children kept exiting while reading /proc" >&2
  return 1
}

perf_machine_busy_ticks() {
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

perf_psql() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

perf_measure() {
  local src=$1 tgt=$2 log=$3 tf s0 s1 g0 g1 b0 b1 t0 t1 rc=0 u s rss
  shift 3
  tf=$log.time
  s0=$(perf_cluster_ticks "$src"); g0=$(perf_cluster_ticks "$tgt"); b0=$(perf_machine_busy_ticks)
  t0=$(date +%s.%N)
  /usr/bin/time -f '%e %U %S %M' -o "$tf" -- "$@" >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  s1=$(perf_cluster_ticks "$src"); g1=$(perf_cluster_ticks "$tgt"); b1=$(perf_machine_busy_ticks)
  # time -o starts with "Command exited with non-zero status N" when rc != 0: take the last line.
  read -r _ u s rss < <(tail -n 1 "$tf") || { u=0; s=0; rss=0; }
  awk -v t0="$t0" -v t1="$t1" -v u="$u" -v s="$s" -v rss="$rss" -v s0="$s0" -v s1="$s1" -v g0="$g0" -v g1="$g1" \
      -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" -v rc="$rc" \
      'BEGIN { printf "%.2f %.2f %.2f %d %.2f %.2f %.2f %d\n", t1 - t0, u, s, rss, (s1 - s0) / hz, (g1 - g0) / hz, (b1 - b0) / hz, rc }'
}

# Peak summed RSS (kB) of the process tree under ROOT, sampled every 0.2 s
# until ROOT exits; the running peak is written to OUT.
perf_tree_rss_sampler() {
  local root=$1 out=$2 peak=0 cur pg
  pg=$(getconf PAGESIZE)
  while kill -0 "$root" 2>/dev/null; do
    cur=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$root" -v pg="$pg" '
      { pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, a, " "); ppid[pid] = a[2]; rss[pid] = a[22] }
      END { for (p in ppid) { q = p; n = 0
              while (q != "" && q != 0 && q != root && n++ < 64) q = ppid[q]
              if (q == root) sum += rss[p] }
            printf "%d\n", sum * pg / 1024 }')
    [ "${cur:-0}" -gt "$peak" ] && peak=$cur
    echo "$peak" >"$out"
    sleep 0.2
  done
}

perf_measure_tree() {
  local src=$1 tgt=$2 log=$3 tf s0 s1 g0 g1 b0 b1 t0 t1 rc=0 u s rss pid spid peak
  shift 3
  tf=$log.time
  s0=$(perf_cluster_ticks "$src"); g0=$(perf_cluster_ticks "$tgt"); b0=$(perf_machine_busy_ticks)
  t0=$(date +%s.%N)
  /usr/bin/time -f '%e %U %S %M' -o "$tf" -- "$@" >"$log" 2>&1 &
  pid=$!
  perf_tree_rss_sampler "$pid" "$log.rss" &
  spid=$!
  wait "$pid" || rc=$?
  t1=$(date +%s.%N)
  wait "$spid" 2>/dev/null || true  # the RSS sampler ends with the measured process; its status is not a result
  s1=$(perf_cluster_ticks "$src"); g1=$(perf_cluster_ticks "$tgt"); b1=$(perf_machine_busy_ticks)
  read -r _ u s rss < <(tail -n 1 "$tf") || { u=0; s=0; rss=0; }
  peak=$(cat "$log.rss" 2>/dev/null || echo 0)
  awk -v t0="$t0" -v t1="$t1" -v u="$u" -v s="$s" -v rss="$rss" -v s0="$s0" -v s1="$s1" -v g0="$g0" -v g1="$g1" \
      -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" -v rc="$rc" -v peak="${peak:-0}" \
      'BEGIN { printf "%.2f %.2f %.2f %d %.2f %.2f %.2f %d %d\n", t1 - t0, u, s, rss, (s1 - s0) / hz, (g1 - g0) / hz, (b1 - b0) / hz, rc, peak }'
}

perf_wal_lsn() {
  perf_psql -d "$(perf_conninfo "$1" postgres)" -Atc "SELECT pg_current_wal_lsn()"
}
perf_wal_bytes() {
  perf_psql -d "$(perf_conninfo "$1" postgres)" -Atc "SELECT pg_wal_lsn_diff('$3', '$2')::bigint"
}

perf_top_snapshot() {
  top -b -n 2 -d 2 -w 160 2>/dev/null |
    awk '/^top -/ { n++ } n == 2 && (/^(top|Tasks|%Cpu|MiB)/ || /PID USER/ || ($9 + 0 > 0 && c++ < 12))' ||
    ps -eo pcpu,etime,comm --sort=-pcpu | head -n 12
}

# ---------------------------------------------------------------- script helpers

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
q() { perf_psql -d "$1" -Atc "$2"; }
ci() { perf_conninfo "$1" "$2"; }

perf_first_error() {
  local l ere="ERROR|FATAL|[Ee]rror:${2:+|$2}"
  l=$(grep -m1 -E "$ere" "$1" 2>/dev/null || true)   # no such line: try the next rule
  [ -n "$l" ] || l=$(grep -m1 -iE 'error|fatal' "$1" 2>/dev/null || true)
  [ -n "$l" ] || l=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 || true)
  echo "$l" | tr '\t|' '  ' | cut -c1-200
}

PERF_SETTLED=0
perf_settle() {
  local src=${1:?perf_settle SRC_CONNINFO TGT_CONNINFO} tgt=${2:?perf_settle SRC_CONNINFO TGT_CONNINFO} t0 busy
  local av="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
  t0=$(date +%s)
  while :; do
    busy=$(( $(q "$src" "$av") + $(q "$tgt" "$av") ))
    [ "$busy" -gt 0 ] && [ $(( $(date +%s) - t0 )) -lt 120 ] || break
    sleep 2
  done
  sync
  perf_psql -d "$tgt" -c CHECKPOINT
  perf_psql -d "$src" -c CHECKPOINT
  PERF_SETTLED=$(( $(date +%s) - t0 ))
}

PERF_GEN_S=
perf_source_db() {
  local name=${1:?perf_source_db NAME DB KEY STAMP REGEN MESSAGE CMD...} db=$2 key=$3 stamp=$4 regen=$5 msg=$6 ready t0
  shift 6
  ready=$(perf_cluster_dir "$name")/ready_$key
  PERF_GEN_S=
  if [ "$regen" -eq 1 ] || [ ! -f "$ready" ] || [ "$(cat "$ready")" != "$stamp" ] ||
     [ "$(q "$(ci "$name" postgres)" "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    log "$msg"
    rm -f "$ready"
    t0=$(date +%s)
    "$@"
    echo "$stamp" >"$ready"
    PERF_GEN_S=$(( $(date +%s) - t0 ))
    log "generated in $PERF_GEN_S s"
  else
    log "reusing $db in $(perf_cluster_dir "$name") (--regen to rebuild)"
  fi
}

perf_cache_db() {
  local oid
  oid=$(q "$(ci "$1" postgres)" "SELECT oid FROM pg_database WHERE datname = '$2'")
  cat "$(perf_cluster_dir "$1")/data/base/$oid"/* >/dev/null 2>&1 ||
    echo "warning: the source database files were not all read into the page cache" >&2
}

perf_machine() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
}

perf_summary_setup() {
  echo "- command: \`$1\`"
  echo "- machine: $(perf_machine)"
  echo "- PostgreSQL $4, clusters perf/out/$2 and perf/out/$3 on this machine (TCP 127.0.0.1), $PERF_PROFILE profile"
  echo "- source settings: $5"
  echo "- target settings: $6"
}
