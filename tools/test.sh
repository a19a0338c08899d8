#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts the private
# PostgreSQL server, runs every test with CTest, then stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build.sh

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

pgdir="$PWD/.pgdata-test"
tools/pg_server.sh stop "$pgdir" >/dev/null 2>&1 || true
rm -rf "$pgdir"
tools/pg_server.sh start "$pgdir"
trap 'tools/pg_server.sh stop "$pgdir" || true' EXIT
export TASNAP_TEST_PG_DIR="$pgdir"
export TASNAP_TEST_PG="$(tools/pg_server.sh uri "$pgdir")"

ctest --test-dir build --output-on-failure --timeout 600 -j 2 "$@"
