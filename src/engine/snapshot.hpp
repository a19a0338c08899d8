// The snapshot engine: from one ticker's raw bars to its snapshot rows.
//
// This is the only engine header the run and the backfill include. It does no
// I/O and depends on neither storage nor MPI.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bars.hpp"
#include "core/date.hpp"
#include "core/snapshot_row.hpp"

namespace tasnap::engine {

// The reason a requested ticker produced no row.
enum class SkipReason { none, no_bars, no_valid_bars, no_bar_on_date };

std::string_view to_string(SkipReason reason);

// Invalid bars dropped for one ticker: the count, and the first few with a reason for the log.
struct BadBarReport {
  static constexpr std::size_t kMaxKept = 5;

  struct Entry {
    Date trade_date;
    std::string reason;  // e.g. "high < low", "close is not positive"
  };

  std::int64_t count = 0;
  std::vector<Entry> first;

  void clear() {
    count = 0;
    first.clear();
  }
};

// The history a row is computed from: bars with history_start <= trade_date <= as_of.
struct HistoryRange {
  Date as_of;
  std::optional<Date> history_start;
};

class SnapshotEngine {
 public:
  SnapshotEngine();
  ~SnapshotEngine();
  SnapshotEngine(const SnapshotEngine&) = delete;
  SnapshotEngine& operator=(const SnapshotEngine&) = delete;

  // Computes the row of `ticker` for range.as_of into `row`. Bars after as_of
  // are ignored and bars may come unsorted. Returns the reason when the ticker
  // has no row for that date (then `row` is unspecified). `bad` receives the
  // invalid bars dropped up to as_of.
  SkipReason compute_row(std::string_view ticker, const RawBarsView& bars, HistoryRange range,
                         SnapshotRow& row, BadBarReport& bad);

  // Appends to `rows` one row for every date in [from, range.as_of] on which
  // the ticker has a valid bar, in date order, computing each indicator series
  // once. Each row is bit-identical to what compute_row returns for its date.
  // Returns the reason when no row was appended.
  SkipReason compute_rows(std::string_view ticker, const RawBarsView& bars, Date from,
                          HistoryRange range, std::vector<SnapshotRow>& rows, BadBarReport& bad);

 private:
  struct Buffers;
  std::unique_ptr<Buffers> buffers_;  // reused across tickers, so the hot path does not allocate
};

}  // namespace tasnap::engine
