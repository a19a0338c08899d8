// Window kernels: indicators that read only the last few bars. Each function
// returns the value at index i from the window ending at i, or NaN when the
// window does not fit. A row for D calls them at D's index only; a backfill
// calls the same functions at every index, so both get the same bits.
#pragma once

#include <cstddef>
#include <span>

namespace tasnap::engine {

// STOCH(14, 3 SMA, 3 SMA) slow %K and slow %D, as TA-Lib computes them.
struct StochValue {
  double slow_k;
  double slow_d;
};
StochValue stoch_at(std::span<const double> high, std::span<const double> low,
                    std::span<const double> close, std::size_t i);

// WILLR(period); 0 when the range is zero.
double willr_at(std::span<const double> high, std::span<const double> low,
                std::span<const double> close, int period, std::size_t i);

// CCI(period) with TA-Lib's 0.015 constant; 0 when the deviation or its mean is zero.
double cci_at(std::span<const double> high, std::span<const double> low,
              std::span<const double> close, int period, std::size_t i);

// Positive and negative money flow over the last `period` typical-price changes,
// on D's basis (D = i): prices are raw x (f_t / f_D) and volumes raw x (P_D / P_t),
// so up/down decisions on near-equal prices round as the reference rounds them.
struct MoneyFlow {
  double positive;
  double negative;
};
MoneyFlow money_flow_at(std::span<const double> raw_high, std::span<const double> raw_low,
                        std::span<const double> raw_close, std::span<const double> raw_volume,
                        std::span<const double> price_factor,
                        std::span<const double> split_product, int period, std::size_t i);

// MFI from a money flow on D's basis: TA-Lib returns 0 when the sum is below 1.0.
double mfi_from(MoneyFlow flow);

// ROC(period) = (close / close `period` bars back - 1) x 100.
double roc_at(std::span<const double> close, int period, std::size_t i);

// close_i / close_(i-bars) - 1.
double return_at(std::span<const double> close, int bars, std::size_t i);

double max_at(std::span<const double> values, int bars, std::size_t i);
double min_at(std::span<const double> values, int bars, std::size_t i);

// Arithmetic mean of the `bars` values ending at i, summed oldest first.
double mean_at(std::span<const double> values, int bars, std::size_t i);

// Mean of raw close x raw volume over the `bars` bars ending at i.
double dollar_volume_at(std::span<const double> raw_close, std::span<const double> raw_volume,
                        int bars, std::size_t i);

// Deepest fall from the running maximum within the `bars` closes ending at i (0 or negative).
double max_drawdown_at(std::span<const double> close, int bars, std::size_t i);

// Writes ln(close_j / close_(j-1)) to log_return[j] for every j in [max(first, 1), last).
// Both the single-date and the backfill path fill the entries they read with
// this one function, so a log return has the same bits on either path.
void log_returns_into(std::span<const double> close, std::size_t first, std::size_t last,
                      std::span<double> log_return);

// Sample standard deviation of the `returns` daily log returns ending at i,
// times sqrt(252). Reads log_return[i + 1 - returns .. i], filled by log_returns_into.
double volatility_at(std::span<const double> log_return, int returns, std::size_t i);

// volume_i / mean volume of the `bars` bars before i; NaN when that mean is 0.
double relative_volume_at(std::span<const double> volume, int bars, std::size_t i);

// open_i / close_(i-1) - 1.
double gap_at(std::span<const double> open, std::span<const double> close, std::size_t i);

}  // namespace tasnap::engine
