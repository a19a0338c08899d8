// Series kernels: recursive or running indicators computed in one pass from the
// first bar, following TA-Lib 0.6's arithmetic step for step. Each writes one
// value per input bar and NaN before its lookback, so the value for date D is
// element D whether the input ends at D or continues past it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tasnap::engine {

// TA-Lib 0.6 treats |v| < 1e-14 as zero (TA_EPSILON); 0.4 used 1e-8.
inline constexpr double kTaEpsilon = 1e-14;

inline bool ta_is_zero(double value) { return -kTaEpsilon < value && value < kTaEpsilon; }

// SMA(period) with TA-Lib's running sum (add the new value, subtract the oldest).
void sma_series(std::span<const double> in, int period, std::span<double> out);

// EMA(period) seeded with the SMA of the first `period` values, k = 2 / (period + 1).
void ema_series(std::span<const double> in, int period, std::span<double> out);

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

// ATR(period): the first value is the mean true range of bars 1..period, then Wilder smoothing.
void atr_series(std::span<const double> high, std::span<const double> low,
                std::span<const double> close, int period, std::span<double> out);

// Which directional movement a bar contributes: TA-Lib's rule gives -DM when
// down > 0 and up < down, else +DM when up > 0 and up > down, else neither.
enum class DirectionalMove : std::int8_t { none, plus, minus };

DirectionalMove directional_move(double up, double down);

// Bars whose directional move is a near tie (up or down within 1e-13 of 0 or of
// each other, relative to the price): the decision depends on the rounding of
// D's adjustment, so the caller settles it per D.
void directional_near_ties(std::span<const double> high, std::span<const double> low,
                           std::vector<std::uint32_t>& near_ties);

// PLUS_DI, MINUS_DI and ADX with one period, sharing Wilder's smoothed +DM, -DM
// and TR. The move of bar near_ties[k] is taken from tie_moves[k].
void directional_series(std::span<const double> high, std::span<const double> low,
                        std::span<const double> close, int period,
                        std::span<const std::uint32_t> near_ties,
                        std::span<const DirectionalMove> tie_moves, std::span<double> plus_di,
                        std::span<double> minus_di, std::span<double> adx);

// OBV starting at the first bar's volume, as TA-Lib does. A bar whose close is
// within 1e-13 (relative) of the previous one is a near tie: whether it counts
// as up, down or flat depends on the rounding of D's adjustment, so it adds
// nothing here and its index goes to `near_ties` for the caller to settle on D's basis.
void obv_series(std::span<const double> close, std::span<const double> volume,
                std::span<double> out, std::vector<std::uint32_t>& near_ties);

}  // namespace tasnap::engine
