// One-bar steps of the Wilder-smoothed indicators (RSI, ATR, +DI/-DI/ADX).
//
// Each recursion is bound by the latency of its divisions, so the engine
// advances several of them in one loop and lets the CPU overlap them. The
// series kernels call the same steps one indicator at a time, so a fused loop
// and a single kernel produce the same bits. Every step follows TA-Lib 0.6's
// operations in TA-Lib's order.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tasnap::engine {

// TA-Lib 0.6 treats |v| < 1e-14 as zero (TA_EPSILON), where 0.4 used 1e-8.
// NOTE: RSI and DI apply it on the engine's D-independent basis (prices x f_t),
// not on D's basis as the reference does. The two differ only for a sum within a
// factor f_D of 1e-14, which real prices do not reach.
inline constexpr double kTaEpsilon = 1e-14;

inline bool ta_is_zero(double value) { return -kTaEpsilon < value && value < kTaEpsilon; }

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// TA-Lib's true range: the greatest of high - low, |high - previous close| and
// |low - previous close|.
inline double true_range(double high, double low, double previous_close) {
  double greatest = high - low;
  const double to_high = std::fabs(previous_close - high);
  if (to_high > greatest) greatest = to_high;
  const double to_low = std::fabs(low - previous_close);
  if (to_low > greatest) greatest = to_low;
  return greatest;
}

// RSI(period). Step i (from 1) takes close_i - close_(i-1) and returns the RSI
// at i, or NaN before bar `period`.
struct RsiStep {
  int period;
  double gain = 0.0;
  double loss = 0.0;

  double operator()(std::size_t i, double change) {
    // Adding 0 leaves a non-negative sum unchanged, so this is TA-Lib's
    // "add to gain or to loss" without a branch on noisy prices.
    const double falling = change < 0 ? change : 0.0;
    const double rising = change < 0 ? 0.0 : change;
    const auto p = static_cast<std::size_t>(period);
    if (i <= p) {
      loss -= falling;
      gain += rising;
      if (i < p) return kNoValue;
    } else {
      loss *= (period - 1);
      gain *= (period - 1);
      loss -= falling;
      gain += rising;
    }
    loss /= period;
    gain /= period;
    const double total = gain + loss;
    return ta_is_zero(total) ? 0.0 : 100.0 * (gain / total);
  }
};

// ATR(period). Step i (from 1) takes the true range of bar i. The first ATR
// (bar `period`) is the mean of true ranges 1..period, then Wilder smoothing follows.
struct AtrStep {
  int period;
  double total = 0.0;
  double atr = 0.0;

  double operator()(std::size_t i, double range) {
    const auto p = static_cast<std::size_t>(period);
    if (i < p) {
      total += range;
      return kNoValue;
    }
    if (i == p) {
      total += range;
      atr = total / period;
      return atr;
    }
    atr *= (period - 1);
    atr += range;
    atr /= period;
    return atr;
  }
};

// The directional movement a bar contributes. TA-Lib's rule gives -DM when
// down > 0 and up < down, else +DM when up > 0 and up > down, else neither.
enum class DirectionalMove : std::int8_t { none, plus, minus };

inline DirectionalMove directional_move(double up, double down) {
  if (down > 0 && up < down) return DirectionalMove::minus;
  if (up > 0 && up > down) return DirectionalMove::plus;
  return DirectionalMove::none;
}

struct DirectionalValue {
  double plus_di;
  double minus_di;
  double adx;
};

// +DI, -DI and ADX with one period. Step i (from 1) takes the bar's up move
// (high_i - high_(i-1)), down move (low_(i-1) - low_i), its decided move and true range.
struct DirectionalStep {
  int period;
  double plus_dm = 0.0;
  double minus_dm = 0.0;
  double tr = 0.0;
  double dx_total = 0.0;
  double adx = 0.0;

  DirectionalValue operator()(std::size_t i, double up, double down, DirectionalMove move,
                              double range) {
    const auto p = static_cast<std::size_t>(period);
    const bool seeding = i < p;  // the first period-1 moves are summed without decay
    if (!seeding) {
      minus_dm -= minus_dm / period;
      plus_dm -= plus_dm / period;
    }
    minus_dm += move == DirectionalMove::minus ? down : 0.0;
    plus_dm += move == DirectionalMove::plus ? up : 0.0;
    tr = seeding ? tr + range : tr - tr / period + range;
    if (seeding) return {kNoValue, kNoValue, kNoValue};

    // DI and DX. A zero true range gives DI 0 and leaves the ADX unchanged.
    DirectionalValue value{0.0, 0.0, kNoValue};
    double dx = 0.0;
    bool has_dx = false;
    if (!ta_is_zero(tr)) {
      value.minus_di = 100.0 * (minus_dm / tr);
      value.plus_di = 100.0 * (plus_dm / tr);
      const double sum = value.minus_di + value.plus_di;
      if (!ta_is_zero(sum)) {
        dx = 100.0 * (std::fabs(value.minus_di - value.plus_di) / sum);
        has_dx = true;
      }
    }

    // ADX: the mean of the first `period` DX values, then Wilder smoothing.
    const std::size_t adx_first = 2 * p - 1;
    if (i <= adx_first) {
      if (has_dx) dx_total += dx;
      if (i < adx_first) return value;
      adx = dx_total / period;
    } else if (has_dx) {
      adx = (adx * (period - 1) + dx) / period;
    }
    value.adx = adx;
    return value;
  }
};

}  // namespace tasnap::engine
