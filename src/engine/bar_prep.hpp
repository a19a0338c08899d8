// Bar preparation: validation, date order, history range and the adjustment basis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bars.hpp"
#include "core/date.hpp"
#include "engine/snapshot.hpp"

namespace tasnap::engine {

// The valid bars of one ticker in date order, on a basis that does not depend
// on the as-of date D, so one pass serves every D of a backfill:
//   basis price  = raw price x f_t,   f_t = adj_close_t / close_t (1 when NULL)
//   basis volume = raw volume / P_t,  P_t = product of split_factor up to and including t
// A price on D's basis is the basis price / f_D, and an adjusted volume on D's
// basis is the basis volume x P_D.
struct PreparedBars {
  std::vector<Date> trade_date;
  std::vector<double> open, high, low, close;  // basis prices
  std::vector<double> volume;                  // basis volume
  std::vector<double> raw_high, raw_low, raw_close, raw_volume;  // as stored
  std::vector<double> price_factor;            // f_t
  std::vector<double> split_product;           // P_t
  std::vector<std::int32_t> previous_year_end;  // last bar of the previous calendar year, or -1

  std::size_t size() const { return trade_date.size(); }

  // Resizes every column; growing from a previous size only initializes the new tail.
  void resize(std::size_t n);
};

// Scratch space of prepare_bars, kept so repeated calls do not allocate.
struct PrepScratch {
  std::vector<std::uint32_t> order;
};

// Returns why a bar is invalid, or nullptr when it is valid.
const char* invalid_bar_reason(const RawBarsView& bars, std::size_t index);

// Fills `out` with the valid bars of `bars` with history_start <= date <= as_of,
// sorted by date (the input is sorted first when it is not). Invalid bars in
// that range are counted in `bad`, which keeps the first few with a reason.
void prepare_bars(const RawBarsView& bars, const HistoryRange& range, PreparedBars& out,
                  BadBarReport& bad, PrepScratch& scratch);

}  // namespace tasnap::engine
