#include "core/bars.hpp"

#include <utility>

namespace tasnap {

void BarChunk::clear() {
  tickers_.clear();
  first_bar_.clear();
  trade_date_.clear();
  open_.clear();
  high_.clear();
  low_.clear();
  close_.clear();
  adj_close_.clear();
  split_factor_.clear();
  volume_.clear();
  nulls_.clear();
}

void BarChunk::begin_ticker(std::string ticker) {
  tickers_.push_back(std::move(ticker));
  first_bar_.push_back(trade_date_.size());
}

void BarChunk::add_bar(Date trade_date, double open, double high, double low, double close,
                       double adj_close, std::int64_t volume, double split_factor,
                       std::uint8_t nulls) {
  trade_date_.push_back(trade_date);
  open_.push_back(open);
  high_.push_back(high);
  low_.push_back(low);
  close_.push_back(close);
  adj_close_.push_back(adj_close);
  volume_.push_back(volume);
  split_factor_.push_back(split_factor);
  nulls_.push_back(nulls);
}

RawBarsView BarChunk::bars(std::size_t index) const {
  const std::size_t first = first_bar_[index];
  const std::size_t last = index + 1 < first_bar_.size() ? first_bar_[index + 1] : trade_date_.size();
  const std::size_t count = last - first;
  return RawBarsView{
      .trade_date = std::span(trade_date_).subspan(first, count),
      .open = std::span(open_).subspan(first, count),
      .high = std::span(high_).subspan(first, count),
      .low = std::span(low_).subspan(first, count),
      .close = std::span(close_).subspan(first, count),
      .adj_close = std::span(adj_close_).subspan(first, count),
      .volume = std::span(volume_).subspan(first, count),
      .split_factor = std::span(split_factor_).subspan(first, count),
      .nulls = std::span(nulls_).subspan(first, count),
  };
}

}  // namespace tasnap
