// Test inputs for the engine: long-format bar CSV files (plain or gzip) and
// golden snapshot files, read without the product's storage code.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/bars.hpp"
#include "core/date.hpp"
#include "core/snapshot_row.hpp"

namespace tasnap::testing {

// Every ticker of a bar file, in file order.
struct BarFile {
  BarChunk chunk;
  std::map<std::string, std::size_t> index;  // ticker -> index in chunk

  bool has(const std::string& ticker) const { return index.count(ticker) > 0; }
  RawBarsView bars(const std::string& ticker) const { return chunk.bars(index.at(ticker)); }
};

// Reads `ticker,trade_date,open,high,low,close,adj_close,volume,split_factor`.
// An empty field is NULL; NaN and Infinity are read as those values.
BarFile load_bar_file(const std::filesystem::path& path);

struct GoldenRow {
  std::string ticker;
  Date as_of_date;
  int bars_used = 0;
  std::array<double, kColumnCount> values{};  // NaN where the file has an empty field
};

std::vector<GoldenRow> load_golden(const std::filesystem::path& path);

struct Request {
  std::string ticker;  // "*" means every ticker
  Date as_of_date;
};

std::vector<Request> load_requests(const std::filesystem::path& path);

// The sample bar file shipped in the repository, loaded once per process.
const BarFile& sample_bars();

// The edge-case bar file in tests/data/golden, loaded once per process.
const BarFile& edge_bars();

}  // namespace tasnap::testing
