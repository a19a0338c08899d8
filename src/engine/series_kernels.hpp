// Series kernels: recursive or running indicators computed in one pass from the
// first bar, following TA-Lib 0.6's arithmetic step for step. Each writes one
// value per input bar and NaN before its lookback, so the value for date D is
// element D whether the input ends at D or continues past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/wilder_steps.hpp"

namespace tasnap::engine {

// SMA(period) with TA-Lib's running sum (add the new value, subtract the oldest).
void sma_series(std::span<const double> in, int period, std::span<double> out);

// One SMA of a batch.
struct SmaRequest {
  int period;
  std::span<double> out;
};

// Computes several SMAs of one input in a single pass, each with the same
// operations (and bits) as sma_series.
void sma_series_batch(std::span<const double> in, std::span<const SmaRequest> requests);

// EMA(period) seeded with the SMA of the first `period` values, k = 2 / (period + 1).
void ema_series(std::span<const double> in, int period, std::span<double> out);

// One EMA of a batch: `period` values seeded with the mean of in[first .. first+period-1].
struct EmaRequest {
  std::size_t first;
  int period;
  std::span<double> out;
};

// Computes several EMAs of one input in a single pass. Each output gets the
// same bits as its own EMA would, but the independent recursions overlap in
// the CPU instead of each waiting on its own latency chain.
void ema_series_batch(std::span<const double> in, std::span<const EmaRequest> requests);

// Population variance over `period` values as TA-Lib's BBANDS computes it: a
// running sum of squares / period minus the squared moving average `sma`.
// Not thresholded: the caller treats values below 1e-14 on D's scale as zero.
void bbands_variance_series(std::span<const double> in, std::span<const double> sma, int period,
                            std::span<double> out);

// RSI(period), Wilder smoothing seeded with the mean gain and loss of the first period changes.
void rsi_series(std::span<const double> close, int period, std::span<double> out);

// MACD(fast, slow, signal) aligned as TA-Lib: the fast EMA is seeded on the
// `fast` closes ending at the slow EMA's first value, and all three outputs
// start together once the signal EMA has its seed.
void macd_series(std::span<const double> close, int fast, int slow, int signal,
                 std::span<double> macd, std::span<double> macd_signal, std::span<double> hist);

// The fast EMA's first index for MACD(fast, slow, ...), so that its seed ends on
// the slow EMA's first value.
constexpr std::size_t macd_fast_first(int fast, int slow) {
  return static_cast<std::size_t>(slow - fast);
}

// MACD from precomputed EMAs: `fast_ema` seeded at macd_fast_first and
// `slow_ema` seeded at 0, as macd_series computes them.
void macd_from_emas(std::span<const double> fast_ema, std::span<const double> slow_ema, int slow,
                    int signal, std::span<double> macd, std::span<double> macd_signal,
                    std::span<double> hist);

// ATR(period): the first value is the mean true range of bars 1..period, then Wilder smoothing.
void atr_series(std::span<const double> high, std::span<const double> low,
                std::span<const double> close, int period, std::span<double> out);

// Bars whose directional move is a near tie (up or down within 1e-13 of 0 or of
// each other, relative to the price): the decision depends on the rounding of
// D's adjustment, so the caller settles it per D.
void directional_near_ties(std::span<const double> high, std::span<const double> low,
                           std::vector<std::uint32_t>& near_ties);

// The move of bar i: tie_moves[k] when i is near_ties[k] (next_tie walks the
// ties in order), else TA-Lib's rule on the basis up and down moves.
inline DirectionalMove tie_move_or_rule(std::span<const std::uint32_t> near_ties,
                                        std::span<const DirectionalMove> tie_moves,
                                        std::size_t& next_tie, std::size_t i, double up,
                                        double down) {
  if (next_tie < near_ties.size() && near_ties[next_tie] == i) return tie_moves[next_tie++];
  return directional_move(up, down);
}

// PLUS_DI, MINUS_DI and ADX with one period, sharing Wilder's smoothed +DM, -DM
// and TR. The move of bar near_ties[k] is taken from tie_moves[k].
void directional_series(std::span<const double> high, std::span<const double> low,
                        std::span<const double> close, int period,
                        std::span<const std::uint32_t> near_ties,
                        std::span<const DirectionalMove> tie_moves, std::span<double> plus_di,
                        std::span<double> minus_di, std::span<double> adx);

// OBV starting at the first bar's volume, as TA-Lib does. A bar whose close is
// within 1e-13 (relative) of the previous one is a near tie. Whether it counts as
// up, down or flat depends on the rounding of D's adjustment. So it adds nothing
// here, and its index goes to `near_ties` for the caller to settle on D's basis.
void obv_series(std::span<const double> close, std::span<const double> volume,
                std::span<double> out, std::vector<std::uint32_t>& near_ties);

}  // namespace tasnap::engine
