// The synthetic bar generator: determinism, bar validity, splits, gaps and
// short histories.
#include <gtest/gtest.h>

#include <map>

#include "core/errors.hpp"
#include "sqlite_test_util.hpp"
#include "storage/generator.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

constexpr std::int64_t kTickers = 60;
constexpr std::int32_t kDays = 400;

std::filesystem::path generate(const testing::TempDir& dir, const std::string& name,
                               std::uint64_t seed) {
  const auto file = dir / name;
  auto database = open_database(testing::sqlite_config(file));
  database->init_schema();
  GenerateOptions options;
  options.tickers = kTickers;
  options.days = kDays;
  options.seed = seed;
  options.batch_rows = 5000;  // several batches per database
  generate_prices(*database, options);
  return file;
}

BarChunk read_all(const std::filesystem::path& file) {
  auto database = open_database(testing::sqlite_config(file));
  std::vector<std::string> tickers;
  for (std::int64_t i = 1; i <= kTickers; ++i) tickers.push_back(generated_ticker(i, kTickers));
  BarChunk chunk;
  database->read_bars(tickers, std::nullopt, make_date(2100, 1, 1), chunk);
  return chunk;
}

TEST(Generator, SameSeedSameContent) {
  testing::TempDir dir;
  const auto first = testing::dump_table(generate(dir, "a.db", 42), "daily_prices");
  const auto second = testing::dump_table(generate(dir, "b.db", 42), "daily_prices");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
}

TEST(Generator, DifferentSeedDifferentContent) {
  testing::TempDir dir;
  const auto first = testing::dump_table(generate(dir, "a.db", 42), "daily_prices");
  const auto second = testing::dump_table(generate(dir, "b.db", 43), "daily_prices");
  EXPECT_NE(first, second);
}

TEST(Generator, BarsAreValid) {
  testing::TempDir dir;
  const BarChunk chunk = read_all(generate(dir, "a.db", 7));
  ASSERT_EQ(chunk.ticker_count(), static_cast<std::size_t>(kTickers));

  for (std::size_t t = 0; t < chunk.ticker_count(); ++t) {
    const RawBarsView bars = chunk.bars(t);
    for (std::size_t i = 0; i < bars.size(); ++i) {
      SCOPED_TRACE(chunk.ticker(t) + " " + format_date(bars.trade_date[i]));
      ASSERT_EQ(bars.nulls[i], 0);
      EXPECT_GT(bars.low[i], 0.0);
      EXPECT_LE(bars.low[i], bars.open[i]);
      EXPECT_LE(bars.low[i], bars.close[i]);
      EXPECT_GE(bars.high[i], bars.open[i]);
      EXPECT_GE(bars.high[i], bars.close[i]);
      EXPECT_GT(bars.volume[i], 0);
      EXPECT_LT(weekday_of(bars.trade_date[i]), 5) << "weekend bar";
      if (i > 0) {
        EXPECT_LT(bars.trade_date[i - 1], bars.trade_date[i]);
      }
    }
  }
}

TEST(Generator, HasSplitsGapsAndShortHistories) {
  testing::TempDir dir;
  const BarChunk chunk = read_all(generate(dir, "a.db", 7));
  const Date end = make_date(2021, 4, 21);

  int splits = 0;
  int short_histories = 0;
  int tickers_with_gaps = 0;
  for (std::size_t t = 0; t < chunk.ticker_count(); ++t) {
    const RawBarsView bars = chunk.bars(t);
    ASSERT_GT(bars.size(), 0u);
    EXPECT_EQ(bars.trade_date[bars.size() - 1].days, end.days) << chunk.ticker(t);

    // Weekdays between the first and last bar, against the bars present.
    std::size_t weekdays = 0;
    for (Date day = bars.trade_date[0]; day <= end; ++day.days) weekdays += weekday_of(day) < 5;
    if (bars.size() < weekdays) ++tickers_with_gaps;
    if (weekdays < static_cast<std::size_t>(kDays)) ++short_histories;

    for (std::size_t i = 0; i < bars.size(); ++i) {
      if (bars.split_factor[i] == 1.0) continue;
      ++splits;
      ASSERT_TRUE(bars.split_factor[i] == 2.0 || bars.split_factor[i] == 3.0);
      ASSERT_GT(i, 0u) << "a split on the first bar is invisible";
      // Before the split, close is in pre-split terms: about factor x adj_close.
      const double ratio = bars.close[i - 1] / bars.adj_close[i - 1];
      EXPECT_NEAR(ratio, bars.split_factor[i], 0.01) << chunk.ticker(t);
      EXPECT_NEAR(bars.close[i] / bars.adj_close[i], 1.0, 1e-9) << chunk.ticker(t);
    }
  }
  EXPECT_GT(splits, 0);
  EXPECT_GT(short_histories, 0);
  EXPECT_GT(tickers_with_gaps, 0);
}

TEST(Generator, TickerNames) {
  EXPECT_EQ(generated_ticker(1, 10200), "G00001");
  EXPECT_EQ(generated_ticker(10200, 10200), "G10200");
  EXPECT_EQ(generated_ticker(7, 123456), "G000007");
}

TEST(Generator, CommandWritesRows) {
  testing::TempDir dir;
  const auto file = dir / "gen.db";
  const auto result = testing::run_command(testing::tasnap_command("gen", file) +
                                           " --tickers 5 --days 30 --seed 3 --end-date 2020-01-05");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Generated"), std::string::npos) << result.output;
  EXPECT_GT(testing::count_rows(file, "daily_prices"), 0);

  // 2020-01-05 is a Sunday, so histories end on Friday 2020-01-03.
  const auto dump = testing::dump_table(file, "daily_prices");
  ASSERT_FALSE(dump.empty());
  EXPECT_NE(dump.back().find("|t2020-01-03|"), std::string::npos) << dump.back();
}

TEST(Generator, CommandRejectsBadDate) {
  testing::TempDir dir;
  const auto result = testing::run_command(testing::tasnap_command("gen", dir / "gen.db") +
                                           " --tickers 5 --days 30 --end-date 2020-02-30");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("2020-02-30"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tasnap::storage
