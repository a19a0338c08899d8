#include "engine/window_kernels.hpp"

#include <cmath>
#include <limits>

namespace tasnap::engine {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool fits(std::size_t i, std::size_t lookback) { return i >= lookback; }

struct Extremes {
  double lowest;
  double highest;
};

// Lowest low and highest high of the `period` bars ending at i.
Extremes extremes_at(std::span<const double> high, std::span<const double> low, int period,
                     std::size_t i) {
  const std::size_t first = i + 1 - static_cast<std::size_t>(period);
  Extremes e{low[first], high[first]};
  for (std::size_t j = first + 1; j <= i; ++j) {
    if (low[j] < e.lowest) e.lowest = low[j];
    if (high[j] > e.highest) e.highest = high[j];
  }
  return e;
}

// TA-Lib's fast %K: (close - lowest low) / ((highest high - lowest low) / 100).
double fast_k_at(std::span<const double> high, std::span<const double> low,
                 std::span<const double> close, int period, std::size_t i) {
  const Extremes e = extremes_at(high, low, period, i);
  const double range = (e.highest - e.lowest) / 100.0;
  return range != 0.0 ? (close[i] - e.lowest) / range : 0.0;
}

double mean_of_three(double oldest, double middle, double newest) {
  return ((oldest + middle) + newest) / 3.0;
}

}  // namespace

StochValue stoch_at(std::span<const double> high, std::span<const double> low,
                    std::span<const double> close, std::size_t i) {
  constexpr int kFastK = 14;
  if (!fits(i, kFastK - 1 + 2 + 2)) return {kNaN, kNaN};

  double fast_k[5];
  for (std::size_t j = 0; j < 5; ++j) fast_k[j] = fast_k_at(high, low, close, kFastK, i - 4 + j);

  double slow_k[3];
  for (std::size_t j = 0; j < 3; ++j) {
    slow_k[j] = mean_of_three(fast_k[j], fast_k[j + 1], fast_k[j + 2]);
  }
  return {slow_k[2], mean_of_three(slow_k[0], slow_k[1], slow_k[2])};
}

double willr_at(std::span<const double> high, std::span<const double> low,
                std::span<const double> close, int period, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(period - 1))) return kNaN;
  const Extremes e = extremes_at(high, low, period, i);
  const double range = (e.highest - e.lowest) * (-0.01);
  return range != 0.0 ? (e.highest - close[i]) / range : 0.0;
}

double cci_at(std::span<const double> high, std::span<const double> low,
              std::span<const double> close, int period, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(period - 1))) return kNaN;
  const std::size_t first = i + 1 - static_cast<std::size_t>(period);
  auto typical = [&](std::size_t j) { return (high[j] + low[j] + close[j]) / 3.0; };

  double average = 0.0;
  for (std::size_t j = first; j <= i; ++j) average += typical(j);
  average /= period;

  double deviation = 0.0;
  for (std::size_t j = first; j <= i; ++j) deviation += std::fabs(typical(j) - average);

  const double distance = typical(i) - average;
  if (distance == 0.0 || deviation == 0.0) return 0.0;
  return distance / (0.015 * (deviation / period));
}

MoneyFlow money_flow_at(std::span<const double> raw_high, std::span<const double> raw_low,
                        std::span<const double> raw_close, std::span<const double> raw_volume,
                        std::span<const double> price_factor,
                        std::span<const double> split_product, int period, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(period))) return {kNaN, kNaN};
  const double factor_d = price_factor[i];
  const double product_d = split_product[i];
  auto typical = [&](std::size_t j) {
    const double scale = price_factor[j] / factor_d;
    return (raw_high[j] * scale + raw_low[j] * scale + raw_close[j] * scale) / 3.0;
  };

  MoneyFlow flow{0.0, 0.0};
  const std::size_t first = i + 1 - static_cast<std::size_t>(period);
  double previous = typical(first - 1);
  for (std::size_t j = first; j <= i; ++j) {
    const double current = typical(j);
    const double change = current - previous;
    previous = current;
    const double money = current * (raw_volume[j] * (product_d / split_product[j]));
    if (change < 0) {
      flow.negative += money;
    } else if (change > 0) {
      flow.positive += money;
    }
  }
  return flow;
}

double mfi_from(MoneyFlow flow) {
  const double total = flow.positive + flow.negative;
  if (std::isnan(total)) return kNaN;
  if (total < 1.0) return 0.0;
  return 100.0 * (flow.positive / total);
}

double roc_at(std::span<const double> close, int period, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(period))) return kNaN;
  const double previous = close[i - static_cast<std::size_t>(period)];
  return previous != 0.0 ? ((close[i] / previous) - 1.0) * 100.0 : 0.0;
}

double return_at(std::span<const double> close, int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars))) return kNaN;
  return close[i] / close[i - static_cast<std::size_t>(bars)] - 1.0;
}

double max_at(std::span<const double> values, int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars - 1))) return kNaN;
  double highest = values[i + 1 - static_cast<std::size_t>(bars)];
  for (std::size_t j = i + 2 - static_cast<std::size_t>(bars); j <= i; ++j) {
    if (values[j] > highest) highest = values[j];
  }
  return highest;
}

double min_at(std::span<const double> values, int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars - 1))) return kNaN;
  double lowest = values[i + 1 - static_cast<std::size_t>(bars)];
  for (std::size_t j = i + 2 - static_cast<std::size_t>(bars); j <= i; ++j) {
    if (values[j] < lowest) lowest = values[j];
  }
  return lowest;
}

double mean_at(std::span<const double> values, int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars - 1))) return kNaN;
  double total = 0.0;
  for (std::size_t j = i + 1 - static_cast<std::size_t>(bars); j <= i; ++j) total += values[j];
  return total / bars;
}

double dollar_volume_at(std::span<const double> raw_close, std::span<const double> raw_volume,
                        int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars - 1))) return kNaN;
  double total = 0.0;
  for (std::size_t j = i + 1 - static_cast<std::size_t>(bars); j <= i; ++j) {
    total += raw_close[j] * raw_volume[j];
  }
  return total / bars;
}

double max_drawdown_at(std::span<const double> close, int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars - 1))) return kNaN;
  const std::size_t first = i + 1 - static_cast<std::size_t>(bars);
  double running_max = close[first];
  double deepest = 0.0;
  for (std::size_t j = first; j <= i; ++j) {
    if (close[j] > running_max) running_max = close[j];
    const double drawdown = close[j] / running_max - 1.0;
    if (drawdown < deepest) deepest = drawdown;
  }
  return deepest;
}

void log_returns_into(std::span<const double> close, std::size_t first, std::size_t last,
                      std::span<double> log_return) {
  for (std::size_t j = std::max<std::size_t>(first, 1); j < last; ++j) {
    log_return[j] = std::log(close[j] / close[j - 1]);
  }
}

double volatility_at(std::span<const double> log_return, int returns, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(returns))) return kNaN;
  const std::size_t first = i + 1 - static_cast<std::size_t>(returns);

  // Two passes (mean, then squared deviations) to avoid cancellation.
  double total = 0.0;
  for (std::size_t j = first; j <= i; ++j) total += log_return[j];
  const double mean = total / returns;

  double squares = 0.0;
  for (std::size_t j = first; j <= i; ++j) {
    const double deviation = log_return[j] - mean;
    squares += deviation * deviation;
  }
  return std::sqrt(squares / (returns - 1)) * std::sqrt(252.0);
}

double relative_volume_at(std::span<const double> volume, int bars, std::size_t i) {
  if (!fits(i, static_cast<std::size_t>(bars))) return kNaN;
  const double before = mean_at(volume, bars, i - 1);
  if (before == 0.0) return kNaN;
  return volume[i] / before;
}

double gap_at(std::span<const double> open, std::span<const double> close, std::size_t i) {
  if (!fits(i, 1)) return kNaN;
  return open[i] / close[i - 1] - 1.0;
}

}  // namespace tasnap::engine
