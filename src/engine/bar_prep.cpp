#include "engine/bar_prep.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tasnap::engine {

void PreparedBars::resize(std::size_t n) {
  trade_date.resize(n);
  for (std::vector<double>* column : {&open, &high, &low, &close, &volume, &raw_high, &raw_low,
                                      &raw_close, &raw_volume, &price_factor, &split_product}) {
    column->resize(n);
  }
  previous_year_end.resize(n);
}

namespace {

bool is_positive_price(double value) { return std::isfinite(value) && value > 0.0; }

// The common case of invalid_bar_reason without branches: true when the bar is valid.
bool is_valid_bar(const RawBarsView& bars, std::size_t index) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr std::uint8_t kRequired = null_bit::kOpen | null_bit::kHigh | null_bit::kLow |
                                     null_bit::kClose | null_bit::kVolume;
  const std::uint8_t nulls = bars.nulls[index];
  const double adj = (nulls & null_bit::kAdjClose) ? 1.0 : bars.adj_close[index];
  const double split = (nulls & null_bit::kSplitFactor) ? 1.0 : bars.split_factor[index];
  const double open = bars.open[index], high = bars.high[index], low = bars.low[index];
  const double close = bars.close[index];

  // NaN fails every comparison, so (v > 0) & (v < inf) is "finite and positive".
  bool valid = (nulls & kRequired) == 0;
  valid &= (open > 0.0) & (open < kInf) & (high > 0.0) & (high < kInf);
  valid &= (low > 0.0) & (low < kInf) & (close > 0.0) & (close < kInf);
  valid &= (adj > 0.0) & (adj < kInf) & (split > 0.0) & (split < kInf);
  valid &= (high >= low) & (bars.volume[index] >= 0);
  return valid;
}

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

// Writes bar `index` of the input as prepared bar `at`.
// `product` carries P_t from the previous valid bar to this one.
void store_bar(const RawBarsView& bars, std::size_t index, std::size_t at, double& product,
               PreparedBars& out) {
  const std::uint8_t nulls = bars.nulls[index];
  const double raw_close = bars.close[index];
  const double split = (nulls & null_bit::kSplitFactor) ? 1.0 : bars.split_factor[index];

  // A NULL adj_close means no adjustment, so the factor is exactly 1.
  const double factor = (nulls & null_bit::kAdjClose) ? 1.0 : bars.adj_close[index] / raw_close;
  product *= split;
  const double raw_volume = static_cast<double>(bars.volume[index]);

  out.trade_date[at] = bars.trade_date[index];
  out.open[at] = bars.open[index] * factor;
  out.high[at] = bars.high[index] * factor;
  out.low[at] = bars.low[index] * factor;
  out.close[at] = raw_close * factor;
  out.volume[at] = raw_volume / product;
  out.raw_high[at] = bars.high[index];
  out.raw_low[at] = bars.low[index];
  out.raw_close[at] = raw_close;
  out.raw_volume[at] = raw_volume;
  out.price_factor[at] = factor;
  out.split_product[at] = product;
}

// For each bar, the index of the last bar of the previous calendar year, or -1
// when that year has no bar (an older year does not count).
void fill_previous_year_end(PreparedBars& out) {
  std::int32_t last_of_previous_year = -1;
  int previous_year = 0;
  int current_year = 0;
  std::int32_t next_year_start = 0;  // first day of current_year + 1, so year_of runs once a year
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Date date = out.trade_date[i];
    if (i == 0 || date.days >= next_year_start) {
      const int year = year_of(date);
      if (i > 0) {
        last_of_previous_year = static_cast<std::int32_t>(i - 1);
        previous_year = current_year;
      }
      current_year = year;
      next_year_start = make_date(year + 1, 1, 1).days;
    }
    const bool has_previous = last_of_previous_year >= 0 && previous_year == current_year - 1;
    out.previous_year_end[i] = has_previous ? last_of_previous_year : -1;
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
  bad.clear();
  out.resize(bars.size());  // an upper bound, trimmed to the valid bars below
  std::size_t count = 0;
  double split_product = 1.0;

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

  // NOTE: two bars with the same date are both kept. The price table's primary
  // key rules that out for stored data, so no other source is checked for it.
  for (std::size_t k = 0; k < bars.size(); ++k) {
    const std::size_t index = sorted ? k : scratch.order[k];
    if (!in_range(bars.trade_date[index], range)) continue;

    const char* reason = is_valid_bar(bars, index) ? nullptr : invalid_bar_reason(bars, index);
    if (reason) {
      ++bad.count;
      if (bad.first.size() < BadBarReport::kMaxKept) {
        bad.first.push_back({bars.trade_date[index], reason});
      }
      continue;
    }
    store_bar(bars, index, count, split_product, out);
    ++count;
  }

  out.resize(count);
  fill_previous_year_end(out);
}

}  // namespace tasnap::engine
