// The telemetry JSON that `tasnap run|backfill --telemetry-json PATH` writes
// (schema_version 1), read back into typed fields.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/telemetry.hpp"

namespace tasnap::scaling {

struct RunTelemetry {
  int schema_version = 0;
  std::string run_id;
  std::string mode;          // "run" or "backfill"
  std::string status;        // "succeeded" when every chunk was written
  std::string as_of_date;    // YYYY-MM-DD
  std::string from_date;     // empty when the JSON has null (nightly run)
  int workers = 0;
  std::int64_t chunk_size = 0;
  std::int64_t tickers = 0;
  std::int64_t rows = 0;
  std::string digest;
  std::string version;
  double wall_seconds = 0;   // as measured by rank 0 of tasnap
  std::string host;
  std::string database;      // URI with the password redacted
  std::string error;
  std::vector<RankTelemetry> ranks;

  // Sum of bars_read over the ranks.
  std::int64_t bars_read() const;
};

// The status tasnap writes for a run that finished every chunk.
inline constexpr std::string_view kStatusSucceeded = "succeeded";

// Parses a telemetry document. Throws InputError naming `source` and the
// missing or mistyped field, or an unsupported schema_version.
RunTelemetry parse_run_telemetry(std::string_view json_text, const std::string& source);

// Reads and parses the telemetry file at `path`.
RunTelemetry read_run_telemetry(const std::filesystem::path& path);

}  // namespace tasnap::scaling
