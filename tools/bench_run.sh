#!/usr/bin/env bash
# Benchmarks the nightly run end to end on a private PostgreSQL server and
# prints the tables recorded in results/README.md.
#
#   tools/bench_run.sh generated     # TICKERS x DAYS generated bars: run at M = 1 and 2,
#                                    # the COPY read floor, peak RSS at SMALL_TICKERS vs TICKERS
#   tools/bench_run.sh sp500 [CSV]   # the real S&P 500 file: load time, run at M = 1 and 2
#
# Environment (defaults in brackets): BENCH_DIR, the server folder [.pgdata-bench];
# TASNAP_PG_PORT, the server's port, which only names its Unix socket [55432];
# BUILD_DIR [build, as made by tools/build.sh]; REPS, repetitions per measurement [3];
# TICKERS [10200], DAYS [1260], SMALL_TICKERS [2000]; CHUNK, the ticker chunk size [250].
#
# Generated databases are kept between invocations (a database comment records
# their size), so a second invocation skips `tasnap gen`. Stop the server and
# free the disk with `tools/pg_server.sh stop DIR && rm -rf DIR` when done.
#
# tools/bench_backfill.sh sources this file for its helpers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_dir=$(realpath -m "${BENCH_DIR:-$root/.pgdata-bench}")
build_dir=$root/${BUILD_DIR:-build}
tasnap=$build_dir/src/cli/tasnap
reps=${REPS:-3}
chunk=${CHUNK:-250}
export TASNAP_PG_PORT=${TASNAP_PG_PORT:-55432}

# Open MPI as root, on one node, with no core binding so ranks can share the machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader

out_dir=$bench_dir/results
server_uri=""

log() { echo "bench: $*" >&2; }

start_server() {
  if [ ! -x "$tasnap" ]; then
    echo "bench: $tasnap is missing; build it with: cmake --build $build_dir --target tasnap" >&2
    exit 2
  fi
  "$root/tools/pg_server.sh" start "$bench_dir" >&2
  server_uri=$("$root/tools/pg_server.sh" uri "$bench_dir")
  mkdir -p "$out_dir"
}

db_uri() { echo "$server_uri dbname=$1"; }

# psql_db DB ARGS...: runs psql on database DB, unaligned and without headers.
psql_db() {
  local db=$1
  shift
  psql "$(db_uri "$db")" -v ON_ERROR_STOP=1 -qAt "$@"
}

db_comment() {
  psql "$server_uri" -qAt -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$1'"
}

# create_db DB: drops DB if it exists and creates it again with tasnap's tables.
create_db() {
  psql "$server_uri" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  "$tasnap" init --db "$(db_uri "$1")" >&2
}

now() { date +%s.%N; }

seconds_since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.2f", end - start }'; }

# median: the middle value of the numbers on stdin (the lower middle for an even count).
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ensure_generated DB TICKERS DAYS: generates the bars unless DB already contains them.
ensure_generated() {
  local db=$1 tickers=$2 days=$3
  local tag="tasnap gen --tickers $tickers --days $days"
  if [ "$(db_comment "$db")" = "$tag" ]; then
    log "$db already holds: $tag"
    return
  fi
  create_db "$db"
  local start
  start=$(now)
  "$tasnap" gen --db "$(db_uri "$db")" --tickers "$tickers" --days "$days" >&2
  log "generated $tickers x $days bars into $db in $(seconds_since "$start") s"
  psql_db "$db" -c "ANALYZE daily_prices" -c "COMMENT ON DATABASE $db IS '$tag'"
}

# timed_job NAME M DB JOB_ARGS...: runs one tasnap job under mpirun with an empty
# snapshot table and prints its wall time in seconds. The telemetry goes to
# $out_dir/NAME.json and the log to $out_dir/NAME.log.
timed_job() {
  local name=$1 ranks=$2 db=$3
  shift 3
  psql_db "$db" -c "TRUNCATE ta_snapshots"
  local start
  start=$(now)
  if ! mpirun -np "$ranks" "$tasnap" "$@" --db "$(db_uri "$db")" --ticker-chunk-size "$chunk" \
    --telemetry-json "$out_dir/$name.json" >"$out_dir/$name.log" 2>&1; then
    echo "bench: $name failed; see $out_dir/$name.log" >&2
    tail -5 "$out_dir/$name.log" >&2
    exit 1
  fi
  seconds_since "$start"
}

# phase_table JSON...: per-rank phases from telemetry JSON files, one line per rank and file.
phase_table() {
  printf '| run | rank | rows | connect s | read s | compute s | write s | total s | peak RSS MiB |\n'
  printf '|---|---|---|---|---|---|---|---|---|\n'
  local file
  for file in "$@"; do
    jq -r --arg run "$(basename "$file" .json)" '.ranks[] |
      "| \($run) | \(.rank) | \(.rows_upserted) | \(.connect_seconds * 100 | round / 100) | " +
      "\(.read_seconds * 100 | round / 100) | \(.compute_seconds * 100 | round / 100) | " +
      "\(.write_seconds * 100 | round / 100) | \(.total_seconds * 100 | round / 100) | " +
      "\(.peak_rss_kib / 1024 | round) |"' "$file"
  done
}

max_peak_rss_mib() { jq '[.ranks[].peak_rss_kib] | max / 1024 | round' "$1"; }

rows_of() { jq '.rows' "$1"; }

# run_ranks_series DB PREFIX: REPS runs at M = 1 and at M = 2; prints "M median_seconds" lines.
run_ranks_series() {
  local db=$1 prefix=$2 ranks rep
  for ranks in 1 2; do
    local times=()
    for rep in $(seq 1 "$reps"); do
      times+=("$(timed_job "$prefix-m$ranks-$rep" "$ranks" "$db" run)")
      log "$prefix M=$ranks repetition $rep: ${times[-1]} s"
    done
    echo "$ranks $(printf '%s\n' "${times[@]}" | median) ${times[*]}"
  done
}

# copy_read_floor DB: seconds for two parallel psql binary COPY readers on halves of the tickers.
copy_read_floor() {
  local db=$1
  local middle
  middle=$(psql_db "$db" -c "SELECT ticker FROM (SELECT DISTINCT ticker FROM daily_prices) t ORDER BY ticker
                             OFFSET (SELECT count(DISTINCT ticker) / 2 FROM daily_prices) LIMIT 1")
  local start
  start=$(now)
  psql_db "$db" -c "COPY (SELECT * FROM daily_prices WHERE ticker < '$middle' ORDER BY ticker, trade_date)
                    TO STDOUT (FORMAT binary)" >/dev/null &
  local first=$!
  psql_db "$db" -c "COPY (SELECT * FROM daily_prices WHERE ticker >= '$middle' ORDER BY ticker, trade_date)
                    TO STDOUT (FORMAT binary)" >/dev/null
  wait "$first"
  seconds_since "$start"
}

machine_line() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), \
$(free -g | awk '/^Mem:/ { print $2 }') GiB RAM"
}

bench_generated() {
  local tickers=${TICKERS:-10200} days=${DAYS:-1260} small=${SMALL_TICKERS:-2000}
  local db=bench_gen_${tickers}x${days} small_db=bench_gen_${small}x${days}
  start_server
  ensure_generated "$db" "$tickers" "$days"
  ensure_generated "$small_db" "$small" "$days"

  local series floors=() rep
  series=$(run_ranks_series "$db" "gen$tickers")
  for rep in $(seq 1 "$reps"); do
    floors+=("$(copy_read_floor "$db")")
    log "COPY read floor repetition $rep: ${floors[-1]} s"
  done
  local floor m1 m2
  floor=$(printf '%s\n' "${floors[@]}" | median)
  m1=$(awk '$1 == 1 { print $2 }' <<<"$series")
  m2=$(awk '$1 == 2 { print $2 }' <<<"$series")
  timed_job "gen$small-m2" 2 "$small_db" run >/dev/null

  echo
  machine_line
  echo "data: $tickers generated tickers x $days days (tasnap gen), chunk size $chunk, $reps repetitions"
  echo
  echo "| measurement | median s | all s |"
  echo "|---|---|---|"
  echo "| tasnap run, M = 1 | $m1 | $(awk '$1 == 1 { $1 = $2 = ""; print }' <<<"$series") |"
  echo "| tasnap run, M = 2 | $m2 | $(awk '$1 == 2 { $1 = $2 = ""; print }' <<<"$series") |"
  echo "| floor: 2 parallel psql binary COPY readers | $floor | ${floors[*]} |"
  echo
  awk -v m1="$m1" -v m2="$m2" -v floor="$floor" 'BEGIN {
    printf "run M=2 / floor: %.2f (target <= 1.5)\n", m2 / floor
    printf "speed-up M=1 / M=2: %.2f (target >= 1.7)\n", m1 / m2 }'
  echo "peak RSS per rank, M = 2, chunk $chunk: $small tickers $(max_peak_rss_mib "$out_dir/gen$small-m2.json") MiB," \
    "$tickers tickers $(max_peak_rss_mib "$out_dir/gen$tickers-m2-1.json") MiB"
  echo
  phase_table "$out_dir/gen$tickers-m1-1.json" "$out_dir/gen$tickers-m2-1.json" "$out_dir/gen$small-m2.json"
}

bench_sp500() {
  local csv=${1:-$root/../shared/data/sp500_daily.csv.gz}
  local db=bench_sp500
  if [ ! -f "$csv" ]; then
    echo "bench: the S&P 500 file $csv is missing; pass its path as the second argument" >&2
    exit 2
  fi
  start_server
  create_db "$db"
  local start load_seconds
  start=$(now)
  "$tasnap" load --db "$(db_uri "$db")" "$csv" >"$out_dir/sp500-load.log" 2>&1
  load_seconds=$(seconds_since "$start")
  psql_db "$db" -c "ANALYZE daily_prices" -c "COMMENT ON DATABASE $db IS '$csv'"
  local bars
  bars=$(psql_db "$db" -c "SELECT count(*) FROM daily_prices")

  local series
  series=$(run_ranks_series "$db" sp500)
  local m1 m2
  m1=$(awk '$1 == 1 { print $2 }' <<<"$series")
  m2=$(awk '$1 == 2 { print $2 }' <<<"$series")
  local rows
  rows=$(rows_of "$out_dir/sp500-m2-1.json")

  echo
  machine_line
  echo "data: $csv ($bars bars), chunk size $chunk, $reps repetitions"
  echo
  echo "| measurement | median s | all s | rows | rows/s |"
  echo "|---|---|---|---|---|"
  echo "| tasnap load | $load_seconds | | $bars | $(awk -v n="$bars" -v s="$load_seconds" 'BEGIN { printf "%.0f", n / s }') |"
  echo "| tasnap run, M = 1 | $m1 | $(awk '$1 == 1 { $1 = $2 = ""; print }' <<<"$series") | $rows |" \
    "$(awk -v n="$rows" -v s="$m1" 'BEGIN { printf "%.0f", n / s }') |"
  echo "| tasnap run, M = 2 | $m2 | $(awk '$1 == 2 { $1 = $2 = ""; print }' <<<"$series") | $rows |" \
    "$(awk -v n="$rows" -v s="$m2" 'BEGIN { printf "%.0f", n / s }') |"
  echo
  phase_table "$out_dir/sp500-m1-1.json" "$out_dir/sp500-m2-1.json"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    generated) bench_generated ;;
    sp500) bench_sp500 "${2:-}" ;;
    *)
      echo "usage: $0 generated | sp500 [CSV]" >&2
      exit 2
      ;;
  esac
fi
