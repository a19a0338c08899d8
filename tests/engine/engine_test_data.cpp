#include "engine/engine_test_data.hpp"

#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "support/test_support.hpp"

namespace tasnap::testing {

namespace {

// Reads every line of a file; gzopen also reads uncompressed files.
std::vector<std::string> read_lines(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::vector<std::string> lines;
  std::string current;
  char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof(buffer))) > 0) {
    for (int i = 0; i < got; ++i) {
      if (buffer[i] == '\n') {
        lines.push_back(current);
        current.clear();
      } else if (buffer[i] != '\r') {
        current.push_back(buffer[i]);
      }
    }
  }
  gzclose(file);
  if (!current.empty()) lines.push_back(current);
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

// strtod reads "NaN", "Infinity" and "-Infinity" as well as numbers.
double parse_double(std::string_view field, const std::string& line) {
  const std::string text(field);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) {
    throw std::runtime_error("invalid number '" + text + "' in line: " + line);
  }
  return value;
}

Date parse_date_field(std::string_view field, const std::string& line) {
  const auto date = parse_date(field);
  if (!date) throw std::runtime_error("invalid date '" + std::string(field) + "' in line: " + line);
  return *date;
}

}  // namespace

BarFile load_bar_file(const std::filesystem::path& path) {
  BarFile file;
  const std::vector<std::string> lines = read_lines(path);
  std::string current_ticker;
  for (std::size_t n = 1; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    if (line.empty()) continue;
    const auto f = split_fields(line);
    if (f.size() != 9) throw std::runtime_error("expected 9 fields in line: " + line);

    const std::string ticker(f[0]);
    if (ticker != current_ticker) {
      file.index[ticker] = file.chunk.ticker_count();
      file.chunk.begin_ticker(ticker);
      current_ticker = ticker;
    }

    std::uint8_t nulls = 0;
    auto number = [&](std::size_t i, std::uint8_t bit) {
      if (f[i].empty()) {
        nulls |= bit;
        return 0.0;
      }
      return parse_double(f[i], line);
    };
    const double open = number(2, null_bit::kOpen);
    const double high = number(3, null_bit::kHigh);
    const double low = number(4, null_bit::kLow);
    const double close = number(5, null_bit::kClose);
    const double adj_close = number(6, null_bit::kAdjClose);
    const double volume_value = number(7, null_bit::kVolume);
    const double split = number(8, null_bit::kSplitFactor);

    // A volume that is not an integer cannot be stored as bigint: treat it as NULL.
    std::int64_t volume = 0;
    if (!(nulls & null_bit::kVolume)) {
      if (std::isfinite(volume_value)) {
        volume = static_cast<std::int64_t>(volume_value);
      } else {
        nulls |= null_bit::kVolume;
      }
    }
    file.chunk.add_bar(parse_date_field(f[1], line), open, high, low, close, adj_close, volume,
                       split, nulls);
  }
  return file;
}

std::vector<GoldenRow> load_golden(const std::filesystem::path& path) {
  std::vector<GoldenRow> rows;
  const std::vector<std::string> lines = read_lines(path);
  for (std::size_t n = 1; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    if (line.empty()) continue;
    const auto f = split_fields(line);
    if (f.size() != 3 + kColumnCount) throw std::runtime_error("bad field count in: " + line);
    GoldenRow row;
    row.ticker = std::string(f[0]);
    row.as_of_date = parse_date_field(f[1], line);
    row.bars_used = static_cast<int>(parse_double(f[2], line));
    for (std::size_t c = 0; c < kColumnCount; ++c) {
      row.values[c] = f[3 + c].empty() ? kNull : parse_double(f[3 + c], line);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Request> load_requests(const std::filesystem::path& path) {
  std::vector<Request> requests;
  const std::vector<std::string> lines = read_lines(path);
  for (std::size_t n = 1; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    const auto f = split_fields(lines[n]);
    requests.push_back({std::string(f.at(0)), parse_date_field(f.at(1), lines[n])});
  }
  return requests;
}

const BarFile& sample_bars() {
  static const BarFile file = load_bar_file(source_dir() / "data" / "sp500_sample.csv.gz");
  return file;
}

const BarFile& edge_bars() {
  static const BarFile file =
      load_bar_file(source_dir() / "tests" / "data" / "golden" / "edge_bars.csv");
  return file;
}

}  // namespace tasnap::testing
