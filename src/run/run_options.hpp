// Options of the run and backfill commands, as parsed from the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/date.hpp"
#include "storage/database.hpp"

namespace tasnap::run {

enum class Mode { run, backfill };

struct RunOptions {
  Mode mode = Mode::run;
  storage::DbConfig db;

  std::optional<Date> as_of;  // run: --date (default: latest trade date)
  std::optional<Date> from;   // backfill: --from
  std::optional<Date> to;     // backfill: --to
  std::optional<Date> history_start;

  std::int64_t chunk_size = 250;
  std::vector<std::string> tickers;  // --tickers / --tickers-file; empty = whole universe
  std::string telemetry_json;
  int max_retries = 3;
  std::optional<int> workers;

  // Rows a backfill chunk buffers before streaming them to the database.
  std::int64_t write_batch_rows = 20'000;
};

// Reads a tickers file: one ticker per line, blank lines and lines starting
// with '#' ignored, surrounding spaces and a trailing '\r' trimmed.
std::vector<std::string> read_tickers_file(const std::string& path);

// Splits "A,B,C" into tickers, trimming spaces; throws InputError on an empty item.
std::vector<std::string> split_tickers(const std::string& list);

}  // namespace tasnap::run
