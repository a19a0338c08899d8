#include "storage/csv_loader.hpp"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

#include "core/errors.hpp"
#include "storage/schema.hpp"

namespace tasnap::storage {

namespace {

// Rejected lines printed per file; the rest are only counted.
constexpr std::int64_t kMaxReportedRejects = 100;

// Reads RFC 4180 records from a plain or gzip file (gzread passes plain files
// through). A quoted field may contain commas, doubled quotes and line breaks,
// and a CR before LF ends the record like a bare LF.
class CsvReader {
 public:
  explicit CsvReader(const std::filesystem::path& path) : path_(path.string()) {
    file_ = gzopen(path_.c_str(), "rb");
    if (!file_) {
      throw InputError("Failed to open CSV file '" + path_ +
                       "': it does not exist or is not readable. Check the path.");
    }
    gzbuffer(file_, 1 << 20);
    buffer_.resize(1 << 20);
  }
  ~CsvReader() { gzclose(file_); }
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next non-empty record. Returns false at the end of the file. On
  // a malformed record, `error` is set and `fields` contains what was read.
  bool next(std::vector<std::string_view>& fields, std::string& error) {
    fields.clear();
    error.clear();
    record_.clear();
    bounds_.clear();

    int c = get();
    while (c == '\n' || c == '\r') {
      if (c == '\n') ++line_;
      c = get();
    }
    if (c == EOF) return false;
    record_line_ = line_;

    std::size_t field_begin = 0;
    bool quoted_field = false;
    while (true) {
      if (c == '"' && record_.size() == field_begin && !quoted_field) {
        quoted_field = true;
        if (!read_quoted(error)) break;
        c = get();
        if (c != ',' && c != '\n' && c != '\r' && c != EOF) {
          error = "unexpected character after a closing quote";
          skip_line(c);
          break;
        }
        continue;
      }
      if (c == ',' || c == '\n' || c == EOF) {
        bounds_.emplace_back(field_begin, record_.size());
        field_begin = record_.size();
        quoted_field = false;
        if (c != ',') {
          if (c == '\n') ++line_;
          break;
        }
      } else if (c != '\r') {
        record_ += static_cast<char>(c);
      } else {
        // A CR counts as part of the line break only right before LF or EOF.
        const int following = get();
        if (following != '\n' && following != EOF) record_ += '\r';
        c = following;
        continue;
      }
      c = get();
    }

    for (const auto& [begin, end] : bounds_) {
      fields.emplace_back(record_.data() + begin, end - begin);
    }
    return true;
  }

  // The line on which the last record started (1-based).
  std::int64_t line() const { return record_line_; }

  void check_read_error() const {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code != Z_OK && code != Z_STREAM_END) {
      throw InputError("Failed to read CSV file '" + path_ + "': " + message +
                       ". The file may be truncated or not valid gzip; check it.");
    }
  }

 private:
  int get() {
    if (position_ == end_) {
      const int count = gzread(file_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
      if (count <= 0) {
        check_read_error();
        return EOF;
      }
      position_ = 0;
      end_ = static_cast<std::size_t>(count);
    }
    return static_cast<unsigned char>(buffer_[position_++]);
  }

  // Reads a quoted field after its opening quote up to its closing quote.
  bool read_quoted(std::string& error) {
    while (true) {
      const int c = get();
      if (c == EOF) {
        error = "unterminated quoted field";
        return false;
      }
      if (c == '\n') ++line_;
      if (c != '"') {
        record_ += static_cast<char>(c);
        continue;
      }
      const int following = get();
      if (following == '"') {
        record_ += '"';
        continue;
      }
      unget(following);
      return true;
    }
  }

  void unget(int c) {
    if (c != EOF) --position_;
  }

  void skip_line(int c) {
    while (c != '\n' && c != EOF) c = get();
    if (c == '\n') ++line_;
  }

  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t position_ = 0;
  std::size_t end_ = 0;
  std::int64_t line_ = 1;
  std::int64_t record_line_ = 1;
  std::string record_;
  std::vector<std::pair<std::size_t, std::size_t>> bounds_;
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Parses a whole field as a double with std::from_chars, which also accepts
// NaN, Infinity and -Infinity (any case). A leading '+' is allowed.
std::optional<double> parse_double(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A volume is an integer; "1200.0" or "1.2e3" are accepted when they are whole
// numbers in range.
std::optional<std::int64_t> parse_volume(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc() && end == text.data() + text.size() && !text.empty()) return value;

  const auto real = parse_double(text);
  if (!real || !std::isfinite(*real) || *real != std::trunc(*real) || std::fabs(*real) >= 9.2e18) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*real);
}

std::string quoted_value(std::string_view value) { return "'" + std::string(value) + "'"; }

// Column positions of one file, from its header.
struct ColumnMap {
  std::size_t field_count = 0;
  std::array<std::optional<std::size_t>, schema::kPriceColumns.size()> index;
};

ColumnMap map_header(const std::vector<std::string_view>& header, const std::string& file) {
  ColumnMap map;
  map.field_count = header.size();
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string name(trim(header[i]));
    if (i == 0 && name.starts_with("\xEF\xBB\xBF")) name.erase(0, 3);  // UTF-8 byte order mark
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      throw InputError("CSV file '" + file + "': duplicate header column '" + name +
                       "'. Each column may appear once; remove the extra one.");
    }
    seen.push_back(name);

    const auto known = std::find(schema::kPriceColumns.begin(), schema::kPriceColumns.end(), name);
    if (known == schema::kPriceColumns.end()) {
      spdlog::warn("CSV file {}: ignoring unknown column '{}'", file, name);
      continue;
    }
    map.index[static_cast<std::size_t>(known - schema::kPriceColumns.begin())] = i;
  }

  for (std::size_t c = 0; c < schema::kPriceColumns.size(); ++c) {
    const auto name = schema::kPriceColumns[c];
    if (!map.index[c] && name != "adj_close" && name != "split_factor") {
      throw InputError("CSV file '" + file + "': missing required column '" + std::string(name) +
                       "'. The header must name ticker, trade_date, open, high, low, close and "
                       "volume; adj_close and split_factor are optional.");
    }
  }
  return map;
}

// Parses one data record into `row`; returns the reason when it is invalid.
std::optional<std::string> parse_row(const std::vector<std::string_view>& fields,
                                     const ColumnMap& map, PriceRow& row) {
  if (fields.size() != map.field_count) {
    return "wrong field count (" + std::to_string(fields.size()) + " fields, expected " +
           std::to_string(map.field_count) + ")";
  }
  const auto field = [&](std::size_t column) { return fields[*map.index[column]]; };

  const auto ticker = field(0);
  if (trim(ticker).empty()) return std::string("empty ticker");
  row.ticker.assign(ticker);

  const auto date_text = trim(field(1));
  const auto date = parse_date(date_text);
  if (!date) return "invalid trade_date " + quoted_value(date_text) + " (expected a calendar date as YYYY-MM-DD)";
  row.trade_date = *date;

  std::array<double*, 4> prices = {&row.open, &row.high, &row.low, &row.close};
  for (std::size_t i = 0; i < prices.size(); ++i) {
    const auto text = field(2 + i);
    const auto value = parse_double(text);
    if (!value) {
      return "non-numeric " + std::string(schema::kPriceColumns[2 + i]) + " " + quoted_value(text);
    }
    *prices[i] = *value;
  }

  // adj_close (6) and split_factor (8) are NULL when absent or empty.
  for (const std::size_t column : {std::size_t{6}, std::size_t{8}}) {
    std::optional<double>& target = column == 6 ? row.adj_close : row.split_factor;
    target.reset();
    if (!map.index[column] || trim(field(column)).empty()) continue;
    const auto value = parse_double(field(column));
    if (!value) {
      return "non-numeric " + std::string(schema::kPriceColumns[column]) + " " +
             quoted_value(field(column));
    }
    target = *value;
  }

  const auto volume = parse_volume(field(7));
  if (!volume) return "non-integer volume " + quoted_value(field(7));
  row.volume = *volume;
  return std::nullopt;
}

// The (ticker, trade_date) keys seen so far, as per-ticker date lists so that
// memory stays at four bytes per row. Duplicates are counted at the end.
class DuplicateCounter {
 public:
  void add(const std::string& ticker, Date date) {
    auto found = dates_.find(ticker);
    if (found == dates_.end()) found = dates_.emplace(ticker, std::vector<std::int32_t>{}).first;
    found->second.push_back(date.days);
  }

  std::int64_t count() {
    std::int64_t duplicates = 0;
    for (auto& [ticker, dates] : dates_) {
      std::sort(dates.begin(), dates.end());
      for (std::size_t i = 1; i < dates.size(); ++i) duplicates += dates[i] == dates[i - 1];
    }
    return duplicates;
  }

 private:
  std::unordered_map<std::string, std::vector<std::int32_t>> dates_;
};

struct FileResult {
  std::int64_t rows_read = 0;
  std::int64_t rows_loaded = 0;
  std::int64_t rows_rejected = 0;
};

// Reads one file; with a database, upserts its valid rows in batches.
FileResult process_file(const std::filesystem::path& path, Database* database,
                        DuplicateCounter* duplicates, const LoadOptions& options) {
  const std::string file = path.string();
  CsvReader reader(path);
  std::vector<std::string_view> fields;
  std::string error;

  if (!reader.next(fields, error)) {
    throw InputError("CSV file '" + file +
                     "' is empty. Expected a header line such as "
                     "ticker,trade_date,open,high,low,close,adj_close,volume,split_factor.");
  }
  if (!error.empty()) {
    throw InputError("CSV file '" + file + "': invalid header line (" + error + "). Fix the header.");
  }
  const ColumnMap map = map_header(fields, file);

  FileResult result;
  std::vector<PriceRow> batch;
  batch.reserve(std::min<std::size_t>(options.batch_rows, 1'000'000));
  PriceRow row;
  const auto flush = [&] {
    if (batch.empty()) return;
    database->upsert_prices(batch);
    result.rows_loaded += static_cast<std::int64_t>(batch.size());
    batch.clear();
  };

  while (reader.next(fields, error)) {
    ++result.rows_read;
    std::optional<std::string> reason;
    if (!error.empty()) {
      reason = error;
    } else {
      reason = parse_row(fields, map, row);
    }

    if (reason) {
      ++result.rows_rejected;
      if (result.rows_rejected <= kMaxReportedRejects) {
        const std::string message = file + ":" + std::to_string(reader.line()) + ": " + *reason;
        if (options.on_reject) {
          options.on_reject(message);
        } else {
          spdlog::warn("{}", message);
        }
      }
      continue;
    }

    if (!database) continue;
    duplicates->add(row.ticker, row.trade_date);
    batch.push_back(row);
    if (batch.size() >= options.batch_rows) flush();
  }
  if (database) flush();

  if (result.rows_rejected > kMaxReportedRejects) {
    spdlog::warn("{}: {} more rejected lines were not listed", file,
                 result.rows_rejected - kMaxReportedRejects);
  }
  return result;
}

}  // namespace

LoadStats load_csv_files(Database& database, const std::vector<std::filesystem::path>& files,
                         const LoadOptions& options) {
  LoadStats stats;

  // --strict validates every file before loading any, so a bad line anywhere
  // leaves the database untouched.
  if (options.strict) {
    std::int64_t rejected = 0;
    for (const auto& path : files) {
      const FileResult result = process_file(path, nullptr, nullptr, options);
      stats.rows_read += result.rows_read;
      rejected += result.rows_rejected;
      if (result.rows_rejected > 0) {
        spdlog::error("{}: {} invalid lines; nothing is loaded because of --strict",
                      path.string(), result.rows_rejected);
      }
    }
    if (rejected > 0) {
      stats.rows_rejected = rejected;
      stats.loaded = false;
      return stats;
    }
    stats.rows_read = 0;
  }

  DuplicateCounter duplicates;
  for (const auto& path : files) {
    spdlog::info("Loading {}", path.string());
    const FileResult result = process_file(path, &database, &duplicates, options);
    stats.rows_read += result.rows_read;
    stats.rows_loaded += result.rows_loaded;
    stats.rows_rejected += result.rows_rejected;
    spdlog::info("Loaded {}: {} rows read, {} loaded, {} rejected", path.string(), result.rows_read,
                 result.rows_loaded, result.rows_rejected);
  }
  stats.duplicates = duplicates.count();
  return stats;
}

}  // namespace tasnap::storage
