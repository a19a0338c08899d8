#!/usr/bin/env bash
# Benchmarks `tasnap backfill` over all dates on a private PostgreSQL server
# against the ingest floor: a plain binary COPY of the same snapshot rows into
# an empty table with the same primary key. Prints the tables recorded in
# results/README.md.
#
#   tools/bench_backfill.sh sp500 [CSV]   # the real S&P 500 file
#   tools/bench_backfill.sh generated     # TICKERS x DAYS generated bars
#
# Environment as for tools/bench_run.sh (BENCH_DIR, TASNAP_PG_PORT, BUILD_DIR,
# REPS, TICKERS, DAYS, CHUNK), except that TICKERS defaults to 2000 here, and
# RANKS sets the backfill's rank count [2]. The sp500 case reuses the database
# that `tools/bench_run.sh sp500` loaded when it exists.
set -euo pipefail

# shellcheck source=tools/bench_run.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_run.sh"

ranks=${RANKS:-2}

# backfill_all_dates DB NAME: times one backfill of every date in DB with an empty
# snapshot table and prints its wall time in seconds.
backfill_all_dates() {
  local db=$1 name=$2
  local first last
  first=$(psql_db "$db" -c "SELECT min(trade_date) FROM daily_prices")
  last=$(psql_db "$db" -c "SELECT max(trade_date) FROM daily_prices")
  log "backfill of $db from $first to $last with M=$ranks"
  timed_job "$name" "$ranks" "$db" backfill --from "$first" --to "$last"
}

# copy_ingest_floor DB: dumps ta_snapshots to a binary file on the server, then
# prints the median seconds of REPS plain COPY loads of that file into an
# empty copy of the table (same columns and primary key).
copy_ingest_floor() {
  local db=$1
  local file=$bench_dir/ta_snapshots.bin
  psql_db "$db" -c "COPY ta_snapshots TO '$file' (FORMAT binary)" \
    -c "DROP TABLE IF EXISTS ta_snapshots_copy" \
    -c "CREATE TABLE ta_snapshots_copy (LIKE ta_snapshots INCLUDING ALL)"
  local times=() rep start
  for rep in $(seq 1 "$reps"); do
    psql_db "$db" -c "TRUNCATE ta_snapshots_copy"
    start=$(now)
    psql_db "$db" -c "COPY ta_snapshots_copy FROM '$file' (FORMAT binary)"
    times+=("$(seconds_since "$start")")
    log "COPY ingest floor repetition $rep: ${times[-1]} s"
  done
  psql_db "$db" -c "DROP TABLE ta_snapshots_copy"
  rm -f "$file"
  printf '%s\n' "${times[@]}" | median
}

# report_backfill NAME DB SECONDS DATA: prints the backfill's table and phases.
report_backfill() {
  local name=$1 db=$2 seconds=$3 data=$4
  local rows floor
  rows=$(rows_of "$out_dir/$name.json")
  floor=$(copy_ingest_floor "$db")

  echo
  machine_line
  echo "data: $data, backfill of all dates, M = $ranks, chunk size $chunk"
  echo
  echo "| measurement | s | rows | rows/s |"
  echo "|---|---|---|---|"
  echo "| tasnap backfill | $seconds | $rows | $(awk -v n="$rows" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') |"
  echo "| floor: COPY FROM a binary file into an empty table with the same key (median of $reps) | $floor |" \
    "$rows | $(awk -v n="$rows" -v s="$floor" 'BEGIN { printf "%.0f", n / s }') |"
  echo
  awk -v b="$seconds" -v f="$floor" 'BEGIN { printf "backfill / floor: %.2f (target <= 2)\n", b / f }'
  echo
  phase_table "$out_dir/$name.json"
}

bench_backfill_sp500() {
  local csv=${1:-$root/../shared/data/sp500_daily.csv.gz}
  local db=bench_sp500
  start_server
  if [ "$(db_comment "$db")" != "$csv" ]; then
    if [ ! -f "$csv" ]; then
      echo "bench: the S&P 500 file $csv is missing; pass its path as the second argument" >&2
      exit 2
    fi
    create_db "$db"
    "$tasnap" load --db "$(db_uri "$db")" "$csv" >"$out_dir/sp500-load.log" 2>&1
    psql_db "$db" -c "ANALYZE daily_prices" -c "COMMENT ON DATABASE $db IS '$csv'"
  fi
  local seconds
  seconds=$(backfill_all_dates "$db" sp500-backfill)
  report_backfill sp500-backfill "$db" "$seconds" "$csv"
}

bench_backfill_generated() {
  local tickers=${TICKERS:-2000} days=${DAYS:-1260}
  local db=bench_gen_${tickers}x${days}
  start_server
  ensure_generated "$db" "$tickers" "$days"
  local seconds
  seconds=$(backfill_all_dates "$db" "gen$tickers-backfill")
  report_backfill "gen$tickers-backfill" "$db" "$seconds" "$tickers generated tickers x $days days (tasnap gen)"
}

case "${1:-}" in
  sp500) bench_backfill_sp500 "${2:-}" ;;
  generated) bench_backfill_generated ;;
  *)
    echo "usage: $0 sp500 [CSV] | generated" >&2
    exit 2
    ;;
esac
