// Property tests: a row depends only on the bars up to its date, not on their
// order, and the backfill gives the same bits as the nightly row.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/bars.hpp"
#include "engine/engine_test_data.hpp"
#include "engine/snapshot.hpp"

namespace tasnap::engine {
namespace {

// Bitwise equality of two rows (a NULL equals a NULL only with the same bits).
bool same_bits(const SnapshotRow& a, const SnapshotRow& b) {
  return a.ticker == b.ticker && a.as_of_date == b.as_of_date && a.bars_used == b.bars_used &&
         std::memcmp(a.values.data(), b.values.data(), sizeof(a.values)) == 0;
}

std::string first_difference(const SnapshotRow& a, const SnapshotRow& b) {
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    if (std::bit_cast<std::uint64_t>(a.values[c]) != std::bit_cast<std::uint64_t>(b.values[c])) {
      return std::string(kColumnNames[c]) + ": " + std::to_string(a.values[c]) + " vs " +
             std::to_string(b.values[c]);
    }
  }
  return a.bars_used != b.bars_used ? "bars_used" : "key";
}

// Copies the bars of one view into a chunk, in the order given by `order`.
BarChunk copy_bars(const RawBarsView& bars, const std::vector<std::size_t>& order) {
  BarChunk chunk;
  chunk.begin_ticker("COPY");
  for (std::size_t i : order) {
    chunk.add_bar(bars.trade_date[i], bars.open[i], bars.high[i], bars.low[i], bars.close[i],
                  bars.adj_close[i], bars.volume[i], bars.split_factor[i], bars.nulls[i]);
  }
  return chunk;
}

std::vector<std::size_t> identity_order(std::size_t n) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  return order;
}

// Every value is finite or exactly the kNull bit pattern.
void expect_clean(const SnapshotRow& row) {
  const auto null_bits = std::bit_cast<std::uint64_t>(kNull);
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    const double value = row.values[c];
    const bool ok = std::isfinite(value) || std::bit_cast<std::uint64_t>(value) == null_bits;
    EXPECT_TRUE(ok) << row.ticker << " " << format_date(row.as_of_date) << " "
                    << kColumnNames[c] << " = " << value;
  }
}

// Checks compute_rows over [from, last bar] against compute_row for every date.
void expect_backfill_matches_rows(const std::string& ticker, const RawBarsView& bars, Date from) {
  SnapshotEngine engine;
  BadBarReport bad;
  const Date last = *std::max_element(bars.trade_date.begin(), bars.trade_date.end());
  std::vector<SnapshotRow> rows;
  ASSERT_EQ(engine.compute_rows(ticker, bars, from, {last, {}}, rows, bad), SkipReason::none)
      << ticker;
  ASSERT_FALSE(rows.empty());

  SnapshotEngine single;
  SnapshotRow row;
  std::size_t checked = 0;
  for (const SnapshotRow& backfilled : rows) {
    ASSERT_EQ(single.compute_row(ticker, bars, {backfilled.as_of_date, {}}, row, bad),
              SkipReason::none);
    ASSERT_TRUE(same_bits(row, backfilled))
        << ticker << " " << format_date(backfilled.as_of_date) << " "
        << first_difference(row, backfilled);
    expect_clean(row);
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

const char* const kRealTickers[] = {"AAPL", "KO", "MSFT", "CARR", "BRK.B", "VAR"};

TEST(PropertyTest, BackfillMatchesNightlyRows) {
  const auto& file = testing::sample_bars();
  for (const char* ticker : kRealTickers) {
    ASSERT_TRUE(file.has(ticker)) << ticker;
    expect_backfill_matches_rows(ticker, file.bars(ticker), make_date(2016, 1, 1));
  }
}

TEST(PropertyTest, BackfillMatchesNightlyRowsForEdgeTickers) {
  const auto& file = testing::edge_bars();
  for (const auto& [ticker, index] : file.index) {
    expect_backfill_matches_rows(ticker, file.bars(ticker), make_date(1900, 1, 1));
  }
}

TEST(PropertyTest, RowIgnoresLaterBarsAndOrder) {
  const auto& file = testing::sample_bars();
  std::mt19937 random(20240601);
  SnapshotEngine engine;
  SnapshotRow full_row, truncated_row, shuffled_row;
  BadBarReport bad;
  for (const char* ticker : kRealTickers) {
    const RawBarsView bars = file.bars(ticker);
    std::vector<std::size_t> order = identity_order(bars.size());
    std::shuffle(order.begin(), order.end(), random);
    const BarChunk shuffled = copy_bars(bars, order);

    // A handful of dates spread over the history, plus the last one.
    for (std::size_t k = 1; k <= 8; ++k) {
      const std::size_t index = bars.size() * k / 8 - 1;
      const Date as_of = bars.trade_date[index];
      const BarChunk truncated = copy_bars(bars, identity_order(index + 1));

      ASSERT_EQ(engine.compute_row(ticker, bars, {as_of, {}}, full_row, bad), SkipReason::none);
      ASSERT_EQ(engine.compute_row(ticker, truncated.bars(0), {as_of, {}}, truncated_row, bad),
                SkipReason::none);
      ASSERT_EQ(engine.compute_row(ticker, shuffled.bars(0), {as_of, {}}, shuffled_row, bad),
                SkipReason::none);
      EXPECT_TRUE(same_bits(full_row, truncated_row))
          << ticker << " " << format_date(as_of) << " "
          << first_difference(full_row, truncated_row);
      EXPECT_TRUE(same_bits(full_row, shuffled_row))
          << ticker << " " << format_date(as_of) << " " << first_difference(full_row, shuffled_row);
    }
  }
}

TEST(PropertyTest, GiganticValuesGiveNullNotInfinity) {
  BarChunk chunk;
  chunk.begin_ticker("HUGE");
  const Date start = make_date(2019, 1, 1);
  const std::int64_t max_volume = std::numeric_limits<std::int64_t>::max();
  for (int i = 0; i < 300; ++i) {
    const double price = i % 2 == 0 ? 1e300 : 1.7e308;
    const double adj = i % 3 == 0 ? 1e-300 : price;
    chunk.add_bar(Date{start.days + i}, price, 1.7e308, 1e300, price, adj, max_volume,
                  i % 50 == 0 ? 1e300 : 1.0, 0);
  }

  SnapshotEngine engine;
  BadBarReport bad;
  std::vector<SnapshotRow> rows;
  ASSERT_EQ(engine.compute_rows("HUGE", chunk.bars(0), start, {Date{start.days + 299}, {}}, rows,
                                bad),
            SkipReason::none);
  ASSERT_EQ(rows.size(), 300u);
  bool some_null = false;
  for (const SnapshotRow& row : rows) {
    expect_clean(row);
    for (double value : row.values) some_null = some_null || is_null(value);
  }
  EXPECT_TRUE(some_null) << "overflowing sums must come out as NULL";
  EXPECT_TRUE(is_null(rows.back()[Column::avg_dollar_volume_20d]));
}

}  // namespace
}  // namespace tasnap::engine
