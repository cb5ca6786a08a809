# Sourced by scripts/*.sh: throwaway PostgreSQL clusters on 127.0.0.1, set up
# like the test fixture (tests/fixtures/pg_cluster.cpp): fsync, synchronous
# commit and full-page writes off; superuser `postgres` trusted on 127.0.0.1;
# role `secret_user` (password S3cr3t-pw!) must use scram-sha-256.
#
# Clusters live in $PGCUTOVER_CLUSTER_ROOT/NAME (default /tmp/pgcutover-clusters-$UID):
# data/ (also the unix socket dir), server.log, port. PostgreSQL refuses to run
# as root, so as root the server tools run as the `postgres` OS user.
#
#   cluster_start NAME PORT     initdb if missing, then start on PORT (no output but errors)
#   cluster_stop NAME           stop if running (fast mode)
#   cluster_destroy NAME        stop and delete
#   cluster_conninfo NAME [DB]  host=127.0.0.1 port=N dbname=DB user=postgres
#   cluster_free_port           a port nothing listens on right now (20000-59999)

: "${PGCUTOVER_CLUSTER_ROOT:=/tmp/pgcutover-clusters-$(id -u)}"

_cluster_bindir() {
  if [ -n "${PGCUTOVER_PG_BINDIR:-}" ]; then echo "$PGCUTOVER_PG_BINDIR"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || d=$(pg_config --bindir 2>/dev/null)
  [ -x "$d/initdb" ] || { echo "cluster.sh: no PostgreSQL server binaries found (install postgresql-15)" >&2; return 1; }
  echo "$d"
}

# Runs a server tool as the server user, from / (the postgres user may not be able to enter our cwd).
_cluster_as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- env -u PGDATA -u PGPORT -u PGHOST "$@")
  else
    (cd / && env -u PGDATA -u PGPORT -u PGHOST "$@")
  fi
}

_cluster_dir() { echo "$PGCUTOVER_CLUSTER_ROOT/$1"; }

cluster_start() {
  local name=${1:?cluster_start NAME PORT} port=${2:?cluster_start NAME PORT}
  local dir bin out
  dir=$(_cluster_dir "$name")
  bin=$(_cluster_bindir) || return 1
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$PGCUTOVER_CLUSTER_ROOT" && chmod 0755 "$PGCUTOVER_CLUSTER_ROOT"
    rm -rf "$dir" && mkdir -m 0700 "$dir" || return 1
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    local locale=C
    locale -a 2>/dev/null | grep -qix 'c.utf-\?8' && locale=C.UTF-8
    if ! out=$(_cluster_as_server_user env LC_ALL=C "$bin/initdb" -D "$dir/data" -U postgres -A trust \
               -E UTF8 --locale="$locale" --no-sync --no-instructions 2>&1); then
      echo "cluster_start $name: initdb failed:" >&2; echo "$out" >&2; return 1
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF

# pgcutover cluster.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/data'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 128MB
max_wal_size = 2GB
password_encryption = 'scram-sha-256'
logging_collector = off
include_if_exists = 'pgcutover_port.conf'
EOF
    cat >"$dir/data/pg_hba.conf" <<'EOF'
# pgcutover cluster.sh: secret_user must use scram, everyone else is trusted on loopback.
local all         all                         trust
host  all         secret_user 127.0.0.1/32    scram-sha-256
host  all         all         127.0.0.1/32    trust
host  replication all         127.0.0.1/32    trust
EOF
  fi
  echo "$port" >"$dir/port"
  echo "port = $port" >"$dir/data/pgcutover_port.conf"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/data/pgcutover_port.conf"; fi
  if _cluster_as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "cluster_start $name: already running (port $(cat "$dir/port"))" >&2
    return 1
  fi
  if ! out=$(_cluster_as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start 2>&1); then
    echo "cluster_start $name: pg_ctl start failed:" >&2; echo "$out" >&2
    tail -n 20 "$dir/server.log" >&2 2>/dev/null
    return 1
  fi
  # The scram role, once per cluster.
  if ! out=$("$bin/psql" -X -q -v ON_ERROR_STOP=1 -d "$(cluster_conninfo "$name")" 2>&1 <<'EOF'
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'secret_user') THEN
    CREATE ROLE secret_user LOGIN SUPERUSER PASSWORD 'S3cr3t-pw!';
  END IF;
END $$;
EOF
  ); then
    echo "cluster_start $name: could not create secret_user:" >&2; echo "$out" >&2; return 1
  fi
}

cluster_stop() {
  local name=${1:?cluster_stop NAME} dir bin out
  dir=$(_cluster_dir "$name")
  [ -f "$dir/data/postmaster.pid" ] || return 0
  bin=$(_cluster_bindir) || return 1
  if ! out=$(_cluster_as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop 2>&1); then
    echo "cluster_stop $name: $out" >&2; return 1
  fi
}

cluster_destroy() {
  local name=${1:?cluster_destroy NAME}
  cluster_stop "$name" || true
  rm -rf "$(_cluster_dir "$name")"
}

cluster_conninfo() {
  local name=${1:?cluster_conninfo NAME [DB]} db=${2:-postgres} dir
  dir=$(_cluster_dir "$name")
  [ -f "$dir/port" ] || { echo "cluster_conninfo: no cluster $name in $PGCUTOVER_CLUSTER_ROOT" >&2; return 1; }
  echo "host=127.0.0.1 port=$(cat "$dir/port") dbname=$db user=postgres"
}

cluster_free_port() {
  local port i
  for i in $(seq 1 200); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    # A failed connect means nothing listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  echo "cluster_free_port: no free port found" >&2
  return 1
}
