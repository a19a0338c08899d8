#include "engine/series_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace tasnap::engine {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void fill_nan(std::span<double> out) { std::fill(out.begin(), out.end(), kNaN); }

double true_range(double high, double low, double previous_close) {
  double greatest = high - low;
  const double to_high = std::fabs(previous_close - high);
  if (to_high > greatest) greatest = to_high;
  const double to_low = std::fabs(low - previous_close);
  if (to_low > greatest) greatest = to_low;
  return greatest;
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

void ema_series(std::span<const double> in, int period, std::span<double> out) {
  fill_nan(out);
  ema_from(in, 0, period, out);
}

void bbands_variance_series(std::span<const double> in, std::span<const double> sma, int period,
                            std::span<double> out) {
  fill_nan(out);
  const std::size_t n = in.size();
  const std::size_t p = static_cast<std::size_t>(period);
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
  const std::size_t n = close.size();
  const std::size_t p = static_cast<std::size_t>(period);
  if (n < p + 1) return;

  // Seed: plain means of the gains and losses over the first `period` changes.
  double gain = 0.0;
  double loss = 0.0;
  for (std::size_t i = 1; i <= p; ++i) {
    const double change = close[i] - close[i - 1];
    if (change < 0) {
      loss -= change;
    } else {
      gain += change;
    }
  }
  loss /= period;
  gain /= period;

  auto rsi_of = [](double g, double l) {
    const double total = g + l;
    return ta_is_zero(total) ? 0.0 : 100.0 * (g / total);
  };
  out[p] = rsi_of(gain, loss);

  for (std::size_t i = p + 1; i < n; ++i) {
    const double change = close[i] - close[i - 1];
    loss *= (period - 1);
    gain *= (period - 1);
    if (change < 0) {
      loss -= change;
    } else {
      gain += change;
    }
    loss /= period;
    gain /= period;
    out[i] = rsi_of(gain, loss);
  }
}

void macd_series(std::span<const double> close, int fast, int slow, int signal,
                 std::span<double> macd, std::span<double> macd_signal, std::span<double> hist) {
  fill_nan(macd);
  fill_nan(macd_signal);
  fill_nan(hist);
  const std::size_t n = close.size();
  const std::size_t slow_first = static_cast<std::size_t>(slow - 1);  // first slow EMA value
  const std::size_t first_output = slow_first + static_cast<std::size_t>(signal - 1);
  if (n <= first_output) return;

  // The line goes into `hist` first; both EMAs are kept in `macd_signal` and `macd`.
  ema_from(close, 0, slow, macd_signal);
  ema_from(close, slow_first + 1 - static_cast<std::size_t>(fast), fast, macd);
  for (std::size_t i = slow_first; i < n; ++i) hist[i] = macd[i] - macd_signal[i];

  // Signal EMA over the line from its first value; the line is only reported from
  // the signal's first value on, as TA-Lib does.
  fill_nan(macd_signal);
  ema_from(hist, slow_first, signal, macd_signal);
  for (std::size_t i = 0; i < n; ++i) {
    if (i < first_output) {
      macd[i] = kNaN;
      continue;
    }
    macd[i] = hist[i];
    hist[i] = macd[i] - macd_signal[i];
  }
  std::fill(hist.begin(), hist.begin() + static_cast<std::ptrdiff_t>(first_output), kNaN);
}

void atr_series(std::span<const double> high, std::span<const double> low,
                std::span<const double> close, int period, std::span<double> out) {
  fill_nan(out);
  const std::size_t n = close.size();
  const std::size_t p = static_cast<std::size_t>(period);
  if (n < p + 1) return;

  double total = 0.0;
  for (std::size_t i = 1; i <= p; ++i) total += true_range(high[i], low[i], close[i - 1]);
  double atr = total / period;
  out[p] = atr;

  for (std::size_t i = p + 1; i < n; ++i) {
    atr *= (period - 1);
    atr += true_range(high[i], low[i], close[i - 1]);
    atr /= period;
    out[i] = atr;
  }
}

DirectionalMove directional_move(double up, double down) {
  if (down > 0 && up < down) return DirectionalMove::minus;
  if (up > 0 && up > down) return DirectionalMove::plus;
  return DirectionalMove::none;
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
  const std::size_t n = close.size();
  const std::size_t p = static_cast<std::size_t>(period);
  if (n < p + 1) return;

  double plus_dm = 0.0;
  double minus_dm = 0.0;
  double tr = 0.0;
  double dx_total = 0.0;
  double adx_value = 0.0;
  const std::size_t adx_first = 2 * p - 1;
  std::size_t next_tie = 0;

  for (std::size_t i = 1; i < n; ++i) {
    const double up = high[i] - high[i - 1];
    const double down = low[i - 1] - low[i];
    DirectionalMove move = DirectionalMove::none;
    if (next_tie < near_ties.size() && near_ties[next_tie] == i) {
      move = tie_moves[next_tie++];
    } else {
      move = directional_move(up, down);
    }

    const bool seeding = i < p;  // the first period-1 moves are summed without decay
    if (!seeding) {
      minus_dm -= minus_dm / period;
      plus_dm -= plus_dm / period;
    }
    if (move == DirectionalMove::minus) {
      minus_dm += down;
    } else if (move == DirectionalMove::plus) {
      plus_dm += up;
    }
    const double range = true_range(high[i], low[i], close[i - 1]);
    tr = seeding ? tr + range : tr - tr / period + range;
    if (seeding) continue;

    // DI and DX; a zero true range gives DI 0 and leaves the ADX unchanged.
    double dx = 0.0;
    bool has_dx = false;
    if (ta_is_zero(tr)) {
      plus_di[i] = 0.0;
      minus_di[i] = 0.0;
    } else {
      const double minus = 100.0 * (minus_dm / tr);
      const double plus = 100.0 * (plus_dm / tr);
      plus_di[i] = plus;
      minus_di[i] = minus;
      const double sum = minus + plus;
      if (!ta_is_zero(sum)) {
        dx = 100.0 * (std::fabs(minus - plus) / sum);
        has_dx = true;
      }
    }

    if (i < adx_first) {
      if (has_dx) dx_total += dx;
      continue;
    }
    if (i == adx_first) {
      if (has_dx) dx_total += dx;
      adx_value = dx_total / period;
    } else if (has_dx) {
      adx_value = (adx_value * (period - 1) + dx) / period;
    }
    adx[i] = adx_value;
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
    if (std::fabs(change) <= 1e-13 * scale) {
      near_ties.push_back(static_cast<std::uint32_t>(i));
    } else if (change > 0) {
      obv += volume[i];
    } else {
      obv -= volume[i];
    }
    out[i] = obv;
  }
}

}  // namespace tasnap::engine
