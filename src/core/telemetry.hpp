// Per-rank run telemetry. Rank 0 gathers it, prints it, stores it in the run
// log and writes it to the telemetry JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tasnap {

struct RankTelemetry {
  int rank = 0;
  std::string host;
  std::int64_t pid = 0;

  std::int64_t chunks_assigned = 0;
  std::int64_t chunks_done = 0;
  std::int64_t tickers = 0;          // tickers in the chunks this rank finished
  std::int64_t bars_read = 0;
  std::int64_t invalid_bars = 0;     // dropped by validation
  std::int64_t rows_upserted = 0;
  std::int64_t tickers_skipped = 0;  // sum of the three reasons below
  std::int64_t skipped_no_bars = 0;
  std::int64_t skipped_no_valid_bars = 0;
  std::int64_t skipped_no_bar_on_date = 0;
  std::int64_t retries = 0;

  double connect_seconds = 0;
  double read_seconds = 0;
  double compute_seconds = 0;
  double write_seconds = 0;
  double total_seconds = 0;
  std::int64_t peak_rss_kib = 0;

  std::string digest;                    // Digest::to_string() of this rank's rows
  std::string error;                     // empty when the rank finished every chunk
  std::vector<std::int64_t> failed_chunks;  // chunk indices assigned but not written
};

// The digest of one ticker's rows in a run, for ticker-by-ticker comparison.
struct TickerDigest {
  std::string ticker;
  int rank = 0;
  std::int64_t chunk = 0;
  std::int64_t rows = 0;
  std::string digest;
  std::int64_t invalid_bars = 0;  // dropped by validation
};

}  // namespace tasnap
