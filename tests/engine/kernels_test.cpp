// Unit tests of the kernels and of bar preparation on small hand-checked series.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/snapshot_row.hpp"
#include "engine/bar_prep.hpp"
#include "engine/series_kernels.hpp"
#include "engine/snapshot.hpp"
#include "engine/window_kernels.hpp"

namespace tasnap::engine {
namespace {

std::vector<double> run_sma(const std::vector<double>& in, int period) {
  std::vector<double> out(in.size());
  sma_series(in, period, out);
  return out;
}

std::vector<double> run_ema(const std::vector<double>& in, int period) {
  std::vector<double> out(in.size());
  ema_series(in, period, out);
  return out;
}

std::vector<double> run_rsi(const std::vector<double>& in) {
  std::vector<double> out(in.size());
  rsi_series(in, 14, out);
  return out;
}

std::vector<double> ramp(std::size_t n, double start = 10.0, double step = 1.0) {
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = start + step * static_cast<double>(i);
  return values;
}

TEST(SeriesKernelTest, SmaStartsAtPeriod) {
  const auto out = run_sma({1, 2, 3, 4}, 3);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_DOUBLE_EQ(out[2], 2.0);
  EXPECT_DOUBLE_EQ(out[3], 3.0);
}

TEST(SeriesKernelTest, SmaShorterThanPeriodIsAllNan) {
  for (double value : run_sma({1, 2}, 3)) EXPECT_TRUE(std::isnan(value));
}

TEST(SeriesKernelTest, EmaSeededWithSma) {
  // Seed (1+2+3)/3 = 2 at index 2, then k = 0.5: (4 - 2) * 0.5 + 2 = 3.
  const auto out = run_ema({1, 2, 3, 4}, 3);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_DOUBLE_EQ(out[2], 2.0);
  EXPECT_DOUBLE_EQ(out[3], 3.0);
}

TEST(SeriesKernelTest, RsiNullUntilFifteenBars) {
  const auto out = run_rsi(ramp(16));
  EXPECT_TRUE(std::isnan(out[13]));
  EXPECT_DOUBLE_EQ(out[14], 100.0);  // only gains
  EXPECT_DOUBLE_EQ(out[15], 100.0);
}

TEST(SeriesKernelTest, RsiOfConstantPricesIsZero) {
  const auto out = run_rsi(std::vector<double>(20, 50.0));
  EXPECT_EQ(out[14], 0.0);
  EXPECT_EQ(out[19], 0.0);
}

TEST(SeriesKernelTest, RsiOfFallingPricesIsZero) {
  const auto out = run_rsi(ramp(20, 100.0, -1.0));
  EXPECT_EQ(out[19], 0.0);
}

TEST(SeriesKernelTest, AtrOfConstantRange) {
  // Every bar spans 9..11 around a close of 10, so every true range is 2.
  const std::vector<double> high(20, 11.0), low(20, 9.0), close(20, 10.0);
  std::vector<double> out(20);
  atr_series(high, low, close, 14, out);
  EXPECT_TRUE(std::isnan(out[13]));
  EXPECT_DOUBLE_EQ(out[14], 2.0);
  EXPECT_DOUBLE_EQ(out[19], 2.0);
}

TEST(SeriesKernelTest, DirectionalOfRisingBars) {
  // Only upward moves: +DI > 0, -DI = 0, so DX and ADX are 100.
  const auto high = ramp(40, 11.0), low = ramp(40, 9.0), close = ramp(40, 10.0);
  std::vector<double> plus(40), minus(40), adx(40);
  directional_series(high, low, close, 14, {}, {}, plus, minus, adx);
  EXPECT_TRUE(std::isnan(plus[13]));
  EXPECT_GT(plus[14], 0.0);
  EXPECT_EQ(minus[14], 0.0);
  EXPECT_TRUE(std::isnan(adx[26]));
  EXPECT_DOUBLE_EQ(adx[27], 100.0);
}

TEST(SeriesKernelTest, DirectionalTieMoveOverridesBasis) {
  const auto high = ramp(20, 11.0), low = ramp(20, 9.0), close = ramp(20, 10.0);
  std::vector<double> plus(20), minus(20), adx(20), plus_tied(20), minus_tied(20), adx_tied(20);
  directional_series(high, low, close, 14, {}, {}, plus, minus, adx);
  const std::vector<std::uint32_t> ties = {15};
  const std::vector<DirectionalMove> moves = {DirectionalMove::none};
  directional_series(high, low, close, 14, ties, moves, plus_tied, minus_tied, adx_tied);
  EXPECT_EQ(plus[14], plus_tied[14]);
  EXPECT_LT(plus_tied[15], plus[15]);
}

TEST(SeriesKernelTest, DirectionalMoveRule) {
  EXPECT_EQ(directional_move(1.0, 0.5), DirectionalMove::plus);
  EXPECT_EQ(directional_move(0.5, 1.0), DirectionalMove::minus);
  EXPECT_EQ(directional_move(1.0, 1.0), DirectionalMove::none);
  EXPECT_EQ(directional_move(-1.0, -1.0), DirectionalMove::none);
}

TEST(SeriesKernelTest, MacdStartsAtBar34) {
  const auto close = ramp(40);
  std::vector<double> macd(40), signal(40), hist(40);
  macd_series(close, 12, 26, 9, macd, signal, hist);
  EXPECT_TRUE(std::isnan(macd[32]));
  EXPECT_TRUE(std::isnan(signal[32]));
  EXPECT_TRUE(std::isnan(hist[32]));
  EXPECT_FALSE(std::isnan(macd[33]));
  EXPECT_DOUBLE_EQ(hist[33], macd[33] - signal[33]);
}

TEST(SeriesKernelTest, ObvStartsAtFirstVolume) {
  const std::vector<double> close = {10, 11, 10, 10, 12};
  const std::vector<double> volume = {100, 20, 5, 7, 1};
  std::vector<double> out(close.size());
  std::vector<std::uint32_t> ties;
  obv_series(close, volume, out, ties);
  EXPECT_EQ(out[0], 100.0);
  EXPECT_EQ(out[1], 120.0);
  EXPECT_EQ(out[2], 115.0);
  EXPECT_EQ(out[4], 116.0);
  ASSERT_EQ(ties.size(), 1u);  // the unchanged close is settled by the caller
  EXPECT_EQ(ties[0], 3u);
}

TEST(SeriesKernelTest, BollingerVarianceOfConstantIsZero) {
  const std::vector<double> close(25, 50.0);
  const auto sma = run_sma(close, 20);
  std::vector<double> variance(25);
  bbands_variance_series(close, sma, 20, variance);
  EXPECT_TRUE(std::isnan(variance[18]));
  EXPECT_EQ(variance[19], 0.0);
  EXPECT_EQ(variance[24], 0.0);
}

TEST(WindowKernelTest, StochAndWillrOfConstantAreZero) {
  const std::vector<double> price(20, 5.0);
  EXPECT_TRUE(std::isnan(stoch_at(price, price, price, 16).slow_k));
  const StochValue stoch = stoch_at(price, price, price, 17);
  EXPECT_EQ(stoch.slow_k, 0.0);
  EXPECT_EQ(stoch.slow_d, 0.0);
  EXPECT_TRUE(std::isnan(willr_at(price, price, price, 14, 12)));
  EXPECT_EQ(willr_at(price, price, price, 14, 13), 0.0);
  EXPECT_EQ(cci_at(price, price, price, 20, 19), 0.0);
}

TEST(WindowKernelTest, WillrAtRangeEnds) {
  const std::vector<double> high(14, 12.0), low(14, 8.0);
  std::vector<double> close(14, 10.0);
  close[13] = 12.0;
  EXPECT_EQ(willr_at(high, low, close, 14, 13), -0.0);
  close[13] = 8.0;
  EXPECT_DOUBLE_EQ(willr_at(high, low, close, 14, 13), -100.0);
}

TEST(WindowKernelTest, MfiOfZeroVolumeIsZero) {
  const auto price = ramp(15);
  const std::vector<double> volume(15, 0.0), factor(15, 1.0), product(15, 1.0);
  EXPECT_TRUE(std::isnan(mfi_from(money_flow_at(price, price, price, volume, factor, product,
                                                14, 13))));
  EXPECT_EQ(mfi_from(money_flow_at(price, price, price, volume, factor, product, 14, 14)), 0.0);
}

TEST(WindowKernelTest, MfiOfRisingPricesIs100) {
  const auto price = ramp(15);
  const std::vector<double> volume(15, 1000.0), factor(15, 1.0), product(15, 1.0);
  EXPECT_DOUBLE_EQ(mfi_from(money_flow_at(price, price, price, volume, factor, product, 14, 14)),
                   100.0);
}

TEST(WindowKernelTest, ReturnsAndRoc) {
  const std::vector<double> close = {10, 11, 12, 15};
  EXPECT_TRUE(std::isnan(return_at(close, 3, 2)));
  EXPECT_DOUBLE_EQ(return_at(close, 3, 3), 0.5);
  EXPECT_DOUBLE_EQ(roc_at(close, 3, 3), 50.0);
  EXPECT_NEAR(gap_at(close, close, 1), 0.1, 1e-15);
  EXPECT_TRUE(std::isnan(gap_at(close, close, 0)));
}

TEST(WindowKernelTest, MaxDrawdown) {
  const std::vector<double> close = {10, 20, 10, 15, 5, 8};
  EXPECT_DOUBLE_EQ(max_drawdown_at(close, 6, 5), -0.75);
  EXPECT_TRUE(std::isnan(max_drawdown_at(close, 7, 5)));
  EXPECT_EQ(max_drawdown_at(std::vector<double>(5, 3.0), 5, 4), 0.0);
}

std::vector<double> log_returns_of(const std::vector<double>& close) {
  std::vector<double> log_return(close.size(), std::nan(""));
  log_returns_into(close, 0, close.size(), log_return);
  return log_return;
}

TEST(WindowKernelTest, VolatilityOfConstantIsZero) {
  const std::vector<double> log_return = log_returns_of(std::vector<double>(21, 7.0));
  EXPECT_TRUE(std::isnan(volatility_at(log_return, 20, 19)));
  EXPECT_EQ(volatility_at(log_return, 20, 20), 0.0);
}

TEST(WindowKernelTest, LogReturnsFillOnlyTheRequestedRange) {
  const std::vector<double> close = {100.0, 110.0, 121.0, 133.1};
  std::vector<double> log_return(close.size(), -1.0);
  log_returns_into(close, 2, 4, log_return);
  EXPECT_EQ(log_return[0], -1.0);
  EXPECT_EQ(log_return[1], -1.0);
  EXPECT_EQ(log_return[2], std::log(121.0 / 110.0));
  EXPECT_EQ(log_return[3], std::log(133.1 / 121.0));
}

TEST(WindowKernelTest, VolatilityOfAlternatingReturns) {
  // Log returns +r, -r, ...: mean 0 over an even count, sample variance n r^2 / (n - 1).
  std::vector<double> close(21);
  for (std::size_t i = 0; i < close.size(); ++i) close[i] = i % 2 == 0 ? 100.0 : 110.0;
  const double r = std::log(1.1);
  const double expected = std::sqrt(20.0 * r * r / 19.0) * std::sqrt(252.0);
  EXPECT_NEAR(volatility_at(log_returns_of(close), 20, 20), expected, 1e-12);
}

TEST(WindowKernelTest, RelativeVolumeNullWhenPriorMeanIsZero) {
  std::vector<double> volume(21, 0.0);
  volume[20] = 500.0;
  EXPECT_TRUE(std::isnan(relative_volume_at(volume, 20, 20)));
  volume[0] = 200.0;  // prior mean = 10
  EXPECT_DOUBLE_EQ(relative_volume_at(volume, 20, 20), 50.0);
  EXPECT_TRUE(std::isnan(relative_volume_at(volume, 20, 19)));
}

TEST(WindowKernelTest, MeanAndDollarVolume) {
  const std::vector<double> close = {2, 4}, volume = {10, 20};
  EXPECT_DOUBLE_EQ(mean_at(volume, 2, 1), 15.0);
  EXPECT_TRUE(std::isnan(mean_at(volume, 3, 1)));
  EXPECT_DOUBLE_EQ(dollar_volume_at(close, volume, 2, 1), 50.0);
  EXPECT_DOUBLE_EQ(max_at(close, 2, 1), 4.0);
  EXPECT_DOUBLE_EQ(min_at(close, 2, 1), 2.0);
}

}  // namespace
}  // namespace tasnap::engine
