// The end-of-run summary: the readable telemetry table and the telemetry JSON.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "core/telemetry.hpp"
#include "storage/database.hpp"

namespace tasnap::run {

struct RunSummary {
  storage::RunRecord run;
  std::string database;  // redacted URI
  double wall_seconds = 0;
  std::span<const RankTelemetry> ranks;
};

// One line per rank plus a total line, aligned in columns.
void print_telemetry_table(std::ostream& out, const RunSummary& summary);

// Writes the summary as JSON (schema_version 1) to `path`, replacing the file
// atomically and without world-write permission.
void write_telemetry_json(const std::string& path, const RunSummary& summary);

}  // namespace tasnap::run
