// Engine tests on synthetic bars: NULL boundaries, splits, bad bars, sorting and skips.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/bars.hpp"
#include "core/snapshot_row.hpp"
#include "engine/snapshot.hpp"

namespace tasnap::engine {
namespace {

Date day(int offset) { return Date{make_date(2020, 1, 1).days + offset}; }

// One ticker's bars built bar by bar.
class SyntheticBars {
 public:
  SyntheticBars() { chunk_.begin_ticker("SYN"); }

  void add(Date date, double open, double high, double low, double close, std::int64_t volume,
           double adj_close = 0.0, double split = 1.0, std::uint8_t nulls = null_bit::kAdjClose) {
    if (adj_close != 0.0) nulls &= static_cast<std::uint8_t>(~null_bit::kAdjClose);
    chunk_.add_bar(date, open, high, low, close, adj_close, volume, split, nulls);
  }

  // n rising bars starting at day(0): close 10, 11, ...
  void add_ramp(int n) {
    for (int i = 0; i < n; ++i) {
      const double close = 10.0 + i;
      add(day(i), close - 0.5, close + 1.0, close - 1.0, close, 1000 + i);
    }
  }

  RawBarsView view() const { return chunk_.bars(0); }

 private:
  BarChunk chunk_;
};

SkipReason row_for(const SyntheticBars& bars, Date as_of, SnapshotRow& row, BadBarReport& bad) {
  SnapshotEngine engine;
  return engine.compute_row("SYN", bars.view(), {as_of, {}}, row, bad);
}

// Bars needed for each column to be defined, from the contract and TA-Lib's lookbacks.
struct Boundary {
  Column column;
  int bars;
};

constexpr Boundary kBoundaries[] = {
    {Column::sma_20, 20},       {Column::sma_50, 50},        {Column::sma_200, 200},
    {Column::ema_12, 12},       {Column::ema_26, 26},        {Column::ema_50, 50},
    {Column::ema_200, 200},     {Column::rsi_14, 15},        {Column::macd, 34},
    {Column::macd_signal, 34},  {Column::macd_hist, 34},     {Column::bb_upper, 20},
    {Column::bb_middle, 20},    {Column::bb_lower, 20},      {Column::atr_14, 15},
    {Column::natr_14, 15},      {Column::adx_14, 28},        {Column::plus_di_14, 15},
    {Column::minus_di_14, 15},  {Column::stoch_k, 18},       {Column::stoch_d, 18},
    {Column::willr_14, 14},     {Column::cci_20, 20},        {Column::mfi_14, 15},
    {Column::roc_10, 11},       {Column::obv, 1},            {Column::return_1d, 2},
    {Column::return_5d, 6},     {Column::return_21d, 22},    {Column::return_63d, 64},
    {Column::return_126d, 127}, {Column::return_252d, 253},  {Column::high_52w, 252},
    {Column::low_52w, 252},     {Column::pct_from_52w_high, 252},
    {Column::pct_from_52w_low, 252},                         {Column::max_drawdown_252d, 252},
    {Column::volatility_20d, 21}, {Column::volatility_60d, 61},
    {Column::avg_volume_20d, 20}, {Column::avg_volume_50d, 50},
    {Column::relative_volume, 21}, {Column::avg_dollar_volume_20d, 20}, {Column::gap_pct, 2},
};

TEST(EngineTest, NullBoundaryPerColumn) {
  SyntheticBars bars;
  bars.add_ramp(260);
  SnapshotRow row;
  BadBarReport bad;
  for (const Boundary& boundary : kBoundaries) {
    const auto name = kColumnNames[column_index(boundary.column)];
    if (boundary.bars > 1) {
      ASSERT_EQ(row_for(bars, day(boundary.bars - 2), row, bad), SkipReason::none);
      EXPECT_TRUE(is_null(row[boundary.column]))
          << name << " with " << boundary.bars - 1 << " bars";
    }
    ASSERT_EQ(row_for(bars, day(boundary.bars - 1), row, bad), SkipReason::none);
    EXPECT_FALSE(is_null(row[boundary.column])) << name << " with " << boundary.bars << " bars";
  }
}

TEST(EngineTest, CloseAndVolumeAreRaw) {
  SyntheticBars bars;
  bars.add(day(0), 9.0, 11.0, 8.0, 10.0, 500, 5.0);
  SnapshotRow row;
  BadBarReport bad;
  ASSERT_EQ(row_for(bars, day(0), row, bad), SkipReason::none);
  EXPECT_EQ(row.bars_used, 1);
  EXPECT_EQ(row[Column::close], 10.0);
  EXPECT_EQ(row[Column::volume], 500.0);
  EXPECT_EQ(row[Column::obv], 500.0);
  EXPECT_TRUE(is_null(row[Column::return_1d]));
}

TEST(EngineTest, SplitAdjustsPricesAndVolumes) {
  // 20 bars at 100 with volume 1000, then a 2:1 split: 20 bars at 50 with volume 2000.
  // The vendor's adj_close before the split is close / 2.
  SyntheticBars bars;
  for (int i = 0; i < 20; ++i) bars.add(day(i), 100.0, 100.0, 100.0, 100.0, 1000, 50.0);
  for (int i = 20; i < 40; ++i) {
    const double split = i == 20 ? 2.0 : 1.0;
    bars.add(day(i), 50.0, 50.0, 50.0, 50.0, 2000, 50.0, split, 0);
  }
  SnapshotRow row;
  BadBarReport bad;
  ASSERT_EQ(row_for(bars, day(39), row, bad), SkipReason::none);
  EXPECT_DOUBLE_EQ(row[Column::return_21d], 0.0);  // adjusted prices are flat
  EXPECT_DOUBLE_EQ(row[Column::avg_volume_20d], 2000.0);
  EXPECT_DOUBLE_EQ(row[Column::relative_volume], 1.0);
  EXPECT_DOUBLE_EQ(row[Column::gap_pct], 0.0);
  EXPECT_DOUBLE_EQ(row[Column::obv], 2000.0);  // flat closes leave the first volume, adjusted

  // The day before the split, nothing is adjusted yet: the row is on that day's basis.
  ASSERT_EQ(row_for(bars, day(19), row, bad), SkipReason::none);
  EXPECT_DOUBLE_EQ(row[Column::sma_20], 100.0);
  EXPECT_DOUBLE_EQ(row[Column::avg_volume_20d], 1000.0);
  EXPECT_DOUBLE_EQ(row[Column::avg_dollar_volume_20d], 100000.0);

  // The day of the split: the 20 earlier bars are halved and their volume doubled.
  ASSERT_EQ(row_for(bars, day(20), row, bad), SkipReason::none);
  EXPECT_DOUBLE_EQ(row[Column::sma_20], 50.0);
  EXPECT_DOUBLE_EQ(row[Column::avg_volume_20d], 2000.0);
  EXPECT_DOUBLE_EQ(row[Column::relative_volume], 1.0);
  EXPECT_DOUBLE_EQ(row[Column::avg_dollar_volume_20d], (19 * 100000.0 + 100000.0) / 20);
}

TEST(EngineTest, BadBarsDroppedWithReasons) {
  SyntheticBars bars;
  bars.add_ramp(30);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  bars.add(day(30), 10, 9, 11, 10, 100);                  // high < low
  bars.add(day(31), 10, 11, 9, 0, 100);                   // close zero
  bars.add(day(32), 10, 11, 9, -1, 100);                  // close negative
  bars.add(day(33), nan, 11, 9, 10, 100);                 // open NaN
  bars.add(day(34), 10, inf, 9, 10, 100);                 // high infinite
  bars.add(day(35), 10, 11, 9, 10, -5);                   // negative volume
  bars.add(day(36), 10, 11, 9, 10, 100, nan, 1.0, 0);     // adj_close NaN
  bars.add(day(37), 10, 11, 9, 10, 100, 10.0, 0.0, 0);    // split_factor zero
  bars.add(day(38), 0, 11, 9, 10, 100, 0.0, 1.0,
           null_bit::kAdjClose | null_bit::kOpen);        // open NULL
  bars.add(day(39), 10, 11, 9, 10, 0, 0.0, 1.0,
           null_bit::kAdjClose | null_bit::kVolume);      // volume NULL
  bars.add(day(40), 40.0, 41.0, 39.0, 40.0, 1000);

  SnapshotRow row;
  BadBarReport bad;
  ASSERT_EQ(row_for(bars, day(40), row, bad), SkipReason::none);
  EXPECT_EQ(row.bars_used, 31);
  EXPECT_EQ(bad.count, 10);
  ASSERT_EQ(bad.first.size(), BadBarReport::kMaxKept);
  EXPECT_EQ(bad.first[0].trade_date, day(30));
  EXPECT_EQ(bad.first[0].reason, "high < low");
  EXPECT_EQ(bad.first[1].reason, "close is not a finite positive number");
  EXPECT_EQ(bad.first[3].reason, "open is not a finite positive number");
  EXPECT_EQ(bad.first[4].reason, "high is not a finite positive number");

  // A request on an invalid bar gives no row.
  EXPECT_EQ(row_for(bars, day(35), row, bad), SkipReason::no_bar_on_date);
  EXPECT_EQ(bad.count, 6);  // only bars up to the as-of date are counted
}

TEST(EngineTest, UnsortedInputGivesSameRow) {
  SyntheticBars sorted;
  SyntheticBars reversed;
  for (int i = 0; i < 40; ++i) {
    const double close = 20.0 + (i % 7) - (i % 3);
    sorted.add(day(i), close, close + 1.0, close - 1.0, close, 1000 + 10 * i);
  }
  for (int i = 39; i >= 0; --i) {
    const double close = 20.0 + (i % 7) - (i % 3);
    reversed.add(day(i), close, close + 1.0, close - 1.0, close, 1000 + 10 * i);
  }
  SnapshotRow sorted_row;
  SnapshotRow reversed_row;
  BadBarReport bad;
  ASSERT_EQ(row_for(sorted, day(39), sorted_row, bad), SkipReason::none);
  ASSERT_EQ(row_for(reversed, day(39), reversed_row, bad), SkipReason::none);
  EXPECT_EQ(reversed_row.bars_used, 40);
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    const double a = sorted_row.values[c];
    const double b = reversed_row.values[c];
    EXPECT_TRUE((is_null(a) && is_null(b)) || a == b) << kColumnNames[c];
  }
}

TEST(EngineTest, SkipReasons) {
  SnapshotRow row;
  BadBarReport bad;
  SyntheticBars empty;
  EXPECT_EQ(row_for(empty, day(0), row, bad), SkipReason::no_bars);

  SyntheticBars invalid;
  invalid.add(day(0), 10, 9, 11, 10, 100);
  EXPECT_EQ(row_for(invalid, day(0), row, bad), SkipReason::no_valid_bars);

  SyntheticBars gap;
  gap.add_ramp(3);
  EXPECT_EQ(row_for(gap, day(5), row, bad), SkipReason::no_bar_on_date);
  EXPECT_EQ(row_for(gap, day(-1), row, bad), SkipReason::no_bar_on_date);
  EXPECT_EQ(to_string(SkipReason::no_bar_on_date), "no_bar_on_date");
}

TEST(EngineTest, HistoryStartLimitsBars) {
  SyntheticBars bars;
  bars.add_ramp(40);
  SnapshotEngine engine;
  SnapshotRow row;
  BadBarReport bad;
  ASSERT_EQ(engine.compute_row("SYN", bars.view(), {day(39), day(30)}, row, bad),
            SkipReason::none);
  EXPECT_EQ(row.bars_used, 10);
  EXPECT_TRUE(is_null(row[Column::sma_20]));
}

TEST(EngineTest, ZeroVolumeRow) {
  SyntheticBars bars;
  for (int i = 0; i < 30; ++i) bars.add(day(i), 10.0 + i, 11.0 + i, 9.0 + i, 10.0 + i, 0);
  SnapshotRow row;
  BadBarReport bad;
  ASSERT_EQ(row_for(bars, day(29), row, bad), SkipReason::none);
  EXPECT_EQ(row[Column::mfi_14], 0.0);
  EXPECT_TRUE(is_null(row[Column::relative_volume]));
  EXPECT_EQ(row[Column::avg_volume_20d], 0.0);
  EXPECT_EQ(row[Column::obv], 0.0);
}

TEST(EngineTest, ConstantPricesGiveZeroOscillators) {
  SyntheticBars bars;
  for (int i = 0; i < 60; ++i) bars.add(day(i), 50.0, 50.0, 50.0, 50.0, 1000);
  SnapshotRow row;
  BadBarReport bad;
  ASSERT_EQ(row_for(bars, day(59), row, bad), SkipReason::none);
  for (Column column : {Column::rsi_14, Column::stoch_k, Column::stoch_d, Column::willr_14,
                        Column::cci_20, Column::adx_14, Column::plus_di_14, Column::minus_di_14,
                        Column::mfi_14, Column::volatility_20d}) {
    EXPECT_EQ(row[column], 0.0) << kColumnNames[column_index(column)];
  }
  EXPECT_EQ(row[Column::bb_upper], 50.0);
  EXPECT_EQ(row[Column::bb_lower], 50.0);
  EXPECT_EQ(row[Column::macd], 0.0);
}

}  // namespace
}  // namespace tasnap::engine
