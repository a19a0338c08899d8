#!/usr/bin/env bash
# The first command of the README. It installs what is missing and builds.
# Then it loads the shipped real sample (20 S&P 500 tickers, 1999-2021) into
# the SQLite database demo/tasnap.db, runs the nightly snapshot with 2 ranks,
# and prints the telemetry table and a few snapshot rows.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/build.sh

# Open MPI needs these to start ranks as root; they change nothing for other users.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# The demo runs 2 ranks even on a 1-core machine.
export OMPI_MCA_rmaps_base_oversubscribe=1

mkdir -p demo
db="sqlite:demo/tasnap.db"
tasnap=build/src/cli/tasnap

"$tasnap" init --db "$db"
"$tasnap" load --db "$db" data/sp500_sample.csv.gz
"$tasnap" run --workers 2 --db "$db" --ticker-chunk-size 5 --telemetry-json demo/telemetry.json

echo
echo "A few snapshot rows (demo/tasnap.db, table ta_snapshots):"
sqlite3 -header -column demo/tasnap.db \
  "SELECT ticker, as_of_date, bars_used, round(close, 2) AS close, round(sma_50, 2) AS sma_50,
          round(rsi_14, 1) AS rsi_14, round(macd, 3) AS macd, round(atr_14, 2) AS atr_14,
          round(return_252d, 3) AS return_252d, round(volatility_20d, 3) AS vol_20d
   FROM ta_snapshots ORDER BY ticker LIMIT 8;"
echo
echo "Telemetry JSON: demo/telemetry.json; database: demo/tasnap.db"
