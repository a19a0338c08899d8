#include "engine/snapshot.hpp"

#include "core/errors.hpp"

namespace tasnap::engine {

struct SnapshotEngine::Buffers {};

SnapshotEngine::SnapshotEngine() : buffers_(std::make_unique<Buffers>()) {}
SnapshotEngine::~SnapshotEngine() = default;

std::string_view to_string(SkipReason reason) {
  switch (reason) {
    case SkipReason::none: return "none";
    case SkipReason::no_bars: return "no_bars";
    case SkipReason::no_valid_bars: return "no_valid_bars";
    case SkipReason::no_bar_on_date: return "no_bar_on_date";
  }
  return "unknown";
}

// NOTE: placeholder until the kernels land; every call fails loudly.
SkipReason SnapshotEngine::compute_row(std::string_view, const RawBarsView&, HistoryRange, SnapshotRow&,
                                       BadBarReport&) {
  throw InternalError("SnapshotEngine::compute_row is not implemented yet.");
}

SkipReason SnapshotEngine::compute_rows(std::string_view, const RawBarsView&, Date, HistoryRange,
                                        std::vector<SnapshotRow>&, BadBarReport&) {
  throw InternalError("SnapshotEngine::compute_rows is not implemented yet.");
}

}  // namespace tasnap::engine
