// The snapshot row: its columns in contract order, and the row type that flows
// from the engine to storage.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/date.hpp"

namespace tasnap {

// Every double column of a snapshot row, in the order of the snapshot contract
// (docs/columns.md). `bars_used` is an integer and kept apart in SnapshotRow.
enum class Column : std::uint8_t {
  close, volume,
  sma_20, sma_50, sma_200,
  ema_12, ema_26, ema_50, ema_200,
  rsi_14,
  macd, macd_signal, macd_hist,
  bb_upper, bb_middle, bb_lower,
  atr_14, natr_14,
  adx_14, plus_di_14, minus_di_14,
  stoch_k, stoch_d,
  willr_14, cci_20, mfi_14, roc_10, obv,
  return_1d, return_5d, return_21d, return_63d, return_126d, return_252d, return_ytd,
  high_52w, low_52w, pct_from_52w_high, pct_from_52w_low,
  max_drawdown_252d,
  volatility_20d, volatility_60d,
  avg_volume_20d, avg_volume_50d, relative_volume, avg_dollar_volume_20d,
  gap_pct,
};

inline constexpr std::size_t kColumnCount = 47;

inline constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "close", "volume",
    "sma_20", "sma_50", "sma_200",
    "ema_12", "ema_26", "ema_50", "ema_200",
    "rsi_14",
    "macd", "macd_signal", "macd_hist",
    "bb_upper", "bb_middle", "bb_lower",
    "atr_14", "natr_14",
    "adx_14", "plus_di_14", "minus_di_14",
    "stoch_k", "stoch_d",
    "willr_14", "cci_20", "mfi_14", "roc_10", "obv",
    "return_1d", "return_5d", "return_21d", "return_63d", "return_126d", "return_252d", "return_ytd",
    "high_52w", "low_52w", "pct_from_52w_high", "pct_from_52w_low",
    "max_drawdown_252d",
    "volatility_20d", "volatility_60d",
    "avg_volume_20d", "avg_volume_50d", "relative_volume", "avg_dollar_volume_20d",
    "gap_pct",
};

static_assert(static_cast<std::size_t>(Column::gap_pct) + 1 == kColumnCount);

constexpr std::size_t column_index(Column column) { return static_cast<std::size_t>(column); }

// The in-memory marker of a NULL value. Storage writes it as SQL NULL, so no
// NaN ever reaches a database.
inline constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

inline bool is_null(double value) { return std::isnan(value); }

// One snapshot row keyed by (ticker, as_of_date). Values are kNull where the
// contract defines NULL; the engine never leaves an infinity or another NaN in it.
struct SnapshotRow {
  std::string ticker;
  Date as_of_date;
  std::int32_t bars_used = 0;
  std::array<double, kColumnCount> values{};

  double& operator[](Column column) { return values[column_index(column)]; }
  double operator[](Column column) const { return values[column_index(column)]; }
};

}  // namespace tasnap
