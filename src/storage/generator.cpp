#include "storage/generator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace tasnap::storage {

namespace {

constexpr double kShortHistoryShare = 0.08;  // tickers listed after the first weekday
constexpr double kSplitShare = 0.15;         // tickers with one 2:1 or 3:1 split
constexpr double kGapShare = 0.01;           // weekdays without a bar inside a history
constexpr double kDrift = 0.0002;            // mean daily log return

// SplitMix64 finalizer: spreads (seed, ticker number) over the whole seed space
// so neighbouring tickers get unrelated streams.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform and normal draws written here because the std:: distributions may
// give other numbers with another standard library version.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  // Standard normal by the Box-Muller transform (one value per two uniforms).
  // NOTE: std::log, std::cos and std::exp come from the C math library, so
  // the same seed gives the same bytes only with the same libm build.
  double normal() {
    const double u1 = 1.0 - uniform();  // in (0, 1], so the log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 engine_;
};

// The `count` weekdays ending on the last weekday on or before `end`.
std::vector<Date> weekdays_ending(Date end, std::int32_t count) {
  std::vector<Date> days;
  days.reserve(static_cast<std::size_t>(count));
  Date day = end;
  while (static_cast<std::int32_t>(days.size()) < count) {
    if (weekday_of(day) < 5) days.push_back(day);
    --day.days;
  }
  std::reverse(days.begin(), days.end());
  return days;
}

// Rounds to 0.0001, the tick of the sample data, keeping the price positive.
// Rounds to four decimals and keeps the price positive.
double round_price(double price) {
  return std::max(0.0001, std::round(price * 10'000.0) / 10'000.0);
}

// Appends the bars of one ticker to `out` and updates `stats`.
void generate_ticker(const std::string& ticker, std::uint64_t seed, const std::vector<Date>& days,
                     std::vector<PriceRow>& out, GenerateStats& stats) {
  Random random(seed);
  const auto day_count = static_cast<std::int64_t>(days.size());

  std::int64_t first = 0;
  if (random.uniform() < kShortHistoryShare && day_count > 1) {
    const auto length = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(static_cast<double>(day_count) * random.uniform(0.1, 0.5)));
    first = day_count - length;
    ++stats.short_histories;
  }

  double close = std::exp(random.uniform(std::log(5.0), std::log(500.0)));
  const double sigma = random.uniform(0.01, 0.03);
  const double base_volume = std::exp(random.uniform(std::log(1e5), std::log(1e7)));

  // Bars before the split day carry pre-split prices (times the factor), so
  // close and adj_close differ there. adj_close is the continuous series.
  std::int64_t split_day = -1;
  double split_factor = 1.0;
  const bool has_split = random.uniform() < kSplitShare;
  const double split_position = random.uniform();
  const double split_kind = random.uniform();
  if (has_split && day_count - first >= 2) {
    split_day = first + 1 + static_cast<std::int64_t>(split_position * static_cast<double>(day_count - first - 1));
    split_factor = split_kind < 0.7 ? 2.0 : 3.0;
    ++stats.splits;
  }

  for (std::int64_t d = first; d < day_count; ++d) {
    const double previous = close;
    close = previous * std::exp(kDrift + sigma * random.normal());
    const double open = previous * std::exp(0.25 * sigma * random.normal());
    const double high = std::max(open, close) * std::exp(0.5 * sigma * std::fabs(random.normal()));
    const double low = std::min(open, close) * std::exp(-0.5 * sigma * std::fabs(random.normal()));
    const double volume = base_volume * std::exp(0.4 * random.normal());
    const bool gap = random.uniform() < kGapShare;

    // The first bar and the split bar are always kept, so every ticker has
    // bars and every split is visible.
    if (gap && d != first && d != split_day) {
      ++stats.gaps;
      continue;
    }

    const double scale = d < split_day ? split_factor : 1.0;
    PriceRow row;
    row.ticker = ticker;
    row.trade_date = days[static_cast<std::size_t>(d)];
    row.open = round_price(open * scale);
    row.close = round_price(close * scale);
    row.high = std::max({round_price(high * scale), row.open, row.close});
    row.low = std::min({round_price(low * scale), row.open, row.close});
    row.adj_close = round_price(close);
    row.volume = std::max<std::int64_t>(1, std::llround(volume / scale));
    row.split_factor = d == split_day ? split_factor : 1.0;
    out.push_back(std::move(row));
  }
}

}  // namespace

std::string generated_ticker(std::int64_t number, std::int64_t count) {
  const std::size_t width = std::max<std::size_t>(5, std::to_string(count).size());
  std::string digits = std::to_string(number);
  return "G" + std::string(width - std::min(width, digits.size()), '0') + digits;
}

GenerateStats generate_prices(Database& database, const GenerateOptions& options) {
  if (options.tickers < 1) {
    throw InputError("Invalid --tickers " + std::to_string(options.tickers) +
                     ": give at least 1.");
  }
  if (options.days < 1) {
    throw InputError("Invalid --days " + std::to_string(options.days) + ": give at least 1.");
  }

  const std::vector<Date> days = weekdays_ending(options.end_date, options.days);
  spdlog::info("Generating {} tickers x {} weekdays from {} to {} with seed {}", options.tickers,
               options.days, format_date(days.front()), format_date(days.back()), options.seed);

  GenerateStats stats;
  std::vector<PriceRow> batch;
  batch.reserve(options.batch_rows + days.size());
  for (std::int64_t number = 1; number <= options.tickers; ++number) {
    const std::string ticker = generated_ticker(number, options.tickers);
    generate_ticker(ticker, mix(options.seed ^ mix(static_cast<std::uint64_t>(number))), days,
                    batch, stats);
    ++stats.tickers;

    if (batch.size() >= options.batch_rows) {
      database.upsert_prices(batch);
      stats.rows += static_cast<std::int64_t>(batch.size());
      batch.clear();
    }
  }
  if (!batch.empty()) {
    database.upsert_prices(batch);
    stats.rows += static_cast<std::int64_t>(batch.size());
  }

  spdlog::info("Generated {} rows for {} tickers ({} splits, {} gaps, {} short histories)",
               stats.rows, stats.tickers, stats.splits, stats.gaps, stats.short_histories);
  return stats;
}

}  // namespace tasnap::storage
