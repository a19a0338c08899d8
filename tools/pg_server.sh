#!/usr/bin/env bash
# Starts, stops or describes a private PostgreSQL 15 server for tests,
# benchmarks and the demo: data in a project-local folder, a Unix socket only
# (no TCP listener), run as the postgres user when invoked as root.
#
#   tools/pg_server.sh start [DIR]   # default DIR: .pgdata in the project root
#   tools/pg_server.sh stop  [DIR]
#   tools/pg_server.sh status [DIR]
#   tools/pg_server.sh uri   [DIR]   # prints the libpq connection string
#
# fsync is off: the server is for throwaway data only.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-}
dir=$(realpath -m "${2:-$root/.pgdata}")
port=${TASNAP_PG_PORT:-5432}
pgbin=/usr/lib/postgresql/15/bin

run_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_installed() {
  if [ ! -x "$pgbin/initdb" ]; then
    echo "pg_server: PostgreSQL 15 is missing; installing it with apt-get." >&2
    "$root/tools/install-deps.sh"
  fi
}

case "$action" in
  start)
    ensure_installed
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$dir"
      # Every parent must be traversable by the postgres user.
      p="$dir"
      while [ "$p" != "/" ]; do
        p=$(dirname "$p")
        if ! runuser -u postgres -- test -x "$p"; then chmod o+x "$p"; fi
      done
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      run_as_owner "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log"
    fi
    if run_as_owner "$pgbin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "pg_server: already running in $dir"
    else
      run_as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c max_connections=100 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
      echo "pg_server: started in $dir (socket $dir/.s.PGSQL.$port)"
    fi
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ] && run_as_owner "$pgbin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      run_as_owner "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
      echo "pg_server: stopped $dir"
    else
      echo "pg_server: not running in $dir"
    fi
    ;;
  status)
    run_as_owner "$pgbin/pg_ctl" -D "$dir/data" status
    ;;
  uri)
    echo "host=$dir port=$port user=postgres dbname=postgres"
    ;;
  *)
    echo "usage: $0 start|stop|status|uri [DIR]" >&2
    exit 2
    ;;
esac
