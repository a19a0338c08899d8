#include "engine/bar_prep.hpp"

#include <algorithm>
#include <cmath>

namespace tasnap::engine {

void PreparedBars::clear() {
  trade_date.clear();
  open.clear();
  high.clear();
  low.clear();
  close.clear();
  volume.clear();
  raw_high.clear();
  raw_low.clear();
  raw_close.clear();
  raw_volume.clear();
  price_factor.clear();
  split_product.clear();
  previous_year_end.clear();
}

namespace {

bool is_positive_price(double value) { return std::isfinite(value) && value > 0.0; }

bool is_sorted_by_date(const RawBarsView& bars) {
  for (std::size_t i = 1; i < bars.size(); ++i) {
    if (bars.trade_date[i] < bars.trade_date[i - 1]) return false;
  }
  return true;
}

bool in_range(Date date, const HistoryRange& range) {
  if (date > range.as_of) return false;
  return !range.history_start || date >= *range.history_start;
}

void append_bar(const RawBarsView& bars, std::size_t index, PreparedBars& out) {
  const std::uint8_t nulls = bars.nulls[index];
  const double raw_close = bars.close[index];
  const double adj_close = (nulls & null_bit::kAdjClose) ? raw_close : bars.adj_close[index];
  const double split = (nulls & null_bit::kSplitFactor) ? 1.0 : bars.split_factor[index];

  // A NULL adj_close means no adjustment, so the factor is exactly 1.
  const double factor = (nulls & null_bit::kAdjClose) ? 1.0 : adj_close / raw_close;
  const double previous_product = out.split_product.empty() ? 1.0 : out.split_product.back();
  const double product = previous_product * split;
  const double raw_volume = static_cast<double>(bars.volume[index]);

  out.trade_date.push_back(bars.trade_date[index]);
  out.open.push_back(bars.open[index] * factor);
  out.high.push_back(bars.high[index] * factor);
  out.low.push_back(bars.low[index] * factor);
  out.close.push_back(raw_close * factor);
  out.volume.push_back(raw_volume / product);
  out.raw_high.push_back(bars.high[index]);
  out.raw_low.push_back(bars.low[index]);
  out.raw_close.push_back(raw_close);
  out.raw_volume.push_back(raw_volume);
  out.price_factor.push_back(factor);
  out.split_product.push_back(product);
}

// For each bar, the index of the last bar of the previous calendar year, or -1
// when that year has no bar (an older year does not count).
void fill_previous_year_end(PreparedBars& out) {
  std::int32_t last_of_previous_year = -1;
  int previous_year = 0;
  int current_year = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int year = year_of(out.trade_date[i]);
    if (i > 0 && year != current_year) {
      last_of_previous_year = static_cast<std::int32_t>(i - 1);
      previous_year = current_year;
    }
    current_year = year;
    const bool has_previous = last_of_previous_year >= 0 && previous_year == year - 1;
    out.previous_year_end.push_back(has_previous ? last_of_previous_year : -1);
  }
}

}  // namespace

const char* invalid_bar_reason(const RawBarsView& bars, std::size_t index) {
  const std::uint8_t nulls = bars.nulls[index];
  if (nulls & null_bit::kOpen) return "open is NULL";
  if (nulls & null_bit::kHigh) return "high is NULL";
  if (nulls & null_bit::kLow) return "low is NULL";
  if (nulls & null_bit::kClose) return "close is NULL";
  if (!is_positive_price(bars.open[index])) return "open is not a finite positive number";
  if (!is_positive_price(bars.high[index])) return "high is not a finite positive number";
  if (!is_positive_price(bars.low[index])) return "low is not a finite positive number";
  if (!is_positive_price(bars.close[index])) return "close is not a finite positive number";
  if (bars.high[index] < bars.low[index]) return "high < low";
  if (nulls & null_bit::kVolume) return "volume is NULL";
  if (bars.volume[index] < 0) return "volume is negative";
  if (!(nulls & null_bit::kAdjClose) && !is_positive_price(bars.adj_close[index])) {
    return "adj_close is not a finite positive number";
  }
  if (!(nulls & null_bit::kSplitFactor) && !is_positive_price(bars.split_factor[index])) {
    return "split_factor is not a finite positive number";
  }
  return nullptr;
}

void prepare_bars(const RawBarsView& bars, const HistoryRange& range, PreparedBars& out,
                  BadBarReport& bad, PrepScratch& scratch) {
  out.clear();
  bad.clear();

  // Storage delivers bars sorted, so sorting is only paid for when the input is out of order.
  const bool sorted = is_sorted_by_date(bars);
  if (!sorted) {
    scratch.order.resize(bars.size());
    for (std::size_t i = 0; i < bars.size(); ++i) scratch.order[i] = static_cast<std::uint32_t>(i);
    std::stable_sort(scratch.order.begin(), scratch.order.end(),
                     [&](std::uint32_t a, std::uint32_t b) {
                       return bars.trade_date[a] < bars.trade_date[b];
                     });
  }

  for (std::size_t k = 0; k < bars.size(); ++k) {
    const std::size_t index = sorted ? k : scratch.order[k];
    if (!in_range(bars.trade_date[index], range)) continue;

    if (const char* reason = invalid_bar_reason(bars, index)) {
      ++bad.count;
      if (bad.first.size() < BadBarReport::kMaxKept) {
        bad.first.push_back({bars.trade_date[index], reason});
      }
      continue;
    }
    append_bar(bars, index, out);
  }

  fill_previous_year_end(out);
}

}  // namespace tasnap::engine
