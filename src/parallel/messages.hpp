// Messages between ranks during a run: the setup rank 0 broadcasts, progress
// notes sent as chunks finish, and the report each rank sends at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/telemetry.hpp"

namespace tasnap::parallel {

// Broadcast by rank 0 once planning is over. When `ok` is false the run stops
// before any work, every rank exits with `exit_code` and rank 0 reports `error`.
struct RunSetup {
  bool ok = false;
  int exit_code = 0;
  std::string error;
  std::string run_id;
  std::int32_t as_of_days = 0;  // resolved run date (backfill: end of the range), as Date::days
  std::int32_t from_days = 0;   // backfill: start of the range; run: as_of_days
  std::int64_t chunk_count = 0;
  std::int64_t tickers = 0;
};

// Sent to rank 0 when a rank finishes (or fails) a chunk, and once with
// chunk = -1 when the rank has no chunk left.
struct ChunkProgress {
  std::int64_t rank = 0;
  std::int64_t chunk = 0;
  std::int64_t tickers = 0;
  std::int64_t rows = 0;
  std::int64_t failed = 0;  // 1 when the chunk was not written
};

// Gathered by rank 0 at the end.
struct RankReport {
  RankTelemetry telemetry;
  std::vector<TickerDigest> tickers;
};

}  // namespace tasnap::parallel
