// Raw daily price bars as read from storage, before validation or adjustment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/date.hpp"

namespace tasnap {

// Bits of RawBar::nulls and BarChunk::nulls: which nullable input fields were NULL.
// A NULL price or volume makes the bar invalid, a NULL adj_close means "no
// adjustment" and a NULL split_factor means 1.
namespace null_bit {
inline constexpr std::uint8_t kOpen = 1u << 0;
inline constexpr std::uint8_t kHigh = 1u << 1;
inline constexpr std::uint8_t kLow = 1u << 2;
inline constexpr std::uint8_t kClose = 1u << 3;
inline constexpr std::uint8_t kAdjClose = 1u << 4;
inline constexpr std::uint8_t kVolume = 1u << 5;
inline constexpr std::uint8_t kSplitFactor = 1u << 6;
}  // namespace null_bit

// The bars of one ticker as column spans into a BarChunk. Bars are normally
// sorted by trade_date, but the engine sorts them when they are not.
struct RawBarsView {
  std::span<const Date> trade_date;
  std::span<const double> open;
  std::span<const double> high;
  std::span<const double> low;
  std::span<const double> close;
  std::span<const double> adj_close;     // meaningless where nulls has kAdjClose
  std::span<const std::int64_t> volume;  // meaningless where nulls has kVolume
  std::span<const double> split_factor;  // meaningless where nulls has kSplitFactor
  std::span<const std::uint8_t> nulls;

  std::size_t size() const { return trade_date.size(); }
};

// The bars of a chunk of tickers in column form, grouped by ticker. Storage
// backends fill it and the run reuses it from chunk to chunk, so clear() keeps
// the allocated capacity.
class BarChunk {
 public:
  void clear();

  // Starts the bars of a new ticker; the following add_bar calls belong to it.
  void begin_ticker(std::string ticker);

  void add_bar(Date trade_date, double open, double high, double low, double close,
               double adj_close, std::int64_t volume, double split_factor, std::uint8_t nulls);

  std::size_t ticker_count() const { return tickers_.size(); }
  std::size_t bar_count() const { return trade_date_.size(); }
  const std::string& ticker(std::size_t index) const { return tickers_[index]; }
  RawBarsView bars(std::size_t index) const;

 private:
  std::vector<std::string> tickers_;
  std::vector<std::size_t> first_bar_;  // index of each ticker's first bar
  std::vector<Date> trade_date_;
  std::vector<double> open_, high_, low_, close_, adj_close_, split_factor_;
  std::vector<std::int64_t> volume_;
  std::vector<std::uint8_t> nulls_;
};

}  // namespace tasnap
