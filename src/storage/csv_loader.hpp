// Loading of long-format price CSV files (plain or gzip) into the price table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "storage/database.hpp"

namespace tasnap::storage {

struct LoadOptions {
  // Load nothing from any file when a line of any file is invalid.
  bool strict = false;

  // Rows per upsert_prices() call, each one transaction.
  std::size_t batch_rows = 50'000;

  // Receives each rejected line as "FILE:LINE: reason". Without it, rejected
  // lines are logged as warnings.
  std::function<void(const std::string&)> on_reject;
};

struct LoadStats {
  std::int64_t rows_read = 0;      // data lines, valid or not
  std::int64_t rows_loaded = 0;    // lines upserted
  std::int64_t rows_rejected = 0;
  std::int64_t duplicates = 0;     // lines whose (ticker, trade_date) appeared earlier in the load
  bool loaded = true;              // false when --strict found rejects and loaded nothing
};

// Loads `files` in order. A header of the form
//   ticker,trade_date,open,high,low,close,adj_close,volume,split_factor
// names the columns in any order, and adj_close and split_factor may be absent
// or empty (NULL). Invalid lines are rejected and counted, and other values are
// stored as given. Throws InputError for a file that cannot be read, is empty,
// or has a missing or duplicate header column.
LoadStats load_csv_files(Database& database, const std::vector<std::filesystem::path>& files,
                         const LoadOptions& options);

}  // namespace tasnap::storage
