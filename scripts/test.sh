#!/usr/bin/env bash
# Installs what is missing, builds into build/, and runs every test suite
# (unit, integration and fault tests; the last two start their own throwaway
# PostgreSQL clusters). Exits with ctest's code. Works from a fresh clone on a
# fresh Debian 12 machine, as root or with sudo, without a terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/deps.sh
pgcutover_install_deps
pgcutover_build build

exec ctest --test-dir build --output-on-failure </dev/null
