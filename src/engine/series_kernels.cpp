#include "engine/series_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace tasnap::engine {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void fill_nan(std::span<double> out) { std::fill(out.begin(), out.end(), kNaN); }

// Fills the first `count` elements (at most all) with NaN: the lookback of a
// kernel that writes every later element itself.
void fill_nan_prefix(std::span<double> out, std::size_t count) {
  fill_nan(out.first(std::min(count, out.size())));
}

// EMA over in[first..] seeded with the mean of in[first .. first+period-1]. It
// writes from index first+period-1 on.
void ema_from(std::span<const double> in, std::size_t first, int period, std::span<double> out) {
  const std::size_t n = in.size();
  const std::size_t seed_end = first + static_cast<std::size_t>(period);
  if (n < seed_end) return;

  double sum = 0.0;
  for (std::size_t i = first; i < seed_end; ++i) sum += in[i];
  double ema = sum / period;
  out[seed_end - 1] = ema;

  const double k = 2.0 / static_cast<double>(period + 1);
  for (std::size_t i = seed_end; i < n; ++i) {
    ema = ((in[i] - ema) * k) + ema;
    out[i] = ema;
  }
}

}  // namespace

void sma_series(std::span<const double> in, int period, std::span<double> out) {
  fill_nan(out);
  const std::size_t n = in.size();
  const std::size_t p = static_cast<std::size_t>(period);
  if (n < p) return;

  double total = 0.0;
  for (std::size_t i = 0; i + 1 < p; ++i) total += in[i];
  for (std::size_t i = p - 1; i < n; ++i) {
    total += in[i];
    const double window_total = total;
    total -= in[i + 1 - p];
    out[i] = window_total / period;
  }
}

void sma_series_batch(std::span<const double> in, std::span<const SmaRequest> requests) {
  constexpr std::size_t kMaxBatch = 8;
  double total[kMaxBatch] = {};
  const std::size_t count = std::min(requests.size(), kMaxBatch);
  for (std::size_t r = 0; r < count; ++r) {
    fill_nan_prefix(requests[r].out, static_cast<std::size_t>(requests[r].period) - 1);
  }

  for (std::size_t i = 0; i < in.size(); ++i) {
    for (std::size_t r = 0; r < count; ++r) {
      const auto p = static_cast<std::size_t>(requests[r].period);
      total[r] += in[i];
      if (i + 1 < p) continue;
      const double window_total = total[r];
      total[r] -= in[i + 1 - p];
      requests[r].out[i] = window_total / requests[r].period;
    }
  }
}

void ema_series(std::span<const double> in, int period, std::span<double> out) {
  fill_nan(out);
  ema_from(in, 0, period, out);
}

void ema_series_batch(std::span<const double> in, std::span<const EmaRequest> requests) {
  constexpr std::size_t kMaxBatch = 8;
  double sum[kMaxBatch] = {};
  double ema[kMaxBatch] = {};
  double k[kMaxBatch] = {};
  std::size_t seed_last[kMaxBatch] = {};
  const std::size_t count = std::min(requests.size(), kMaxBatch);
  for (std::size_t r = 0; r < count; ++r) {
    fill_nan_prefix(requests[r].out,
                    requests[r].first + static_cast<std::size_t>(requests[r].period) - 1);
    k[r] = 2.0 / static_cast<double>(requests[r].period + 1);
    seed_last[r] = requests[r].first + static_cast<std::size_t>(requests[r].period) - 1;
  }

  // Same operations in the same order as ema_from, request by request.
  for (std::size_t i = 0; i < in.size(); ++i) {
    for (std::size_t r = 0; r < count; ++r) {
      if (i < requests[r].first) continue;
      if (i < seed_last[r]) {
        sum[r] += in[i];
      } else if (i == seed_last[r]) {
        sum[r] += in[i];
        ema[r] = sum[r] / requests[r].period;
        requests[r].out[i] = ema[r];
      } else {
        ema[r] = ((in[i] - ema[r]) * k[r]) + ema[r];
        requests[r].out[i] = ema[r];
      }
    }
  }
}

void bbands_variance_series(std::span<const double> in, std::span<const double> sma, int period,
                            std::span<double> out) {
  const std::size_t n = in.size();
  const std::size_t p = static_cast<std::size_t>(period);
  fill_nan_prefix(out, p - 1);
  if (n < p) return;

  double total_squares = 0.0;
  for (std::size_t i = 0; i + 1 < p; ++i) total_squares += in[i] * in[i];
  for (std::size_t i = p - 1; i < n; ++i) {
    total_squares += in[i] * in[i];
    double variance = total_squares / period;
    const double oldest = in[i + 1 - p];
    total_squares -= oldest * oldest;
    variance -= sma[i] * sma[i];
    out[i] = variance;
  }
}

void rsi_series(std::span<const double> close, int period, std::span<double> out) {
  fill_nan(out);
  RsiStep rsi{period};
  for (std::size_t i = 1; i < close.size(); ++i) out[i] = rsi(i, close[i] - close[i - 1]);
}

void macd_series(std::span<const double> close, int fast, int slow, int signal,
                 std::span<double> macd, std::span<double> macd_signal, std::span<double> hist) {
  std::vector<double> fast_ema(close.size(), kNaN), slow_ema(close.size(), kNaN);
  ema_from(close, macd_fast_first(fast, slow), fast, fast_ema);
  ema_from(close, 0, slow, slow_ema);
  macd_from_emas(fast_ema, slow_ema, slow, signal, macd, macd_signal, hist);
}

void macd_from_emas(std::span<const double> fast_ema, std::span<const double> slow_ema, int slow,
                    int signal, std::span<double> macd, std::span<double> macd_signal,
                    std::span<double> hist) {
  const std::size_t n = slow_ema.size();
  const std::size_t slow_first = static_cast<std::size_t>(slow - 1);  // first slow EMA value
  const std::size_t first_output = slow_first + static_cast<std::size_t>(signal - 1);
  fill_nan_prefix(macd, first_output);
  fill_nan_prefix(macd_signal, first_output);
  fill_nan_prefix(hist, first_output);
  if (n <= first_output) return;

  // The line from the slow EMA's first value goes into `hist` for the signal EMA.
  for (std::size_t i = slow_first; i < n; ++i) hist[i] = fast_ema[i] - slow_ema[i];
  ema_from(hist, slow_first, signal, macd_signal);

  // TA-Lib reports the line only from the signal's first value on.
  for (std::size_t i = first_output; i < n; ++i) {
    macd[i] = hist[i];
    hist[i] = macd[i] - macd_signal[i];
  }
  fill_nan_prefix(hist, first_output);
}

void atr_series(std::span<const double> high, std::span<const double> low,
                std::span<const double> close, int period, std::span<double> out) {
  fill_nan(out);
  AtrStep atr{period};
  for (std::size_t i = 1; i < close.size(); ++i) {
    out[i] = atr(i, true_range(high[i], low[i], close[i - 1]));
  }
}

void directional_near_ties(std::span<const double> high, std::span<const double> low,
                           std::vector<std::uint32_t>& near_ties) {
  near_ties.clear();
  for (std::size_t i = 1; i < high.size(); ++i) {
    const double up = high[i] - high[i - 1];
    const double down = low[i - 1] - low[i];
    const double tolerance = 1e-13 * std::max(high[i], high[i - 1]);
    const bool near = std::fabs(up) <= tolerance || std::fabs(down) <= tolerance ||
                      std::fabs(up - down) <= tolerance;
    if (near) near_ties.push_back(static_cast<std::uint32_t>(i));
  }
}

void directional_series(std::span<const double> high, std::span<const double> low,
                        std::span<const double> close, int period,
                        std::span<const std::uint32_t> near_ties,
                        std::span<const DirectionalMove> tie_moves, std::span<double> plus_di,
                        std::span<double> minus_di, std::span<double> adx) {
  fill_nan(plus_di);
  fill_nan(minus_di);
  fill_nan(adx);
  DirectionalStep directional{period};
  std::size_t next_tie = 0;
  for (std::size_t i = 1; i < close.size(); ++i) {
    const double up = high[i] - high[i - 1];
    const double down = low[i - 1] - low[i];
    const DirectionalMove move = tie_move_or_rule(near_ties, tie_moves, next_tie, i, up, down);
    const DirectionalValue value =
        directional(i, up, down, move, true_range(high[i], low[i], close[i - 1]));
    plus_di[i] = value.plus_di;
    minus_di[i] = value.minus_di;
    adx[i] = value.adx;
  }
}

void obv_series(std::span<const double> close, std::span<const double> volume,
                std::span<double> out, std::vector<std::uint32_t>& near_ties) {
  near_ties.clear();
  const std::size_t n = close.size();
  if (n == 0) return;
  double obv = volume[0];
  out[0] = obv;
  for (std::size_t i = 1; i < n; ++i) {
    const double change = close[i] - close[i - 1];
    const double scale = std::max(std::fabs(close[i]), std::fabs(close[i - 1]));
    const bool near_tie = std::fabs(change) <= 1e-13 * scale;
    if (near_tie) near_ties.push_back(static_cast<std::uint32_t>(i));

    // obv + (-v) is obv - v exactly, and obv + 0 is obv (obv is never -0), so
    // one selected addend replaces TA-Lib's branches, which noisy closes mispredict.
    const double signed_volume = change > 0 ? volume[i] : -volume[i];
    obv += near_tie ? 0.0 : signed_volume;
    out[i] = obv;
  }
}

}  // namespace tasnap::engine
