#!/usr/bin/env bash
# What a SIGKILL half-way costs (resume), and what the ledger costs, for
# `pgcutover copy --table public.big --jobs 2 --range-bytes 64MB` into an
# index-less empty table. Reuses the clusters and source data of
# perf/copy_bench.sh (run that first, same --scale).
#
#   perf/resume_bench.sh              # 3 repetitions of everything, ~8 min
#   perf/resume_bench.sh --reps 1
#
# Before every run: target database `bench` dropped and recreated with an
# index-less, key-less public.big (as in copy_bench.sh), `sync`, CHECKPOINT on
# both servers. Methods, alternated (each repetition starts at a different one):
#   full64   the copy with --range-bytes 64MB, timed whole
#   full16   the same with --range-bytes 16MB (4x the ranges, 4x the ledger statements)
#   resume   the same as full64, SIGKILLed (the pgcutover process) once the ledger
#            shows half of the ranges done (polled every 0.1 s:
#            SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM pgcutover.ranges);
#            then, after the killed sessions are gone, sync and CHECKPOINT, the same
#            command again: only that resumed run is timed. Checked: row count equals
#            the source, count(*) - count(DISTINCT id) = 0, no range pending.
#   vv64     full64 with -vv: every statement is logged with its duration; the
#   vv16     ledger's statements (those on "pgcutover".* and the job's advisory
#            locks) are summed: claims (SELECT ... FOR UPDATE SKIP LOCKED), done
#            marks (UPDATE ... SET state = 'done'), and setup (tables, plan, job row,
#            locks, pending counts)
#
# Options:
#   --scale F        data size of the source (default 1)
#   --reps N         repetitions (default 3)
#   --methods LIST   comma-separated subset of: full64,full16,resume,vv64,vv16
#   --no-build       do not (re)build build-perf/pgcutover first
#   --keep-running   leave both clusters running at the end
#   --report DIR     only print the report of an earlier run again (DIR: its log folder)
#
# Prints a markdown report on stdout, also saved with the raw figures (runs.tsv,
# ledger.tsv) and one log per run in perf/out/logs/resume-<stamp>/.
set -euo pipefail

CMDLINE="perf/resume_bench.sh${*:+ $*}"
SCALE=1; REPS=3; BUILD=1; KEEP=0; REPORT_ONLY=
METHODS=full64,full16,resume,vv64,vv16
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep-running) KEEP=1; shift ;;
    --report) REPORT_ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "resume_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$PERF_DIR/.." && pwd)
BIN=${PGCUTOVER_BIN:-$ROOT/build-perf/pgcutover}
PY=$(command -v /usr/bin/python3 || command -v python3)
SRC=source-s$SCALE; TGT=target
STAMP=$(date +%Y%m%d-%H%M%S)
LOGDIR=$PERF_OUT/logs/resume-$STAMP
[ -n "$REPORT_ONLY" ] || mkdir -p "$LOGDIR"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The report, from $RUNS, $LEDGER and the variables meta.sh keeps.
report() {
export RUNS LEDGER BIG_BYTES
{
  echo "## pgcutover resume and ledger benchmark ($STAMP)"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
  echo "- PostgreSQL $PG_VERSION (perf/lib.sh settings); pgcutover $PGC_VERSION"
  echo "- data: public.big, $BIG_ROWS rows, $(awk -v b="$BIG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB heap + TOAST on the source (MB = 10^6 bytes)"
  echo "- load average (1/5/15 min): before $LOAD_BEFORE, at the first timed run $LOAD_START, after $LOAD_AFTER; timed part $T_TOTAL s"
  echo "- reps: $REPS; methods alternated, each repetition starting at a different method"
  echo "- command: \`pgcutover copy --table public.big --jobs 2 --range-bytes 64MB\` (or 16MB; -vv for vv*) into an index-less empty public.big"
  echo
  "$PY" - <<'EOF'
import csv, os, statistics as st
runs = list(csv.DictReader(open(os.environ["RUNS"]), delimiter="\t"))
led = list(csv.DictReader(open(os.environ["LEDGER"]), delimiter="\t"))
size = int(os.environ["BIG_BYTES"])
by = {}
for r in runs: by.setdefault(r["method"], []).append(r)
def med(rs, k): return st.median(float(r[k]) for r in rs)
wall = {m: med(rs, "wall_s") for m, rs in by.items()}
labels = {"full64": "full copy, --range-bytes 64MB", "full16": "full copy, --range-bytes 16MB",
          "resume": "resumed run after SIGKILL at half (64MB)", "vv64": "full copy 64MB with -vv", "vv16": "full copy 16MB with -vv"}
print("### Results (medians)")
print()
print("vs full64 = time ratio to the full 64MB copy. Engine CPU = user+sys of pgcutover. Server CPU = utime+stime of each cluster during the run.")
print()
print("| method | runs | ranges | median s | min-max s | MB/s | vs full64 | engine CPU s | source CPU s | target CPU s | other CPU s | ok |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for m in labels:
    rs = by.get(m)
    if not rs: continue
    w = wall[m]; ws = [float(r["wall_s"]) for r in rs]
    cpu = st.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
    other = st.median(float(r["machine_busy_s"]) - float(r["src_cpu_s"]) - float(r["tgt_cpu_s"]) - float(r["user_s"]) - float(r["sys_s"]) for r in rs)
    ratio = f"{w / wall['full64']:.2f}" if "full64" in wall else "-"
    ok = "yes" if all(r["ok"] == "yes" for r in rs) else "; ".join(sorted(set(r["ok"] for r in rs)))
    mbs = f"{size / 1e6 / w:.1f}" if m != "resume" else "-"
    print(f"| {labels[m]} | {len(rs)} | {rs[0]['ranges']} | {w:.1f} | {min(ws):.1f}-{max(ws):.1f} | {mbs} | {ratio} | {cpu:.1f} | "
          f"{med(rs, 'src_cpu_s'):.1f} | {med(rs, 'tgt_cpu_s'):.1f} | {other:.1f} | {ok} |")
if "resume" in by and "full64" in wall:
    print()
    print("### Kill and resume, every run")
    print()
    print("The machine is shared, so besides the ratio to the median full64 run: the ratio to the full64 run of the same repetition "
          "(closest in time), and the ratio of the target server's CPU (the bottleneck; insensitive to other processes taking cores).")
    print()
    print("| rep | resumed s | / median full64 | / full64 of this rep | target CPU s | target CPU / median full64's | other CPU s | state at the kill | ok |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    f64 = {r["rep"]: r for r in by["full64"]}
    tcpu64 = med(by["full64"], "tgt_cpu_s")
    for r in by["resume"]:
        w = float(r["wall_s"])
        same = f"{w / float(f64[r['rep']]['wall_s']):.2f}" if r["rep"] in f64 else "-"
        other = float(r["machine_busy_s"]) - float(r["src_cpu_s"]) - float(r["tgt_cpu_s"]) - float(r["user_s"]) - float(r["sys_s"])
        print(f"| {r['rep']} | {w:.1f} | {w / wall['full64']:.2f} | {same} | {float(r['tgt_cpu_s']):.1f} | {float(r['tgt_cpu_s']) / tcpu64:.2f} | {other:.1f} | {r['note']} | {r['ok']} |")
if led:
    print()
    print("### Ledger statements (-vv runs)")
    print()
    print("Durations as pgcutover measures them (round trip of each statement on the target). "
          "Per-range = claims + done marks, which run inside each worker's sequence (2 workers); setup runs once, before and after the data. "
          "Upper bound = (setup + per-range) / wall, as if none of it overlapped anything; per worker = (setup + per-range / jobs) / wall.")
    print()
    print("| run | wall s | ranges | claims (ms) | done marks (ms) | setup statements (ms) | ledger total ms | ms per range | share, upper bound | share per worker |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in led:
        w = float(r["wall_s"]); cl = float(r["claim_ms"]); dn = float(r["done_ms"]); su = float(r["setup_ms"]); j = int(r["jobs"])
        n = int(r["ranges"]) or 1
        tot = cl + dn + su
        print(f"| {r['method']} r{r['rep']} | {w:.1f} | {r['ranges']} | {r['claims']} ({cl:.1f}) | {r['dones']} ({dn:.1f}) | {r['setup_n']} ({su:.1f}) | "
              f"{tot:.1f} | {(cl + dn) / n:.2f} | {tot / (w * 1000) * 100:.3f} % | {(su + (cl + dn) / j) / (w * 1000) * 100:.3f} % |")
    for m in ("vv64", "vv16"):
        rs = [r for r in led if r["method"] == m]
        if not rs: continue
        ub = st.median((float(r["claim_ms"]) + float(r["done_ms"]) + float(r["setup_ms"])) / (float(r["wall_s"]) * 1000) * 100 for r in rs)
        print()
        print(f"- {m}: median ledger share {ub:.3f} % of wall time (upper bound)")
if "full64" in wall and "full16" in wall:
    r64 = by["full64"][0]; r16 = by["full16"][0]
    n64, n16 = int(r64["ranges"]), int(r16["ranges"])
    d = wall["full16"] - wall["full64"]
    print()
    print(f"- 16MB vs 64MB ranges: {n16} vs {n64} ranges, median {wall['full16']:.1f} s vs {wall['full64']:.1f} s: "
          f"{d:+.1f} s for {n16 - n64} more ranges, i.e. {d / (n16 - n64) * 1000:+.0f} ms of wall time per extra range "
          f"(everything a range costs: ledger claim and mark, COPY setup on both sides, one more transaction); "
          f"at that rate the {n64} ranges of the 64MB run would cost {d / (n16 - n64) * n64:+.2f} s = {d / (n16 - n64) * n64 / wall['full64'] * 100:+.1f} % of its wall time")
print()
print("### Every run")
print()
print("| method | rep | ranges | wall s | engine user+sys s | source CPU s | target CPU s | machine busy s | load1 at end | ok |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in runs:
    print(f"| {r['method']} | {r['rep']} | {r['ranges']} | {float(r['wall_s']):.1f} | {float(r['user_s']) + float(r['sys_s']):.1f} | "
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
  echo "Raw figures: $RUNS, $LEDGER; per-run logs in $LOGDIR."
}
}

if [ -n "$REPORT_ONLY" ]; then
  LOGDIR=$(cd "$REPORT_ONLY" && pwd); RUNS=$LOGDIR/runs.tsv; LEDGER=$LOGDIR/ledger.tsv
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
KILLED_PID=
cleanup() {
  # exit trap: the killed run is usually gone already; one still running is killed, loudly if that fails
  if [ -n "$KILLED_PID" ] && kill -0 "$KILLED_PID" 2>/dev/null; then
    kill -KILL "$KILLED_PID" || log "cleanup: could not kill the run $KILLED_PID"
  fi
  if [ "$KEEP" -ne 1 ]; then
    perf_cluster_stop "$SRC" || log "cleanup: stopping $SRC failed"
    perf_cluster_stop "$TGT" || log "cleanup: stopping $TGT failed"
  fi
}
trap cleanup EXIT
SRC_ADMIN=$(perf_conninfo "$SRC" postgres); SRC_CI=$(perf_conninfo "$SRC" bench)
TGT_ADMIN=$(perf_conninfo "$TGT" postgres); TGT_CI=$(perf_conninfo "$TGT" bench)
q() { perf_psql -d "$1" -Atc "$2"; }

BIG_BYTES=$(q "$SRC_CI" "SELECT pg_total_relation_size('public.big') - pg_indexes_size('public.big')")
BIG_ROWS=$(q "$SRC_CI" "SELECT count(*) FROM public.big")
PG_VERSION=$(q "$SRC_CI" "SHOW server_version")
log "public.big: $BIG_ROWS rows, $BIG_BYTES bytes (heap + TOAST)"
DBOID=$(q "$SRC_ADMIN" "SELECT oid FROM pg_database WHERE datname = 'bench'")
cat "$(perf_cluster_dir "$SRC")/data/base/$DBOID"/* >/dev/null 2>&1 ||
  echo "warning: the page-cache warm-up read of the source failed; the first timed run may read from disk" >&2

checkpoint_both() { sync; perf_psql -d "$TGT_ADMIN" -c CHECKPOINT; perf_psql -d "$SRC_ADMIN" -c CHECKPOINT; }
reset_target() {
  perf_psql -d "$TGT_ADMIN" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench" 2>/dev/null
  perf_psql -d "$TGT_CI" -c "CREATE TABLE public.big (id bigint NOT NULL, created_at timestamptz NOT NULL, payload jsonb, note text)"
  checkpoint_both
}
copy_cmd() {  # copy_cmd RANGE_BYTES [extra args]: sets CMD
  local rb=$1; shift
  CMD=("$BIN" copy --source "$SRC_CI" --target "$TGT_CI" --table public.big --jobs 2 --range-bytes "$rb" "$@")
}
# Sessions of other clients on the source's or target's bench (the killed run's
# backends finish their current statement before they notice).
other_sessions() {
  local a b
  a=$(q "$SRC_ADMIN" "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench' AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
  b=$(q "$TGT_ADMIN" "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench' AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
  echo $((a + b))
}

# Ledger statements in a -vv log: prints "ranges claims claim_ms dones done_ms setup_n setup_ms other_target_n other_target_ms jobs"
ledger_stats() {
  "$PY" - "$1" <<'EOF'
import re, sys
rec = re.compile(r'^pgcutover: debug: (source|target) \S+ user=\S+: ([0-9.]+) ms: ?(.*)$')
stmts, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    m = rec.match(line)
    if m:
        cur = [m.group(1), float(m.group(2)), m.group(3)]
        stmts.append(cur)
    elif line.startswith("pgcutover:"):
        cur = None
    elif cur is not None:
        cur[2] += "\n" + line
c = {"claim": [0, 0.0], "done": [0, 0.0], "setup": [0, 0.0], "other": [0, 0.0]}
for side, ms, text in stmts:
    if side != "target": continue
    if '"pgcutover"."ranges"' in text and "FOR UPDATE SKIP LOCKED" in text: k = "claim"
    elif text.startswith('UPDATE "pgcutover"."ranges" SET state = \'done\''): k = "done"
    elif '"pgcutover"' in text or "pg_advisory" in text: k = "setup"
    else: k = "other"
    c[k][0] += 1; c[k][1] += ms
print(c["done"][0], c["claim"][0], f'{c["claim"][1]:.1f}', c["done"][0], f'{c["done"][1]:.1f}',
      c["setup"][0], f'{c["setup"][1]:.1f}', c["other"][0], f'{c["other"][1]:.1f}', 2)
EOF
}

RUNS=$LOGDIR/runs.tsv
LEDGER=$LOGDIR/ledger.tsv
printf 'method\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsrc_cpu_s\ttgt_cpu_s\tmachine_busy_s\trc\tload1\tranges\tok\tnote\n' >"$RUNS"
printf 'method\trep\twall_s\tranges\tclaims\tclaim_ms\tdones\tdone_ms\tsetup_n\tsetup_ms\tother_target_n\tother_target_ms\tjobs\n' >"$LEDGER"

check_target() {  # prints "ok" or what is wrong
  local n d p
  n=$(q "$TGT_CI" "SELECT count(*) FROM public.big" 2>/dev/null || echo none)
  d=$(q "$TGT_CI" "SELECT count(*) - count(DISTINCT id) FROM public.big" 2>/dev/null || echo none)
  p=$(q "$TGT_CI" "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done'" 2>/dev/null || echo none)
  if [ "$n" = "$BIG_ROWS" ] && [ "$d" = 0 ] && [ "$p" = 0 ]; then echo yes; else echo "BAD(rows $n, duplicates $d, pending ranges $p)"; fi
}

run_one() {
  local m=$1 rep=$2 out res rc ok note="" ranges t0 st ndone total elapsed pid i
  out=$LOGDIR/$m-r$rep.log
  reset_target
  case $m in
    full64|vv64|resume) copy_cmd 64MB ;;
    full16|vv16) copy_cmd 16MB ;;
  esac
  case $m in vv*) CMD+=(-vv) ;; esac
  if [ "$m" = resume ]; then
    # The run to kill: started directly (no /usr/bin/time), so $! is pgcutover itself.
    "${CMD[@]}" >"$LOGDIR/$m-r$rep.killed.log" 2>&1 &
    pid=$!; KILLED_PID=$pid
    t0=$(date +%s.%N); st=""
    for i in $(seq 1 3000); do
      kill -0 "$pid" 2>/dev/null || break
      st=$(q "$TGT_CI" "SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM pgcutover.ranges" 2>/dev/null || true)
      ndone=${st%|*}; total=${st#*|}
      if [ -n "$st" ] && [ "$total" -gt 0 ] && [ $((2 * ndone)) -ge "$total" ]; then
        kill -KILL "$pid"; break
      fi
      sleep 0.1
    done
    wait "$pid" 2>/dev/null || true  # reaps the run this script SIGKILLed: 137 is the expected status
    KILLED_PID=
    elapsed=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
    for i in $(seq 1 100); do [ "$(other_sessions)" = 0 ] && break; sleep 0.1; done
    st=$(q "$TGT_CI" "SELECT count(*) FILTER (WHERE state = 'done') || '/' || count(*) || ' ranges done, ' ||
         round(100.0 * sum(planned_bytes) FILTER (WHERE state <> 'done') / sum(planned_bytes), 1) || ' % of planned bytes left, ' ||
         (SELECT count(*) FROM public.big) || ' rows committed' FROM pgcutover.ranges")
    note="killed after $elapsed s at $st; sessions left after $((i - 1))x0.1 s"
    log "resume rep $rep: $note"
    checkpoint_both
  fi
  res=$(perf_measure "$SRC" "$TGT" "$out" "${CMD[@]}")
  rc=$(echo "$res" | cut -d' ' -f8)
  ok=$(check_target)
  [ "$rc" = 0 ] || ok="FAILED(rc=$rc) $ok"
  [ "$ok" = yes ] || { log "$m rep $rep: $ok"; tail -n 10 "$out" >&2; }
  ranges=$(q "$TGT_CI" "SELECT count(*) FROM pgcutover.ranges" 2>/dev/null || echo 0)
  if [ "$m" = resume ]; then note="$note; resumed run: $(grep -o 'resuming job [^:]*: .*' "$out" | head -n 1)"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$rep" "$(echo "$res" | tr ' ' '\t')" "$(cut -d' ' -f1 /proc/loadavg)" "$ranges" "$ok" "$note" >>"$RUNS"
  case $m in vv*) printf '%s\t%s\t%s\t%s\n' "$m" "$rep" "$(echo "$res" | cut -d' ' -f1)" "$(ledger_stats "$out" | tr ' ' '\t')" >>"$LEDGER" ;; esac
  log "$(printf '%-7s rep %d: %s  ranges %s  load %s  %s' "$m" "$rep" "$res" "$ranges" "$(cut -d' ' -f1 /proc/loadavg)" "$ok")"
}

IFS=, read -r -a SELECTED <<<"$METHODS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
n=${#SELECTED[@]}
for rep in $(seq 1 "$REPS"); do
  for i in $(seq 0 $((n - 1))); do run_one "${SELECTED[$(( (i + rep - 1) % n ))]}" "$rep"; done
done
T_TOTAL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_AFTER=$(perf_top_snapshot)
log "load after: $LOAD_AFTER; timed part took $T_TOTAL s"

{
  declare -p CMDLINE LOAD_BEFORE LOAD_START LOAD_AFTER T_TOTAL REPS TOP_BEFORE TOP_AFTER BIG_BYTES BIG_ROWS PG_VERSION STAMP
  echo "PGC_VERSION=$(printf '%q' "$("$BIN" --version 2>/dev/null | head -n 1) at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes)')")"
} >"$LOGDIR/meta.sh"
. "$LOGDIR/meta.sh"
report | tee "$LOGDIR/report.md"
